// Login penalties as dovecot's auth penalty (src/auth-penalty.ts): the shape with a fake clock
// (2 s doubling to 15 s, reset by a success, per address and per account), then the timings
// measured on POP3 (USER/PASS, AUTH PLAIN) and submission AUTH with the delays shortened
// (100 ms doubling to 500 ms) through scenario.mail.limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_LIMITS, type Scenario } from '@sstt/scenario';
import { rawTcp, type RawClient, type Started } from '@sstt/testkit';
import { AUTH_PENALTY_FORGET_MS, AuthPenalty } from '../src/auth-penalty.ts';
import { startSmtp, testScenario, type TestWorld } from './helpers.ts';
import { plainBlob, Pop3Client, startPop3 } from './pop3-helpers.ts';

describe('the penalty table (fake clock)', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it("dovecot's shape by default: 2, 4, 8, 15, 15 s; nothing to wait once a reply has been held", () => {
    const c = clock();
    const p = new AuthPenalty({ baseMs: MAIL_LIMITS.authPenaltyMs, maxMs: MAIL_LIMITS.authPenaltyMaxMs, now: c.now });
    const delays = [];
    for (let i = 0; i < 5; i++) {
      expect(p.waitMs('192.0.2.1', 'ana')).toBe(0);
      const d = p.failed('192.0.2.1', 'ana');
      delays.push(d);
      // another connection of the same client waits out the rest of the penalty
      expect(p.waitMs('192.0.2.1')).toBe(d);
      c.advance(d);
    }
    expect(delays).toEqual([2000, 4000, 8000, 15000, 15000]);
  });

  it('a success resets the address and the account; an unknown account counts on the address only', () => {
    const c = clock();
    const p = new AuthPenalty({ baseMs: 100, maxMs: 1000, now: c.now });
    expect([p.failed('a', 'ana'), p.failed('a', 'ana'), p.failed('a')]).toEqual([100, 200, 400]);
    p.succeeded('a', 'ana');
    expect(p.waitMs('a', 'ana')).toBe(0);
    expect(p.failed('a', 'ana')).toBe(100);
  });

  it('per account across addresses, per address across accounts', () => {
    const c = clock();
    const p = new AuthPenalty({ baseMs: 100, maxMs: 1000, now: c.now });
    expect(p.failed('a', 'ana')).toBe(100);
    expect(p.failed('b', 'ana')).toBe(200); // second failure for ana
    expect(p.waitMs('c', 'ana')).toBe(200); // a third address waits for ana
    expect(p.waitMs('c', 'bea')).toBe(0);
    expect(p.waitMs('b', 'bea')).toBe(200); // b waits for any account
    c.advance(200);
    expect(p.failed('b', 'bea')).toBe(200); // b's second failure
  });

  it('forgets a penalty after an hour without failures', () => {
    const c = clock();
    const p = new AuthPenalty({ baseMs: 100, maxMs: 1000, now: c.now });
    p.failed('a', 'ana');
    p.failed('a', 'ana');
    c.advance(AUTH_PENALTY_FORGET_MS + 1);
    expect(p.failed('a', 'ana')).toBe(100);
  });
});

/** Elapsed ms of an async step. */
async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/** A held reply: at least the penalty, and of its order (not a second more). */
function expectHeld(ms: number, penalty: number): void {
  expect(ms).toBeGreaterThanOrEqual(penalty - 2);
  expect(ms).toBeLessThan(penalty * 1.5 + 100);
}

const BASE = 100;
const MAX = 500;
let w: TestWorld;
let s: Scenario;
let u1: Scenario['users'][number];
let u2: Scenario['users'][number];

beforeAll(() => {
  w = testScenario();
  s = { ...w.s, mail: { ...w.s.mail, limits: { ...w.s.mail.limits, authPenaltyMs: BASE, authPenaltyMaxMs: MAX } } };
  u1 = s.users[0]!;
  u2 = s.users[1]!;
});
afterAll(() => w?.remove());

