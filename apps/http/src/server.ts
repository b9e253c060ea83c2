// web_sstt: the lab's hand-written HTTP/1.1 server on plain TCP (runtime's listenTcp: Node's libuv
// TCP handle used directly, node:net as the fallback) and node:tls for HTTPS with client
// certificates. The factory returns `{ listen, close }` (STYLE.md §1); each accepted
// connection becomes one Connection.
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  ConnectionLimiter,
  intermediateTlsOptions,
  ListenError,
  listenTcp,
  silentLogger,
  wrapSocket,
  type Logger,
  type Slot,
  type TcpConnection,
  type TcpListener,
} from '@sstt/runtime';
import type { Journal } from '@sstt/events';
import { autoconfigXml, type Scenario } from '@sstt/scenario';
import { Connection } from './connection.ts';
import type { OpenConnection, ServerContext } from './context.ts';
import { FileStore } from './files.ts';
import { labLine, ServerLogs } from './log.ts';
import { errorPage } from './status.ts';
import { currentHttpDate } from './http-date.ts';

/** A client has this long to send a complete request head (and form body) once it started. */
export const HEADER_TIMEOUT_MS = 5000;
/** A client must take each chunk of a response (up to 512 KiB) within this long, or it is cut. */
export const SEND_TIMEOUT_MS = 60_000;
/**
 * Connections (HTTP and HTTPS together, TLS handshakes included). At this cap a newcomer takes
 * the place of the connection that costs most and gives least: an idle keep-alive first, then the
 * one that has been sending its request head longest (nginx limit_conn + reset_timedout_connection);
 * only when every connection is being answered is the newcomer refused with 503.
 */
export const MAX_CONNECTIONS = 1024;
/** Connections per client address; at this cap the client's own costliest connection makes room. */
export const MAX_CONNECTIONS_PER_CLIENT = 256;
/** From this percentage of MAX_CONNECTIONS on, the server is under pressure and its timeouts shrink. */
export const PRESSURE_PERCENT = 75;
/** The header timeout under pressure: a browser sends its head at once; a slowloris does not. */
export const PRESSURE_HEADER_TIMEOUT_MS = 2000;
/** The keep-alive idle timeout under pressure (RFC 9112 §9.5: a server may close idle connections at any time). */
export const PRESSURE_IDLE_TIMEOUT_MS = 1000;
/** On close, busy connections get this long to finish before they are cut. */
export const CLOSE_GRACE_MS = 2000;
export const SERVER_NAME = 'web_sstt';

export interface HttpsOptions {
  port?: number;
  cert: Buffer | string;
  key: Buffer | string;
  /** The lab CA: client certificates must chain to it. */
  ca: Buffer | string;
  /** The CA's CRL: revoked client certificates are refused during the handshake. */
  crl?: Buffer | string;
}

export interface HttpServerOptions {
  scenario: Scenario;
  /** Web root (default scenario.http.root). */
  root?: string;
  /** Listen address (default scenario.listen.address). */
  host?: string;
  /** Plain HTTP port (default scenario.listen.ports.http); 0 picks a free one. */
  port?: number;
  /** Adds the HTTPS listener (port default scenario.listen.ports.https). */
  https?: HttpsOptions;
  idleTimeoutMs?: number;
  headerTimeoutMs?: number;
  sendTimeoutMs?: number;
  maxRequests?: number;
  /** Default scenario.http.limits, else the constants above. */
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  pressurePercent?: number;
  pressureHeaderTimeoutMs?: number;
  pressureIdleTimeoutMs?: number;
  /** Address the 2019/20 form expects; without it POST is 405 (default scenario.http.formEmail). */
  formEmail?: string;
  /** Where access.log and webserver.log go (default scenario.paths.logs); false: no log files. */
  logDir?: string | false;
  log?: Logger;
  /** The session journal each connection's requests are published to (the console's timeline); none: nothing is recorded. */
  journal?: Journal;
  /** Files up to this size (bytes) are served from memory (default files.ts CACHE_FILE_MAX). */
  cacheFileMax?: number;
  /** How long (ms) a cached file is trusted before it is checked again (default CACHE_VALIDATE_MS; 0: every request). */
  cacheValidateMs?: number;
  /**
   * Transport of the plain listener: 'raw' (Node's TCP handle directly, the default) or 'net'
   * (node:net; main.ts: SSTT_RAW_TCP=net); raw falls back to net by itself.
   */
  transport?: 'raw' | 'net';
}

