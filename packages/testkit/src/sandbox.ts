// A machine of the test's own for commands that change the machine (trust stores, /etc/hosts,
// resolvers): a mount and network namespace whose /etc (and whatever else the test names) is a
// copy-on-write overlay on a tmpfs, with only loopback. What runs inside writes /etc as it would on
// a real machine; the machine's own /etc never changes, and everything goes with the namespace.
// The test reads and writes the namespace's files from outside through /proc/<pid>/root.
import fs from 'node:fs';
import path from 'node:path';
import { requireTool, run, type RunOptions, type RunResult } from '@sstt/host';
import { type Spawned, spawnWatched } from './spawn-watched.ts';
import { tempDir } from './servers.ts';

export interface SandboxOptions {
  /** Directories that become copy-on-write inside (e.g. /etc, /var). */
  overlays: string[];
  /** Directories hidden behind an empty tmpfs (e.g. a JRE the test must not see). */
  hidden?: string[];
  /**
   * Paths a user other than root must reach inside (the checkout, whose programs the tests run as
   * that user): where an ancestor is closed to others (mode without o+x, as /root), the sandbox
   * opens the way to it without changing the machine.
   */
  reachable?: string[];
}

/** The directories on the way to `p` whose parent others cannot traverse, from the top down. */
function closedSteps(p: string): string[] {
  const steps: string[] = [];
  let dir = path.resolve(p);
  while (path.dirname(dir) !== dir) {
    if ((fs.statSync(path.dirname(dir)).mode & 0o001) === 0) steps.unshift(dir);
    dir = path.dirname(dir);
  }
  return steps;
}

/** Options of a command in the sandbox: run()'s, with the user to become inside (nsenter --setuid/--setgid: only root may enter). */
export type SandboxRunOptions = Omit<RunOptions, 'uid' | 'gid'> & { as?: { uid: number; gid: number } };

export interface Sandbox {
  /** The pid whose namespaces are the sandbox's. */
  pid: number;
  /** A path of the sandbox as the test process reaches it (through /proc/<pid>/root). */
  inside(p: string): string;
  /** argv that runs a command in the sandbox (nsenter into its mount and network namespaces), in `cwd` (default /), as `as` (default root). */
  argv(cmd: string, args: string[], cwd?: string, as?: { uid: number; gid: number }): string[];
  run(cmd: string, args: string[], opts?: SandboxRunOptions): Promise<RunResult>;
  /** A long-running program inside (a server, a resolver), in a process group of its own. */
  spawn(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Spawned;
  close(): Promise<void>;
}

/**
 * The fixed script that builds the sandbox: its arguments are the values (the ip binary, the
 * scratch directory, then kind/directory pairs), never pasted into its text (STYLE.md §23).
 */
const SCRIPT = [
  'set -e',
  'ip=$1; base=$2; shift 2',
  'mount -t tmpfs sstt-sandbox "$base"',
  'n=0',
  'while [ $# -gt 0 ]; do',
  '  kind=$1; dir=$2; shift 2; n=$((n+1))',
  '  if [ "$kind" = overlay ]; then',
  '    mkdir "$base/u$n" "$base/w$n"',
  '    mount -t overlay sstt-overlay -o "lowerdir=$dir,upperdir=$base/u$n,workdir=$base/w$n" "$dir"',
  '  elif [ "$kind" = through ]; then',
  // dir's parent cannot be traversed by others (a checkout under /root): inside, the parent is a
  // 0711 directory that holds only dir (bound to the real one, so writes reach it).
  '    parent=$(dirname "$dir"); name=$(basename "$dir")',
  '    mkdir -m 711 "$base/t$n"; mkdir "$base/t$n/$name"',
  '    mount --bind "$dir" "$base/t$n/$name"',
  '    mount --rbind "$base/t$n" "$parent"',
  '  else',
  '    mount -t tmpfs sstt-hidden "$dir"',
  '  fi',
  'done',
  '"$ip" link set lo up',
  'echo sandbox ready',
  'exec sleep infinity',
].join('\n');

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (mount and network namespaces): run it as root, as CI does');
  const unshare = requireTool('unshare');
  const nsenter = requireTool('nsenter');
  const scratch = tempDir('sstt-sandbox-');
  const pairs = [
    ...opts.overlays.flatMap((d) => ['overlay', d]),
    ...(opts.hidden ?? []).flatMap((d) => ['hidden', d]),
    ...[...new Set((opts.reachable ?? []).flatMap(closedSteps))].flatMap((d) => ['through', d]),
  ];
  // --propagation private: nothing mounted inside is seen outside.
  const holder = spawnWatched(unshare, [
    '--mount',
    '--net',
    '--propagation',
    'private',
    'sh',
    '-c',
    SCRIPT,
    'sandbox',
    requireTool('ip'),
    scratch.dir,
    ...pairs,
  ]);
  await holder.waitFor(/sandbox ready/, 30_000);
  const pid = holder.child.pid!;
  // env --chdir enters `cwd` (default /) as the command's user, through the namespace's mounts
  // (nsenter's --wd opens the directory before it enters, on the machine's mounts: a path the
  // sandbox re-mounted is then unreachable and getcwd fails). Always: entering the mount namespace
  // leaves a process in the namespace's root mount, outside the chroot when the suite runs in one
  // (--root below), where getcwd() fails (update-exim4.conf's sh did, in the fresh machine's check).
  // --root: the holder's root, not the namespace's root mount, so a suite run inside a chroot (a
  // fresh machine's check) finds its own programs there.
  const argv = (cmd: string, args: string[], cwd?: string, as?: { uid: number; gid: number }) => [
    nsenter,
    '--target',
    String(pid),
    '--mount',
    '--net',
    '--root',
    ...(as ? ['--setuid', String(as.uid), '--setgid', String(as.gid)] : []),
    '--',
    'env',
    `--chdir=${cwd ?? '/'}`,
    cmd,
    ...args,
  ];

  return {
    pid,
    inside: (p) => path.join(`/proc/${pid}/root`, p),
    argv,
    run: (cmd, args, o = {}) => {
      const { as, ...rest } = o;
      const [bin, ...argvRest] = argv(cmd, args, o.cwd, as);
      return run(bin!, argvRest, rest);
    },
    spawn: (cmd, args, o = {}) => {
      const [bin, ...rest] = argv(cmd, args, o.cwd);
      return spawnWatched(bin!, rest, { ...o, detached: true });
    },
    async close() {
      holder.child.kill('SIGTERM');
      await holder.exited;
      scratch.remove();
    },
  };
}

/** Stops a program spawned in a sandbox (its whole process group) and waits for it. */
export async function stopSpawned(p: Spawned): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    try {
      process.kill(-p.child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await p.exited;
}
