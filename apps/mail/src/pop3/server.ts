// The POP3 server factory (STYLE §1): one listener, plain (with STLS when TLS is configured) or
// implicit TLS (RFC 8314 §3.3, the POP3S port); one Pop3Session per connection; graceful close.
// The plain listener runs on @sstt/runtime's raw TCP transport (libuv's handle without
// net.Socket's stream machinery: bench/RESULTS-pop3.md), node:net with `transport: 'net'`.
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  ConnectionLimiter,
  listenTcp,
  silentLogger,
  wrapSocket,
  type LimitedConnection,
  type Logger,
  type TcpConnection,
  type TcpListener,
} from '@sstt/runtime';
import type { Journal } from '@sstt/events';
import type { Scenario } from '@sstt/scenario';
import { AuthPenalty } from '../auth-penalty.ts';
import { mailTlsOptions } from '../tls.ts';
import { POP3_LIMITS, type Pop3Limits } from './limits.ts';
import { MailboxCache } from './mailbox.ts';
import { Pop3Session, type ServerContext } from './session.ts';

export { POP3_LIMITS, type Pop3Limits } from './limits.ts';

/** The greeting (RFC 1939 §4), shaped like the lab's dovecot ("+OK Dovecot ready."). */
export const POP3_GREETING = '+OK sstt ready.';

export interface Pop3ServerOptions extends Partial<Pop3Limits> {
  scenario: Scenario;
  /** Default: scenario.listen.address. */
  host?: string;
  /** Default: scenario.listen.ports.pop3, or .pop3s with implicitTls. 0 = any free port. */
  port?: number;
  /** TLS from the first byte (POP3S). Needs `tls`. */
  implicitTls?: boolean;
  /** Key, certificate and CA (with the profile of ../tls.ts); on a plain listener this enables STLS. */
  tls?: tls.SecureContextOptions;
  log?: Logger;
  greeting?: string;
  /** Default: scenario.mail.plaintextAuth (false: logins only after STLS or on POP3S). */
  plaintextAuth?: boolean;
  /** Login penalties; share one between the mail listeners. Default: its own, from scenario.mail.limits. */
  penalty?: AuthPenalty;
  /** Plain listener's transport: 'raw' (default when available) or 'net' (main.ts: SSTT_RAW_TCP=net). */
  transport?: 'raw' | 'net';
  /** The session journal each session's dialogue is published to (the console's timeline); none: nothing is recorded. */
  journal?: Journal;
  /**
   * What each login read, for the next login of the same Maildir (mailbox.ts); share one between
   * the POP3 and POP3S listeners. Default: the server's own, emptied by close().
   */
  mailboxCache?: MailboxCache;
}

