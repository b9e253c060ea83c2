// Fair connection limits under attack (issue 12), over the plain listener on both transports
// (raw libuv TCP and node:net) and over TLS: a reconnecting slowloris of 1,500 connections from
// another address must not cost a probe its 200, nor (90 % of probes) when it comes from the
// probe's own address; a burst of 3,000 idle connections must not lock a probe out; a burst past
// an address's connection rate is closed at accept (issue 18). Probes served and attacker
// connections cut are asserted; curl's times are printed (the tight figures are the soak's and
// docs/security.md's: a loaded 2-core machine running three suites cannot promise them).
// The attacker runs in its own process (clients/slowloris.mjs); the probes are curl. Servers run
// with the default limits (MAX_CONNECTIONS 1024, 256 per client, header timeout 5 s), so the
// counts are the issue's. File descriptors: at most ~3,000 client + 3,000 server sockets, under
// the 20,000 of `ulimit -n` here (checked below). Each case prints its figures ("[limits] ...").
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@sstt/runtime';
import { requireTool, run } from '@sstt/testkit';
import { expectClosedQuietly, expectStatus } from './expect.ts';
import { readResponse, req } from './wire.ts';
import { createWorld, type Running, type TransportName, type World } from './world.ts';

const SLOWLORIS = fileURLToPath(new URL('./clients/slowloris.mjs', import.meta.url));
const ATTACKERS = 1500;
/** Over TLS every connection and reconnection is a full handshake with a client certificate: 400
 * (still beyond the 256 per address) keeps the attack within CI's time on a loaded 2-core machine. */
const TLS_ATTACKERS = 400;
const attackers = (name: TransportName) => (name === 'tls' ? TLS_ATTACKERS : ATTACKERS);
const IDLE_BURST = 3000;
/** `npm run soak` (SSTT_SOAK=1): the 35 probes over about 60 s per attack. */
const SOAK = process.env.SSTT_SOAK === '1';
const PROBES = SOAK ? 35 : 8;
const PROBE_GAP_MS = SOAK ? 1700 : 250;
/** curl's bound on one probe: a served probe takes milliseconds, an unserved one waits for ever. */
const PROBE_MAX_S = 10;
const CASE_MS = SOAK ? 180_000 : 60_000;

let w: World;
let curl: string;

beforeAll(async () => {
  curl = requireTool('curl');
  w = await createWorld();
  const limit = Number((await run('sh', ['-c', 'ulimit -n'])).stdout.trim());
  if (limit < 2 * IDLE_BURST + 1000) throw new Error(`ulimit -n is ${limit}: these tests need ${2 * IDLE_BURST + 1000} file descriptors`);
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

/** A logger keeping the warnings (the shedding lines). */
function memoryLogger(): { log: Logger; lines: Array<{ msg: string; obj: Record<string, unknown> }> } {
  const lines: Array<{ msg: string; obj: Record<string, unknown> }> = [];
  const noop = () => {};
  const log = {
    warn: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }),
    info: noop,
    error: noop,
    debug: noop,
    trace: noop,
    fatal: noop,
  } as Record<string, unknown>;
  log.child = () => log;
  return { log: log as unknown as Logger, lines };
}

interface Attack {
  stop(): Promise<Record<string, number>>;
}

/** Starts the attacker process and resolves once its connections are established. */
function attack(port: number, opts: Record<string, unknown>): Promise<Attack> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [SLOWLORIS, JSON.stringify({ port, ...opts })], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`attacker not ready within 60 s: ${out}`));
    }, 60_000);
    const onData = () => {
      if (!/^ready \d+\n/m.test(out)) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        stop: () =>
          new Promise((done) => {
            child.on('close', () => done(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>));
            child.stdin.end();
          }),
      });
    };
    child.stdout.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`attacker exited (${code}): ${out}`));
    });
  });
}

interface Probe {
  status: string;
  seconds: number;
}

/** One curl GET from 127.0.0.1 (or `from`): the status and curl's total time. */
async function probe(r: Running, name: TransportName, from = '127.0.0.1'): Promise<Probe> {
  const port = r.byName(name).port;
  const target =
    name === 'tls'
      ? [
          '--resolve',
          `${w.www}:${port}:127.0.0.1`,
          '--cacert',
          w.certs.paths.ca.cert,
          '--cert',
          w.certs.paths.client(w.certs.good).cert,
          '--key',
          w.certs.paths.client(w.certs.good).key,
          `https://${w.www}:${port}/a.txt`,
        ]
      : [`http://127.0.0.1:${port}/a.txt`];
  const res = await run(
    curl,
    ['-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', '--max-time', String(PROBE_MAX_S), '--interface', from, ...target],
    {
      timeoutMs: (PROBE_MAX_S + 10) * 1000,
    },
  );
  const [status, seconds] = res.stdout.trim().split(' ');
  return { status: status ?? '000', seconds: Number(seconds ?? 99) };
}

