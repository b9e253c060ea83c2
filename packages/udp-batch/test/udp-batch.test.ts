// The batching UDP socket against real datagrams on loopback: order, batches larger than one
// recvmmsg, no-reply slots, replies sent later, errors, IPv6, closing.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { available, BATCH, bindBatch, unavailableReason, type BatchSocket } from '../src/index.ts';

const open: Array<BatchSocket | dgram.Socket> = [];

afterEach(async () => {
  for (const s of open.splice(0)) {
    if ('setTTL' in s) s.close();
    else await s.close();
  }
});

async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<{ sock: dgram.Socket; got: Buffer[]; next(n: number): Promise<Buffer[]> }> {
  const sock = dgram.createSocket(type);
  open.push(sock);
  const got: Buffer[] = [];
  let waiter: (() => void) | undefined;
  sock.on('message', (m) => {
    got.push(m);
    waiter?.();
  });
  await new Promise<void>((r) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  return {
    sock,
    got,
    next: (n) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`got ${got.length} of ${n} replies`)), 5000);
        const check = () => {
          if (got.length >= n) {
            clearTimeout(t);
            waiter = undefined;
            resolve(got.slice(0, n));
          }
        };
        waiter = check;
        check();
      }),
  };
}

function send(sock: dgram.Socket, msg: string | Buffer, port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => sock.send(msg, port, host, (err) => (err ? reject(err) : resolve())));
}

