// Long-running programs a test starts and watches (servers, daemons); `run` (to completion) is
// @sstt/host's.
import { type ChildProcess, spawn } from 'node:child_process';

export interface Spawned {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once the output matches; rejects after `timeoutMs` or when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
}

/**
 * Starts a long-running program and watches what it prints: for servers and daemons a test starts
 * and stops itself. `detached` puts it in a process group of its own, so a test can send Ctrl-C
 * to the whole group as a terminal does.
 */
export function spawnWatched(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {}): Spawned {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: opts.detached ?? false, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let ended = false;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const f of listeners) f();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      ended = true;
      for (const f of listeners) f();
      resolve(code);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${out.slice(-3000)}`)), timeoutMs);
        const finish = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (pattern.test(out)) finish();
          else if (ended) finish(new Error(`${cmd} ended (${child.exitCode}) before printing ${pattern}; output:\n${out.slice(-3000)}`));
        };
        listeners.add(check);
        check();
      }),
  };
}
