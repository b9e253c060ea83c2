// The IMAP differential: Debian's dovecot-imapd, run privately on a free loopback port, and our
// server answer the same command sequences (imap-corpus.ts) on the same fixture Maildir; the
// transcripts must be equal after imap-differences.ts's listed normalisations. Then interop both
// ways on one Maildir: what dovecot flags, moves and expunges, ours sees, and the reverse, with
// the UIDs unchanged. dovecot refuses uid 0 mailboxes: the Maildir goes to the `mail` user.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { handToMailUser, rawTcp, type Started } from '@sstt/testkit';
import { CORPUS, FIXTURE, type Sequence } from './imap-corpus.ts';
import { normalise } from './imap-differences.ts';
import { startDovecot, type Dovecot } from './dovecot-ref.ts';
import { ImapClient, startImap } from './imap-helpers.ts';
import { pop3Scenario, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let ours: Started;
let dovecot: Dovecot;
let user: { name: string; password: string };
let md: string;

beforeAll(async () => {
  w = pop3Scenario();
  user = w.s.users[0]!;
  md = maildirOf(w.s, user.name);
  ours = await startImap({ scenario: w.s, plaintextAuth: true });
  handToMailUser(w.s.paths.mail, w.root);
  dovecot = await startDovecot(w.s, path.join(w.root, 'dv'), { imap: true });
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await dovecot?.stop();
  w?.remove();
});

/** The fixture Maildir, fresh: the same file names each time, owned by the mail user. */
function resetMaildir(): void {
  fs.rmSync(md, { recursive: true, force: true });
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(md, sub), { recursive: true });
  FIXTURE.forEach((m, i) => {
    const name = `${1_765_000_000 + i}.M${i}P1Q${i}.fixture,S=${Buffer.byteLength(m)}`;
    fs.writeFileSync(path.join(md, 'new', name), m);
    fs.utimesSync(path.join(md, 'new', name), 1_765_000_000 + i, 1_765_000_000 + i);
  });
  handToMailUser(w.s.paths.mail, w.root);
}

/** One sequence on a fresh Maildir: the replies to each line, as text. */
async function transcript(port: number, seq: Sequence): Promise<string[]> {
  resetMaildir();
  const raw = await rawTcp(port);
  const c = new ImapClient(raw);
  const out: string[] = [await c.line()];
  out.push(await c.cmd(`LOGIN ${user.name} ${user.password}`, 'L'));
  for (let i = 0; i < seq.lines.length; i++) {
    const line = seq.lines[i]!;
    if (line.startsWith('<<')) continue;
    const tag = `t${i}`;
    const next = seq.lines[i + 1];
    if (next?.startsWith('<<') && /\{\d+\}$/.test(line)) {
      raw.write(`${tag} ${line}\r\n`);
      const cont = await raw.readLine();
      out.push(cont.replace(/\r\n$/, ''));
      if (!cont.startsWith('+')) continue;
      raw.write(`${next.slice(2)}\r\n`);
      out.push(await c.until(tag));
    } else if (next?.startsWith('<<')) {
      raw.write(`${tag} ${line}\r\n${next.slice(2)}\r\n`);
      out.push(await c.until(tag));
    } else out.push(await c.cmd(line, tag));
  }
  out.push(await c.cmd('LOGOUT', 'Z'));
  raw.destroy();
  return normalise(out.flatMap((r) => r.split('\r\n')));
}

describe('differential against dovecot IMAP', () => {
  for (const seq of CORPUS) {
    it(seq.name, async () => {
      const theirs = await transcript(dovecot.imapPort, seq);
      const mine = await transcript(ours.port, seq);
      if (process.env.IMAP_DIFF_DUMP)
        fs.writeFileSync(`${process.env.IMAP_DIFF_DUMP}/${seq.name.replace(/\W+/g, '_')}.txt`, `${theirs.join('\n')}\n=====\n${mine.join('\n')}\n`);
      expect(mine).toEqual(theirs);
    });
  }
});

