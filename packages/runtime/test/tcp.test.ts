// tcp.ts: the same contract over the raw libuv TCP handle (raw-tcp.ts) and over node:net
// (net-tcp.ts), checked with real sockets on the loopback: delivery, ordering, half-close,
// backpressure, pause/resume, resets, close bookkeeping and listen errors.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ListenError } from '../src/main.ts';
import { rawTcpBindings } from '../src/raw-tcp.ts';
import { chosenTransport, listenTcp, type TcpConnection, type TcpHandlers, type TcpListener } from '../src/tcp.ts';

interface Accepted {
  conn: TcpConnection;
  data: Buffer[];
  events: string[];
  errors: NodeJS.ErrnoException[];
  closed: Promise<void>;
  ended: Promise<void>;
  received(): Buffer;
  /** Resolves once at least `n` bytes have been received. */
  bytes(n: number): Promise<void>;
}

const listeners: TcpListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) {
    for (const c of l.connections()) c.destroy();
    await l.close();
  }
});

/** A listener whose connections are handed out as they come, with everything they report recorded. */
async function serve(transport: 'raw' | 'net', extra: Partial<TcpHandlers> = {}) {
  const waiting: ((a: Accepted) => void)[] = [];
  const ready: Accepted[] = [];
  const l = await listenTcp({
    host: '127.0.0.1',
    port: 0,
    transport,
    onConnection(conn) {
      let closed!: () => void;
      let ended!: () => void;
      const waits: Array<{ n: number; resolve: () => void }> = [];
      let total = 0;
      const a: Accepted = {
        conn,
        data: [],
        events: [],
        errors: [],
        closed: new Promise((r) => (closed = r)),
        ended: new Promise((r) => (ended = r)),
        received: () => Buffer.concat(a.data),
        bytes: (n) => (total >= n ? Promise.resolve() : new Promise((resolve) => waits.push({ n, resolve }))),
      };
      conn.setHandlers({
        data: (chunk) => {
          a.data.push(chunk);
          a.events.push('data');
          total += chunk.length;
          for (const w of waits.filter((x) => total >= x.n)) {
            waits.splice(waits.indexOf(w), 1);
            w.resolve();
          }
          extra.data?.(chunk);
        },
        end: () => {
          a.events.push('end');
          ended();
        },
        error: (err) => {
          a.events.push('error');
          a.errors.push(err);
        },
        close: () => {
          a.events.push('close');
          closed();
        },
      });
      const w = waiting.shift();
      if (w) w(a);
      else ready.push(a);
    },
  });
  listeners.push(l);
  const next = () => new Promise<Accepted>((resolve) => (ready.length ? resolve(ready.shift()!) : waiting.push(resolve)));
  return { l, next, port: l.address().port };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
    s.on('error', reject);
  });
}

function readAll(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve) => s.on('end', () => resolve(Buffer.concat(chunks))));
}