describe('POP3 (penalties from scenario.mail.limits: 100 ms doubling to 500 ms)', () => {
  let srv: Started;
  beforeAll(async () => {
    // no penalty option: the server takes the scenario's
    srv = await startPop3({ scenario: s, penalty: undefined });
  });
  afterAll(() => srv?.close());

  it('USER/PASS: failures answered after 100, 200, 400, 500, 500 ms; the right password then gets in at once; a new failure starts again at 100', async () => {
    const expected = [100, 200, 400, 500, 500];
    let { client } = await Pop3Client.connect(srv.port);
    for (const [i, penalty] of expected.entries()) {
      // the connection closes after 3 failures (dovecot's behaviour): reconnect
      if (i === 3) ({ client } = await Pop3Client.connect(srv.port));
      expect(await client.cmd(`USER ${u1.name}`)).toBe('+OK');
      const r = await timed(() => client.cmd(`PASS wrong${i}`));
      expect(r.value).toBe('-ERR [AUTH] Authentication failed.');
      expectHeld(r.ms, penalty);
    }
    const ok = await timed(() => client.login(u1.name, u1.password));
    expect(ok.value).toBe('+OK Logged in.');
    expect(ok.ms).toBeLessThan(BASE);
    expect(await client.cmd('QUIT')).toBe('+OK Logging out.');
    const again = await Pop3Client.connect(srv.port);
    const r = await timed(() => again.client.login(u1.name, 'wrong'));
    expect(r.value).toBe('-ERR [AUTH] Authentication failed.');
    expectHeld(r.ms, 100);
    again.client.close();
  });

  it('AUTH PLAIN counts the same, and the account carries its penalty to another address', async () => {
    const a = await rawPop3(srv.port, '127.0.0.3');
    const r1 = await timed(() => a.cmd(`AUTH PLAIN ${plainBlob(u2.name, 'bad')}`));
    expect(r1.value).toBe('-ERR [AUTH] Authentication failed.');
    expectHeld(r1.ms, 100);
    // from 127.0.0.4, fresh, but the same account: its second failure
    const b = await rawPop3(srv.port, '127.0.0.4');
    const r2 = await timed(() => b.cmd(`AUTH PLAIN ${plainBlob(u2.name, 'bad')}`));
    expectHeld(r2.ms, 200);
    // a malformed response is a failure too (127.0.0.4's second)
    const r3 = await timed(() => b.cmd(`AUTH PLAIN ${Buffer.from('no nul here').toString('base64')}`));
    expect(r3.value).toBe('-ERR [AUTH] Authentication failed.');
    expectHeld(r3.ms, 200);
    a.close();
    b.close();
  });

  it('a login tried on another connection during a penalty waits for it, then gets in', async () => {
    const own = await startPop3({ scenario: s, penalty: new AuthPenalty({ baseMs: BASE, maxMs: MAX }) });
    const a = await rawPop3(own.port, '127.0.0.5');
    await a.cmd(`USER ${u2.name}`);
    a.raw.write('PASS wrong\r\n');
    const pending = a.line();
    const b = await rawPop3(own.port, '127.0.0.5');
    expect(await b.cmd(`USER ${u1.name}`)).toBe('+OK');
    const t0 = performance.now();
    const r = await b.cmd(`PASS ${u1.password}`);
    const ms = performance.now() - t0;
    expect(r).toBe('+OK Logged in.');
    expect(await pending).toBe('-ERR [AUTH] Authentication failed.');
    // b waited for the rest of a's 100 ms, not more
    expect(ms).toBeGreaterThan(20);
    expect(ms).toBeLessThan(150 + 100);
    await b.cmd('QUIT');
    a.close();
    await own.close();
  });
});

describe('submission AUTH (same penalties)', () => {
  let srv: Started;
  beforeAll(async () => {
    srv = await startSmtp({ scenario: s, submission: true });
  });
  afterAll(() => srv?.close());

  it('535 after 100, 200, 400 ms, then 235 at once for the right password, also for AUTH LOGIN', async () => {
    // (AUTH in clear is offered to the relay network only: 127.0.0.1)
    const c = await rawTcp(srv.port);
    await smtpReply(c);
    c.write('EHLO cliente\r\n');
    await smtpReply(c);
    for (const penalty of [100, 200, 400]) {
      const r = await timed(async () => {
        c.write(`AUTH PLAIN ${plainBlob(u1.name, 'wrong')}\r\n`);
        return smtpReply(c);
      });
      expect(r.value).toBe('535 Incorrect authentication data');
      expectHeld(r.ms, penalty);
    }
    const ok = await timed(async () => {
      c.write(`AUTH LOGIN ${Buffer.from(u1.name).toString('base64')}\r\n`);
      expect(await smtpReply(c)).toBe('334 UGFzc3dvcmQ6');
      c.write(`${Buffer.from(u1.password).toString('base64')}\r\n`);
      return smtpReply(c);
    });
    expect(ok.value).toBe('235 Authentication succeeded');
    expect(ok.ms).toBeLessThan(BASE);
    c.destroy();
  });
});

describe('one table for every listener', () => {
  it('a failure on POP3 makes the next one on submission wait twice as long', async () => {
    const penalty = new AuthPenalty({ baseMs: BASE, maxMs: MAX });
    const pop3 = await startPop3({ scenario: s, penalty });
    const sub = await startSmtp({ scenario: s, submission: true, penalty });
    try {
      const p = await rawPop3(pop3.port, '127.0.0.1');
      const r1 = await timed(() => p.login(u1.name, 'wrong'));
      expectHeld(r1.ms, 100);
      const c = await rawTcp(sub.port);
      await smtpReply(c);
      c.write('EHLO cliente\r\n');
      await smtpReply(c);
      const r2 = await timed(async () => {
        c.write(`AUTH PLAIN ${plainBlob(u1.name, 'wrong')}\r\n`);
        return smtpReply(c);
      });
      expect(r2.value).toBe('535 Incorrect authentication data');
      expectHeld(r2.ms, 200);
      p.close();
      c.destroy();
    } finally {
      await pop3.close();
      await sub.close();
    }
  });
});

/** A POP3 client from a given loopback address, greeting read. */
async function rawPop3(port: number, from: string): Promise<Pop3Client> {
  const client = new Pop3Client(await rawTcp(port, '127.0.0.1', from));
  await client.line();
  return client;
}

/** The last line of one SMTP reply. */
async function smtpReply(c: RawClient): Promise<string> {
  for (;;) {
    const line = (await c.readLine()).replace(/\r\n$/, '');
    if (/^\d{3}( |$)/.test(line)) return line;
  }
}
