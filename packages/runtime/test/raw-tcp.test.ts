// raw-tcp.ts: the same contract over the raw libuv TCP handle and over node:net, checked with
// real sockets on the loopback: delivery, ordering, half-close, backpressure, pause/resume,
// resets, close bookkeeping and listen errors.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ListenError } from '../src/main.ts';
import { chosenTransport, listenTcp, rawTcpBindings, type TcpConnection, type TcpHandlers, type TcpListener } from '../src/raw-tcp.ts';

interface Accepted {
  conn: TcpConnection;
  data: Buffer[];
  events: string[];
  errors: NodeJS.ErrnoException[];
  closed: Promise<void>;
  ended: Promise<void>;
  received(): Buffer;
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
      const a: Accepted = {
        conn,
        data: [],
        events: [],
        errors: [],
        closed: new Promise((r) => (closed = r)),
        ended: new Promise((r) => (ended = r)),
        received: () => Buffer.concat(a.data),
      };
      conn.setHandlers({
        data: (chunk) => {
          a.data.push(chunk);
          a.events.push('data');
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

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

it('the raw bindings are there on this Node (else every raw test below runs node:net)', () => {
  expect(rawTcpBindings()).toBeDefined();
  expect(chosenTransport(undefined, {})).toBe('raw');
  expect(chosenTransport(undefined, { SSTT_RAW_TCP: 'net' })).toBe('net');
  expect(chosenTransport('net', {})).toBe('net');
});

it('SSTT_RAW_TCP=net makes a listener use node:net', async () => {
  const l = await listenTcp({ host: '127.0.0.1', port: 0, env: { SSTT_RAW_TCP: 'net' }, onConnection: () => {} });
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
    const done: (Error | null)[] = [];
    a.conn.write(Buffer.from('one;'), (e) => done.push(e));
    a.conn.write('twö;', (e) => done.push(e));
    a.conn.writev([Buffer.from('three;'), Buffer.from('four;')], (e) => done.push(e));
    a.conn.end();
    expect((await got).toString('latin1')).toBe('one;twö;three;four;');
    await until(() => done.length === 3);
    expect(done).toEqual([null, null, null]);
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
    a.conn.onDrain(() => (drained = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(drained).toBe(false);
    let got = 0;
    c.on('data', (d: Buffer) => (got += d.length));
    c.resume();
    await until(() => drained);
    expect(a.conn.writableLength).toBe(0);
    await until(() => got === written);
    c.destroy();
  });

  it('pause() stops delivery until resume()', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const a = await next();
    c.write('first');
    await until(() => a.received().toString() === 'first');
    a.conn.pause();
    c.write('second');
    await new Promise((r) => setTimeout(r, 150));
    expect(a.received().toString()).toBe('first');
    a.conn.resume();
    await until(() => a.received().toString() === 'firstsecond');
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
    const errs: (Error | null)[] = [];
    expect(a.conn.write('late', (e) => errs.push(e))).toBe(false);
    await until(() => errs.length === 1); // the callback may come later (node:net calls it on the next tick)
    expect(errs[0]).toBeInstanceOf(Error);
  });

  it('a reset by the client is an ECONNRESET error, then close', async () => {
    const { next, port } = await serve(transport);
    const c = await connect(port);
    const a = await next();
    c.write('hello');
    await until(() => a.data.length > 0);
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
