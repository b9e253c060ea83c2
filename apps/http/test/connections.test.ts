// Connection management over TCP and TLS: the idle keep-alive close, the header timeout
// (slow headers, slowloris, slow form body), the request cap per connection, the bound on
// connections, graceful close, and a server that keeps serving everybody else while some
// clients misbehave. Short timeouts are set per server so the suite stays fast.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTcp, type RawClient } from '@sstt/testkit';
import { expectClosedQuietly, expectCommonHeaders, expectErrorPage, expectStatus } from './expect.ts';
import { readResponse, readSome, req, splitResponses } from './wire.ts';
import { createWorld, FILES, type Running, type Transport, type TransportName, type World } from './world.ts';

const NO_READER = fileURLToPath(new URL('./clients/no-reader.mjs', import.meta.url));
const IDLE_MS = 1000;
const HEADER_MS = 500;
/**
 * How long a test waits for a close or a 408 that a timeout must bring: ten times the timeouts
 * here, so a loaded 2-core machine (three suites side by side) never misses it, while a timeout
 * that does not fire still fails. That the answer was the timeout's, and not an early one, is
 * checked with lower bounds and by what the client had sent (the tight figures: npm run soak).
 */
const TIMEOUT_WAIT_MS = 10_000;
const STALL_MB = 20;

let w: World;
let idle: Running;
let header: Running;
let capped: Running;
let bounded: Running;
let deep: Running;
let defaults: Running;
const MID = crypto.randomBytes(2 * 1024 * 1024);

