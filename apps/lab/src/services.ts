// The topology's processes on their hosts: each one's files written, its output to its log, its
// environment the lab's plus its own; and the wait until it is ready, by what it declares: the
// sockets it opens listening in its host's namespace (read from the kernel's tables, whatever the
// program prints), or the file it writes holding something (the capture).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { inOtherNetns, requireTool, run, type RunResult, type Tool, waitForSockets } from '@sstt/host';
import { hostOf } from './host.ts';
import type { LabProcess, Topology } from './topology.ts';
import { LabError, until } from './wait.ts';

export const SERVICE_TIMEOUTS = { socketsMs: 45_000, fileMs: 10_000 };

/** A process of the topology, started. */
export interface Running {
  process: LabProcess;
  child: ChildProcess;
}

const rel = (f: string) => path.relative(process.cwd(), f) || f;

/** A log file opened for appending (its directory made), for a process's stdout and stderr. */
export function openLog(file: string): number {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return fs.openSync(file, 'a');
}

/** Starts `p` on its host, with `env` (the lab's) under its own variables, after its files and its preparation. */
export async function startProcess(topo: Topology, p: LabProcess, env: NodeJS.ProcessEnv): Promise<Running> {
  for (const f of p.requires) if (!fs.existsSync(f)) throw new LabError(`${f} is missing: run npm run build (npm run lab builds it first)`);
  for (const [file, text] of Object.entries(p.files)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  const program = (cmd: string) => (cmd.includes('/') ? cmd : requireTool(cmd as Tool));
  const failed = (cmd: string[], r: RunResult) => new LabError(`${p.name}: ${cmd.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  for (const [cmd, ...args] of p.prepare ?? []) {
    const r = await run(program(cmd!), args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw failed([cmd!, ...args], r);
  }
  for (const [cmd, ...args] of p.setup ?? []) {
    const r = await hostOf(topo, p.host).exec([program(cmd!), ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw failed([cmd!, ...args], r);
  }
  if (p.writes) fs.rmSync(p.writes, { force: true });
  let stdio: 'ignore' | ['ignore', number, number] = 'ignore';
  if (p.log) {
    const fd = openLog(p.log);
    stdio = ['ignore', fd, fd];
  }
  const [exe, ...args] = p.argv;
  const child = hostOf(topo, p.host).spawn([program(exe!), ...args], { env: { ...env, ...p.env }, stdio });
  if (typeof stdio !== 'string') fs.closeSync(stdio[1]);
  return { process: p, child };
}

function ended(child: ChildProcess): string | undefined {
  if (child.exitCode !== null) return `ended with exit code ${child.exitCode}`;
  if (child.signalCode !== null) return `ended by ${child.signalCode}`;
  return undefined;
}

/** Resolves once `r` is ready; a LabError naming what never came up (and where its log is) otherwise. */
export async function processReady({ process: p, child }: Running): Promise<void> {
  if (p.writes) {
    const file = p.writes;
    await until(`${p.name} to write ${rel(file)}`, async () => fs.existsSync(file) && fs.statSync(file).size > 0, SERVICE_TIMEOUTS.fileMs, 50);
  }
  if (p.sockets.length === 0) return;
  await waitForSockets(p.sockets, {
    what: p.name,
    // The process is spawned in the machine's namespace and enters its host's with `ip netns
    // exec`; its tables are its host's only from then on.
    pidIn: () => (child.pid === undefined ? undefined : inOtherNetns(child.pid)),
    timeoutMs: SERVICE_TIMEOUTS.socketsMs,
    everyMs: 250,
    gone: () => ended(child),
  }).catch((err: Error) => {
    throw new LabError(`${err.message}${p.log ? ` (log: ${rel(p.log)})` : ''}`);
  });
}