export interface Pop3Server {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const { scenario } = options;
  const limits: Pop3Limits = { ...POP3_LIMITS, idleTimeoutMs: scenario.mail.limits.pop3IdleTimeoutMs };
  for (const key of Object.keys(POP3_LIMITS) as Array<keyof Pop3Limits>) {
    const v = options[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const log = options.log ?? silentLogger();
  const implicitTls = options.implicitTls ?? false;
  if (implicitTls && !options.tls) throw new Error('POP3S (implicitTls) needs a certificate and key (tls option)');
  const host = options.host ?? scenario.listen.address;
  const port = options.port ?? (implicitTls ? scenario.listen.ports.pop3s : scenario.listen.ports.pop3);
  const tlsOptions = options.tls ? mailTlsOptions(options.tls) : undefined;
  const secureContext = tlsOptions ? tls.createSecureContext(tlsOptions) : undefined;
  const ctx: ServerContext = {
    scenario,
    limits,
    log,
    greeting: options.greeting ?? POP3_GREETING,
    ...(secureContext ? { secureContext } : {}),
    plaintextAuth: options.plaintextAuth ?? scenario.mail.plaintextAuth,
    closing: false,
    penalty: options.penalty ?? new AuthPenalty({ baseMs: scenario.mail.limits.authPenaltyMs, maxMs: scenario.mail.limits.authPenaltyMaxMs }),
    journal: options.journal,
    mailboxCache: options.mailboxCache ?? new MailboxCache(),
  };
  const sessions = new Set<Pop3Session>();
  const limiter = new ConnectionLimiter({ ...scenario.mail.limits, idleTimeoutMs: limits.idleTimeoutMs, service: implicitTls ? 'pop3s' : 'pop3', log });

  /** `admitted`: a POP3S connection already counted by the limiter during its handshake. */
  const accept = (conn: TcpConnection, secure: boolean, admitted = false) => {
    const refuse = (line: string) => {
      conn.setHandlers({ data() {}, end() {}, error() {}, close() {} });
      conn.write(line);
      conn.end();
      setTimeout(() => conn.destroy(), limits.closeGraceMs).unref();
    };
    if (ctx.closing) return refuse('-ERR [SYS/TEMP] Server shutting down.\r\n');
    // Over its address's connection rate: closed as it is accepted, before the greeting (POP3S: checked at the TCP accept).
    if (!admitted && limiter.overRate(conn.remoteAddress ?? '')) return conn.destroy();
    if (!admitted && !limiter.admit(conn.remoteAddress ?? '')) return refuse('-ERR [SYS/TEMP] Too many connections, try again later.\r\n');
    const session = new Pop3Session(conn, ctx, secure);
    sessions.add(session);
    limiter.add(session);
    void session.closed.then(() => {
      sessions.delete(session);
      limiter.delete(session);
    });
    session.start();
  };

  let plain: TcpListener | undefined;
  let secureServer: tls.Server | undefined;
  /** POP3S connections still in their handshake (counted by the limiter, closed by close()). */
  const handshakes = new WeakMap<net.Socket, LimitedConnection>();
  const handshaking = new Set<net.Socket>();
  if (implicitTls) {
    // allowHalfOpen: a client's FIN ends the session the same way on every transport (wrapSocket).
    // A client that never finishes its handshake is cut like a slow command line.
    secureServer = tls.createServer({ ...tlsOptions, allowHalfOpen: true, handshakeTimeout: scenario.mail.limits.commandTimeoutMs }, (socket) => {
      socket.setNoDelay(true);
      const raw = (socket as tls.TLSSocket & { _parent?: net.Socket })._parent;
      const handshake = raw && handshakes.get(raw);
      if (handshake) limiter.delete(handshake);
      if (raw) handshaking.delete(raw);
      accept(wrapSocket(socket), true, handshake !== undefined);
    });
    // The connection counts from its first byte, not from the end of its handshake: a client
    // that opens connections and never speaks TLS is in the limiter like any other (its phase:
    // head, since it connected). Before TLS nothing can be said to a refused one: it is closed.
    secureServer.on('connection', (raw: net.Socket) => {
      const address = raw.remoteAddress ?? '';
      // Over its address's connection rate, or no room: closed before the handshake begins.
      if (ctx.closing || limiter.overRate(address) || !limiter.admit(address)) return void raw.destroy();
      const since = Date.now();
      const entry: LimitedConnection = { address, phase: () => ({ phase: 'head', since }), shed: () => raw.destroy() };
      limiter.add(entry);
      handshakes.set(raw, entry);
      handshaking.add(raw);
      raw.once('close', () => {
        limiter.delete(entry);
        handshaking.delete(raw);
      });
    });
    secureServer.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      // With a listener here Node only reports (a handshake timeout, a client gone during the
      // handshake of this half-open socket): the socket is ours to close.
      socket.destroy();
      log.debug({ err: err.message, client: socket.remoteAddress }, 'pop3s handshake failed');
    });
  }

  return {
    async listen() {
      if (secureServer) {
        const server = secureServer;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const addr = server.address() as AddressInfo;
        log.debug({ host: addr.address, port: addr.port, tls: true }, 'pop3s listening');
        return [addr];
      }
      plain = await listenTcp({
        host,
        port,
        ...(options.transport ? { transport: options.transport } : {}),
        onConnection: (conn) => accept(conn, false),
        onError: (err) => log.warn({ err: err.message }, 'pop3 accept failed'),
      });
      const addr = plain.address();
      log.debug({ host: addr.address, port: addr.port, tls: false, transport: plain.transport }, 'pop3 listening');
      return [addr];
    },
    async close() {
      ctx.closing = true;
      limiter.close();
      const stopped = secureServer
        ? new Promise<void>((r) => (secureServer!.listening ? secureServer!.close(() => r()) : r()))
        : (plain?.close() ?? Promise.resolve());
      for (const raw of handshaking) raw.destroy();
      for (const s of sessions) s.shutdown();
      const all = Promise.all([...sessions].map((s) => s.closed));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, limits.closeGraceMs)))]);
      clearTimeout(timer);
      for (const s of sessions) s.destroy();
      await all;
      await stopped;
      if (!options.mailboxCache) ctx.mailboxCache.forget();
    },
  };
}