describe('differential against dovecot IMAP before login (its imap-login process)', () => {
  /** The replies to `lines`, on one connection; a server that gives up on the client ends it. */
  const talk = async (port: number, lines: string[]) => {
    const raw = await rawTcp(port);
    const c = new ImapClient(raw);
    const out: string[] = [await c.line()];
    for (const [i, l] of lines.entries()) {
      try {
        out.push(await c.cmd(l, `t${i}`));
      } catch (err) {
        // the server gave up on the client: what it said last, then the close
        out.push(/got "(.*)"$/.exec((err as Error).message)?.[1]?.replace(/\\r\\n$/, '') ?? '', 'closed');
        break;
      }
    }
    raw.destroy();
    return normalise(out.flatMap((r) => r.split('\r\n')));
  };
  const BAD_INPUT = [
    'LOGIN "unterminated',
    'LOGIN onlyone',
    'LOGIN (a',
    'LOGIN a)',
    'NOOP "a',
    'CAPABILITY x(',
    'AUTHENTICATE',
    'AUTHENTICATE FOO',
    'AUTHENTICATE PLAIN !!!',
    'LOGIN a b c',
    'FOO',
    'SELECT INBOX',
    'NOOP x',
    'STARTTLS x',
  ];
  for (const line of BAD_INPUT) {
    it(`alone on a connection: ${line}`, async () => {
      const theirs = await talk(dovecot.imapPort, [line]);
      expect(await talk(ours.port, [line])).toEqual(theirs);
    });
  }
  it('AUTHENTICATE PLAIN answered with bad base64, or aborted', async () => {
    for (const answer of ['!!!', '*']) {
      const replies = async (port: number) => {
        const raw = await rawTcp(port);
        const c = new ImapClient(raw);
        await c.line();
        raw.write('t1 AUTHENTICATE PLAIN\r\n');
        const out = [await c.line()];
        raw.write(`${answer}\r\n`);
        out.push(await c.line());
        raw.destroy();
        return out;
      };
      const theirs = await replies(dovecot.imapPort);
      expect(await replies(ours.port), answer).toEqual(theirs);
      expect(theirs[1], answer).toMatch(/^t1 (NO|BAD) /);
    }
  });

  it('parser errors do not count towards the limit; the third invalid command ends the connection', async () => {
    const lines = ['LOGIN "unterminated', 'LOGIN onlyone', 'LOGIN (a', 'LOGIN a)', 'NOOP "a', 'CAPABILITY x(', 'AUTHENTICATE', 'LOGIN a b c'];
    const theirs = await talk(dovecot.imapPort, lines);
    expect(await talk(ours.port, lines)).toEqual(theirs);
    // what it is (a test that compares nothing would pass too)
    expect(theirs.slice(-2)).toEqual(['* BYE Too many invalid IMAP commands.', 'closed']);
  });
});

/** What a server shows of the folders: UIDVALIDITY, then each message's UID and flags. */
async function view(port: number): Promise<string[]> {
  const { client } = await ImapClient.connect(port);
  expect(await client.cmd(`LOGIN ${user.name} ${user.password}`, 'L')).toMatch(/^L OK /);
  const out: string[] = [];
  for (const folder of ['INBOX', 'Trash', 'Junk']) {
    const sel = await client.cmd(`EXAMINE ${folder}`, 'E');
    out.push(`${folder} ${/UIDVALIDITY (\d+)/.exec(sel)![1]}`);
    if (!/\* 0 EXISTS/.test(sel)) {
      const f = await client.cmd('UID FETCH 1:* (FLAGS)', 'F');
      out.push(
        ...f
          .split('\r\n')
          .filter((l) => l.startsWith('* '))
          .map((l) => l.replace(/ ?\\Recent/, '').replace(/^\* \d+ /, '')),
      );
    }
  }
  await client.cmd('LOGOUT', 'Z');
  client.close();
  return out;
}

/** Runs commands after LOGIN and SELECT INBOX; returns the replies. */
async function act(port: number, lines: string[]): Promise<string[]> {
  const { client } = await ImapClient.connect(port);
  await client.cmd(`LOGIN ${user.name} ${user.password}`, 'L');
  await client.cmd('SELECT INBOX', 'S');
  const out: string[] = [];
  for (const [i, l] of lines.entries()) out.push(await client.cmd(l, `x${i}`));
  await client.cmd('LOGOUT', 'Z');
  client.close();
  return out;
}