/** A promise and the callback that counts towards it: resolves on the nth call. */
function calls<T>(n: number): { cb: (v: T) => void; got: T[]; done: Promise<void> } {
  const got: T[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { cb: (v) => got.push(v) >= n && resolve(), got, done };
}

/**
 * A round trip of a few bytes on another connection of the same listener: the event loop that
 * serves `a` has polled its sockets again since anything sent before this call reached the
 * kernel (a loopback write lands in the peer's receive buffer during the send). What has not
 * happened to `a` by then was held back, not late.
 */
async function roundTrip(port: number, next: () => Promise<Accepted>): Promise<void> {
  const c = await connect(port);
  const b = await next();
  c.write('ping');
  await b.bytes(4);
  c.destroy();
}

it('the raw bindings are there on this Node (else every raw test below runs node:net)', () => {
  expect(rawTcpBindings()).toBeDefined();
  expect(chosenTransport(undefined)).toBe('raw');
  expect(chosenTransport('raw')).toBe('raw');
  expect(chosenTransport('net')).toBe('net');
});

it('a host name, not an IP literal, is listened on with node:net even when raw is asked', async () => {
  const l = await listenTcp({ host: 'localhost', port: 0, transport: 'raw', onConnection: () => {} });
  listeners.push(l);
  expect(l.transport).toBe('net');
});

describe.each(['raw', 'net'] as const)('over %s', (transport) => {
  it('reports its transport and address; delivers bytes in order; knows both ends', async () => {
    const { l, next, port } = await serve(transport);
    expect(l.transport).toBe(transport);
    expect(l.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(port).toBeGreaterThan(0);
    const c = await connect(port);
    const a = await next();
    expect(a.conn.transport).toBe(transport);
    expect(a.conn.remoteAddress).toBe('127.0.0.1');
    expect(a.conn.remotePort).toBe(c.localPort);
    expect(a.conn.localPort).toBe(port);
    const sent = Buffer.alloc(300_000);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) & 0xff;
    c.end(sent);
    await a.ended;
    expect(a.received().equals(sent)).toBe(true);
    // Chunks are the receiver's to keep: later reads did not overwrite earlier ones.
    expect(a.data.length).toBeGreaterThan(0);
    c.destroy();
  });

  it('write, a latin1 string and writev arrive in order; callbacks report success', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const got = readAll(c);
    const a = await next();
    const done = calls<Error | null>(3);
    a.conn.write(Buffer.from('one;'), done.cb);
    a.conn.write('twö;', done.cb);
    a.conn.writev([Buffer.from('three;'), Buffer.from('four;')], done.cb);
    a.conn.end();
    expect((await got).toString('latin1')).toBe('one;twö;three;four;');
    await done.done;
    expect(done.got).toEqual([null, null, null]);
    c.destroy();
  });

  it('half-close: after the peer FIN the connection still sends; end() then closes it once', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const got = readAll(c);
    const a = await next();
    c.end('bye');
    await a.ended;
    expect(a.conn.destroyed).toBe(false);
    a.conn.write('still here');
    a.conn.end();
    expect((await got).toString()).toBe('still here');
    await a.closed;
    expect(a.events.filter((e) => e === 'close')).toHaveLength(1);
    expect(a.errors).toEqual([]);
  });

  it('end() first: the client sees FIN after everything; the connection closes when the client ends too', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const got = readAll(c);
    const a = await next();
    a.conn.write('x'.repeat(1000));
    a.conn.end();
    expect((await got).length).toBe(1000);
    expect(a.events).not.toContain('close');
    c.end();
    await a.closed;
  });

  it('backpressure: write() says false past the high-water mark, writableLength counts what waits, onDrain fires once the client read it', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    c.pause();
    const a = await next();
    const block = Buffer.alloc(1024 * 1024, 1);
    let ok = true;
    let written = 0;
    for (let i = 0; i < 64 && ok; i++) {
      ok = a.conn.write(block);
      written += block.length;
    }
    expect(ok).toBe(false);
    expect(a.conn.writableLength).toBeGreaterThan(0);
    expect(a.conn.writableLength).toBeLessThanOrEqual(written);
    let drained = false;
    const drain = new Promise<void>((r) =>
      a.conn.onDrain(() => {
        drained = true;
        r();
      }),
    );
    // The client reads nothing: however often the loop polls, nothing can drain.
    await roundTrip(port, next);
    expect(drained).toBe(false);
    let got = 0;
    const all = new Promise<void>((r) => c.on('data', (d: Buffer) => (got += d.length) === written && r()));
    c.resume();
    await drain;
    expect(a.conn.writableLength).toBe(0);
    await all;
    c.destroy();
  });

  it('pause() stops delivery until resume()', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const a = await next();
    c.write('first');
    await a.bytes(5);
    expect(a.received().toString()).toBe('first');
    a.conn.pause();
    c.write('second');
    // 'second' waits in a's receive buffer while the loop goes round.
    await roundTrip(port, next);
    expect(a.received().toString()).toBe('first');
    a.conn.resume();
    await a.bytes(11);
    expect(a.received().toString()).toBe('firstsecond');
    c.destroy();
  });

  it('destroy() closes at once: the client sees the end, close is reported once and no error', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const a = await next();
    const clientEnded = new Promise((r) => c.on('end', r));
    c.on('error', () => {});
    c.resume();
    a.conn.destroy();
    a.conn.destroy();
    await a.closed;
    await clientEnded;
    c.destroy();
    expect(a.events).toEqual(['close']);
    expect(a.conn.destroyed).toBe(true);
    // Writing to a destroyed connection fails without throwing.
    const errs = calls<Error | null>(1);
    expect(a.conn.write('late', errs.cb)).toBe(false);
    await errs.done; // the callback may come later (node:net calls it on the next tick)
    expect(errs.got[0]).toBeInstanceOf(Error);
  });

  it('a reset by the client is an ECONNRESET error, then close', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const a = await next();
    c.write('hello');
    await a.bytes(1);
    c.resetAndDestroy();
    await a.closed;
    expect(a.errors.map((e) => e.code)).toEqual(['ECONNRESET']);
    expect(a.events.slice(-2)).toEqual(['error', 'close']);
  });

  it('close() stops accepting at once and resolves only when the last connection has gone', async () => {
    const { l, next, port } = await serve(transport);
    const c = await connect(port);
    const a = await next();
    let resolved = false;
    const closing = l.close().then(() => (resolved = true));
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(resolved).toBe(false);
    expect([...l.connections()]).toHaveLength(1);
    a.conn.end();
    c.end();
    await closing;
    expect(resolved).toBe(true);
    expect([...l.connections()]).toHaveLength(0);
  });

  it('a taken port rejects with an ErrnoException EADDRINUSE that ListenError turns into its one line', async () => {
    const { port } = await serve(transport);
    const err = await listenTcp({ host: '127.0.0.1', port, transport, onConnection: () => {} }).catch((e: NodeJS.ErrnoException) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect((err as NodeJS.ErrnoException).syscall).toBe('listen');
    expect(new ListenError('http', '127.0.0.1', port, err as NodeJS.ErrnoException).message).toMatch(
      new RegExp(`^http: port ${port} on 127\\.0\\.0\\.1 is already taken`),
    );
  });

  it('an address this machine does not have: EADDRNOTAVAIL', async () => {
    const err = await listenTcp({ host: '192.0.2.1', port: 0, transport, onConnection: () => {} }).catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
  });

  it('listens on IPv6 loopback too', async () => {
    const l = await listenTcp({
      host: '::1',
      port: 0,
      transport,
      onConnection: (c) => c.setHandlers({ data: (d) => c.write(d), end: () => c.end(), error: () => {}, close: () => {} }),
    });
    listeners.push(l);
    expect(l.address()).toMatchObject({ address: '::1', family: 'IPv6' });
    const s = net.connect({ port: l.address().port, host: '::1' });
    s.end('ping6');
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((r) => s.on('end', r));
    expect(Buffer.concat(chunks).toString()).toBe('ping6');
  });
});
