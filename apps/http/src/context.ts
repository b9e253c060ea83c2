// What the HTTP server shares with each of its connections: settings, the file cache, the logs,
// the limiter, the journal, and how a connection reports that it closed. server.ts fills it;
// connection.ts and handler.ts read it. Types only, importing neither of those two, so the HTTP
// modules' types form no circle.
import type { Journal } from '@sstt/events';
import type { ConnectionLimiter, Logger } from '@sstt/runtime';
import type { CookieRule } from './cookie.ts';
import type { FileStore } from './files.ts';
import type { ServerLogs } from './log.ts';

/** What the server does with a connection it tracks: finish it on close(), cut it past the grace period. */
export interface OpenConnection {
  shutdown(): void;
  destroy(): void;
}

/** What the rest of the server shares with each connection. */
export interface ServerContext {
  files: FileStore;
  logs: ServerLogs | undefined;
  log: Logger;
  serverName: string;
  idleTimeoutMs: number;
  /** The idle timeout as the Keep-Alive header states it, in whole seconds. */
  keepAliveTimeoutS: number;
  headerTimeoutMs: number;
  /** The header and idle timeouts while the limiter says the server is under pressure. */
  pressureHeaderTimeoutMs: number;
  pressureIdleTimeoutMs: number;
  /** The connection caps (server.ts): the pressure flag, and slots for shedding. */
  limiter: ConnectionLimiter;
  /** A response being sent must make progress (a chunk accepted by the client) within this. */
  sendTimeoutMs: number;
  maxRequests: number;
  formEmail: string | undefined;
  /** Thunderbird's autoconfig file for the domain (scenario autoconfigXml), served at AUTOCONFIG_PATHS. */
  autoconfig: Buffer;
  cookie: CookieRule;
  closing: boolean;
  /** The session journal (the console's timeline); none: nothing is recorded. */
  journal: Journal | undefined;
  onClosed(conn: OpenConnection): void;
}
