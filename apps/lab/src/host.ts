// One host of the lab: a network namespace; a machine also has its own host name (a UTS
// namespace) and its own /etc/resolv.conf and /etc/hosts (/etc/netns/<ns>/, which `ip netns exec`
// mounts over /etc), and sees its mounts. exec() runs a command there to completion, spawn()
// starts a daemon there (Mininet's Host.cmd and Host.popen).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import { ipBinary, nsExecArgv, run, type RunResult } from '@sstt/host';
import type { HostName, LabHost, Topology } from './topology.ts';

export class Host {
  constructor(readonly spec: LabHost) {}

  get name(): string {
    return this.spec.name;
  }

  argv(cmd: string[]): string[] {
    const binds = this.spec.mounts.filter((m) => fs.existsSync(m.source)).map((m): [string, string] => [m.source, m.target]);
    return nsExecArgv(this.spec.ns, cmd, { ...(this.spec.kind === 'host' ? { hostname: this.spec.name } : {}), binds });
  }

  /** Runs a command on this host and collects what it printed. */
  exec(cmd: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run(ipBinary(), this.argv(cmd), opts);
  }

  /** Starts a long-running command on this host (its pid is the command's own: ip and sh exec it). */
  spawn(cmd: string[], opts: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): ChildProcess {
    return spawn(ipBinary(), this.argv(cmd), { env: opts.env ?? process.env, stdio: opts.stdio ?? 'ignore' });
  }
}

export function hostOf(topo: Topology, name: HostName): Host {
  return new Host(topo.hosts[name]);
}
