// TCP listeners for the protocol servers: one interface for a connection (TcpConnection) whether
// it is carried by Node's libuv TCP handle directly (raw-tcp.ts, built on the internal
// process.binding: the fast path) or by a net.Socket / tls.TLSSocket (net-tcp.ts: the fallback,
// and TLS), and listenTcp, which picks the transport.
//
// Raw skips net.Socket's stream machinery (several microseconds per request: raw-tcp.ts says
// where); it is used when the bindings are there and look as expected, and the host is an IP
// literal. `transport: 'net'` (which the apps' main.ts set from SSTT_RAW_TCP=net) forces node:net.
// Both pass the same conformance suite (runtime's tcp.test.ts, apps/http's over raw, net and TLS).
import net, { type AddressInfo } from 'node:net';
import { listenNet } from './net-tcp.ts';
import { listenRaw, rawTcpBindings } from './raw-tcp.ts';

/** One accepted connection, raw or over net.Socket: the part of a socket a protocol server needs. */
export interface TcpConnection {
  /** Which transport carries it. */
  readonly transport: 'raw' | 'net';
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Bytes handed to write()/writev() that the kernel has not taken yet. */
  readonly writableLength: number;
  /** destroy() was called or the connection closed. */
  readonly destroyed: boolean;
  /**
   * Starts delivering events. `data` chunks are the caller's to keep. Reading starts here, so
   * nothing is lost between the accept and this call.
   */
  setHandlers(handlers: TcpHandlers): void;
  /** Sends a buffer (or a latin1 string). Returns false once more than the high-water mark waits. */
  write(data: Buffer | string, cb?: WriteCallback): boolean;
  /** Sends several buffers in one system call when the kernel takes them. */
  writev(chunks: Buffer[], cb?: WriteCallback): boolean;
  /** Calls `cb` once, when everything written so far has been taken by the kernel. */
  onDrain(cb: () => void): void;
  /** Stops reading (backpressure on the client); resume() starts again. */
  pause(): void;
  resume(): void;
  /** Half-close: FIN after the pending writes. Reading goes on until the peer's FIN. */
  end(): void;
  /** Closes now; pending writes are dropped. `close` follows (asynchronously). */
  destroy(err?: Error): void;
  setNoDelay(on: boolean): void;
}

/**
 * Write callbacks get null or the error; they may run synchronously (the kernel took the bytes
 * at once), so a callback must not assume it runs after write() returned.
 */
export type WriteCallback = (err: Error | null) => void;

export interface TcpHandlers {
  data(chunk: Buffer): void;
  /** The peer sent FIN. The connection stays writable (half-open) until end() or destroy(). */
  end(): void;
  /** A read or write failed (ECONNRESET, EPIPE...): `close` follows. */
  error(err: NodeJS.ErrnoException): void;
  /** The connection is gone (after both FINs, or destroy()). Called once. */
  close(): void;
}

export interface TcpListenOptions {
  host: string;
  port: number;
  backlog?: number;
  /** TCP_NODELAY on accepted connections (default true). */
  noDelay?: boolean;
  /** 'raw' (the default, when the bindings are there) or 'net' to force node:net (main.ts: SSTT_RAW_TCP=net). */
  transport?: 'raw' | 'net' | undefined;
  onConnection(conn: TcpConnection): void;
  /** Accept failures (EMFILE...): the listener keeps listening. */
  onError?(err: NodeJS.ErrnoException): void;
}

export interface TcpListener {
  readonly transport: 'raw' | 'net';
  address(): AddressInfo;
  /** Open connections (for a forced close). */
  connections(): Iterable<TcpConnection>;
  /** Stops accepting; resolves once every connection has closed too (like net.Server.close). */
  close(): Promise<void>;
}

/** Which transport a listener will use given its option: raw unless 'net' is asked or the bindings are not there. */
export function chosenTransport(transport: 'raw' | 'net' | undefined): 'raw' | 'net' {
  return (transport ?? 'raw') === 'raw' && rawTcpBindings() ? 'raw' : 'net';
}

/**
 * Listens on host:port (an IP literal for the raw transport; a name falls back to node:net).
 * Rejects with net's ErrnoException (EADDRINUSE, EACCES, EADDRNOTAVAIL) on failure.
 */
export async function listenTcp(opts: TcpListenOptions): Promise<TcpListener> {
  const raw = chosenTransport(opts.transport) === 'raw' && net.isIP(opts.host) ? listenRaw(opts) : undefined;
  return raw ?? listenNet(opts);
}
