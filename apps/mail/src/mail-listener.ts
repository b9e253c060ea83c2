// The listener the POP3 and IMAP servers share (STYLE §1, §7, §21): plain (STLS/STARTTLS
// inside the session) or implicit TLS (RFC 8314 §3.3: POP3S, IMAPS); the one connection limiter
// with the scenario's mail limits; one session per connection; graceful close. The plain
// listener runs on @sstt/runtime's raw TCP transport, node:net with `transport: 'net'`.
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { ConnectionLimiter, listenTcp, wrapSocket, type LimitedConnection, type Logger, type TcpConnection, type TcpListener } from '@sstt/runtime';
import type { Journal } from '@sstt/events';
import type { Scenario } from '@sstt/scenario';
import { silentLogger } from '@sstt/runtime';
import { AuthPenalty } from './auth-penalty.ts';
import { mailTlsOptions } from './tls.ts';

/** The options every mail protocol server takes (POP3, IMAP), beside its own limits. */
export interface MailServerOptions {
  scenario: Scenario;
  /** Default: scenario.listen.address. */
  host?: string;
  /** Default: the scenario's port of the protocol, or of its implicit-TLS form. 0 = any free port. */
  port?: number;
  /** TLS from the first byte (POP3S, IMAPS; RFC 8314 §3.3). Needs `tls`. */
  implicitTls?: boolean;
  /** Key, certificate and CA (with the profile of ./tls.ts); on a plain listener this enables STLS/STARTTLS. */
  tls?: tls.SecureContextOptions;
  log?: Logger;
  greeting?: string;
  /** Default: scenario.mail.plaintextAuth (false: logins only after STLS/STARTTLS or with implicit TLS). */
  plaintextAuth?: boolean;
  /** Login penalties; share one between the mail listeners. Default: its own, from scenario.mail.limits. */
  penalty?: AuthPenalty;
  /** Plain listener's transport: 'raw' (default when available) or 'net' (main.ts: SSTT_RAW_TCP=net). */
  transport?: 'raw' | 'net';
  /** The session journal each session's dialogue is published to (the console's timeline); none: nothing is recorded. */
  journal?: Journal;
}

/** What every session of a mail protocol server shares, whatever the protocol. */
export interface MailContext {
  scenario: Scenario;
  log: Logger;
  greeting: string;
  /** Set when TLS is configured: STLS/STARTTLS is offered on plain connections. */
  secureContext?: tls.SecureContext;
  plaintextAuth: boolean;
  closing: boolean;
  penalty: AuthPenalty;
  journal: Journal | undefined;
}

/**
 * From a server's options: its limits (the defaults, then each number the options give), the
 * shared context, and where it listens (`ports`: the scenario's plain and implicit-TLS ports).
 */
export function mailServerBasics<L extends Record<string, number>>(
  options: MailServerOptions & Partial<L>,
  defaults: L,
  names: { plain: string; implicit: string; greeting: string; ports: [number, number] },
): { limits: L; context: MailContext; host: string; port: number; tls: tls.TlsOptions | undefined } {
  const { scenario } = options;
  const limits = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof L>) {
    const v = options[key];
    if (typeof v === 'number') limits[key] = v as L[keyof L];
  }
  const implicitTls = options.implicitTls ?? false;
  if (implicitTls && !options.tls) throw new Error(`${names.implicit.toUpperCase()} (implicitTls) needs a certificate and key (tls option)`);
  const tlsOptions = options.tls ? mailTlsOptions(options.tls) : undefined;
  const secureContext = tlsOptions ? tls.createSecureContext(tlsOptions) : undefined;
  return {
    limits,
    context: {
      scenario,
      log: options.log ?? silentLogger(),
      greeting: options.greeting ?? names.greeting,
      ...(secureContext ? { secureContext } : {}),
      plaintextAuth: options.plaintextAuth ?? scenario.mail.plaintextAuth,
      closing: false,
      penalty: options.penalty ?? new AuthPenalty({ baseMs: scenario.mail.limits.authPenaltyMs, maxMs: scenario.mail.limits.authPenaltyMaxMs }),
      journal: options.journal,
    },
    host: options.host ?? scenario.listen.address,
    port: options.port ?? (implicitTls ? names.ports[1] : names.ports[0]),
    tls: implicitTls ? tlsOptions : undefined,
  };
}

