// The raw transport: TCP connections on the libuv handle that net.Socket is written on, without
// net.Socket. A server written on net.Socket receives every chunk through the stream machinery
// (onStreamRead → Readable.push → 'data') and sends every buffer through Writable.write (state,
// callbacks, 'drain' bookkeeping): several microseconds per request that Node's own node:http
// avoids, its C++ parser reading the libuv handle directly. Here Node's tcp_wrap/stream_wrap
// bindings are used as they are: one callback per read, one synchronous writeBuffer/writev per
// response (zero-copy: libuv writes straight from the Buffer, queuing it only when the kernel is
// full).
//
// This is the part built on Node internals (process.binding), kept apart because it is the one
// a Node release can break. The contract followed is Node 20's lib/net.js and
// lib/internal/stream_base_commons.js: `new TCP(SERVER)`, bind/bind6 + listen returning a
// negative errno, `onconnection(err, handle)`, `handle.onread` with the byte count (or error,
// UV_EOF) in `streamBaseState[kReadBytesOrError]`, writes through a `WriteWrap` whose
// `oncomplete(status)` runs only when `streamBaseState[kLastWriteWasAsync]` says the write was
// queued, `shutdown(ShutdownWrap)`. rawTcpBindings() probes all of it first; when anything is
// missing or not as expected, listenTcp (tcp.ts) uses node:net (net-tcp.ts) instead, and CI runs
// the suites on Node 20, 22 and 24.
import net, { type AddressInfo } from 'node:net';
import util from 'node:util';
import type { TcpConnection, TcpHandlers, TcpListener, TcpListenOptions, WriteCallback } from './tcp.ts';

/** Over this many bytes waiting, write() returns false (net.Socket's default high-water mark). */
export const WRITE_HIGH_WATER_MARK = 16 * 1024;

// ---- the bindings -------------------------------------------------------------------------

interface StreamReq {
  oncomplete: (status: number) => void;
  handle?: RawHandle;
  conn?: RawConnection;
  bytes?: number;
  buffer?: unknown;
  cb?: WriteCallback;
}

interface RawHandle {
  onread: (ab: ArrayBuffer | undefined) => unknown;
  onconnection: (err: number, client: RawHandle | undefined) => void;
  bind(ip: string, port: number): number;
  bind6(ip: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: Record<string, unknown>): number;
  getpeername(out: Record<string, unknown>): number;
  setNoDelay(on: boolean): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: StreamReq, buf: Buffer): number;
  writev(req: StreamReq, chunks: Buffer[], allBuffers: boolean): number;
  writeLatin1String(req: StreamReq, s: string): number;
  shutdown(req: StreamReq): number;
  useUserBuffer?(buf: Buffer): void;
  close(cb?: () => void): void;
}

interface Bindings {
  TCP: new (type: number) => RawHandle;
  SERVER: number;
  WriteWrap: new () => StreamReq;
  ShutdownWrap: new () => StreamReq;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
}

/** libuv's UV_EOF. */
const UV_EOF = -4095;

/**
 * Every raw connection reads into this one buffer (like node:http's parser, which reads into one
 * buffer per process): a read is delivered and done with before the next one starts, so one
 * buffer serves them all, and a read costs no allocation of its own. What is delivered is a copy
 * of the bytes read (from Buffer's small-allocation pool), the caller's to keep.
 */
const READ_BUFFER_SIZE = 64 * 1024;
let readBuffer: Buffer | undefined;

let cached: Bindings | null | undefined;

