// Login penalties as dovecot's auth penalty (src/auth-penalty.ts): the shape with a fake clock
// (2 s doubling to 15 s, reset by a success, per address and per account), then on POP3
// (USER/PASS, AUTH PLAIN) and submission AUTH with the delays shortened (100 ms doubling to
// 500 ms) through scenario.mail.limits: the delays the table asked for, recorded exactly, and
// each answer no sooner than its delay (wall-clock upper bounds only generous ones).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_LIMITS, type Scenario } from '@sstt/scenario';
import { rawTcp, type RawClient, type Started } from '@sstt/testkit';
import { AUTH_PENALTY_FORGET_MS, AuthPenalty } from '../src/auth-penalty.ts';
import { startSmtp, testScenario, type TestWorld } from './helpers.ts';
import { ImapClient, startImap } from './imap-helpers.ts';
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

/**
 * An answer held by its penalty: never sooner than the penalty (1 ms of slack: Node may fire a
 * timer up to a millisecond early against performance.now()). No upper bound (a loaded machine
 * may answer late for no fault of the server): which penalty applied is checked exactly through
 * the recorded delays, and an answer never given (a lost wake-up) ends in the test's timeout.
 */
function expectHeld(ms: number, penalty: number): void {
  expect(ms).toBeGreaterThanOrEqual(penalty - 1);
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

/**
 * The scenario's penalties (100 ms doubling to 500 ms) with every delay the table asks for
 * recorded, in order: per attempt, the wait before the password is checked, then for a failure
 * the hold of its answer. The delays are real timers all the same.
 */
function recordedPenalty(now?: () => number): { penalty: AuthPenalty; delays: number[] } {
  const delays: number[] = [];
  const sleep = (ms: number) => {
    delays.push(ms);
    return new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : r()));
  };
  return { penalty: new AuthPenalty({ baseMs: s.mail.limits.authPenaltyMs, maxMs: s.mail.limits.authPenaltyMaxMs, sleep, ...(now ? { now } : {}) }), delays };
}

/**
 * Runs a test against its own server and closes it whatever happens: close() resolves once every
 * session has ended and released its mailbox lock, so no test finds a lock left by another.
 */
async function withServer(start: () => Promise<Started>, body: (srv: Started) => Promise<void>): Promise<void> {
  const srv = await start();
  try {
    await body(srv);
  } finally {
    await srv.close();
  }
}

describe('POP3 (penalties from scenario.mail.limits: 100 ms doubling to 500 ms)', () => {
  it('without a penalty table of its own, the server takes scenario.mail.limits', async () => {
    // no penalty option: the server builds its table from the scenario. The scenario's penalty is
    // longer than the default (MAIL_LIMITS.authPenaltyMs, 2 s): an answer held at least that long
    // can only be the scenario's (a lower bound, which a loaded machine cannot break).
    const longer = MAIL_LIMITS.authPenaltyMs + 500;
    const scenario = { ...s, mail: { ...s.mail, limits: { ...s.mail.limits, authPenaltyMs: longer, authPenaltyMaxMs: longer } } };
    await withServer(
      () => startPop3({ scenario, penalty: undefined }),
      async (srv) => {
        const { client } = await Pop3Client.connect(srv.port);
        const r = await timed(() => client.login(u1.name, 'wrong'));
        expect(r.value).toBe('-ERR [AUTH] Authentication failed.');
        expect(r.ms).toBeGreaterThanOrEqual(longer - 1);
        client.close();
      },
    );
  });

  it('USER/PASS: failures answered after 100, 200, 400, 500, 500 ms; the right password then gets in at once; a new failure starts again at 100', async () => {
    const { penalty, delays } = recordedPenalty();
    await withServer(
      () => startPop3({ scenario: s, penalty }),
      async (srv) => {
        const expected = [100, 200, 400, 500, 500];
        let { client } = await Pop3Client.connect(srv.port);
        for (const [i, held] of expected.entries()) {
          // the connection closes after 3 failures (dovecot's behaviour): reconnect
          if (i === 3) ({ client } = await Pop3Client.connect(srv.port));
          expect(await client.cmd(`USER ${u1.name}`)).toBe('+OK');
          const r = await timed(() => client.cmd(`PASS wrong${i}`));
          expect(r.value).toBe('-ERR [AUTH] Authentication failed.');
          expectHeld(r.ms, held);
        }
        // each failure: no wait before the check (its predecessor's answer was held), then its hold
        expect(delays.splice(0)).toEqual(expected.flatMap((held) => [0, held]));
        expect(await client.login(u1.name, u1.password)).toBe('+OK Logged in.');
        // at once: checked without waiting, and nothing held
        expect(delays.splice(0)).toEqual([0]);
        expect(await client.cmd('QUIT')).toBe('+OK Logging out.');
        const again = await Pop3Client.connect(srv.port);
        const r = await timed(() => again.client.login(u1.name, 'wrong'));
        expect(r.value).toBe('-ERR [AUTH] Authentication failed.');
        expectHeld(r.ms, 100);
        expect(delays.splice(0)).toEqual([0, 100]);
        again.client.close();
      },
    );
  });

  it('AUTH PLAIN counts the same, and the account carries its penalty to another address', async () => {
    const { penalty, delays } = recordedPenalty();
    await withServer(
      () => startPop3({ scenario: s, penalty }),
      async (srv) => {
        const a = await rawPop3(srv.port, '127.0.0.3');
        const r1 = await timed(() => a.cmd(`AUTH PLAIN ${plainBlob(u2.name, 'bad')}`));
        expect(r1.value).toBe('-ERR [AUTH] Authentication failed.');
        expectHeld(r1.ms, 100);
        // from 127.0.0.4, fresh, but the same account: its second failure
        const b = await rawPop3(srv.port, '127.0.0.4');
        const r2 = await timed(() => b.cmd(`AUTH PLAIN ${plainBlob(u2.name, 'bad')}`));
        expect(r2.value).toBe('-ERR [AUTH] Authentication failed.');
        expectHeld(r2.ms, 200);
        // a malformed response is a failure too (127.0.0.4's second)
        const r3 = await timed(() => b.cmd(`AUTH PLAIN ${Buffer.from('no nul here').toString('base64')}`));
        expect(r3.value).toBe('-ERR [AUTH] Authentication failed.');
        expectHeld(r3.ms, 200);
        expect(delays).toEqual([0, 100, 0, 200, 0, 200]);
        a.close();
        b.close();
      },
    );
  });

  it('a login tried on another connection during a penalty waits for it, then gets in', async () => {
    // The table's clock stands still: however slowly this machine gets b's login to the server,
    // a's penalty is still running then (and b has all of its 100 ms to wait). The waits are real.
    const { penalty, delays } = recordedPenalty(() => 1_000_000);
    await withServer(
      () => startPop3({ scenario: s, penalty }),
      async (srv) => {
        const a = await rawPop3(srv.port, '127.0.0.5');
        await a.cmd(`USER ${u2.name}`);
        a.raw.write('PASS wrong\r\n');
        const pending = a.line();
        const b = await rawPop3(srv.port, '127.0.0.5');
        expect(await b.cmd(`USER ${u1.name}`)).toBe('+OK');
        const r = await timed(() => b.cmd(`PASS ${u1.password}`));
        expect(r.value).toBe('+OK Logged in.');
        expectHeld(r.ms, 100);
        expect(await pending).toBe('-ERR [AUTH] Authentication failed.');
        // a: no wait, its answer held 100 ms; b (same address): waited out a's penalty before
        // its password was checked, then got in without a hold of its own.
        expect(delays).toEqual([0, 100, 100]);
        expect(await b.cmd('QUIT')).toBe('+OK Logging out.');
        a.close();
      },
    );
  });
});

