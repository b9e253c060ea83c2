// The frame of every app's main.ts: configuration problems end the process with one line and
// exit status 2; SIGINT/SIGTERM close every server gracefully within a deadline.
import { ConfigError, EXIT_CONFIG, listenErrorMessage, type Service } from '@sstt/scenario';

/** Default deadline for a graceful close before the process exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 5000;

/** A listener could not be opened: carries the service and port for the one-line message. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly service: Service,
    readonly host: string,
    readonly port: number,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(listenErrorMessage(service, host, port, cause));
  }
}

/** Errors that are the user's to fix: one line on stderr, exit 2, no stack trace. */
export function fatalLine(err: unknown): string | undefined {
  if (err instanceof ConfigError || err instanceof ListenError) return err.message;
  return undefined;
}

export interface Closable {
  close(): Promise<void>;
}

export interface RunOptions {
  app: string;
  /** Starts the servers; returns what to close on a signal. */
  start: () => Promise<Closable[]>;
  deadlineMs?: number;
  log?: { info(obj: object | string, msg?: string): void; error(obj: object | string, msg?: string): void };
}

/** Runs an app: start, wait for a signal, close everything, exit 0 (or 1 past the deadline). */
export async function runApp(opts: RunOptions): Promise<void> {
  // Signals are caught from the first moment: a Ctrl-C while the servers are still starting
  // closes whatever did start, instead of killing the process half-way.
  let servers: Closable[] | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let closing = false;
  const deadlineMs = opts.deadlineMs ?? SHUTDOWN_DEADLINE_MS;
  const stop = (signal: NodeJS.Signals) => {
    if (!servers) {
      stopRequested ??= signal;
      return;
    }
    if (closing) return;
    closing = true;
    opts.log?.info({ signal }, 'closing');
    const deadline = setTimeout(() => {
      process.stderr.write(`${opts.app}: still closing after ${deadlineMs} ms, exiting\n`);
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    Promise.allSettled(servers.map((s) => s.close())).then(() => {
      opts.log?.info('closed');
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    servers = await opts.start();
  } catch (err) {
    const line = fatalLine(err);
    if (line) {
      process.stderr.write(`${opts.app}: ${line}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  if (stopRequested) stop(stopRequested);
}

/** Runs a one-shot command: user errors print one line and exit 2; the body returns the exit code. */
export function runCli(app: string, body: () => number | Promise<number>): void {
  Promise.resolve()
    .then(body)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        const line = fatalLine(err);
        if (!line) throw err;
        process.stderr.write(`${app}: ${line}\n`);
        process.exitCode = EXIT_CONFIG;
      },
    );
}