/** The tcp_wrap/stream_wrap bindings, or undefined when they are missing or not as expected. */
export function rawTcpBindings(): Bindings | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  try {
    const p = process as unknown as { binding?(name: string): Record<string, unknown> };
    if (typeof p.binding !== 'function') return undefined;
    const tcp = p.binding('tcp_wrap') as { TCP?: unknown; constants?: { SERVER?: unknown } };
    const sw = p.binding('stream_wrap') as Record<string, unknown>;
    const TCP = tcp.TCP as Bindings['TCP'];
    const SERVER = tcp.constants?.SERVER;
    const state = sw.streamBaseState;
    const keys = ['kReadBytesOrError', 'kArrayBufferOffset', 'kBytesWritten', 'kLastWriteWasAsync'] as const;
    if (typeof TCP !== 'function' || typeof SERVER !== 'number' || !(state instanceof Int32Array)) return undefined;
    if (typeof sw.WriteWrap !== 'function' || typeof sw.ShutdownWrap !== 'function') return undefined;
    if (!keys.every((k) => typeof sw[k] === 'number' && (sw[k] as number) < state.length)) return undefined;
    const proto = TCP.prototype as unknown as Record<string, unknown>;
    const methods = [
      'bind',
      'bind6',
      'listen',
      'getsockname',
      'getpeername',
      'setNoDelay',
      'readStart',
      'readStop',
      'writeBuffer',
      'writev',
      'writeLatin1String',
      'shutdown',
      'close',
    ];
    if (!methods.every((m) => typeof proto[m] === 'function')) return undefined;
    if (util.getSystemErrorName(UV_EOF) !== 'EOF') return undefined;
    cached = {
      TCP,
      SERVER,
      WriteWrap: sw.WriteWrap as Bindings['WriteWrap'],
      ShutdownWrap: sw.ShutdownWrap as Bindings['ShutdownWrap'],
      state,
      kReadBytesOrError: sw.kReadBytesOrError as number,
      kArrayBufferOffset: sw.kArrayBufferOffset as number,
      kBytesWritten: sw.kBytesWritten as number,
      kLastWriteWasAsync: sw.kLastWriteWasAsync as number,
    };
    return cached;
  } catch {
    return undefined;
  }
}