describe('udp-batch', () => {
  it('is built by npm install on this machine', () => {
    expect(unavailableReason()).toBeUndefined();
    expect(available()).toBe(true);
  });

  it('answers every datagram of a burst larger than a batch, in order, to its sender', async () => {
    const seen: Array<{ address: string; port: number }> = [];
    const srv = bindBatch('127.0.0.1', 0, (msg, address, port) => {
      seen.push({ address, port });
      return Buffer.concat([Buffer.from('re:'), msg]);
    });
    open.push(srv);
    const c = await client();
    const n = BATCH * 4 + 3;
    // Sent back to back before the server's loop turn: the kernel queues them and recvmmsg
    // takes them in several batches.
    for (let i = 0; i < n; i++) c.sock.send(`q${i}`, srv.address().port, '127.0.0.1');
    const replies = await c.next(n);
    expect(replies.map(String)).toEqual(Array.from({ length: n }, (_, i) => `re:q${i}`));
    expect(seen.every((x) => x.address === '127.0.0.1' && x.port === c.sock.address().port)).toBe(true);
    expect(srv.dropped()).toBe(0);
  });

  it('tells two senders apart within one batch', async () => {
    const srv = bindBatch('127.0.0.1', 0, (msg, address, port) => Buffer.from(`${msg}@${address}:${port}`));
    open.push(srv);
    const a = await client();
    const b = await client();
    const port = srv.address().port;
    for (let i = 0; i < 5; i++) {
      a.sock.send('a', port, '127.0.0.1');
      b.sock.send('b', port, '127.0.0.1');
    }
    expect((await a.next(5)).map(String)).toEqual(Array(5).fill(`a@127.0.0.1:${a.sock.address().port}`));
    expect((await b.next(5)).map(String)).toEqual(Array(5).fill(`b@127.0.0.1:${b.sock.address().port}`));
  });

  it('sends nothing for a null reply, and a later reply through send()', async () => {
    let srv: BatchSocket | undefined;
    srv = bindBatch('127.0.0.1', 0, (msg, address, port) => {
      const text = String(msg);
      if (text === 'drop') return null;
      if (text === 'later') {
        // The view is reused by the next batch: keep a copy.
        const copy = Buffer.from(msg);
        setTimeout(() => srv!.send(Buffer.concat([Buffer.from('late:'), copy]), port, address), 20);
        return null;
      }
      return Buffer.from(`now:${text}`);
    });
    open.push(srv);
    const c = await client();
    const port = srv.address().port;
    await send(c.sock, 'drop', port);
    await send(c.sock, 'later', port);
    await send(c.sock, 'x', port);
    expect((await c.next(2)).map(String)).toEqual(['now:x', 'late:later']);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.got.map(String)).toEqual(['now:x', 'late:later']);
  });

  it('a handler that throws loses its own reply only; the error is reported', async () => {
    const errors: unknown[] = [];
    const srv = bindBatch(
      '127.0.0.1',
      0,
      (msg) => {
        if (String(msg) === 'boom') throw new Error('handler failed');
        return Buffer.from(`ok:${msg}`);
      },
      (err) => errors.push(err),
    );
    open.push(srv);
    const c = await client();
    const port = srv.address().port;
    for (const m of ['1', 'boom', '2']) c.sock.send(m, port, '127.0.0.1');
    expect((await c.next(2)).map(String)).toEqual(['ok:1', 'ok:2']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler failed']);
  });

  it('a reply the kernel refuses is dropped and counted, and the rest of its batch still goes out', async () => {
    // 70,000 bytes cannot be one UDP datagram (EMSGSIZE), in a batch or sent later.
    const tooBig = Buffer.alloc(70_000);
    const srv = bindBatch('127.0.0.1', 0, (msg) => (String(msg) === 'big' ? tooBig : Buffer.from(`ok:${msg}`)));
    open.push(srv);
    const port = srv.address().port;
    const c = await client();
    for (const m of ['a', 'big', 'b']) c.sock.send(m, port, '127.0.0.1');
    expect((await c.next(2)).map(String)).toEqual(['ok:a', 'ok:b']);
    expect(srv.dropped()).toBe(1);
    srv.send(tooBig, c.sock.address().port, '127.0.0.1');
    srv.send(Buffer.from('later'), c.sock.address().port, '127.0.0.1');
    expect((await c.next(3)).map(String)).toEqual(['ok:a', 'ok:b', 'later']);
    expect(srv.dropped()).toBe(2);
  });

  it('a taken port is EADDRINUSE and a bad host EINVAL, as node:dgram says them', async () => {
    const first = bindBatch('127.0.0.1', 0, () => null);
    open.push(first);
    const port = first.address().port;
    expect(() => bindBatch('127.0.0.1', port, () => null)).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind', message: `bind EADDRINUSE 127.0.0.1:${port}` }),
    );
    expect(() => bindBatch('not-an-address', 0, () => null)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('a malformed state is refused before any socket exists: no descriptor and no port kept', async () => {
    // The addon itself, below bindBatch, which always hands it a well-formed state.
    const raw = createRequire(import.meta.url)('../build/Release/udp_batch.node') as {
      open(host: string, port: number, state: object, cb: () => void): unknown;
    };
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    const good = { data: Buffer.alloc(64), lens: new Int32Array(1), ports: new Int32Array(1), addrs: [''], replies: [null] };
    expect(() => raw.open('127.0.0.1', port, { ...good, data: 'not a buffer' }, () => {})).toThrow(/^udp-batch: napi_get_buffer_info\(.*\) failed$/);
    expect(() => raw.open('127.0.0.1', port, { ...good, lens: new Int32Array(0) }, () => {})).toThrow(new RangeError('udp-batch: batch must be 1..64 slots'));
    expect(fds()).toBe(before);
    const srv = bindBatch('127.0.0.1', port, (m) => Buffer.from(`free:${m}`));
    open.push(srv);
    const c = await client();
    await send(c.sock, 'z', port);
    expect((await c.next(1)).map(String)).toEqual(['free:z']);
  });

  it('IPv6 on ::1', async () => {
    const srv = bindBatch('::1', 0, (msg, address) => Buffer.from(`${msg} from ${address}`));
    open.push(srv);
    expect(srv.address()).toMatchObject({ address: '::1', family: 'IPv6' });
    const c = await client('udp6');
    await send(c.sock, 'v6', srv.address().port, '::1');
    expect((await c.next(1)).map(String)).toEqual(['v6 from ::1']);
  });

  it('close frees the port at once and later sends do nothing', async () => {
    const srv = bindBatch('127.0.0.1', 0, () => Buffer.from('x'));
    const port = srv.address().port;
    await srv.close();
    await srv.close();
    srv.send(Buffer.from('ignored'), port, '127.0.0.1');
    const again = bindBatch('127.0.0.1', port, (m) => Buffer.from(`again:${m}`));
    open.push(again);
    const c = await client();
    await send(c.sock, 'y', port);
    expect((await c.next(1)).map(String)).toEqual(['again:y']);
  });
});
