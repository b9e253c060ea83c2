import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES, type Service } from '@sstt/scenario';
import { freePort, type Spawned, spawnWatched } from '@sstt/testkit';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = path.join(ROOT, 'node_modules', '.bin');

/** Environment for a private instance of the domain: free ports, temp data, a silent local forwarder. */
export async function privateEnv(dataDir: string, forwarderPort: number): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PATH: `${BIN}:${process.env.PATH}`,
    HOME: process.env.HOME ?? '/root',
    SSTT_CONFIG: '',
    SSTT_CERTS_DIR: path.join(dataDir, 'certs'),
    SSTT_DATA_DIR: path.join(dataDir, 'var'),
    SSTT_DNS_FORWARDERS: `127.0.0.1:${forwarderPort}`,
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
  };
  for (const s of SERVICES) env[`SSTT_${s.toUpperCase()}_PORT`] = String(await freePort());
  return env;
}

export function portOf(env: Record<string, string>, s: Service): number {
  return Number(env[`SSTT_${s.toUpperCase()}_PORT`]);
}

/** A UDP socket that swallows queries: the forwarder of a test never reaches a real resolver. */
export async function silentForwarder(): Promise<{ port: number; close(): void }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, close: () => sock.close() };
}

export type { Spawned };

/** Spawns a command in its own process group (so Ctrl-C can be sent to the group, as a terminal does). */
export function spawnGroup(cmd: string, args: string[], env: Record<string, string>, cwd = ROOT): Spawned {
  return spawnWatched(cmd, args, { env, cwd, detached: true });
}

/** Resolves once something accepts TCP connections on the port (the server process is external). */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1', intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export interface SessionProcess {
  pid: number;
  comm: string;
  cmdline: string;
  /** kB */
  pss: number;
  /** kB */
  rss: number;
}

/** Every process whose session id is `sid` (the dev tree: npm, turbo, the apps). */
export function sessionProcesses(sid: number): SessionProcess[] {
  const out: SessionProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      if (Number(fields[3]) !== sid) continue;
      const rollup = fs.readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close), cmdline, pss: kb('Pss'), rss: kb('Rss') });
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return out;
}
