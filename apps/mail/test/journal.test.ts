// The journal is the server's, not the process's: two SMTP and two POP3 servers in this one
// process, on two journals (packages/events), record each only their own sessions, and servers
// given none record nothing (STYLE.md §25).
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openJournal, readJournal, type Journal } from '@sstt/events';
import { rawTcp, type Started } from '@sstt/testkit';
import { startSmtp, testScenario, type TestWorld } from './helpers.ts';
import { ImapClient, startImap } from './imap-helpers.ts';
import { startPop3 } from './pop3-helpers.ts';

let w: TestWorld;
let ja: Journal;
let jb: Journal;
const servers: Started[] = [];

beforeAll(() => {
  w = testScenario();
  const open = (name: string) => openJournal({ dir: path.join(w.root, name), app: 'mail', protocols: ['smtp', 'pop3'], maxBytes: 1 << 20, flushMs: 60_000 });
  ja = open('journal-a');
  jb = open('journal-b');
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([ja?.close(), jb?.close()]);
  w?.remove();
});

/** The greeting, then QUIT and its reply: the server closes. */
async function quit(server: Started, reply: RegExp): Promise<void> {
  const c = await rawTcp(server.port);
  await c.readLine();
  c.write('QUIT\r\n');
  expect(await c.readLine()).toMatch(reply);
  await c.closed;
}

/** Each recorded session as protocol, the server's port and the client's lines. */
async function sessions(j: Journal): Promise<string[]> {
  await j.flush();
  const events = readJournal(path.dirname(j.file));
  return events.filter((e) => e.k === 'open').map((o) => `${o.p} ${o.l} ${events.filter((e) => e.s === o.s && e.k === 'c').map((e) => e.x)}`);
}

it('two servers of each protocol on two journals record separately; servers without one record nothing', async () => {
  const start = async (p: Promise<Started>) => {
    const s = await p;
    servers.push(s);
    return s;
  };
  const smtpA = await start(startSmtp({ scenario: w.s, journal: ja }));
  const smtpB = await start(startSmtp({ scenario: w.s, journal: jb }));
  const smtpNone = await start(startSmtp({ scenario: w.s }));
  const pop3A = await start(startPop3({ scenario: w.s, journal: ja }));
  const pop3B = await start(startPop3({ scenario: w.s, journal: jb }));
  const pop3None = await start(startPop3({ scenario: w.s }));
  for (const s of [smtpA, smtpB, smtpNone]) await quit(s, /^221 /);
  for (const s of [pop3A, pop3B, pop3None]) await quit(s, /^\+OK /);
  expect(await sessions(ja)).toEqual([`smtp 127.0.0.1:${smtpA.port} QUIT`, `pop3 127.0.0.1:${pop3A.port} QUIT`]);
  expect(await sessions(jb)).toEqual([`smtp 127.0.0.1:${smtpB.port} QUIT`, `pop3 127.0.0.1:${pop3B.port} QUIT`]);
});

it("IMAP sessions go to the server's journal as their dialogue, LOGIN and AUTHENTICATE marked secret", async () => {
  const j = openJournal({ dir: path.join(w.root, 'journal-imap'), app: 'mail', protocols: ['imap'], maxBytes: 1 << 20, flushMs: 60_000 });
  const srv = await startImap({ scenario: w.s, journal: j, plaintextAuth: true });
  servers.push(srv);
  const u = w.s.users[0]!;
  const { client } = await ImapClient.connect(srv.port);
  expect(await client.cmd(`LOGIN ${u.name} ${u.password}`, 'a')).toMatch(/^a OK /);
  expect(await client.cmd(`AUTHENTICATE PLAIN ${Buffer.from(`\0${u.name}\0wrong`).toString('base64')}`, 'b')).toBe('b BAD Already logged in.');
  expect(await client.cmd('LOGOUT', 'c')).toBe('* BYE Logging out\r\nc OK Logout completed.');
  await client.raw.closed;
  await j.flush();
  const events = readJournal(path.dirname(j.file));
  const open = events.find((e) => e.k === 'open')!;
  expect(open.p).toBe('imap');
  const said = events.filter((e) => e.s === open.s && e.k === 'c').map((e) => [e.x, e.secret === true]);
  expect(said).toEqual([
    [`a LOGIN ${u.name} ${u.password}`, true],
    [expect.stringMatching(/^b AUTHENTICATE PLAIN /), true],
    ['c LOGOUT', false],
  ]);
  const served = events.filter((e) => e.s === open.s && e.k === 's').map((e) => e.x);
  expect(served[0]).toMatch(/^\* OK \[CAPABILITY .*\] sstt ready\./);
  await j.close();
});
