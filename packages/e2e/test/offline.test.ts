// Nothing leaves the machine by default: `npm run dev`, run as a user runs it (no telemetry
// switches of our own in the environment: the root scripts must carry them), in a network
// namespace that has only loopback, traced with strace; no process of the tree may try to reach
// any address outside 127.0.0.0/8 and ::1 (a connect or a send with an address, which is also how
// a DNS lookup for a telemetry host would show). The namespace has no route out, so even a
// failing run sends nothing anywhere. Ready means every app's sockets listen in that namespace.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, presentApps, SERVICE_APP, SERVICES, serviceSockets } from '@sstt/scenario';
import { inOtherNetns, requireTool, tempDir, waitForSockets } from '@sstt/testkit';
import { privateEnv, sessionProcesses, spawnGroup } from './helpers.ts';

const strace = requireTool('strace');
const unshare = requireTool('unshare');
const ip = requireTool('ip');
const tmp = tempDir('sstt-offline-');
afterAll(() => tmp.remove());

/** Every address outside loopback that a traced process tried to connect or send to. */
export function foreignAddresses(trace: string): string[] {
  const found = new Set<string>();
  for (const line of trace.split('\n')) {
    if (!/\b(connect|sendto|sendmsg|sendmmsg)\(/.test(line)) continue;
    for (const m of line.matchAll(/inet_addr\("([\d.]+)"\)|inet_pton\(AF_INET6, "([0-9a-fA-F:.]+)"/g)) {
      const a = m[1] ?? m[2]!;
      // A DNS query to a resolver on loopback (systemd-resolved's 127.0.0.53) still goes out
      // through that resolver: port 53 counts wherever it is.
      if (/htons\(53\)/.test(line)) found.add(`${a}:53`);
      else if (!(/^127\./.test(a) || a === '::1' || a === '0.0.0.0' || a === '::' || /^::ffff:127\./.test(a))) found.add(a);
    }
  }
  return [...found].sort();
}

/**
 * argv: `cmd` traced, in a fresh network namespace with only loopback up. strace runs inside it
 * too, so the process spawned is in the namespace from its first instructions on: its socket
 * tables are the namespace's.
 */
function tracedOffline(traceFile: string, cmd: string[]): string[] {
  return [
    unshare,
    '-n',
    'sh',
    '-c',
    // ip's path is an argument of the script, not part of its text
    '"$1" link set lo up && shift && exec "$@"',
    'offline',
    ip,
    strace,
    '-f',
    '-qq',
    '-e',
    'trace=connect,sendto,sendmsg,sendmmsg',
    '-o',
    traceFile,
    ...cmd,
  ];
}

describe('offline by default', () => {
  it('the trace reader catches an attempt to reach another address (canary)', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (a network namespace): run it as root, as CI does');
    const trace = path.join(tmp.dir, 'canary.trace');
    // 192.0.2.1 (TEST-NET-1): in a namespace with only loopback the connect fails at once (no route).
    const script = "require('net').connect(9, '192.0.2.1').on('error', () => {})";
    const [cmd, ...args] = tracedOffline(trace, [process.execPath, '-e', script]);
    const p = spawnGroup(cmd!, args, { PATH: process.env.PATH ?? '' });
    await p.exited;
    expect(foreignAddresses(fs.readFileSync(trace, 'utf8'))).toEqual(['192.0.2.1']);
  });

  it('npm run dev starts every app and tries no address outside loopback', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (a network namespace): run it as root, as CI does');
    const env = await privateEnv(path.join(tmp.dir, 'dev'), 9);
    // As a user's shell has it: no telemetry switch, the default forwarders (this machine's
    // resolv.conf), which are asked only when a client queries a name outside the domain.
    delete env.TURBO_TELEMETRY_DISABLED;
    delete env.DO_NOT_TRACK;
    delete env.SSTT_DNS_FORWARDERS;
    const trace = path.join(tmp.dir, 'dev.trace');
    const [cmd, ...args] = tracedOffline(trace, ['npm', 'run', 'dev']);
    const dev = spawnGroup(cmd!, args, env);
    try {
      // Every socket of every app npm run dev starts, as the scenario of this environment declares them.
      const s = loadScenario({ env });
      const apps = presentApps(s);
      const sockets = serviceSockets(
        s,
        SERVICES.filter((x) => apps.has(SERVICE_APP[x])),
      );
      await waitForSockets(sockets, {
        what: 'npm run dev',
        pidIn: () => inOtherNetns(dev.child.pid!),
        timeoutMs: 90_000,
        everyMs: 250,
        gone: () => (dev.child.exitCode === null ? undefined : `ended with exit code ${dev.child.exitCode}`),
      }).catch((err: Error) => {
        throw new Error(`${err.message}; output:\n${dev.output().slice(-3000)}`);
      });
      // turbo's telemetry went out a few seconds after start: give it the time to try.
      await new Promise((r) => setTimeout(r, 8_000));
      // Still running: an app that died meanwhile is a failure of its own, with its output.
      if (dev.child.exitCode !== null) throw new Error(`npm run dev ended with exit code ${dev.child.exitCode}; output:\n${dev.output().slice(-3000)}`);
    } finally {
      try {
        process.kill(-dev.child.pid!, 'SIGINT');
      } catch {
        // The group is gone already: the error above (or the assertions below) say why.
      }
      await dev.exited;
      // strace detaches on SIGINT; whatever of the tree is still there goes with the session.
      await new Promise((r) => setTimeout(r, 2_000));
      for (const p of sessionProcesses(dev.child.pid!)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    const text = fs.readFileSync(trace, 'utf8');
    // The trace saw the whole tree (npm, turbo, the supervisor, the apps), not just its first process.
    expect(
      new Set(
        text
          .split('\n')
          .map((l) => l.split(' ')[0])
          .filter(Boolean),
      ).size,
    ).toBeGreaterThan(5);
    expect(foreignAddresses(text)).toEqual([]);
  });
});
