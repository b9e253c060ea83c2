// One logger for every app: pino, pretty in a terminal, JSON lines when not (pipes, CI, files).
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** The app or component, e.g. "dns". */
  name: string;
  /** A pino level (main.ts: SSTT_LOG_LEVEL); default info. */
  level?: string | undefined;
  /**
   * 'pretty' or 'json' (main.ts: SSTT_LOG_FORMAT); anything else: pretty when stdout is a TTY.
   * Under turbo an app's stdout is a pipe even when the user watches a terminal, so the apps'
   * `dev` scripts ask for pretty output with SSTT_LOG_FORMAT=pretty.
   */
  format?: string | undefined;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info';
  const pretty = opts.format === 'pretty' ? true : opts.format === 'json' ? false : Boolean(process.stdout.isTTY);
  if (!pretty) return pino({ name: opts.name, level });
  // pino-pretty as a synchronous stream in this thread, not as a pino transport: a transport runs
  // in a worker thread (a second V8 isolate, ~10 MB per app) for output a person reads anyway.
  // Loaded only when asked for, so JSON logging never pays for it.
  const pretty_ = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const build = (pretty_ as unknown as { default?: typeof pretty_.build }).default ?? pretty_.build;
  return pino({ name: opts.name, level }, build({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true, sync: true }));
}

/** A logger that writes nothing, for tests and libraries used without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
