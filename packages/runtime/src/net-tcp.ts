// The node:net transport: the TcpConnection interface over a net.Socket (the fallback when the
// raw bindings are missing, or forced with `transport: 'net'`) or a tls.TLSSocket (wrapSocket:
// HTTPS, POP3S and the sessions after STLS), so a protocol server has one code path for all.
import net, { type AddressInfo } from 'node:net';
import type { TcpConnection, TcpHandlers, TcpListener, TcpListenOptions, WriteCallback } from './tcp.ts';

class SocketConnection implements TcpConnection {
  readonly transport = 'net' as const;
  constructor(readonly socket: net.Socket) {}
  get remoteAddress() {
    return this.socket.remoteAddress;
  }
  get remotePort() {
    return this.socket.remotePort;
  }
  get localAddress() {
    return this.socket.localAddress;
  }
  get localPort() {
    return this.socket.localPort;
  }
  get writableLength() {
    return this.socket.writableLength;
  }
  get destroyed() {
    return this.socket.destroyed;
  }
  setHandlers(h: TcpHandlers): void {
    const s = this.socket;
    s.on('data', h.data);
    s.on('end', h.end);
    s.on('error', h.error);
    s.on('close', () => h.close());
  }
  write(data: Buffer | string, cb?: WriteCallback): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1', cb && ((e) => cb(e ?? null))) : this.socket.write(data, cb && ((e) => cb(e ?? null)));
  }
  writev(chunks: Buffer[], cb?: WriteCallback): boolean {
    const s = this.socket;
    if (chunks.length === 1) return this.write(chunks[0]!, cb);
    s.cork();
    let ok = true;
    for (let i = 0; i < chunks.length; i++) ok = i === chunks.length - 1 ? s.write(chunks[i]!, cb && ((e) => cb(e ?? null))) : s.write(chunks[i]!);
    s.uncork();
    return ok;
  }
  onDrain(cb: () => void): void {
    if (this.socket.writableLength === 0 && !this.socket.writableNeedDrain) queueMicrotask(() => !this.socket.destroyed && cb());
    else this.socket.once('drain', cb);
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  end(): void {
    this.socket.end();
  }
  destroy(err?: Error): void {
    this.socket.destroy(err);
  }
  setNoDelay(on: boolean): void {
    this.socket.setNoDelay(on);
  }
}

/**
 * The TcpConnection interface over a net.Socket or tls.TLSSocket (created with
 * `allowHalfOpen: true`, so that end() and the peer's FIN behave as on the raw transport).
 */
export function wrapSocket(socket: net.Socket): TcpConnection {
  return new SocketConnection(socket);
}

class NetListener implements TcpListener {
  readonly transport = 'net' as const;
  private readonly conns = new Set<SocketConnection>();
  private closing: Promise<void> | undefined;
  constructor(
    private readonly server: net.Server,
    onConnection: (c: TcpConnection) => void,
  ) {
    server.on('connection', (sock: net.Socket) => {
      const c = new SocketConnection(sock);
      this.conns.add(c);
      sock.once('close', () => {
        this.conns.delete(c);
        if (this.conns.size === 0) this.allGone?.();
      });
      onConnection(c);
    });
  }
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }
  connections(): Iterable<TcpConnection> {
    return this.conns;
  }
  private allGone: (() => void) | undefined;
  /** Like the raw listener: resolves once the sockets' 'close' events have come too. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) =>
      this.server.close(() => {
        if (this.conns.size === 0) resolve();
        else this.allGone = resolve;
      }),
    );
    return this.closing;
  }
}

/** A node:net listener on host:port (a name is resolved by node:net). */
export function listenNet(opts: TcpListenOptions): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, noDelay: opts.noDelay ?? true });
    const listener = new NetListener(server, opts.onConnection);
    const onError = (err: NodeJS.ErrnoException) => reject(err);
    server.once('error', onError);
    server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog ?? 511 }, () => {
      server.off('error', onError);
      server.on('error', (err: NodeJS.ErrnoException) => opts.onError?.(err));
      resolve(listener);
    });
  });
}
