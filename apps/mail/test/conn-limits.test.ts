// Fair connection limits (the ConnectionLimiter of @sstt/runtime, whose choice of the connection
// to shed, shrinking timeouts, connection rate and rate-limited log are unit-tested in
// packages/runtime): a login held by its penalty is shed before a working client; a burst over an
// address's connection rate is closed at accept, without a byte, on each listener; then each mail
// listener (SMTP, submission, POP3, POP3S) under attacker processes that hold 300 idle and slow
// connections from two addresses (200 from one) and reconnect whenever one is cut, with the caps
// made small (40 per listener, 20 per address): probes from another address are all served, and
// at least 90 % when attacker and probes share the address. What is asserted is counted (probes
// served, attacker connections cut); the latency figures are printed, and held to a bound a loaded
// 2-core machine keeps (STEP_MS a step): the tight ones are `npm run soak`'s and docs/security.md's.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHED_GRACE_MS, type Logger } from '@sstt/runtime';
import type { MailLimits, Scenario } from '@sstt/scenario';
import { rawTcp, rawTls, type RawClient, type Started } from '@sstt/testkit';
import { serverTls, startSmtp, testScenario, type TestWorld } from './helpers.ts';
import { plainBlob, startPop3 } from './pop3-helpers.ts';

/** A logger that keeps the warn lines (the only level the limiter logs at). */
function recordingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const noop = () => {};
  const log = { warn: (obj: Record<string, unknown>, msg: string) => lines.push({ ...obj, msg }), info: noop, debug: noop, error: noop } as unknown as Logger;
  return { log, lines };
}

describe('what a listener sheds', () => {
  it('SMTP: a connection whose failed AUTH is held by the login penalty is shed before a working one (421)', async () => {
    const w2 = testScenario();
    const s2 = { ...w2.s, mail: { ...w2.s.mail, limits: { ...w2.s.mail.limits, maxConnectionsPerAddress: 2, authPenaltyMs: 5000, authPenaltyMaxMs: 5000 } } };
    const srv = await startSmtp({ scenario: s2, submission: true });
    try {
      const a = await rawTcp(srv.port);
      await expectLine(a, /^220 /);
      a.write(`EHLO a\r\nAUTH PLAIN ${plainBlob(s2.users[0]!.name, 'wrong')}\r\n`);
      await expectLine(a, /^250 /);
      // a's 535 is held for 5 s; after SHED_GRACE_MS it is no longer a client in a round trip
      await new Promise((r) => setTimeout(r, SHED_GRACE_MS + 100));
      const b = await rawTcp(srv.port);
      await expectLine(b, /^220 /);
      const c = await rawTcp(srv.port);
      await expectLine(c, /^220 /);
      expect((await a.readLine()).trim()).toBe(`421 ${s2.hostname} Too many connections, closing connection`);
      await a.closed;
      // b, which has just been greeted, is still served
      b.write('EHLO b\r\n');
      await expectLine(b, /^250 /);
      b.destroy();
      c.destroy();
    } finally {
      await srv.close();
      w2.remove();
    }
  });
});

// ---- the listeners under attack ------------------------------------------------------------

const ATTACKER = fileURLToPath(new URL('./fixtures/slow-clients.mjs', import.meta.url));
const LIMITS = { maxConnections: 40, maxConnectionsPerAddress: 20, commandTimeoutMs: 3000, pressureTimeoutMs: 1000, shedLogIntervalMs: 500 };
/** How long probes run under each attack, and the most probes in that time. */
const PROBE_MS = 2500;
const MAX_PROBES = 60;

interface Attack {
  ready: Promise<void>;
  done: Promise<{ connects: number; closedByServer: number; failed: number; greeted: number }>;
  stop(): void;
}

/** The attacker process: `count` idle and slow connections from `from`, reconnecting when cut. */
function attack(port: number, from: string, count = 200): Attack {
  const child = spawn(process.execPath, [ATTACKER, JSON.stringify({ port, from, count, mode: 'mixed', durationMs: PROBE_MS + 5000 })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const done = new Promise<Attack extends { done: Promise<infer T> } ? T : never>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready"')) readyResolve();
    });
    child.on('exit', () => {
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`attacker said: ${out}`));
      }
    });
  });
  return { ready, done, stop: () => child.kill('SIGTERM') };
}

type Probe = (from: string) => Promise<void>;

/** At least this many probes run, however long they take on a loaded machine (the attacker keeps going meanwhile). */
const MIN_PROBES = 5;

/** Runs probes one after another for PROBE_MS (and at least MIN_PROBES): how many were served, and the slowest (ms). */
async function probeFor(probe: Probe, from: string): Promise<{ served: number; total: number; slowestMs: number; errors: string[] }> {
  let served = 0;
  let total = 0;
  let slowestMs = 0;
  const errors: string[] = [];
  const end = performance.now() + PROBE_MS;
  while ((performance.now() < end || total < MIN_PROBES) && total < MAX_PROBES) {
    total++;
    const t0 = performance.now();
    try {
      await probe(from);
      served++;
      slowestMs = Math.max(slowestMs, performance.now() - t0);
    } catch (err) {
      errors.push((err as Error).message.slice(0, 120));
    }
  }
  return { served, total, slowestMs, errors };
}

