// The console behind the protections of the other listeners (console.limits): at the cap per
// client address the costliest connection makes room (a silent one here), and only when every
// connection in the way is being answered is the newcomer refused, with an exact 503; another
// address is not affected. Event streams have a cap per address of their own: the next one gets
// an exact 429, while another address still gets its stream, and a closed stream frees its place.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { memoryLogger, type MemoryLogger, tempDir } from '@sstt/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConsoleHandle, createConsoleServer } from '../src/server.ts';

const t = tempDir('sstt-console-limits-');
afterAll(() => t.remove());
const base = loadScenario({
  env: { SSTT_CERTS_DIR: path.join(t.dir, 'certs'), SSTT_DATA_DIR: path.join(t.dir, 'var') },
  flags: {},
  configFile: undefined,
});

let n = 0;
async function startConsole(limits: Scenario['console']['limits']): Promise<{ port: number; logs: MemoryLogger; handle: ConsoleHandle }> {
  const logs = memoryLogger();
  const scenario: Scenario = { ...base, console: { ...base.console, limits } };
  const handle = createConsoleServer({ scenario, host: '127.0.0.1', port: 0, log: logs.log, cacheDir: path.join(t.dir, `cache-${++n}`) });
  const [a] = await handle.listen();
  return { port: a!.port, logs, handle };
}

/** A TCP connection from `localAddress` that has been established (and says nothing). */
function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Everything the server sends until it closes. */
function readAll(sock: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.once('end', () => resolve(text));
    sock.once('error', reject);
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Closes the connection (an event stream). */
  close(): void;
}

/**
 * A GET on a connection of its own from `localAddress`. An event stream (200) resolves once its
 * `hello` event has arrived, any other reply once its body is complete.
 */
function get(port: number, p: string, localAddress = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, localAddress, agent: false }, (res) => {
      let body = '';
      const reply = () => ({ status: res.statusCode!, headers: res.headers, body, close: () => req.destroy() });
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('event: hello\n')) resolve(reply());
      });
      res.once('end', () => resolve(reply()));
      res.once('error', () => {});
    });
    req.once('error', reject);
  });
}

describe('console.limits', () => {
  it('at the per-address cap a silent connection makes room; when all are answered the newcomer gets 503; another address still connects', async () => {
    const c = await startConsole({ maxConnectionsPerAddress: 2, maxEventStreamsPerAddress: 2 });
    try {
      const a = await connect(c.port);
      const b = await connect(c.port);
      const aClosed = new Promise<void>((r) => a.once('close', () => r()));
      a.on('error', () => {});
      // A third connection from the same address: the oldest silent one is closed to make room.
      expect((await get(c.port, '/livez')).status).toBe(200);
      await aClosed;
      // The other one was kept: it is answered.
      b.write('GET /livez HTTP/1.1\r\nHost: console\r\nConnection: close\r\n\r\n');
      expect(await readAll(b)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n\{"ok":true\}$/);

      // Two event streams hold the address's two places, and a stream is never shed.
      const streams = [await get(c.port, '/api/v1/events'), await get(c.port, '/api/v1/events')];
      expect(streams.map((s) => s.status)).toEqual([200, 200]);
      const refused = await connect(c.port);
      expect(await readAll(refused)).toBe(
        'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 65\r\nRetry-After: 1\r\nConnection: close\r\n\r\n' +
          '{"error":"too many connections to the console: try again later"}\n',
      );
      // The cap is per address: 127.0.0.2 is served.
      expect(await get(c.port, '/livez', '127.0.0.2')).toMatchObject({ status: 200, body: '{"ok":true}' });
      for (const s of streams) s.close();
    } finally {
      await c.handle.close();
    }
    // The one log line of the shared limiter says what was shed and refused at which cap.
    const line = c.logs.lines.find((l) => l.level === 'warn' && l.obj.service === 'console');
    expect(line?.msg).toBe('console: connection limit reached, connections shed (idle first, then the slowest to send a request)');
    expect(line?.obj).toMatchObject({ perAddress: 2, perClient: { shedHead: 1, refused: 1 }, global: { shedIdle: 0, shedHead: 0, refused: 0 } });
  });

  it('the event stream beyond the cap of an address gets 429 with Retry-After; another address gets its stream; a closed stream frees its place', async () => {
    const c = await startConsole({ maxEventStreamsPerAddress: 2 });
    try {
      const mine = [await get(c.port, '/api/v1/events'), await get(c.port, '/api/v1/events')];
      expect(mine.map((s) => s.status)).toEqual([200, 200]);
      const third = await get(c.port, '/api/v1/events');
      expect(third.status).toBe(429);
      expect(third.headers['retry-after']).toBe('10');
      expect(third.headers['content-type']).toBe('application/json');
      expect(third.body).toBe('{"error":"too many event streams from 127.0.0.1 (at most 2): close one first"}');

      const other = await get(c.port, '/api/v1/events', '127.0.0.2');
      expect(other.status).toBe(200);
      expect(other.body).toContain(`event: hello\ndata: {"domain":"${base.domain}"}\n`);

      // Once the server has seen one of the two end, 127.0.0.1 gets a stream again.
      mine[0]!.close();
      let again: Reply | undefined;
      for (let tries = 0; tries < 200 && again?.status !== 200; tries++) {
        again = await get(c.port, '/api/v1/events');
        if (again.status !== 200) await new Promise((r) => setTimeout(r, 25));
      }
      expect(again?.status).toBe(200);
      for (const s of [mine[1]!, other, again!]) s.close();
    } finally {
      await c.handle.close();
    }
  });
});
