// Scripted raw clients for the edge cases real clients will not produce: an early talker, an
// over-long line, a half-close, a malformed datagram. Reads never assume one `data` event is
// one reply.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

export interface RawClient {
  /** Everything received so far, not yet consumed by a read. */
  readonly buffered: Buffer;
  write(data: string | Buffer): void;
  /** Reads one line (up to and including "\n"); rejects on timeout or close. */
  readLine(timeoutMs?: number): Promise<string>;
  /** Reads until `pattern` appears in the stream; returns everything up to and including it. */
  readUntil(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Reads exactly n bytes. */
  readBytes(n: number, timeoutMs?: number): Promise<Buffer>;
  /** Waits for the server to close; returns what was left unread. */
  readToEnd(timeoutMs?: number): Promise<Buffer>;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** Half-close: send FIN, keep reading. */
  end(): void;
  destroy(): void;
  socket: net.Socket;
}

const DEFAULT_TIMEOUT = 5000;

function wrap(socket: net.Socket): RawClient {
  let buf = Buffer.alloc(0);
  let closed = false;
  let waiters: Array<() => void> = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  socket.on('error', () => {});
  const closedP = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closed = true;
      wake();
      resolve();
    }),
  );

  /** Waits until `take` returns a value (consuming it), the connection closes, or time runs out. */
  function waitFor<T>(take: () => T | undefined, what: string, timeoutMs: number, okOnClose = false): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`)),
        timeoutMs,
      );
      const check = () => {
        const v = take();
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else if (closed && !okOnClose) {
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`));
        } else waiters.push(check);
      };
      check();
    });
  }

  const consume = (n: number) => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };

  return {
    socket,
    get buffered() {
      return buf;
    },
    write: (d) => void socket.write(d),
    readLine: (t = DEFAULT_TIMEOUT) =>
      waitFor(
        () => {
          const i = buf.indexOf(0x0a);
          return i < 0 ? undefined : consume(i + 1).toString('latin1');
        },
        'a line',
        t,
      ),
    readUntil: (pattern, t = DEFAULT_TIMEOUT) =>
      waitFor(
        () => {
          const text = buf.toString('latin1');
          if (typeof pattern === 'string') {
            const i = text.indexOf(pattern);
            return i < 0 ? undefined : consume(i + pattern.length).toString('latin1');
          }
          const m = pattern.exec(text);
          return m ? consume(m.index + m[0].length).toString('latin1') : undefined;
        },
        String(pattern),
        t,
      ),
    readBytes: (n, t = DEFAULT_TIMEOUT) => waitFor(() => (buf.length >= n ? Buffer.from(consume(n)) : undefined), `${n} bytes`, t),
    readToEnd: (t = DEFAULT_TIMEOUT) => waitFor(() => (closed ? Buffer.from(consume(buf.length)) : undefined), 'the connection to close', t, true),
    closed: closedP,
    isClosed: () => closed,
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

/** Opens a raw TCP connection. */
export function rawTcp(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(wrap(socket));
    });
    socket.once('error', reject);
  });
}

/** Opens a raw TLS connection (client certificate and CA as the test gives them). */
export function rawTls(port: number, options: tls.ConnectionOptions = {}, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host, ...options });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(wrap(socket));
    });
    socket.once('error', reject);
  });
}

/**
 * Sends one datagram and waits for one reply; resolves null when nothing comes back in time
 * (what a server must do with an unparseable query).
 */
export function udpExchange(port: number, message: Buffer, opts: { host?: string; timeoutMs?: number; localAddress?: string } = {}): Promise<Buffer | null> {
  const host = opts.host ?? '127.0.0.1';
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, opts.timeoutMs ?? 2000);
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.bind({ port: 0, ...(opts.localAddress ? { address: opts.localAddress } : {}) }, () => sock.send(message, port, host));
  });
}
