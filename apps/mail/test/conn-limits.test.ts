// Fair connection limits (the ConnectionLimiter of @sstt/runtime, whose choice of the connection
// to shed, shrinking timeouts and rate-limited log are unit-tested in packages/runtime): a login
// held by its penalty is shed before a working client; then each mail listener
// (SMTP, submission, POP3, POP3S) under attacker processes that hold 300 idle and slow
// connections from two addresses (200 from one) and reconnect whenever one is cut, with the caps
// made small (40 per listener, 20 per address): probes from another address are all served, each
// in under a second, and at least 90 % are served when attacker and probes share the address.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHED_GRACE_MS, type Logger } from '@sstt/runtime';
import type { Scenario } from '@sstt/scenario';
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

/** Each step of a probe must answer within this. */
const STEP_MS = 2000;

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
  start(log: Logger): Promise<Started>;
  probe: Probe;
}

let current: Started | undefined;
const LISTENERS: Record<string, Listener> = {
  smtp: { start: (log) => startSmtp({ scenario: s, log }), probe: smtpProbe(() => current!.port, false) },
  submission: { start: (log) => startSmtp({ scenario: s, submission: true, log }), probe: smtpProbe(() => current!.port, true) },
  pop3: { start: (log) => startPop3({ scenario: s, log }), probe: pop3Probe(() => current!.port, false) },
  pop3s: {
    start: (log) => startPop3({ scenario: s, log, implicitTls: true, tls: credentials }),
    probe: pop3Probe(() => current!.port, true),
  },
};

/** Figures for the report: one line per run (vitest prints console output of the test). */
const figures: string[] = [];
afterAll(() => {
  if (figures.length)
    console.log(`probe success under attack (idle/slow connections reconnecting when cut, caps 40 per listener / 20 per address):\n${figures.join('\n')}`);
});

describe.each(Object.keys(LISTENERS))('%s under a reconnecting slowloris', (name) => {
  const l = LISTENERS[name]!;

  it('from other addresses (127.0.0.2 and .3, 150 each: both caps reached): every probe from 127.0.0.1 is served, each in under 1 s; the shedding is logged', async () => {
    const { log, lines } = recordingLogger();
    current = await l.start(log);
    try {
      const attackers = [attack(current.port, '127.0.0.2', 150), attack(current.port, '127.0.0.3', 150)];
      await Promise.all(attackers.map((a) => a.ready));
      const r = await probeFor(l.probe, '127.0.0.1');
      for (const a of attackers) a.stop();
      const [t2, t3] = await Promise.all(attackers.map((a) => a.done));
      const totals = { connects: t2!.connects + t3!.connects, closedByServer: t2!.closedByServer + t3!.closedByServer };
      figures.push(
        `${name}, attackers on 127.0.0.2 and .3: ${r.served}/${r.total} probes served, slowest ${Math.round(r.slowestMs)} ms; attacker connections opened ${totals.connects}, cut by the server ${totals.closedByServer}`,
      );
      expect(r.errors).toEqual([]);
      expect(r.served).toBe(r.total);
      expect(r.total).toBeGreaterThanOrEqual(MIN_PROBES);
      expect(r.slowestMs).toBeLessThan(1000);
      // the attacker was held to its cap: most of its connections were cut or refused
      expect(totals.closedByServer).toBeGreaterThan(180);
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(20); // per interval (500 ms), not per connection
      expect(lines[0]).toMatchObject({ service: expect.stringMatching(/^(smtp|submission|pop3|pop3s)$/), max: 40, perAddress: 20 });
      expect(lines.reduce((n, x) => n + (x.shed as number) + (x.refused as number) + (x.timedOut as number), 0)).toBeGreaterThan(180);
    } finally {
      await current.close();
    }
  });

  it('from the same address (127.0.0.1, 200 connections): at least 90 % of the probes are served', async () => {
    const { log } = recordingLogger();
    current = await l.start(log);
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