beforeAll(async () => {
  w = await createWorld();
  w.put('stall.zip', Buffer.alloc(STALL_MB * 1024 * 1024, 7));
  // Every server also has a node:net twin (transport 'net'), so both plain transports are tested.
  const net = { net: true };
  idle = await w.start({ idleTimeoutMs: IDLE_MS, headerTimeoutMs: 5000 }, net);
  header = await w.start({ idleTimeoutMs: 5000, headerTimeoutMs: HEADER_MS, formEmail: w.s.users[0]!.email }, net);
  capped = await w.start({ maxRequests: 3 }, net);
  bounded = await w.start({ maxConnections: 2 }, net);
  deep = await w.start({ maxRequests: 50_000 }, net);
  defaults = await w.start({}, net);
  w.put('mid.zip', MID);
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

/**
 * Sends `raw` on a plain socket (no RawClient: it would copy its buffer on every chunk) and
 * collects everything until the server closes. `pauseMs`: once the first bytes came, read
 * nothing more for that long; `started` resolves at those first bytes.
 */
function collect(name: TransportName, port: number, raw: string, pauseMs = 0, timeoutMs = 20_000): Promise<Buffer> & { started: Promise<void> } {
  let started!: () => void;
  const first = new Promise<void>((r) => (started = r));
  const all = new Promise<Buffer>((resolve, reject) => {
    const socket = name !== 'tls' ? net.connect(port, '127.0.0.1') : tls.connect({ port, host: '127.0.0.1', ...w.tlsClient() });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${chunks.reduce((n, c) => n + c.length, 0)} bytes`));
    }, timeoutMs);
    socket.on(name !== 'tls' ? 'connect' : 'secureConnect', () => socket.write(raw));
    socket.on('data', (d: Buffer) => {
      if (chunks.length === 0) {
        started();
        if (pauseMs) {
          socket.pause();
          setTimeout(() => socket.resume(), pauseMs);
        }
      }
      chunks.push(d);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      started();
      resolve(Buffer.concat(chunks));
    });
  });
  return Object.assign(all, { started: first });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['tcp', 'net', 'tls'] as const)('over %s', (name) => {
  const open: RawClient[] = [];
  afterAll(() => {
    for (const c of open) c.destroy();
  });
  const connect = async (t: Transport) => {
    const c = await t.connect();
    open.push(c);
    return c;
  };
  const host = () => w.www;

  // Timer-bound tests on their own connections: run side by side to keep the suite short.
  describe.concurrent('idle keep-alive close', () => {
    it('closes an idle connection after the idle timeout, announced as Keep-Alive: timeout=1, sending nothing', async () => {
      const c = await connect(idle.byName(name));
      c.write(req('GET', '/a.txt', { Host: host() }));
      const r = await readResponse(c);
      expectStatus(r, 200);
      expect(r.header('keep-alive')).toMatch(/^timeout=1, max=\d+$/);
      const t0 = Date.now();
      await expectClosedQuietly(c, TIMEOUT_WAIT_MS);
      const waited = Date.now() - t0;
      // Not early (the timer starts when the response leaves; this client reads it a little later).
      expect(waited).toBeGreaterThanOrEqual(IDLE_MS / 2);
    });

    it('closes a connection on which nothing is ever sent', async () => {
      const c = await connect(idle.byName(name));
      const t0 = Date.now();
      await expectClosedQuietly(c, TIMEOUT_WAIT_MS);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(IDLE_MS / 2);
    });

    it('the idle time starts again with every request: a connection in use is not cut', async () => {
      const c = await connect(idle.byName(name));
      // 5 × 0.3 of the idle timeout: longer than one in all, with the most room between requests.
      for (let i = 0; i < 5; i++) {
        c.write(req('GET', '/a.txt', { Host: host() }));
        expectStatus(await readResponse(c), 200);
        await sleep(IDLE_MS * 0.3);
      }
      expect(c.isClosed()).toBe(false);
    });
  });

  describe.concurrent('header timeout', () => {
    it('a client that never finishes its headers gets 408 and is closed', async () => {
      const c = await connect(header.byName(name));
      const t0 = Date.now();
      c.write(`GET /a.txt HTTP/1.1\r\nHost: ${host()}\r\nX-Slow: `);
      const r = await readResponse(c, 'GET', TIMEOUT_WAIT_MS);
      const waited = Date.now() - t0;
      expectStatus(r, 408);
      expectCommonHeaders(r);
      expectErrorPage(r);
      expect(r.header('connection')).toMatch(/^close$/i);
      await expectClosedQuietly(c);
      expect(waited).toBeGreaterThanOrEqual(HEADER_MS - 100);
    });

    it('slowloris: a byte every 100 ms does not extend the deadline', async () => {
      const c = await connect(header.byName(name));
      const t0 = Date.now();
      const head = `GET /a.txt HTTP/1.1\r\nHost: ${host()}\r\n${'X-Drip: 1\r\n'.repeat(20)}`;
      let i = 0;
      const drip = setInterval(() => {
        if (c.isClosed() || i >= head.length) return clearInterval(drip);
        c.write(head[i++]!);
      }, 100);
      try {
        // The whole head takes 25 s at this pace: had each byte moved the deadline, the answer
        // would be a 200 once it was complete. A 408 with the head unfinished, after the header
        // timeout, is the deadline holding.
        const r = await readResponse(c, 'GET', TIMEOUT_WAIT_MS);
        expectStatus(r, 408);
        expect(i).toBeLessThan(head.length);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(HEADER_MS - 100);
        await expectClosedQuietly(c);
      } finally {
        clearInterval(drip);
      }
    });

    it('a form body that stops arriving is cut off as well', async () => {
      const c = await connect(header.byName(name));
      c.write(req('POST', '/accion_form.html', { Host: host(), 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '100' }, 'email=abc'));
      const t0 = Date.now();
      const r = await readResponse(c, 'POST', TIMEOUT_WAIT_MS);
      expectStatus(r, 408);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(HEADER_MS - 100);
      await expectClosedQuietly(c);
    });

    it('a keep-alive connection between requests is governed by the idle timeout, not the header one', async () => {
      const c = await connect(header.byName(name));
      c.write(req('GET', '/a.txt', { Host: host() }));
      expectStatus(await readResponse(c), 200);
      await sleep(HEADER_MS * 2.5);
      expect(c.isClosed()).toBe(false);
      c.write(req('GET', '/a.txt', { Host: host() }));
      expectStatus(await readResponse(c), 200);
    });
  });

  describe('requests per connection', () => {
    it('max=3: Keep-Alive counts down 2, 1, then the third response closes and a fourth is never answered', async () => {
      const c = await connect(capped.byName(name));
      c.write(Array.from({ length: 4 }, () => req('GET', '/a.txt', { Host: host() })).join(''));
      const rs = [await readResponse(c), await readResponse(c), await readResponse(c)];
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(rs.map((r) => r.header('connection')?.toLowerCase())).toEqual(['keep-alive', 'keep-alive', 'close']);
      expect(rs[0]!.header('keep-alive')).toMatch(/, max=2$/);
      expect(rs[1]!.header('keep-alive')).toMatch(/, max=1$/);
      expect(rs[2]!.header('keep-alive')).toBeUndefined();
      await expectClosedQuietly(c);
    });
  });

  describe('pipelining at depth', () => {
    it('1000 pipelined requests in one write are all answered, in order', async () => {
      const files = ['a.txt', 'style.css', 'app.js', 'data.json', 'page.htm'];
      const c = await connect(deep.byName(name));
      c.write(Array.from({ length: 1000 }, (_, i) => req('GET', `/${files[i % files.length]}`, { Host: host() })).join(''));
      for (let i = 0; i < 1000; i++) {
        const r = await readResponse(c);
        expect(r.status).toBe(200);
        expect(r.body.toString(), `response ${i}`).toBe(FILES[files[i % files.length]!]);
      }
    }, 30_000);

    it('a 2 MB response in the middle of a pipeline keeps the order', async () => {
      const c = await connect(deep.byName(name));
      c.write(
        req('GET', '/a.txt', { Host: host() }) +
          req('GET', '/mid.zip', { Host: host() }) +
          req('HEAD', '/mid.zip', { Host: host() }) +
          req('GET', '/style.css', { Host: host() }),
      );
      expect((await readResponse(c)).body.toString()).toBe(FILES['a.txt']);
      const mid = await readResponse(c, 'GET', 10_000);
      expect(Buffer.compare(mid.body, MID)).toBe(0);
      expect((await readResponse(c, 'HEAD')).header('content-length')).toBe(String(MID.length));
      expect((await readResponse(c)).body.toString()).toBe(FILES['style.css']);
    });
  });

  describe('defaults and half-close', () => {
    it('without overrides, Keep-Alive states the scenario values (timeout=10 s of the seed, max from the scenario)', async () => {
      const c = await connect(defaults.byName(name));
      c.write(req('GET', '/a.txt', { Host: host() }));
      const r = await readResponse(c);
      expect(r.header('keep-alive')).toBe(`timeout=${w.s.http.idleTimeoutSeconds}, max=${w.s.http.maxRequests - 1}`);
      expect(w.s.http.idleTimeoutSeconds).toBe(10);
    });

    it('a client that half-closes after its requests still gets every answer, then the close', async () => {
      const c = await connect(defaults.byName(name));
      c.write(req('GET', '/a.txt', { Host: host() }) + req('GET', '/style.css', { Host: host() }));
      c.end();
      const a = await readResponse(c);
      const b = await readResponse(c);
      expect([a.body.toString(), b.body.toString()]).toEqual([FILES['a.txt'], FILES['style.css']]);
      await expectClosedQuietly(c);
    });

    // TLS handshakes of client and server share this process: fewer of them keep the suite fast.
    const clients = name !== 'tls' ? 200 : 50;
    it(`${clients} clients at once are all served`, async () => {
      const t = defaults.byName(name);
      const results = await Promise.all(
        Array.from({ length: clients }, async () => {
          const c = await connect(t);
          c.write(req('GET', '/index.html', { Host: host(), Connection: 'close' }));
          const r = await readResponse(c, 'GET', 15_000);
          c.destroy();
          return r.status === 200 && r.body.toString() === FILES['index.html'];
        }),
      );
      expect(results.filter(Boolean).length).toBe(clients);
    }, 30_000);
  });

  describe('backpressure on small responses', () => {
    it.each([
      ['20000 pipelined requests for a 9 KB file', '/pic.jpg', 20_000],
      ['2 million pipelined requests (about 100 MB of input)', '/a.txt', 2_000_000],
    ] as const)(
      '%s from a client that never reads do not pile up in server memory',
      async (_label, target, count) => {
        // The client runs in its own process: what grows here is the server.
        const t = deep.byName(name);
        const o = w.tlsClient();
        const pem = (v: unknown) => (Buffer.isBuffer(v) ? v.toString() : v);
        const child = spawn(process.execPath, [NO_READER, name, String(t.port), String(count)], {
          env: {
            ...process.env,
            REQUEST: req('GET', target, { Host: host() }),
            TLS_OPTIONS: JSON.stringify({ ca: pem(o.ca), cert: pem(o.cert), key: pem(o.key), servername: o.servername }),
          },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        try {
          const base = process.memoryUsage().rss;
          await new Promise<void>((resolve, reject) => {
            child.stdout!.on('data', (d: Buffer) => (d.toString().includes('sent') ? resolve() : reject(new Error(d.toString()))));
            child.on('exit', () => reject(new Error('the client exited early')));
          });
          // Without backpressure: 20000 × 9 KB = 180 MB of responses, or 100 MB of requests kept.
          let peak = 0;
          for (let i = 0; i < 15; i++) {
            await sleep(100);
            peak = Math.max(peak, process.memoryUsage().rss - base);
          }
          expect(peak, `resident memory grew by ${(peak / 1048576).toFixed(1)} MB`).toBeLessThan(64 * 1024 * 1024);
        } finally {
          child.stdin!.end();
          child.kill();
        }
      },
      30_000,
    );
  });

  describe('errors and timeouts behind a long response', () => {
    it('a malformed request pipelined after a 2 MB response is answered after that body, never inside it', async () => {
      const buf = await collect(name, deep.byName(name).port, req('GET', '/mid.zip', { Host: host() }) + `GET  / HTTP/1.1\r\nHost: ${host()}\r\n\r\n`);
      const { responses, rest } = splitResponses(buf, ['GET', 'GET']);
      expect(responses.map((r) => r.status)).toEqual([200, 400]);
      expect(Buffer.compare(responses[0]!.body, MID)).toBe(0);
      expect(rest.length).toBe(0);
    });

    it('an unfinished request behind a 20 MB response read slowly: the 20 MB arrive whole, then 408 and close', async () => {
      const raw = req('GET', '/stall.zip', { Host: host() }) + `GET /a.txt HTTP/1.1\r\nHo`;
      const buf = await collect(name, header.byName(name).port, raw, HEADER_MS * 2);
      const { responses, rest } = splitResponses(buf, ['GET', 'GET']);
      expect(responses[0]?.status).toBe(200);
      expect(responses[0]!.body.length).toBe(STALL_MB * 1024 * 1024);
      expect(responses[0]!.body.every((b) => b === 7)).toBe(true);
      // The slow second request then times out (408) or the connection just closes.
      if (responses.length === 2) expectStatus(responses[1]!, 408);
      expect(rest.length).toBe(0);
    }, 30_000);
  });

  describe('bounded connections', () => {
    it('at maxConnections an idle keep-alive makes room for the newcomer (closed, the newcomer served)', async () => {
      const t = bounded.byName(name);
      const a = await connect(t);
      const b = await connect(t);
      for (const c of [a, b]) {
        c.write(req('GET', '/a.txt', { Host: host() }));
        expectStatus(await readResponse(c), 200);
      }
      // Both are idle keep-alives now; the newcomer takes the place of the one idle longest (a).
      const extra = await connect(t);
      extra.write(req('GET', '/a.txt', { Host: host() }));
      expectStatus(await readResponse(extra), 200);
      await expectClosedQuietly(a);
      expect(b.isClosed()).toBe(false);
      b.write(req('GET', '/a.txt', { Host: host() }));
      expectStatus(await readResponse(b), 200);
      for (const c of [b, extra]) c.destroy();
      await Promise.all([b.closed, extra.closed]);
    });

    it('when every connection is busy answering, the newcomer is refused (503 and close on plain HTTP); a freed slot serves again', async () => {
      const t = bounded.byName(name);
      // Two clients that take a 20 MB answer without reading it: busy, never shed.
      const busy: RawClient[] = [];
      for (let i = 0; i < 2; i++) {
        // The server learns about earlier closes asynchronously: try a few times.
        let c = await connect(t).catch(() => undefined);
        for (let tries = 0; !c && tries < 40; tries++) {
          await sleep(50);
          c = await connect(t).catch(() => undefined);
        }
        c!.write(req('GET', '/stall.zip', { Host: host() }));
        await readSome(c!);
        c!.socket.pause();
        busy.push(c!);
      }
      if (name === 'tls') {
        // No HTTP before the handshake: the TCP connection is closed at once.
        await expect(t.connect()).rejects.toThrow();
      } else {
        const extra = await connect(t);
        extra.write(req('GET', '/a.txt', { Host: host() }));
        const refused = await readResponse(extra);
        expectStatus(refused, 503);
        expectCommonHeaders(refused);
        expect(refused.header('connection')).toMatch(/^close$/i);
        await expectClosedQuietly(extra);
      }

      busy[0]!.destroy();
      await busy[0]!.closed;
      let status = 0;
      for (let i = 0; i < 40 && status !== 200; i++) {
        const c = await connect(t).catch(() => undefined);
        if (c) {
          c.write(req('GET', '/a.txt', { Host: host() }));
          status = (await readResponse(c).catch(() => ({ status: 0 }))).status;
          c.destroy();
        }
        if (status !== 200) await sleep(50);
      }
      expect(status).toBe(200);
      busy[1]!.destroy();
    });
  });

  describe('misbehaving clients do not stop the others', () => {
    it('stalled heads, a flood without newlines, a client that never reads and raw junk on the TLS port', async () => {
      const t = header.byName(name);
      const stalled = await connect(t);
      stalled.write('GET /a.txt HTTP/1.1\r\nHost: x\r\n');
      const flood = await connect(t);
      flood.write('G'.repeat(256 * 1024));
      const nonReader = await connect(t);
      nonReader.socket.pause();
      nonReader.write(Array.from({ length: 3 }, () => req('GET', '/stall.zip', { Host: host() })).join(''));
      const junk = await rawTcp(header.byName('tls').port);
      open.push(junk);
      junk.write(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3]));

      // Twenty whole answers with the misbehaving ones around (how fast is the soak's figure).
      const good = await connect(t);
      for (let i = 0; i < 20; i++) {
        good.write(req('GET', '/index.html', { Host: host() }));
        const r = await readResponse(good, 'GET', TIMEOUT_WAIT_MS);
        expectStatus(r, 200);
        expect(r.body.toString()).toBe(FILES['index.html']);
      }
      // The flood was refused (414: a request line that never ends) and closed.
      const floodAnswer = await readResponse(flood);
      expectStatus(floodAnswer, 414);
      for (const c of [stalled, flood, nonReader, junk]) c.destroy();
    });
  });
});

describe.concurrent('TLS handshake timeout', () => {
  it('a TCP connection to the HTTPS port that never starts the handshake is closed after the header timeout', async () => {
    const c = await rawTcp(header.byName('tls').port);
    const t0 = Date.now();
    await expectClosedQuietly(c, TIMEOUT_WAIT_MS);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(HEADER_MS - 100);
  });
  it('a handshake that stops after part of a ClientHello is closed after the header timeout', async () => {
    const c = await rawTcp(header.byName('tls').port);
    c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01]));
    const t0 = Date.now();
    await expectClosedQuietly(c, TIMEOUT_WAIT_MS);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(HEADER_MS - 100);
  });
});

describe.each(['tcp', 'net'] as const)('graceful close over %s', (name) => {
  it('close() lets a download in progress finish', async () => {
    const r = await w.start({}, { net: true });
    const port = r.byName(name).port;
    // The first bytes have come and the client reads nothing more for 800 ms: the 20 MB download
    // is in progress when close() comes.
    const done = collect(name, port, req('GET', '/stall.zip', { Host: w.www, Connection: 'close' }), 800);
    await done.started;
    const closing = r.close();
    const buf = await done;
    await closing;
    const { responses } = splitResponses(buf, ['GET']);
    expect(responses[0]?.status).toBe(200);
    expect(responses[0]!.body.length).toBe(STALL_MB * 1024 * 1024);
  }, 20_000);

  it('close() closes idle connections, refuses new ones and resolves', async () => {
    // The keep-alive connection would stay for 10 minutes: close() resolves (within the test's
    // timeout) only because it closes the idle connection instead of waiting for it.
    const r = await w.start({ idleTimeoutMs: 600_000 }, { net: true });
    const c = await r.byName(name).connect();
    c.write(req('GET', '/a.txt', { Host: w.www }));
    expectStatus(await readResponse(c), 200);
    await r.close();
    expect(await c.readToEnd(3000)).toEqual(Buffer.alloc(0));
    const port = r.byName(name).port;
    await expect(
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