describe('interop with dovecot on one Maildir', () => {
  it("dovecot flags, moves and expunges; ours sees it with dovecot's UIDs, and the reverse", async () => {
    resetMaildir();
    // dovecot acts first and assigns the UIDs.
    const theirs = await act(dovecot.imapPort, ['STORE 1 +FLAGS (\\Flagged $Work)', 'UID MOVE 2 Trash', 'UID STORE 3 +FLAGS (\\Deleted)', 'EXPUNGE']);
    expect(theirs[1]).toMatch(/\[COPYUID \d+ 2 1\]/);
    const afterDovecot = await view(dovecot.imapPort);
    expect(await view(ours.port)).toEqual(afterDovecot);
    expect(afterDovecot.filter((l) => l.startsWith('FETCH'))).toEqual([
      'FETCH (UID 1 FLAGS (\\Flagged $Work))',
      'FETCH (UID 4 FLAGS ())',
      'FETCH (UID 1 FLAGS ())',
    ]);
    // Ours acts next on the same files: dovecot must see what we did, UIDs unchanged.
    handToMailUser(w.s.paths.mail, w.root);
    const mine = await act(ours.port, ['STORE 1 -FLAGS ($Work)', 'STORE 1 +FLAGS (\\Seen $Other)', 'UID COPY 1 Junk']);
    expect(mine[2]).toMatch(/\[COPYUID \d+ 1 1\]/);
    handToMailUser(w.s.paths.mail, w.root);
    const afterOurs = await view(ours.port);
    expect(await view(dovecot.imapPort)).toEqual(afterOurs);
    expect(afterOurs.filter((l) => l.startsWith('FETCH'))).toEqual([
      'FETCH (UID 1 FLAGS (\\Flagged \\Seen $Other))',
      'FETCH (UID 4 FLAGS ())',
      'FETCH (UID 1 FLAGS ())',
      'FETCH (UID 1 FLAGS (\\Flagged \\Seen $Other))',
    ]);
    // A message delivered now gets the next UID from whichever server syncs first: the same in both.
    fs.writeFileSync(path.join(md, 'new', '1765009999.M1P1Q1.late'), 'Subject: late\r\n\r\nlate\r\n');
    handToMailUser(w.s.paths.mail, w.root);
    const a = await view(ours.port);
    handToMailUser(w.s.paths.mail, w.root);
    expect(await view(dovecot.imapPort)).toEqual(a);
    expect(a).toContain('FETCH (UID 5 FLAGS ())');
  });
});

describe('CONDSTORE beside dovecot', () => {
  it('a flag dovecot sets and a message dovecot expunges raise our HIGHESTMODSEQ; FETCH CHANGEDSINCE shows the flag', async () => {
    resetMaildir();
    const { client: c } = await ImapClient.connect(ours.port);
    try {
      await c.cmd(`LOGIN ${user.name} ${user.password}`, 'L');
      const sel = await c.cmd('SELECT INBOX (CONDSTORE)', 'S');
      const highest = Number(/\[HIGHESTMODSEQ (\d+)\]/.exec(sel)![1]);
      handToMailUser(w.s.paths.mail, w.root);
      await act(dovecot.imapPort, ['STORE 2 +FLAGS (\\Flagged)', 'STORE 3 +FLAGS (\\Deleted)', 'EXPUNGE']);
      handToMailUser(w.s.paths.mail, w.root);
      // Our next sync finds both changes: the expunge and the flag, at the next mod-sequence.
      expect(await c.cmd('NOOP', 'N')).toBe(`* 3 EXPUNGE\r\n* 2 FETCH (MODSEQ (${highest + 1}) FLAGS (\\Flagged))\r\nN OK NOOP completed.`);
      expect(await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`, 'F')).toBe(
        `* 2 FETCH (FLAGS (\\Flagged) MODSEQ (${highest + 1}))\r\nF OK Fetch completed.`,
      );
      expect(await c.cmd('STATUS INBOX (HIGHESTMODSEQ)', 'T')).toBe(`* STATUS INBOX (HIGHESTMODSEQ ${highest + 1})\r\nT OK Status completed.`);
    } finally {
      c.close();
    }
  });
});