/**
 * Each step of a probe must answer within this: an unserved probe waits for ever (its connection
 * shed or refused) while a served one answers in milliseconds, even with three suites and the
 * attacker sharing two cores.
 */
const STEP_MS = 3000;

async function expectLine(c: RawClient, pattern: RegExp): Promise<void> {
  for (;;) {
    const line = (await c.readLine(STEP_MS)).replace(/\r\n$/, '');
    if (/^\d{3}-/.test(line)) continue; // SMTP multi-line reply
    if (!pattern.test(line)) throw new Error(`expected ${pattern}, got ${JSON.stringify(line)}`);
    return;
  }
}

let w: TestWorld;
let s: Scenario;
let ca: Buffer;
let credentials: { key: Buffer; cert: Buffer };
beforeAll(async () => {
  w = testScenario();
  const t = await serverTls(w.s);
  ca = fs.readFileSync(t.ca);
  credentials = { key: t.key, cert: t.cert };
  s = { ...w.s, mail: { ...w.s.mail, limits: { ...w.s.mail.limits, ...LIMITS } } };
});
afterAll(() => w?.remove());

/** One SMTP transaction without a message: EHLO, (AUTH), MAIL, RCPT, RSET, QUIT. */
const smtpProbe =
  (port: () => number, auth: boolean): Probe =>
  async (from) => {
    const c = await rawTcp(port(), '127.0.0.1', from);
    try {
      await expectLine(c, /^220 /);
      c.write('EHLO probe\r\n');
      await expectLine(c, /^250 /);
      if (auth) {
        c.write(`AUTH PLAIN ${plainBlob(s.users[0]!.name, s.users[0]!.password)}\r\n`);
        await expectLine(c, /^235 /);
      }
      c.write(`MAIL FROM:<${s.users[0]!.email}>\r\n`);
      await expectLine(c, /^250 /);
      c.write(`RCPT TO:<${s.users[1]!.email}>\r\n`);
      await expectLine(c, /^250 /);
      c.write('RSET\r\n');
      await expectLine(c, /^250 /);
      c.write('QUIT\r\n');
      await expectLine(c, /^221 /);
    } finally {
      c.destroy();
    }
  };

/** One POP3 session: login, STAT, QUIT. */
const pop3Probe =
  (port: () => number, secure: boolean): Probe =>
  async (from) => {
    const c = secure
      ? await rawTls(port(), { ca, servername: 'localhost', localAddress: from } as tls.ConnectionOptions)
      : await rawTcp(port(), '127.0.0.1', from);
    try {
      await expectLine(c, /^\+OK /);
      c.write(`USER ${s.users[1]!.name}\r\nPASS ${s.users[1]!.password}\r\n`);
      await expectLine(c, /^\+OK$/);
      await expectLine(c, /^\+OK Logged in\.$/);
      c.write('STAT\r\n');
      await expectLine(c, /^\+OK \d+ \d+$/);
      c.write('QUIT\r\n');
      await expectLine(c, /^\+OK Logging out/);
    } finally {
      c.destroy();
    }
  };

interface Listener {
  /** Starts the listener with the test's limits, and `limits` over them. */
  start(log: Logger, limits?: Partial<MailLimits>): Promise<Started>;
  probe: Probe;
}

/** The test's scenario with more limits over LIMITS. */
const withLimits = (limits: Partial<MailLimits> = {}): Scenario => ({ ...s, mail: { ...s.mail, limits: { ...s.mail.limits, ...limits } } });

let current: Started | undefined;
const LISTENERS: Record<string, Listener> = {
  smtp: { start: (log, l) => startSmtp({ scenario: withLimits(l), log }), probe: smtpProbe(() => current!.port, false) },
  submission: { start: (log, l) => startSmtp({ scenario: withLimits(l), submission: true, log }), probe: smtpProbe(() => current!.port, true) },
  pop3: { start: (log, l) => startPop3({ scenario: withLimits(l), log }), probe: pop3Probe(() => current!.port, false) },
  pop3s: {
    start: (log, l) => startPop3({ scenario: withLimits(l), log, implicitTls: true, tls: credentials }),
    probe: pop3Probe(() => current!.port, true),
  },
};

