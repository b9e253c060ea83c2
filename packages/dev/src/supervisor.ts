// The supervisor of `npm run dev`: one child process per app, restarted with a bounded backoff
// when it crashes, left down when it exits with a configuration error (exit 2: restarting cannot
// fix a bad file or a taken port), and every child stopped gracefully on SIGINT/SIGTERM. On real
// hosts systemd does the same with Restart=on-failure; this is its small twin for a laptop.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { EXIT_CONFIG } from '@sstt/scenario';

/** Restart policy: the first restart after `firstDelayMs`, doubling up to `maxDelayMs`; a child
 * that stayed up `stableMs` starts again from the first delay. The cap keeps a crashed app back
 * within 15 s, the figure the robustness tests hold it to. */
export const RESTART_POLICY = { firstDelayMs: 250, maxDelayMs: 8_000, stableMs: 30_000 };

/** How long the children get to close gracefully (their own deadline is 5 s) before SIGKILL. */
export const STOP_DEADLINE_MS = 7_000;

export interface AppSpec {
  name: string;
  /** The program and its arguments (a bundled entry run by this Node). */
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

export interface SupervisorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Supervisor {
  /** Resolves with the exit status the supervisor should end with once every child is down. */
  done: Promise<number>;
  stop(signal: NodeJS.Signals): void;
  /** The running children's pids, by app (for tests and the banner). */
  pids(): Record<string, number | undefined>;
}

interface Slot {
  spec: AppSpec;
  child?: ChildProcess;
  startedAt: number;
  delay: number;
  timer?: NodeJS.Timeout;
  /** How the child last ended, once it will not be started again. */
  final?: number;
}

export function supervise(apps: AppSpec[], log: SupervisorLog, policy = RESTART_POLICY): Supervisor {
  let stopping = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const slots: Slot[] = apps.map((spec) => ({ spec, startedAt: 0, delay: policy.firstDelayMs }));

  const settle = () => {
    if (slots.some((s) => s.child || (s.timer && !stopping) || s.final === undefined)) return;
    // Every app ended for good: a configuration error everywhere is the user's to fix (exit 2).
    if (stopping) finish(0);
    else finish(slots.every((s) => s.final === EXIT_CONFIG) ? EXIT_CONFIG : 1);
  };

  const start = (slot: Slot) => {
    slot.timer = undefined;
    const [cmd, ...args] = slot.spec.argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: 'inherit', env: slot.spec.env ?? process.env });
    slot.child = child;
    slot.startedAt = Date.now();
    child.on('error', (err) => log.error({ app: slot.spec.name, err: err.message }, 'could not start'));
    child.on('exit', (code, signal) => {
      slot.child = undefined;
      if (stopping) {
        slot.final = code ?? 1;
        return settle();
      }
      if (code === EXIT_CONFIG) {
        // The app printed its one-line reason; restarting would print it again forever.
        log.error({ app: slot.spec.name, code }, 'stopped by a configuration error: not restarted (fix it and run npm run dev again)');
        slot.final = code;
        return settle();
      }
      if (code === 0) {
        log.info({ app: slot.spec.name }, 'ended');
        slot.final = 0;
        return settle();
      }
      if (Date.now() - slot.startedAt >= policy.stableMs) slot.delay = policy.firstDelayMs;
      const cause = signal ? `killed by ${signal}` : `exit status ${code}`;
      log.warn({ app: slot.spec.name, cause, restartInMs: slot.delay }, 'crashed: restarting');
      slot.timer = setTimeout(() => start(slot), slot.delay);
      slot.delay = Math.min(slot.delay * 2, policy.maxDelayMs);
    });
  };

  for (const slot of slots) start(slot);

  return {
    done,
    stop(signal) {
      if (stopping) return;
      stopping = true;
      for (const slot of slots) {
        if (slot.timer) clearTimeout(slot.timer);
        slot.timer = undefined;
        if (slot.final === undefined && !slot.child) slot.final = 0;
        // A terminal's Ctrl-C reaches the whole process group already; a SIGTERM from turbo or
        // systemd reaches only us. Passing it on is harmless in the first case (the apps ignore a
        // second signal while closing) and needed in the second.
        slot.child?.kill(signal);
      }
      setTimeout(() => {
        for (const slot of slots) slot.child?.kill('SIGKILL');
        finish(1);
      }, STOP_DEADLINE_MS).unref();
      settle();
    },
    pids: () => Object.fromEntries(slots.map((s) => [s.spec.name, s.child?.pid])),
  };
}

/** A process as /proc names it across pid reuse: its pid and its start time (field 22 of stat). */
function procIdentity(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/**
 * Calls `onGone` once when any of the first `levels` ancestors of this process ends (checked
 * every `everyMs`). Under turbo the chain is sh -> npm -> turbo: when turbo is killed (kill -9,
 * a closed terminal) its task would otherwise live on, orphaned, holding every port.
 */
export function watchAncestors(levels: number, onGone: (pid: number) => void, everyMs = 1_000): () => void {
  const chain: Array<{ pid: number; start: string }> = [];
  for (let pid = process.ppid; chain.length < levels && pid > 1; ) {
    const id = procIdentity(pid);
    if (!id) break;
    chain.push({ pid, start: id.start });
    pid = id.ppid;
  }
  const timer = setInterval(() => {
    const gone = chain.find((a) => procIdentity(a.pid)?.start !== a.start);
    if (gone) {
      clearInterval(timer);
      onGone(gone.pid);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
