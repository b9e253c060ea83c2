// State belongs to the server a factory returns (STYLE §25): two mail servers in one process, on
// two data directories with the same user names, each deliver into and serve their own Maildir,
// and closing one leaves the other's delivery (directory descriptors) and POP3 login cache alone.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { requireTool, run, type Started } from '@sstt/testkit';
import { MaildirDelivery } from '../src/maildir.ts';
import { MailboxCache } from '../src/pop3/mailbox.ts';
import { startSmtp, testScenario, type TestWorld } from './helpers.ts';
import { mailboxUnlocked, startPop3 } from './pop3-helpers.ts';

let curl: string;
const worlds: TestWorld[] = [];
const running = new Set<Started>();

/** A scenario on its own data directory (the same user names in every one). */
function world(): TestWorld {
  const w = testScenario();
  worlds.push(w);
  return w;
}

/** The Maildir of the same user name in each world. */
const md = (w: TestWorld) => maildirOf(w.s, w.s.users[1]!.name);

/** Starts a server that afterEach closes unless the test closed it (stop). */
async function track(started: Promise<Started>): Promise<Started> {
  const s = await started;
  running.add(s);
  return s;
}

async function stop(...servers: Started[]): Promise<void> {
  for (const s of servers) if (running.delete(s)) await s.close();
}

beforeAll(() => {
  curl = requireTool('curl');
});
afterEach(() => stop(...running));
afterAll(() => {
  for (const w of worlds) w.remove();
});

/** One message to the user through curl smtp://, with `subject`. */
async function send(w: TestWorld, port: number, subject: string): Promise<void> {
  const [from, to] = [w.s.users[0]!.email, w.s.users[1]!.email];
  const r = await run(curl, ['-sS', `smtp://127.0.0.1:${port}`, '--mail-from', from, '--mail-rcpt', to, '-T', '-'], {
    input: `Subject: ${subject}\r\n\r\nbody\r\n`,
  });
  expect(r.code, r.stderr).toBe(0);
}

/** The subjects of the user's messages, through curl pop3:// (LIST, then RETR of each: a login each). */
async function subjects(w: TestWorld, port: number): Promise<string[]> {
  const u = w.s.users[1]!;
  const pop = async (url: string) => {
    await mailboxUnlocked(w.s, u.name);
    const r = await run(curl, ['-sS', '-u', `${u.name}:${u.password}`, `pop3://127.0.0.1:${port}/${url}`]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const out: string[] = [];
  for (const line of (await pop('')).split(/\r?\n/).filter((l) => l !== '')) {
    out.push(/^Subject: (.*)$/m.exec(await pop(line.split(' ')[0]!))![1]!.trim());
  }
  return out.sort();
}

describe('two mail servers in one process, same user name, two data directories', () => {
  it('with the state given as options: each server fills its own, and closing one leaves the other working', async () => {
    const [a, b] = [world(), world()];
    expect(a.s.users[1]!.name).toBe(b.s.users[1]!.name);
    expect(md(a)).not.toBe(md(b));
    const [deliveryA, deliveryB] = [new MaildirDelivery(), new MaildirDelivery()];
    const [cacheA, cacheB] = [new MailboxCache(), new MailboxCache()];
    const smtpA = await track(startSmtp({ scenario: a.s, delivery: deliveryA }));
    const smtpB = await track(startSmtp({ scenario: b.s, delivery: deliveryB }));
    const popA = await track(startPop3({ scenario: a.s, mailboxCache: cacheA }));
    const popB = await track(startPop3({ scenario: b.s, mailboxCache: cacheB }));
    try {
      await send(a, smtpA.port, 'to A');
      await send(b, smtpB.port, 'to B');
      // Each delivery holds the descriptor of its own new/ only.
      expect([deliveryA.openDirectories, deliveryB.openDirectories]).toEqual([1, 1]);
      expect(await subjects(a, popA.port)).toEqual(['to A']);
      expect(await subjects(b, popB.port)).toEqual(['to B']);
      expect([cacheA.has(md(a)), cacheA.has(md(b)), cacheB.has(md(b)), cacheB.has(md(a))]).toEqual([true, false, true, false]);

      // Server A goes, with its state, as main.ts closes it.
      await stop(smtpA, popA);
      await deliveryA.close();
      cacheA.forget();
      expect(deliveryA.openDirectories).toBe(0);

      // B delivers through its descriptor (fsynced again, still open) and logs in with its cache.
      await send(b, smtpB.port, 'to B again');
      expect(deliveryB.openDirectories).toBe(1);
      expect(cacheB.has(md(b))).toBe(true);
      expect(await subjects(b, popB.port)).toEqual(['to B', 'to B again']);
      expect(fs.readdirSync(path.join(md(a), 'cur'))).toHaveLength(1);
    } finally {
      await Promise.all([deliveryA.close(), deliveryB.close()]);
    }
  });

  it("with each server's own state (the default): the same, and closing A does not stop B", async () => {
    const [a, b] = [world(), world()];
    const smtpA = await track(startSmtp({ scenario: a.s }));
    const smtpB = await track(startSmtp({ scenario: b.s }));
    const popA = await track(startPop3({ scenario: a.s }));
    const popB = await track(startPop3({ scenario: b.s }));
    await send(a, smtpA.port, 'to A');
    await send(b, smtpB.port, 'to B');
    expect(await subjects(a, popA.port)).toEqual(['to A']);
    expect(await subjects(b, popB.port)).toEqual(['to B']);
    await stop(smtpA, popA);
    await send(b, smtpB.port, 'to B again');
    expect(await subjects(b, popB.port)).toEqual(['to B', 'to B again']);
  });
});

describe('MaildirDelivery', () => {
  it('a delivery that ends after close() is still made durable, on a descriptor it does not keep', async () => {
    const d = new MaildirDelivery();
    await d.close();
    const r = await d.deliver([md(world())], Buffer.from('Subject: late\r\n\r\n'));
    expect(fs.readFileSync(r.files[0]!, 'latin1')).toBe('Subject: late\r\n\r\n');
    expect(d.openDirectories).toBe(0);
  });
});