describe.each(Object.keys(LISTENERS))('%s: the connection rate per address', (name) => {
  it('a burst past the bucket from one address is closed at accept without a byte (POP3S: before the handshake); another address is served; one log line counts it', async () => {
    const { log, lines } = recordingLogger();
    // A bucket of 3 that refills one token every 1,000 s: nothing comes back during the test.
    const l = LISTENERS[name]!;
    const srv = await l.start(log, { connectionRatePerSecond: 0.001, connectionBurst: 3 });
    const secure = name === 'pop3s';
    const open = (from: string) =>
      secure ? rawTls(srv.port, { ca, servername: 'localhost', localAddress: from } as tls.ConnectionOptions) : rawTcp(srv.port, '127.0.0.1', from);
    const greeting = secure || name.startsWith('pop3') ? /^\+OK / : /^220 /;
    try {
      const kept: RawClient[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await open('127.0.0.6');
        await expectLine(c, greeting);
        kept.push(c);
      }
      if (secure) {
        // no TLS handshake for the fourth: the client sees the connection go, not a ServerHello
        await expect(open('127.0.0.6')).rejects.toThrow();
      } else {
        // a server that accepted it would greet at once: this one closes it, silent
        const fourth = await open('127.0.0.6');
        expect((await fourth.readToEnd(STEP_MS)).toString('latin1')).toBe('');
      }
      const other = await open('127.0.0.7');
      await expectLine(other, greeting);
      for (const c of [...kept, other]) c.destroy();
    } finally {
      await srv.close();
    }
    expect(lines).toEqual([expect.objectContaining({ overRate: 1, shed: 0, refused: 0, ratePerSecond: 0.001, burst: 3, addresses: { '127.0.0.6': 1 } })]);
  });
});

/** Figures for the report: one line per run (vitest prints console output of the test). */
const figures: string[] = [];
afterAll(() => {
  if (figures.length)
    console.log(`probe success under attack (idle/slow connections reconnecting when cut, caps 40 per listener / 20 per address):\n${figures.join('\n')}`);
});

describe.each(Object.keys(LISTENERS))('%s under a reconnecting slowloris', (name) => {
  const l = LISTENERS[name]!;

  it('from other addresses (127.0.0.2 and .3, 150 each: both caps reached): every probe from 127.0.0.1 is served; the attackers are cut and it is logged', async () => {
    const { log, lines } = recordingLogger();
    current = await l.start(log);
    let closed = false;
    try {
      const attackers = [attack(current.port, '127.0.0.2', 150), attack(current.port, '127.0.0.3', 150)];
      await Promise.all(attackers.map((a) => a.ready));
      const r = await probeFor(l.probe, '127.0.0.1');
      for (const a of attackers) a.stop();
      const [t2, t3] = await Promise.all(attackers.map((a) => a.done));
      const totals = { connects: t2!.connects + t3!.connects, closedByServer: t2!.closedByServer + t3!.closedByServer };
      // close() writes the pending counts: every line is in by then
      await current.close();
      closed = true;
      const sum = (key: string) => lines.reduce((n, x) => n + ((x[key] as number) ?? 0), 0);
      figures.push(
        `${name}, attackers on 127.0.0.2 and .3: ${r.served}/${r.total} probes served, slowest ${Math.round(r.slowestMs)} ms; attacker connections opened ${totals.connects}, cut by the server ${totals.closedByServer} (shed ${sum('shed')}, timed out ${sum('timedOut')}, over the rate at accept ${sum('overRate')})`,
      );
      expect(r.errors).toEqual([]);
      expect(r.served).toBe(r.total);
      expect(r.total).toBeGreaterThanOrEqual(MIN_PROBES);
      // the attackers were held to their caps: most of their connections were cut or refused
      expect(totals.closedByServer).toBeGreaterThan(180);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(40); // per interval (500 ms), not per connection
      expect(lines[0]).toMatchObject({ service: expect.stringMatching(/^(smtp|submission|pop3|pop3s)$/), max: 40, perAddress: 20 });
      expect(sum('shed') + sum('refused') + sum('timedOut') + sum('overRate')).toBeGreaterThan(180);
    } finally {
      if (!closed) await current.close();
    }
  });

  it('from the same address (127.0.0.1, 200 connections): at least 90 % of the probes are served', async () => {
    const { log } = recordingLogger();
    // The connection rate cannot tell the probes from an attacker on their own address (they
    // share its bucket: the case above and the rate's own test show what it does); here the
    // shedding among one address's connections is under test, so the rate is off.
    current = await l.start(log, { connectionRatePerSecond: 0 });
    try {
      const a = attack(current.port, '127.0.0.1');
      await a.ready;
      const r = await probeFor(l.probe, '127.0.0.1');
      a.stop();
      const totals = await a.done;
      figures.push(
        `${name}, attacker on the probes' 127.0.0.1: ${r.served}/${r.total} probes served, slowest ${Math.round(r.slowestMs)} ms; attacker connections opened ${totals.connects}, cut by the server ${totals.closedByServer}`,
      );
      expect(r.total).toBeGreaterThanOrEqual(MIN_PROBES);
      expect(r.served / r.total, r.errors.join('\n')).toBeGreaterThanOrEqual(0.9);
    } finally {
      await current.close();
    }
  });
});
