// Maildir compatibility with dovecot (the lab's POP3 server): Debian's dovecot-pop3d, run
// privately on a free loopback port against the same Maildirs, must list the same messages with
// the same sizes and UIDLs as ours and send the same bytes, whichever of the two touched the
// Maildir first; and we must read a Maildir dovecot has synced (new/ -> cur/, its uidlist and
// index files). dovecot refuses uid 0 mailboxes, so the Maildirs are handed to the `mail` user
// before dovecot reads them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { handToMailUser, type Started } from '@sstt/testkit';
import { startDovecot, type Dovecot } from './dovecot-ref.ts';
import { listMaildir, Pop3Client, pop3Scenario, startPop3, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let ours: Started;
let dovecot: Dovecot;

interface View {
  stat: string;
  list: string[];
  uidl: string[];
  bodies: string[];
}

/** What a POP3 server shows of a mailbox: STAT, LIST, UIDL and every message (as sent, dot-stuffed). */
async function view(port: number, user: { name: string; password: string }): Promise<View> {
  const { client } = await Pop3Client.connect(port);
  expect(await client.login(user.name, user.password)).toBe('+OK Logged in.');
  const stat = await client.cmd('STAT');
  const list = (await client.lines('LIST')).lines;
  const uidl = (await client.lines('UIDL')).lines;
  const bodies: string[] = [];
  for (let i = 1; i <= list.length; i++) {
    const first = await client.cmd(`RETR ${i}`);
    bodies.push(`${first}\n${await client.rawBody()}`);
  }
  expect(await client.cmd('QUIT')).toBe('+OK Logging out.');
  await client.raw.closed;
  return { stat, list, uidl, bodies };
}

const MESSAGES = [
  { content: 'Subject: crlf\r\nFrom: a@b\r\n\r\nhola\r\n', names: 'S' as const },
  { content: 'Subject: lf only\nFrom: a@b\n\nline\n.dot line\n\nend\n', names: '' as const },
  { content: 'Subject: no final newline\n\nx', names: '' as const },
  { content: 'Subject: with W\r\n\r\n..\r\n.\r\nbody\r\n', names: 'SW' as const },
];

beforeAll(async () => {
  w = pop3Scenario();
  ours = await startPop3({ scenario: w.s });
  handToMailUser(w.s.paths.mail, w.root);
  dovecot = await startDovecot(w.s, path.join(w.root, 'dv'));
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await dovecot?.stop();
  w?.remove();
});

describe('dovecot and this server on the same Maildir', () => {
  it('ours first: dovecot then shows the same count, sizes, UIDLs and bytes', async () => {
    const u = w.s.users[0]!;
    MESSAGES.forEach((m, i) => {
      writeMessage(w.s, u.name, m.content, { names: m.names, seconds: 1700000000 + i });
    });
    const a = await view(ours.port, u);
    expect(a.list).toHaveLength(MESSAGES.length);
    handToMailUser(w.s.paths.mail, w.root);
    const b = await view(dovecot.port, u);
    expect(b).toEqual(a);
    // And after dovecot's session (its index now exists) we still agree.
    expect(await view(ours.port, u)).toEqual(a);
    expect(fs.readFileSync(dovecot.log, 'utf8')).not.toMatch(/Error|Panic|Fatal|corrupt/i);
  });

  it('dovecot first: we read the Maildir it synced, with its UIDLs; deletions and new mail stay in step', async () => {
    const u = w.s.users[1]!;
    MESSAGES.forEach((m, i) => {
      writeMessage(w.s, u.name, m.content, { names: m.names, seconds: 1700000100 + i });
    });
    handToMailUser(w.s.paths.mail, w.root);
    const b = await view(dovecot.port, u);
    expect(listMaildir(w.s, u.name, 'new')).toEqual([]);
    expect(fs.readFileSync(path.join(maildirOf(w.s, u.name), 'dovecot-uidlist'), 'utf8')).toMatch(/^3 V\d+ N5 G/);
    const a = await view(ours.port, u);
    expect(a).toEqual(b);

    // We delete message 2; a new message arrives; dovecot must agree on what is left and the new UID.
    const { client } = await Pop3Client.connect(ours.port);
    await client.login(u.name, u.password);
    expect(await client.cmd('DELE 2')).toBe('+OK Marked to be deleted.');
    expect(await client.cmd('QUIT')).toBe('+OK Logging out, messages deleted.');
    writeMessage(w.s, u.name, 'Subject: later\r\n\r\nlater\r\n', { seconds: 1700000200 });
    const a2 = await view(ours.port, u);
    expect(a2.uidl.map((l) => l.split(' ')[1])).toEqual(
      [b.uidl[0], b.uidl[2], b.uidl[3]].map((l) => l!.split(' ')[1]).concat([expect.stringMatching(/^00000005/) as unknown as string]),
    );
    handToMailUser(w.s.paths.mail, w.root);
    expect(await view(dovecot.port, u)).toEqual(a2);

    // And the other way round: dovecot deletes, then numbers a new message; we agree.
    const d = await Pop3Client.connect(dovecot.port);
    await d.client.login(u.name, u.password);
    expect(await d.client.cmd('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await d.client.cmd('QUIT')).toBe('+OK Logging out, messages deleted.');
    writeMessage(w.s, u.name, 'Subject: even later\n\nlf\n', { names: '', seconds: 1700000300 });
    handToMailUser(w.s.paths.mail, w.root);
    const b3 = await view(dovecot.port, u);
    expect(b3.list).toHaveLength(4);
    expect(await view(ours.port, u)).toEqual(b3);
    expect(fs.readFileSync(dovecot.log, 'utf8')).not.toMatch(/Error|Panic|Fatal|corrupt/i);
  });
});

describe('SASL as the report configured dovecot (auth_mechanisms = plain login)', () => {
  /** The same AUTH dialogue on a server: the mechanisms offered, LOGIN asked step by step and with an initial response, an abort. */
  async function auth(port: number, user: { name: string; password: string }): Promise<string[]> {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const { client } = await Pop3Client.connect(port);
    const out = [(await client.lines('CAPA')).lines.find((l) => l.startsWith('SASL')) ?? 'no SASL'];
    out.push(await client.cmd('AUTH'), await client.rawBody());
    out.push(await client.cmd('AUTH LOGIN'), await client.cmd('*'));
    out.push(await client.cmd(`AUTH LOGIN ${b64(user.name)}`), await client.cmd('*'));
    out.push(await client.cmd('AUTH LOGIN'), await client.cmd(b64(user.name)), await client.cmd(b64(user.password)));
    out.push(await client.cmd('QUIT'));
    await client.raw.closed;
    return out;
  }

  it('ours offers and runs LOGIN as dovecot does, line for line', async () => {
    const u = w.s.users[0]!;
    const a = await auth(ours.port, u);
    expect(a).toEqual([
      'SASL PLAIN LOGIN',
      '+OK',
      'PLAIN\r\nLOGIN\r\n',
      '+ VXNlcm5hbWU6',
      '-ERR Authentication aborted by client.',
      '+ UGFzc3dvcmQ6',
      '-ERR Authentication aborted by client.',
      '+ VXNlcm5hbWU6',
      '+ UGFzc3dvcmQ6',
      '+OK Logged in.',
      '+OK Logging out.',
    ]);
    handToMailUser(w.s.paths.mail, w.root);
    expect(await auth(dovecot.port, u)).toEqual(a);
  });
});
