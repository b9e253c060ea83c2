// One logger for every app: pino, pretty in a terminal, JSON lines when not (pipes, CI, files).
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** The app or component, e.g. "dns". */
  name: string;
  level?: string;
  /** Force pretty (true) or JSON (false) output; default: SSTT_LOG_FORMAT, else pretty when stdout is a TTY. */
  pretty?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? process.env.SSTT_LOG_LEVEL ?? 'info';
  // Under turbo an app's stdout is a pipe even when the user watches a terminal, so the apps'
  // `dev` scripts ask for pretty output with SSTT_LOG_FORMAT=pretty (json forces JSON lines).
  const format = process.env.SSTT_LOG_FORMAT;
  const pretty = opts.pretty ?? (format === 'pretty' ? true : format === 'json' ? false : Boolean(process.stdout.isTTY));
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