async function probes(r: Running, name: TransportName, n = PROBES): Promise<Probe[]> {
  const out: Probe[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await probe(r, name));
    await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
  }
  return out;
}

/** The TLS options of the attacker: a valid client certificate, so its connections reach HTTP. */
function attackerTls(): Record<string, string> {
  const c = w.certs.paths.client(w.certs.good);
  return {
    ca: fs.readFileSync(w.certs.paths.ca.cert, 'utf8'),
    cert: fs.readFileSync(c.cert, 'utf8'),
    key: fs.readFileSync(c.key, 'utf8'),
    servername: w.www,
  };
}

const mb = (n: number) => Math.round(n / 1024 / 1024);

function report(what: string, name: TransportName, got: Probe[], rss0: number, rss1: number, counts: Record<string, number>): void {
  const ok = got.filter((p) => p.status === '200').length;
  const worst = Math.max(...got.map((p) => p.seconds));
  console.log(
    `[limits] ${what} over ${name}: ${ok}/${got.length} probes 200, slowest ${worst.toFixed(3)} s, statuses ${got.map((p) => p.status).join(',')}; ` +
      `server process RSS ${mb(rss0)} -> ${mb(rss1)} MB; attacker ${JSON.stringify(counts)}`,
  );
}

/** The scenario with the connection rate off: for the attacks from the probes' own address. */
const rateOff = () => ({ ...w.s, http: { ...w.s.http, limits: { ...w.s.http.limits, connectionRatePerSecond: 0 } } });

async function underAttack(name: TransportName, opts: Record<string, unknown>, n = PROBES, scenario = w.s) {
  const { log, lines } = memoryLogger();
  const r = await w.start({ log, logDir: false, scenario }, { net: name === 'net' });
  const port = r.byName(name).port;
  const rss0 = process.memoryUsage().rss;
  const started = Date.now();
  const a = await attack(port, { ...(name === 'tls' ? { tls: attackerTls() } : {}), ...opts });
  let got: Probe[];
  let counts: Record<string, number>;
  let rss1: number;
  try {
    got = await probes(r, name, n);
    rss1 = process.memoryUsage().rss;
  } finally {
    counts = await a.stop();
  }
  await r.close();
  return { got, rss0, rss1, counts, lines, ms: Date.now() - started };
}

describe.each(['tcp', 'net', 'tls'] as const)('over %s', (name) => {
  it(
    'a reconnecting slowloris (1,500 connections; 400 over TLS) from 127.0.0.2: every probe from 127.0.0.1 gets 200; the attacker is cut, and it is logged once per interval',
    async () => {
      const { got, rss0, rss1, counts, lines, ms } = await underAttack(name, {
        count: attackers(name),
        mode: 'head',
        localAddress: '127.0.0.2',
        reconnect: true,
      });
      report('slowloris 1500 from 127.0.0.2', name, got, rss0, rss1, counts);
      expect(got.map((p) => p.status)).toEqual(got.map(() => '200'));
      // The attacker holds more than its 256 and reconnects: the server cut it, shedding its
      // oldest heads at the per-client cap or closing at accept what came over the connection
      // rate (which one depends on how fast this machine let it connect). Logged at most one line
      // per 10 s interval with counts (and one flushed at close).
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(Math.ceil(ms / 10_000) + 1);
      const sum = (f: (o: Record<string, unknown>) => number) => lines.reduce((n, l) => n + f(l.obj), 0);
      const cut = sum((o) => (o.perClient as { shedHead: number }).shedHead + (o.overRate as number));
      expect(cut).toBeGreaterThan(0);
      expect(counts.cut).toBeGreaterThan(0);
    },
    CASE_MS,
  );

  it(
    'the same slowloris from the probes’ own address: at least 90 % of the probes get 200',
    async () => {
      const n = SOAK ? PROBES : 10;
      // The connection rate cannot tell the probes from an attacker on their own address (they
      // share its bucket); the shedding among one address's connections is under test: rate off.
      const { got, rss0, rss1, counts } = await underAttack(
        name,
        { count: attackers(name), mode: 'head', localAddress: '127.0.0.1', reconnect: true },
        n,
        rateOff(),
      );
      report('slowloris 1500 from 127.0.0.1', name, got, rss0, rss1, counts);
      expect(got.filter((p) => p.status === '200').length).toBeGreaterThanOrEqual(Math.ceil(0.9 * n));
    },
    CASE_MS,
  );

  // Plain transports only, as the attack was (3,000 idle TCP connections); TLS is covered by the slowloris cases.
  if (name !== 'tls')
    it(
      'a burst of 3,000 idle connections from the probe’s address, then a probe gets 200',
      async () => {
        // From the probe's own address: rate off, as above (the burst is the rate's test below).
        const { got, rss0, rss1, counts } = await underAttack(
          name,
          { count: IDLE_BURST, mode: 'idle', localAddress: '127.0.0.1', reconnect: false },
          1,
          rateOff(),
        );
        report('3000 idle connections', name, got, rss0, rss1, counts);
        expect(got[0]!.status).toBe('200');
      },
      CASE_MS,
    );
});