/** What the listener needs of a session. */
export interface ListenedSession extends LimitedConnection {
  readonly closed: Promise<void>;
  start(): void;
  /** The server closes: finish the current command, say goodbye. */
  shutdown(): void;
  destroy(): void;
}

export interface MailListenerOptions<S extends ListenedSession> {
  /** The service's name in logs and the limiter ('pop3', 'pop3s', 'imap', 'imaps'). */
  service: string;
  scenario: Scenario;
  host: string;
  port: number;
  /** Set: TLS from the first byte. */
  tls: tls.TlsOptions | undefined;
  transport: 'raw' | 'net' | undefined;
  log: Logger;
  idleTimeoutMs: number;
  closeGraceMs: number;
  /** The line that refuses a connection before its session begins. */
  refusal(why: 'closing' | 'full'): string;
  closing(): boolean;
  /** Marks the server closing (sessions see it in their gate). */
  setClosing(): void;
  session(conn: TcpConnection, secure: boolean): S;
}

export interface MailListener {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

export function createMailListener<S extends ListenedSession>(o: MailListenerOptions<S>): MailListener {
  const { log, scenario } = o;
  const sessions = new Set<S>();
  const limiter = new ConnectionLimiter({ ...scenario.mail.limits, idleTimeoutMs: o.idleTimeoutMs, service: o.service, log });

  /** `admitted`: an implicit-TLS connection already counted by the limiter during its handshake. */
  const accept = (conn: TcpConnection, secure: boolean, admitted = false) => {
    const refuse = (line: string) => {
      conn.setHandlers({ data() {}, end() {}, error() {}, close() {} });
      conn.write(line);
      conn.end();
      setTimeout(() => conn.destroy(), o.closeGraceMs).unref();
    };
    if (o.closing()) return refuse(o.refusal('closing'));
    // Over its address's connection rate: closed as it is accepted, before the greeting (TLS: checked at the TCP accept).
    if (!admitted && limiter.overRate(conn.remoteAddress ?? '')) return conn.destroy();
    if (!admitted && !limiter.admit(conn.remoteAddress ?? '')) return refuse(o.refusal('full'));
    const session = o.session(conn, secure);
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
  /** Implicit-TLS connections still in their handshake (counted by the limiter, closed by close()). */
  const handshakes = new WeakMap<net.Socket, LimitedConnection>();
  const handshaking = new Set<net.Socket>();
  if (o.tls) {
    // allowHalfOpen: a client's FIN ends the session the same way on every transport (wrapSocket).
    // A client that never finishes its handshake is cut like a slow command line.
    secureServer = tls.createServer({ ...o.tls, allowHalfOpen: true, handshakeTimeout: scenario.mail.limits.commandTimeoutMs }, (socket) => {
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
      if (o.closing() || limiter.overRate(address) || !limiter.admit(address)) return void raw.destroy();
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
      log.debug({ err: err.message, client: socket.remoteAddress }, `${o.service} handshake failed`);
    });
  }

  return {
    async listen() {
      if (secureServer) {
        const server = secureServer;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: o.host, port: o.port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const addr = server.address() as AddressInfo;
        log.debug({ host: addr.address, port: addr.port, tls: true }, `${o.service} listening`);
        return [addr];
      }
      plain = await listenTcp({
        host: o.host,
        port: o.port,
        ...(o.transport ? { transport: o.transport } : {}),
        onConnection: (conn) => accept(conn, false),
        onError: (err) => log.warn({ err: err.message }, `${o.service} accept failed`),
      });
      const addr = plain.address();
      log.debug({ host: addr.address, port: addr.port, tls: false, transport: plain.transport }, `${o.service} listening`);
      return [addr];
    },
    async close() {
      o.setClosing();
      limiter.close();
      const stopped = secureServer
        ? new Promise<void>((r) => (secureServer!.listening ? secureServer!.close(() => r()) : r()))
        : (plain?.close() ?? Promise.resolve());
      for (const raw of handshaking) raw.destroy();
      for (const s of sessions) s.shutdown();
      const all = Promise.all([...sessions].map((s) => s.closed));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, o.closeGraceMs)))]);
      clearTimeout(timer);
      for (const s of sessions) s.destroy();
      await all;
      await stopped;
    },
  };
}