describe('submission AUTH (same penalties)', () => {
  it('535 after 100, 200, 400 ms, then 235 at once for the right password, also for AUTH LOGIN', async () => {
    const { penalty, delays } = recordedPenalty();
    await withServer(
      () => startSmtp({ scenario: s, submission: true, penalty }),
      async (srv) => {
        // (AUTH in clear is offered to the relay network only: 127.0.0.1)
        const c = await rawTcp(srv.port);
        await smtpReply(c);
        c.write('EHLO cliente\r\n');
        await smtpReply(c);
        for (const held of [100, 200, 400]) {
          const r = await timed(async () => {
            c.write(`AUTH PLAIN ${plainBlob(u1.name, 'wrong')}\r\n`);
            return smtpReply(c);
          });
          expect(r.value).toBe('535 Incorrect authentication data');
          expectHeld(r.ms, held);
        }
        expect(delays.splice(0)).toEqual([0, 100, 0, 200, 0, 400]);
        c.write(`AUTH LOGIN ${Buffer.from(u1.name).toString('base64')}\r\n`);
        expect(await smtpReply(c)).toBe('334 UGFzc3dvcmQ6');
        c.write(`${Buffer.from(u1.password).toString('base64')}\r\n`);
        expect(await smtpReply(c)).toBe('235 Authentication succeeded');
        // at once: checked without waiting, nothing held
        expect(delays).toEqual([0]);
        c.destroy();
      },
    );
  });
});

describe('one table for every listener', () => {
  it('a failure on POP3 makes the next one on submission wait twice as long', async () => {
    const { penalty, delays } = recordedPenalty();
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
      expect(delays).toEqual([0, 100, 0, 200]);
      p.close();
      c.destroy();
    } finally {
      await pop3.close();
      await sub.close();
    }
  });
});

describe('IMAP shares the table', () => {
  it("a failure on POP3 makes the next IMAP LOGIN wait twice as long; the answer is dovecot's [AUTHENTICATIONFAILED]", async () => {
    const { penalty, delays } = recordedPenalty();
    const pop3 = await startPop3({ scenario: s, penalty });
    const imap = await startImap({ scenario: s, penalty, plaintextAuth: true });
    try {
      const p = await rawPop3(pop3.port, '127.0.0.1');
      expectHeld((await timed(() => p.login(u1.name, 'wrong'))).ms, 100);
      const { client } = await ImapClient.connect(imap.port);
      const r = await timed(() => client.cmd(`LOGIN ${u1.name} wrong`, 'a'));
      expect(r.value).toBe('a NO [AUTHENTICATIONFAILED] Authentication failed.');
      expectHeld(r.ms, 200);
      expect(delays).toEqual([0, 100, 0, 200]);
      p.close();
      client.close();
    } finally {
      await pop3.close();
      await imap.close();
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