describe.each(['tcp', 'net', 'tls'] as const)('under pressure over %s', (name) => {
  it('from pressurePercent of maxConnections on, a started head gets 408 after the short header timeout and an idle keep-alive closes after the short idle timeout', async () => {
    const r = await w.start(
      {
        logDir: false,
        maxConnections: 10,
        pressurePercent: 30,
        headerTimeoutMs: 600_000,
        idleTimeoutMs: 600_000,
        pressureHeaderTimeoutMs: 300,
        pressureIdleTimeoutMs: 300,
      },
      { net: name === 'net' },
    );
    // Which timeout applied needs no bound: the normal ones are 10 minutes, so a 408 or a close
    // within the test's time can only be the short 300 ms ones.
    const WAIT_MS = 20_000;
    const t = r.byName(name);
    // Two silent connections and the one under test: 3 of 10, the pressure mark (30 %). (Under
    // pressure the silent ones are soon closed by the short timeout too: fresh ones for each part.)
    const silent = [await t.connect(), await t.connect()];
    const slow = await t.connect();
    const t0 = Date.now();
    slow.write('GET /a.txt HTTP/1.1\r\nHost: x\r\n');
    const timedOut = await readResponse(slow, 'GET', WAIT_MS);
    expectStatus(timedOut, 408);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300 - 50);
    await slow.closed;

    silent.push(await t.connect(), await t.connect());
    const idle = await t.connect();
    idle.write(req('GET', '/a.txt', { Host: w.www }));
    expectStatus(await readResponse(idle), 200);
    await idle.closed;
    for (const c of silent) c.destroy();
    await r.close();
  });
});

describe('the scenario sets the limits', () => {
  it('http.limits.maxConnectionsPerClient = 1: a client’s second connection takes the place of its first (idle) one', async () => {
    const scenario = { ...w.s, http: { ...w.s.http, limits: { maxConnectionsPerClient: 1 } } };
    const r = await w.start({ scenario, logDir: false }, { net: true });
    for (const name of ['tcp', 'net', 'tls'] as const) {
      const t = r.byName(name);
      const first = await t.connect();
      first.write(req('GET', '/a.txt', { Host: w.www }));
      expectStatus(await readResponse(first), 200);
      const second = await t.connect();
      second.write(req('GET', '/a.txt', { Host: w.www }));
      expectStatus(await readResponse(second), 200);
      await expectClosedQuietly(first);
      second.destroy();
      await second.closed;
    }
    await r.close();
  });
});

describe.each(['tcp', 'net', 'tls'] as const)('the connection rate per address over %s (issue 18)', (name) => {
  it('a burst past the bucket from one address is closed at accept, without a byte (TLS: before the handshake); another address is served; it is logged', async () => {
    const { log, lines } = memoryLogger();
    // A bucket of 3 that refills one token every 1,000 s: none comes back during the test. (One
    // limiter for the server's plain and TLS listeners: a server per case.)
    const scenario = { ...w.s, http: { ...w.s.http, limits: { ...w.s.http.limits, connectionRatePerSecond: 0.001, connectionBurst: 3 } } };
    const r = await w.start({ scenario, log, logDir: false }, { net: name === 'net' });
    const t = r.byName(name);
    try {
      // (the world's clients come from 127.0.0.1; the other address is curl's below)
      for (let i = 0; i < 3; i++) {
        const c = await t.connect();
        c.write(req('GET', '/a.txt', { Host: w.www, Connection: 'close' }));
        expectStatus(await readResponse(c), 200);
        c.destroy();
      }
      if (name === 'tls') await expect(t.connect()).rejects.toThrow(/before secure TLS connection was established|ECONNRESET/);
      else {
        // a server that accepted it would answer the request: this one closed it, silent
        const fourth = await t.connect();
        fourth.write(req('GET', '/a.txt', { Host: w.www }));
        expect((await fourth.readToEnd(PROBE_MAX_S * 1000)).toString('latin1')).toBe('');
      }
      const other = await probe(r, name, '127.0.0.8');
      expect(other.status).toBe('200');
    } finally {
      await r.close();
    }
    expect(lines.map((l) => l.obj)).toEqual([expect.objectContaining({ overRate: 1, shed: 0, refused: 0, burst: 3, addresses: { '127.0.0.1': 1 } })]);
  });
});