export interface HttpServer {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
  /**
   * Replaces the TLS credentials of the running HTTPS listener (a new CRL after a revocation,
   * a renewed certificate); new handshakes use them at once.
   */
  updateTls(https: HttpsOptions): void;
  /** What carries the plain listener once listening: 'raw' (libuv TCP handle) or 'net' (node:net). */
  plainTransport(): 'raw' | 'net' | undefined;
}

/**
 * The key, the certificate and the client CA under Mozilla's intermediate profile (TLS 1.2 + 1.3,
 * ECDHE with AEAD, X25519/P-256/P-384, no client renegotiation). Clients get the full chain, leaf
 * + CA: OpenSSL completes the chain from `ca`, the lab CA that also verifies client certificates.
 */
function credentials(h: HttpsOptions): tls.SecureContextOptions {
  return { ...intermediateTlsOptions(), cert: h.cert, key: h.key, ca: h.ca, ...(h.crl ? { crl: h.crl } : {}) };
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const s = options.scenario;
  const log = options.log ?? silentLogger();
  const host = options.host ?? s.listen.address;
  const idleTimeoutMs = options.idleTimeoutMs ?? s.http.idleTimeoutSeconds * 1000;
  const limits = s.http.limits ?? {};
  const maxConnections = options.maxConnections ?? limits.maxConnections ?? MAX_CONNECTIONS;
  const pressurePercent = options.pressurePercent ?? limits.pressurePercent ?? PRESSURE_PERCENT;
  const limiter = new ConnectionLimiter({
    service: 'http',
    maxConnections,
    maxConnectionsPerAddress: options.maxConnectionsPerClient ?? limits.maxConnectionsPerClient ?? MAX_CONNECTIONS_PER_CLIENT,
    pressurePercent,
    connectionRatePerSecond: limits.connectionRatePerSecond,
    connectionBurst: limits.connectionBurst,
    log,
  });
  const logDir = options.logDir ?? s.paths.logs;
  const connections = new Set<OpenConnection>();
  /** Every accepted TCP socket of the TLS listener, including handshakes in progress and refused ones, for close(). */
  const sockets = new Set<net.Socket>();
  const track = (srv: net.Server) =>
    srv.on('connection', (sock: net.Socket) => {
      // Over its address's connection rate: closed before the handshake begins.
      if (limiter.overRate(addressOf(sock.remoteAddress))) return void sock.destroy();
      sockets.add(sock);
      // The TLS handshake costs a connection like a request head does: the slot is taken here,
      // before it, so a flood of handshakes (or of silent TCP connections) is shed like a slowloris.
      const slot = limiter.admitSlot(addressOf(sock.remoteAddress), 'head', () => {
        const conn = slotConns.get(slot!);
        if (conn) conn.destroy();
        else sock.destroy();
      });
      const key = peerKey(sock);
      if (slot) tlsSlots.set(key, slot);
      else sock.destroy(); // no HTTP can be spoken before the handshake: a 503 is not possible yet
      sock.once('close', () => {
        sockets.delete(sock);
        if (slot && tlsSlots.get(key) === slot) tlsSlots.delete(key);
        slot?.release();
      });
    });
  let logs: ServerLogs | undefined;
  const servers: net.Server[] = [];
  let plain: TcpListener | undefined;
  let secureServer: tls.Server | undefined;

  const ctx: ServerContext = {
    files: undefined as unknown as FileStore, // set in listen(), after the root is checked
    logs: undefined,
    log,
    serverName: SERVER_NAME,
    idleTimeoutMs,
    keepAliveTimeoutS: Math.max(1, Math.ceil(idleTimeoutMs / 1000)),
    headerTimeoutMs: options.headerTimeoutMs ?? limits.headerTimeoutMs ?? HEADER_TIMEOUT_MS,
    pressureHeaderTimeoutMs: options.pressureHeaderTimeoutMs ?? limits.pressureHeaderTimeoutMs ?? PRESSURE_HEADER_TIMEOUT_MS,
    pressureIdleTimeoutMs: options.pressureIdleTimeoutMs ?? limits.pressureIdleTimeoutMs ?? PRESSURE_IDLE_TIMEOUT_MS,
    limiter,
    sendTimeoutMs: options.sendTimeoutMs ?? SEND_TIMEOUT_MS,
    maxRequests: options.maxRequests ?? s.http.maxRequests,
    formEmail: options.formEmail ?? s.http.formEmail,
    autoconfig: Buffer.from(autoconfigXml(s)),
    cookie: s.http.cookie,
    closing: false,
    journal: options.journal,
    onClosed: (c) => connections.delete(c),
  };

  /** A short 503 and close: the server is closing, or every connection in the way is busy. */
  const refuse = (socket: TcpConnection) => {
    const page = errorPage(503);
    // With half-open connections our FIN does not close the socket; do not wait for the peer's.
    const timer = setTimeout(() => socket.destroy(), ctx.idleTimeoutMs);
    timer.unref();
    // Read and drop what the client sends, so the close is a clean FIN.
    socket.setHandlers({ data() {}, end() {}, error() {}, close: () => clearTimeout(timer) });
    socket.write(
      `HTTP/1.1 503 Service Unavailable\r\nDate: ${currentHttpDate()}\r\nServer: ${SERVER_NAME}\r\nContent-Type: text/html; charset=utf-8\r\n` +
        `Content-Length: ${page.length}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${page.toString('latin1')}`,
    );
    socket.end();
  };

  const addressOf = (a: string | undefined) => a?.replace(/^::ffff:/, '') ?? '-';

  /** A new plain connection: it takes a slot (maybe in place of a costlier one) or gets 503. */
  const acceptPlain = (socket: TcpConnection) => {
    if (ctx.closing) return refuse(socket);
    // Over its address's connection rate: closed as it is accepted, without a byte.
    if (limiter.overRate(addressOf(socket.remoteAddress))) return socket.destroy();
    let conn: Connection | undefined;
    const slot = limiter.admitSlot(addressOf(socket.remoteAddress), 'head', () => (conn ? conn.destroy() : socket.destroy()));
    if (!slot) return refuse(socket);
    conn = new Connection(socket, ctx, false, undefined, slot);
    connections.add(conn);
  };

  /** A TLS connection whose client certificate was accepted; its slot was taken at the TCP accept. */
  const acceptTls = (tlsSocket: tls.TLSSocket, slot: Slot) => {
    const socket = wrapSocket(tlsSocket);
    if (ctx.closing) return refuse(socket);
    // The plain listener sets TCP_NODELAY as it accepts; the TLS socket needs it here.
    socket.setNoDelay(true);
    const conn = new Connection(socket, ctx, true, tlsSocket, slot);
    slotConns.set(slot, conn);
    connections.add(conn);
  };
  /** The Connection that holds a TLS slot once the handshake is done (shedding destroys it). */
  const slotConns = new WeakMap<Slot, Connection>();
  /**
   * The slot of each TCP socket of the TLS listener, taken at accept (the handshake counts as the
   * head), by the peer's address and port: the TLSSocket Node makes around it is another object.
   */
  const tlsSlots = new Map<string, Slot>();
  const peerKey = (sock: net.Socket) => `${sock.remoteAddress}|${sock.remotePort}`;

  /**
   * A TLS client without a valid certificate from the lab CA (none, another CA, revoked on the
   * CRL, expired): it never gets an HTTP byte. The handshake is over when Node tells us (under
   * TLS 1.3 the client's certificate arrives with its last flight), so the refusal is a TCP
   * reset once the client speaks (or after the header timeout): curl then fails with "Recv
   * failure" (56) rather than reading a clean close as an empty HTTP reply.
   */
  const refuseTls = (sock: tls.TLSSocket) => {
    const peer = sock.getPeerCertificate();
    const hasCert = Boolean(peer && Object.keys(peer).length > 0);
    const why = !hasCert ? 'no client certificate' : sock.authorizationError ? String(sock.authorizationError) : 'not authorized';
    log.info({ remote: sock.remoteAddress, why }, 'TLS client refused');
    logs?.lab.write(labLine('FORBIDDEN', sock.remoteAddress?.replace(/^::ffff:/, '') ?? '-', `TLS client certificate refused: ${why}`));
    const raw = [...sockets].find((r) => r.remotePort === sock.remotePort && r.remoteAddress === sock.remoteAddress && r.localPort === sock.localPort);
    const reset = () => {
      clearTimeout(timer);
      if (raw && !raw.destroyed) raw.resetAndDestroy();
      else sock.destroy();
    };
    const timer = setTimeout(reset, ctx.headerTimeoutMs);
    timer.unref();
    sock.on('error', () => {});
    sock.once('data', reset);
    sock.once('close', () => clearTimeout(timer));
  };

  const listenPlain = async (port: number) => {
    try {
      plain = await listenTcp({
        host,
        port,
        backlog: 1024,
        transport: options.transport,
        onConnection: (c) => acceptPlain(c),
        onError: (err) => log.error({ err }, 'http listener error'),
      });
    } catch (err) {
      throw new ListenError('http', host, port, err as NodeJS.ErrnoException);
    }
    return plain.address();
  };

  const listenOne = (srv: net.Server, port: number, service: 'http' | 'https') =>
    new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new ListenError(service, host, port, err));
      srv.once('error', onError);
      srv.listen({ host, port, backlog: 1024 }, () => {
        srv.off('error', onError);
        srv.on('error', (err) => log.error({ err }, `${service} listener error`));
        resolve(srv.address() as AddressInfo);
      });
    });

  return {
    async listen() {
      ctx.files = new FileStore(options.root ?? s.http.root, options.cacheFileMax, undefined, options.cacheValidateMs);
      if (logDir !== false) {
        logs = new ServerLogs(logDir);
        logs.open();
        ctx.logs = logs;
      }
      const addresses = [await listenPlain(options.port ?? s.listen.ports.http)];
      if (options.https) {
        const h = options.https;
        const secure = tls.createServer(
          {
            allowHalfOpen: true,
            ...credentials(h),
            // Like Apache's SSLVerifyClient require, but the verdict is ours (see refuseTls):
            // Node can only drop a refused client silently, which a client reads as an empty reply.
            requestCert: true,
            rejectUnauthorized: false,
            // A client that connects and never completes the handshake is cut like a slow head.
            handshakeTimeout: ctx.headerTimeoutMs,
          },
          (sock) => {
            // The TLSSocket is made around the TCP socket that took the slot at accept.
            const slot = tlsSlots.get(peerKey(sock));
            if (sock.authorized && slot && !slot.released) acceptTls(sock, slot);
            else if (!sock.authorized) refuseTls(sock);
            else sock.destroy();
          },
        );
        secure.on('tlsClientError', (err, sock) => {
          // With a listener here Node only reports (e.g. the handshake timeout): close it ourselves.
          sock.destroy();
          log.debug({ err: err.message, remote: sock.remoteAddress }, 'TLS handshake refused');
          logs?.lab.write(labLine('FORBIDDEN', sock.remoteAddress ?? '-', `TLS handshake refused: ${err.message}`));
        });
        secureServer = secure;
        servers.push(secure);
        track(secure);
        addresses.push(await listenOne(secure, h.port ?? s.listen.ports.https, 'https'));
      }
      for (const a of addresses) logs?.lab.write(labLine('INFO', '-', `listening on ${a.address}:${a.port} root ${ctx.files.root}`));
      log.info({ addresses: addresses.map((a) => `${a.address}:${a.port}`), root: ctx.files.root, tcp: plain?.transport }, 'web_sstt listening');
      return addresses;
    },

    plainTransport: () => plain?.transport,

    updateTls(https: HttpsOptions) {
      secureServer?.setSecureContext(credentials(https));
      logs?.lab.write(labLine('INFO', '-', 'TLS credentials reloaded'));
    },

    async close() {
      ctx.closing = true;
      const closed = Promise.all([...servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))), ...(plain ? [plain.close()] : [])]);
      for (const c of connections) c.shutdown();
      const grace = setTimeout(() => {
        for (const c of connections) c.destroy();
        for (const sock of sockets) sock.destroy();
        for (const c of plain?.connections() ?? []) c.destroy();
      }, CLOSE_GRACE_MS);
      grace.unref();
      await closed;
      clearTimeout(grace);
      limiter.close();
      logs?.lab.write(labLine('INFO', '-', 'server closed'));
      await logs?.close();
    },
  };
}
