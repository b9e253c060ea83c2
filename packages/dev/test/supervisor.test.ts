// The supervisor with stand-in apps (small node programs): a crash is restarted with a doubling,
// capped delay; exit 2 (configuration) is not; a stop reaches every child; the exit status says
// how the apps ended. Nothing sleeps: the tests await the supervisor's log lines and the
// children's own reports over a loopback socket.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { supervise, type SupervisorLog } from '../src/supervisor.ts';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
  at: number;
}

/** A log that keeps its lines and lets a test await the nth line with a message. */
function recorder() {
  const lines: Line[] = [];
  const waiters: Array<{ msg: string; n: number; resolve: () => void }> = [];
  const push = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg, at: performance.now() });
    for (const w of waiters.splice(0)) {
      if (lines.filter((l) => l.msg === w.msg).length >= w.n) w.resolve();
      else waiters.push(w);
    }
  };
  const log: SupervisorLog = { info: push('info'), warn: push('warn'), error: push('error') };
  /** Resolves once `n` lines say `msg`. */
  const when = (msg: string, n = 1) =>
    lines.filter((l) => l.msg === msg).length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ msg, n, resolve }));
  return { lines, log, when };
}

/**
 * A loopback listener the stand-in apps report to: each connects and writes its name once its
 * SIGTERM handler is in place ("ready"), then "SIGTERM" when the signal comes.
 */
async function reports(): Promise<{ port: number; ready(name: string): Promise<void>; said: Map<string, string>; close(): void }> {
  const said = new Map<string, string>();
  const waiters = new Map<string, () => void>();
  const srv = net.createServer((sock) => {
    let text = '';
    sock.on('data', (d) => {
      text += d.toString();
      const [name, ...rest] = text.split('\n');
      if (!name || !text.includes('\n')) return;
      said.set(name, rest.join('\n'));
      waiters.get(name)?.();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    ready: (name) => (said.has(name) ? Promise.resolve() : new Promise((r) => waiters.set(name, r))),
    said,
    close: () => srv.close(),
  };
}

const app = (name: string, code: string) => ({ name, argv: [process.execPath, '-e', code] });

describe('supervise', () => {
  it('restarts a crashing app with a doubling delay up to the cap, and leaves the others alone', async () => {
    const policy = { firstDelayMs: 100, maxDelayMs: 400, stableMs: 60_000 };
    const { lines, log, when } = recorder();
    const sup = supervise([app('crashy', 'process.exit(1)'), app('steady', 'setInterval(() => {}, 1000)')], log, policy);
    await when('crashed: restarting', 5);
    const steadyPid = sup.pids().steady;
    sup.stop('SIGTERM');
    expect(await sup.done).toBe(0);
    const restarts = lines.filter((l) => l.msg === 'crashed: restarting');
    expect(restarts.slice(0, 5).map((l) => l.obj.restartInMs)).toEqual([100, 200, 400, 400, 400]);
    expect(restarts.every((l) => l.obj.app === 'crashy' && l.obj.cause === 'exit status 1')).toBe(true);
    expect(steadyPid).toBeGreaterThan(0);
    // The gap between two crashes is at least the announced delay.
    for (let i = 1; i < 5; i++) expect(restarts[i]!.at - restarts[i - 1]!.at).toBeGreaterThanOrEqual(Number(restarts[i - 1]!.obj.restartInMs) - 5);
  });

  it('names the signal that killed an app', async () => {
    const { lines, log, when } = recorder();
    const sup = supervise([app('victim', "process.kill(process.pid, 'SIGKILL')")], log, { firstDelayMs: 50, maxDelayMs: 50, stableMs: 60_000 });
    await when('crashed: restarting');
    sup.stop('SIGTERM');
    await sup.done;
    expect(lines.find((l) => l.msg === 'crashed: restarting')?.obj).toEqual({ app: 'victim', cause: 'killed by SIGKILL', restartInMs: 50 });
  });

  it('does not restart an app that exits 2; when every app did, it ends with 2', async () => {
    const { lines, log } = recorder();
    const sup = supervise([app('a', 'process.exit(2)'), app('b', 'process.exit(2)')], log);
    expect(await sup.done).toBe(2);
    expect(
      lines
        .filter((l) => l.msg.startsWith('stopped by a configuration error'))
        .map((l) => l.obj.app)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(lines.some((l) => l.msg === 'crashed: restarting')).toBe(false);
  });

  it('passes a stop signal to every child and ends with 0 once they are down', async () => {
    const { log } = recorder();
    const r = await reports();
    // Each child reports once its handler is in place, and reports the SIGTERM before it exits 0.
    const code = (name: string) =>
      `const s = require('net').connect(${r.port}, '127.0.0.1'); ` +
      `process.on('SIGTERM', () => s.end('SIGTERM\\n', () => process.exit(0))); s.write('${name}\\n'); setInterval(() => {}, 1000)`;
    const sup = supervise([app('x', code('x')), app('y', code('y'))], log);
    await Promise.all([r.ready('x'), r.ready('y')]);
    const pids = Object.values(sup.pids());
    expect(pids.every((p) => typeof p === 'number')).toBe(true);
    sup.stop('SIGTERM');
    expect(await sup.done).toBe(0);
    expect(Object.fromEntries(r.said)).toEqual({ x: 'SIGTERM\n', y: 'SIGTERM\n' });
    for (const pid of pids) expect(() => process.kill(pid!, 0)).toThrow();
    r.close();
  });
});

describe('watchAncestors', () => {
  it('a supervisor whose parent is killed with SIGKILL stops its apps and ends', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/orphan.ts', import.meta.url));
    // The parent: a plain node process that starts the supervisor and waits (turbo's place). The
    // supervisor and its app inherit the parent's stdout: the pipe closes when the last of them ends.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `require('child_process').spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(fixture)}], { stdio: 'inherit' }); setInterval(() => {}, 1000)`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    const gone = new Promise<void>((r) => parent.stdout!.on('close', r));
    // The fixture prints its pids once it watches its parent.
    await new Promise<void>((resolve) =>
      parent.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve();
      }),
    );
    const pids = JSON.parse(out.trim().split('\n')[0]!) as { supervisor: number; app: number };
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(pids.supervisor) && alive(pids.app)).toBe(true);
    parent.kill('SIGKILL');
    // The pipe closes only when the supervisor and its app have both exited (a process's
    // descriptors close as it ends). Only the app can be checked by pid: the supervisor reaps it
    // before it exits, while the orphaned supervisor itself answers kill(0) as a zombie until
    // init (or a subreaper) gets round to reaping it.
    await gone;
    expect(alive(pids.app)).toBe(false);
  });
});