/** An ErrnoException like net's (`code`, `errno`, `syscall`, `address`, `port`). */
export function errnoException(errno: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException {
  let name: string;
  try {
    name = util.getSystemErrorName(errno);
  } catch {
    name = `E${-errno}`;
  }
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const err = new Error(`${syscall} ${name}${where}`) as NodeJS.ErrnoException & { address?: string; port?: number };
  err.code = name;
  err.errno = errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

// ---- raw connections ------------------------------------------------------------------------

const NOOP_HANDLERS: TcpHandlers = { data() {}, end() {}, error() {}, close() {} };

function onWriteDone(this: StreamReq, status: number): void {
  const conn = this.conn!;
  const cb = this.cb;
  const bytes = this.bytes ?? 0;
  this.buffer = undefined;
  this.cb = undefined;
  this.conn = undefined;
  conn.afterWrite(status, bytes, cb);
}

class RawConnection implements TcpConnection {
  readonly transport = 'raw' as const;
  writableLength = 0;
  destroyed = false;
  private handlers: TcpHandlers = NOOP_HANDLERS;
  private peer: Record<string, unknown> | undefined;
  private local: Record<string, unknown> | undefined;
  private drainWaiters: (() => void)[] = [];
  /** A WriteWrap not yet tied to a native write (a write done at once does not consume it). */
  private spare: StreamReq | undefined;
  private paused = false;
  private started = false;
  private eof = false;
  private ended = false;
  private shutDown = false;
  private error: NodeJS.ErrnoException | undefined;

  constructor(
    private readonly b: Bindings,
    readonly handle: RawHandle,
    private readonly onGone: (c: RawConnection) => void,
  ) {
    // Returns nothing: with a user buffer, a returned Uint8Array would become the next buffer.
    handle.onread = (ab) => {
      this.onRead(ab);
    };
    if (typeof handle.useUserBuffer === 'function') {
      readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
      handle.useUserBuffer(readBuffer);
      this.userBuffer = readBuffer;
    }
  }
  private userBuffer: Buffer | undefined;

  get remoteAddress(): string | undefined {
    return this.peerName().address as string | undefined;
  }
  get remotePort(): number | undefined {
    return this.peerName().port as number | undefined;
  }
  get localAddress(): string | undefined {
    return this.localName().address as string | undefined;
  }
  get localPort(): number | undefined {
    return this.localName().port as number | undefined;
  }
  private peerName(): Record<string, unknown> {
    if (!this.peer) {
      const out: Record<string, unknown> = {};
      if (!this.destroyed && this.handle.getpeername(out) === 0) this.peer = out;
      else return out;
    }
    return this.peer;
  }
  private localName(): Record<string, unknown> {
    if (!this.local) {
      const out: Record<string, unknown> = {};
      if (!this.destroyed && this.handle.getsockname(out) === 0) this.local = out;
      else return out;
    }
    return this.local;
  }

  setHandlers(handlers: TcpHandlers): void {
    this.handlers = handlers;
    if (this.started || this.destroyed) return;
    this.started = true;
    if (!this.paused) this.startReading();
  }

  setNoDelay(on: boolean): void {
    if (!this.destroyed) this.handle.setNoDelay(on);
  }

  private startReading(): void {
    const err = this.handle.readStart();
    if (err) this.destroy(errnoException(err, 'read'));
  }

  private onRead(ab: ArrayBuffer | undefined): void {
    const b = this.b;
    const n = b.state[b.kReadBytesOrError]!;
    if (n > 0) {
      if (this.destroyed) return;
      const ub = this.userBuffer;
      if (ub) {
        const chunk = Buffer.allocUnsafe(n);
        ub.copy(chunk, 0, 0, n);
        this.handlers.data(chunk);
      } else if (ab) this.handlers.data(Buffer.from(ab, b.state[b.kArrayBufferOffset]!, n));
      return;
    }
    if (n === 0) return;
    if (n === UV_EOF) {
      // libuv stops reading at EOF by itself.
      if (this.eof || this.destroyed) return;
      this.eof = true;
      this.handlers.end();
      this.maybeClose();
      return;
    }
    this.destroy(errnoException(n, 'read'));
  }

  private req(): StreamReq {
    const r = this.spare ?? new this.b.WriteWrap();
    this.spare = undefined;
    r.handle = this.handle;
    r.oncomplete = onWriteDone;
    return r;
  }

  /** After a native write call: queued (wait for oncomplete), done at once, or failed. */
  private dispatched(req: StreamReq, err: number, data: unknown, bytes: number, cb: WriteCallback | undefined): boolean {
    const b = this.b;
    if (err !== 0) {
      this.spare = undefined; // a failed request may be tied to the native side: do not reuse it
      const e = errnoException(err, 'write');
      this.destroy(e);
      cb?.(e);
      return false;
    }
    if (b.state[b.kLastWriteWasAsync]) {
      // libuv holds the memory until oncomplete: keep the buffers alive.
      req.conn = this;
      req.buffer = data;
      req.bytes = bytes;
      req.cb = cb;
      this.writableLength += bytes;
      return this.writableLength <= WRITE_HIGH_WATER_MARK;
    }
    this.spare = req;
    cb?.(null);
    return true;
  }

  write(data: Buffer | string, cb?: WriteCallback): boolean {
    if (this.destroyed || this.ended) {
      cb?.(errnoException(-32 /* EPIPE */, 'write'));
      return false;
    }
    const req = this.req();
    if (typeof data === 'string') {
      const err = this.handle.writeLatin1String(req, data);
      // Strings are copied by the binding when the write is queued.
      return this.dispatched(req, err, undefined, data.length, cb);
    }
    const err = this.handle.writeBuffer(req, data);
    return this.dispatched(req, err, data, data.length, cb);
  }

  writev(chunks: Buffer[], cb?: WriteCallback): boolean {
    if (chunks.length === 1) return this.write(chunks[0]!, cb);
    if (this.destroyed || this.ended) {
      cb?.(errnoException(-32, 'write'));
      return false;
    }
    const req = this.req();
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    const err = this.handle.writev(req, chunks, true);
    return this.dispatched(req, err, chunks, bytes, cb);
  }

  afterWrite(status: number, bytes: number, cb: WriteCallback | undefined): void {
    this.writableLength -= bytes;
    if (status < 0) {
      const e = errnoException(status, 'write');
      cb?.(e);
      this.destroy(e);
      return;
    }
    cb?.(null);
    if (this.writableLength === 0 && this.drainWaiters.length > 0 && !this.destroyed) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  onDrain(cb: () => void): void {
    if (this.destroyed) return;
    if (this.writableLength === 0) queueMicrotask(() => !this.destroyed && cb());
    else this.drainWaiters.push(cb);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.started && !this.eof && !this.destroyed) this.handle.readStop();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.started && !this.eof && !this.destroyed) this.startReading();
  }

  end(): void {
    if (this.ended || this.destroyed) return;
    this.ended = true;
    const req = new this.b.ShutdownWrap();
    req.handle = this.handle;
    // libuv sends the FIN after the queued writes.
    req.oncomplete = (status: number) => {
      if (this.destroyed) return;
      if (status < 0 && status !== -107 /* ENOTCONN: the peer is gone already */) {
        this.destroy(errnoException(status, 'shutdown'));
        return;
      }
      this.shutDown = true;
      this.maybeClose();
    };
    const err = this.handle.shutdown(req);
    if (err) this.destroy(err === -107 ? undefined : errnoException(err, 'shutdown'));
  }

  /** Both directions finished (allowHalfOpen semantics): the connection is over. */
  private maybeClose(): void {
    if (this.eof && this.shutDown) this.destroy();
  }

  destroy(err?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.error = err as NodeJS.ErrnoException | undefined;
    this.drainWaiters = [];
    this.handle.onread = () => undefined;
    this.handle.close(() => {
      this.onGone(this);
      const h = this.handlers;
      this.handlers = NOOP_HANDLERS;
      if (this.error) h.error(this.error);
      h.close();
    });
  }
}

class RawListener implements TcpListener {
  readonly transport = 'raw' as const;
  private readonly conns = new Set<RawConnection>();
  private closing: Promise<void> | undefined;
  private allGone: (() => void) | undefined;
  private name: AddressInfo;

  constructor(
    b: Bindings,
    private readonly handle: RawHandle,
    opts: TcpListenOptions,
  ) {
    const out: Record<string, unknown> = {};
    handle.getsockname(out);
    this.name = out as unknown as AddressInfo;
    const noDelay = opts.noDelay ?? true;
    handle.onconnection = (err, client) => {
      if (err || !client) {
        opts.onError?.(errnoException(err, 'accept'));
        return;
      }
      if (this.closing) {
        client.close();
        return;
      }
      const conn = new RawConnection(b, client, (c) => this.gone(c));
      this.conns.add(conn);
      if (noDelay) client.setNoDelay(true);
      opts.onConnection(conn);
    };
  }

  address(): AddressInfo {
    return this.name;
  }

  connections(): Iterable<TcpConnection> {
    return this.conns;
  }

  private gone(c: RawConnection): void {
    this.conns.delete(c);
    if (this.conns.size === 0) this.allGone?.();
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.handle.close(() => {
        if (this.conns.size === 0) resolve();
        else this.allGone = resolve;
      });
    });
    return this.closing;
  }
}

/**
 * A raw listener on host:port (an IP literal), or undefined when the bindings are missing or
 * refuse the handle (the caller then uses node:net). Throws net's ErrnoException on a bind or
 * listen failure.
 */
export function listenRaw(opts: TcpListenOptions): TcpListener | undefined {
  const b = rawTcpBindings();
  if (!b) return undefined;
  let handle: RawHandle;
  try {
    handle = new b.TCP(b.SERVER);
  } catch {
    return undefined;
  }
  const v6 = net.isIPv6(opts.host);
  let err = v6 ? handle.bind6(opts.host, opts.port, 0) : handle.bind(opts.host, opts.port);
  if (typeof err !== 'number') {
    handle.close();
    return undefined;
  }
  if (err === 0) err = handle.listen(opts.backlog ?? 511);
  if (err) {
    handle.close();
    throw errnoException(err, 'listen', opts.host, opts.port);
  }
  return new RawListener(b, handle, opts);
}
