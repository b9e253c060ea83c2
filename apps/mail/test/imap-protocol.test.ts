// Our IMAP server with a scripted client: exact replies for each command and state (RFC 9051),
// flags and UIDs on disk as dovecot keeps them, bad input.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { parseKeywords, parseUidList } from '@sstt/maildir';
import type { Started } from '@sstt/testkit';
import { MaildirDelivery } from '../src/maildir.ts';
import { ImapClient, startImap } from './imap-helpers.ts';
import { serverTls } from './helpers.ts';
import { Pop3Client, pop3Scenario, startPop3, upgradeToTls, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let srv: Started;
let user: { name: string; password: string };
let md: string;

const MSG1 =
  'From: Ana <ana@example.test>\r\nTo: bob@example.test\r\nSubject: first\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nhello one\r\n';
const MSG2 = 'From: carl@example.test\nTo: bob@example.test\nSubject: second\n\nhello two\nline\n';

beforeAll(async () => {
  w = pop3Scenario();
  user = w.s.users[1]!;
  md = maildirOf(w.s, user.name);
  writeMessage(w.s, user.name, MSG1, { seconds: 1_700_000_000 });
  writeMessage(w.s, user.name, MSG2, { seconds: 1_700_000_001 });
  srv = await startImap({ scenario: w.s, plaintextAuth: true });
});

afterAll(async () => {
  await srv?.close();
  w?.remove();
});

async function session(): Promise<ImapClient> {
  const { client, greeting } = await ImapClient.connect(srv.port);
  expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*\] sstt ready\.$/);
  expect(await client.login(user.name, user.password)).toMatch(/^a1 OK \[CAPABILITY .*\] Logged in$/);
  return client;
}

describe('IMAP basics', () => {
  it('the capability list after login: every extension the server has (issue 22), CONDSTORE among them', async () => {
    const { client } = await ImapClient.connect(srv.port);
    expect(await client.login(user.name, user.password)).toBe(
      'a1 OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH CONDSTORE APPENDLIMIT=52428800 STATUS=SIZE] Logged in',
    );
    client.close();
  });

  it('selects INBOX, fetches, stores flags into the file name', async () => {
    const c = await session();
    const sel = await c.cmd('SELECT INBOX');
    expect(sel).toContain('* 2 EXISTS');
    expect(sel).toMatch(/\* OK \[UIDVALIDITY \d+\] UIDs valid/);
    expect(sel).toContain('* OK [UIDNEXT 3] Predicted next UID');
    expect(sel).toMatch(/a2 OK \[READ-WRITE\] Select completed\.$/);
    const f = await c.cmd('FETCH 1:2 (UID FLAGS RFC822.SIZE ENVELOPE)');
    expect(f).toContain(
      `* 1 FETCH (UID 1 FLAGS () RFC822.SIZE ${MSG1.length} ENVELOPE ("Mon, 7 Dec 2026 10:00:00 +0000" "first" (("Ana" NIL "ana" "example.test")) (("Ana" NIL "ana" "example.test")) (("Ana" NIL "ana" "example.test")) ((NIL NIL "bob" "example.test")) NIL NIL NIL "<1@example.test>"))`,
    );
    const body = await c.cmd('UID FETCH 2 BODY[]');
    expect(body).toContain(
      '* 2 FETCH (UID 2 FLAGS (\\Seen) BODY[] {83}\r\nFrom: carl@example.test\r\nTo: bob@example.test\r\nSubject: second\r\n\r\nhello two\r\nline\r\n)',
    );
    const st = await c.cmd('STORE 1 +FLAGS (\\Flagged $Label1)');
    expect(st).toContain('* 1 FETCH (FLAGS (\\Flagged $Label1))');
    const names = fs.readdirSync(path.join(md, 'cur')).sort();
    expect(names[0]).toMatch(/:2,Fa$/);
    expect(names[1]).toMatch(/:2,S$/);
    expect(parseKeywords(fs.readFileSync(path.join(md, 'dovecot-keywords'), 'utf8'))).toEqual(['$Label1']);
    expect(parseUidList(fs.readFileSync(path.join(md, 'dovecot-uidlist'), 'utf8'))!.records.map((r) => r.uid)).toEqual([1, 2]);
    const search = await c.cmd('UID SEARCH FLAGGED');
    expect(search).toContain('* SEARCH 1\r\n');
    expect(await c.cmd('LIST "" "*"')).toBe(
      '* LIST (\\HasNoChildren) "." INBOX\r\n* LIST (\\HasNoChildren \\Drafts) "." Drafts\r\n* LIST (\\HasNoChildren \\Junk) "." Junk\r\n* LIST (\\HasNoChildren \\Sent) "." Sent\r\n* LIST (\\HasNoChildren \\Trash) "." Trash\r\na7 OK List completed.',
    );
    expect(await c.cmd('LOGOUT')).toBe('* BYE Logging out\r\na8 OK Logout completed.');
    c.close();
  });
});

describe('IMAP4rev2 (RFC 9051)', () => {
  it('ENABLE IMAP4rev2: no RECENT or UNSEEN at SELECT, a LIST of the mailbox, ESEARCH for SEARCH', async () => {
    const c = await session();
    expect(await c.cmd('ENABLE IMAP4rev2')).toBe('* ENABLED IMAP4rev2\r\na2 OK Enabled.');
    const sel = await c.cmd('EXAMINE INBOX');
    expect(sel).not.toMatch(/RECENT|UNSEEN/);
    expect(sel).toContain('* LIST () "." INBOX\r\n');
    expect(await c.cmd('SEARCH ALL')).toBe('* ESEARCH (TAG "a4") ALL 1:2\r\na4 OK Search completed.');
    expect(await c.cmd('SELECT INBOX')).toMatch(/^\* OK \[CLOSED\] Previous mailbox closed\.\r\n/);
    c.close();
  });
});

describe('bad input: exact replies, the connection or the server goes on', () => {
  it("before login, as dovecot's imap-login: one BAD for a command it cannot run, the parser's words for a line it cannot read; the third command it cannot run ends the connection", async () => {
    const { client: c } = await ImapClient.connect(srv.port);
    expect(await c.cmd('FOO')).toBe('a1 BAD Error in IMAP command received by server.');
    expect(await c.cmd('LOGIN "unterminated')).toBe(`a2 BAD Missing '"'`);
    expect(await c.cmd('LOGIN (a')).toBe("a3 BAD Missing ')'");
    expect(await c.cmd('SELECT INBOX')).toBe('a4 BAD Error in IMAP command received by server.');
    c.raw.write('a5 LOGIN onlyone\r\n');
    expect(await c.line()).toBe('* BYE Too many invalid IMAP commands.');
    await c.raw.closed;
  });

  it('unknown commands, commands in the wrong state, bad tags and arguments', async () => {
    const { client: c } = await ImapClient.connect(srv.port);
    c.raw.write('+bad NOOP\r\n');
    expect(await c.line()).toBe('* BAD Error in IMAP command received by server.');
    expect(await c.login(user.name, user.password)).toMatch(/^a1 OK /);
    expect(await c.cmd('FOO')).toBe('a2 BAD Error in IMAP command: Unknown command.');
    expect(await c.cmd('LOGIN x y')).toBe('a3 BAD Already logged in.');
    expect(await c.cmd('FETCH 1 FLAGS')).toBe('a4 BAD No mailbox selected.');
    await c.cmd('SELECT INBOX');
    expect(await c.cmd('FETCH 1:x FLAGS')).toBe('a6 BAD Error in IMAP command FETCH: Invalid messageset.');
    expect(await c.cmd('UID FETCH 0 FLAGS')).toBe('a7 BAD Error in IMAP command UID FETCH: Invalid uidset.');
    expect(await c.cmd('FETCH 1 (FLAGS')).toBe("a8 BAD Error in IMAP command FETCH: Missing ')'.");
    expect(await c.cmd('FETCH 1 BODY[4.BOGUS]')).toBe('a9 BAD Error in IMAP command FETCH: Invalid arguments.');
    expect(await c.cmd('STORE 1 +FLAGS (\\Recent)')).toBe('a10 BAD Error in IMAP command STORE: Invalid system flag \\Recent.');
    expect(await c.cmd('SEARCH SINCE notadate')).toBe('a11 BAD Error in IMAP command SEARCH: Invalid search arguments.');
    expect(await c.cmd('SEARCH CHARSET KOI8-R ALL')).toBe('a12 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.');
    expect(await c.cmd('NOOP')).toBe('a13 OK NOOP completed.');
    c.close();
  });

  it('too many BADs close the connection', async () => {
    const { client: c } = await ImapClient.connect(srv.port);
    expect(await c.login(user.name, user.password)).toMatch(/^a1 OK /);
    for (let i = 2; i < 21; i++) expect(await c.cmd('FOO')).toBe(`a${i} BAD Error in IMAP command: Unknown command.`);
    expect(await c.cmd('FOO')).toBe('a21 BAD Error in IMAP command: Unknown command.');
    expect(await c.line()).toBe('* BYE Too many invalid IMAP commands.');
    await c.raw.closed;
  });

  it('a literal over its cap: a synchronising one is refused before it is sent, a non-synchronising one skipped', async () => {
    const { client: c } = await ImapClient.connect(srv.port);
    c.raw.write('a1 LOGIN {70000}\r\n');
    expect(await c.line()).toBe('a1 BAD [TOOBIG] Literal too large.');
    // 70,000 octets of literal+ then the rest of the command: skipped as they arrive, then the next command.
    c.raw.write(`a2 LOGIN {70000+}\r\n${'x'.repeat(70_000)} {3+}\r\nabc\r\n`);
    expect(await c.line()).toBe('a2 BAD [TOOBIG] Literal too large.');
    expect(await c.cmd('NOOP', 'a3')).toBe('a3 OK NOOP completed.');
    // APPEND's cap is the APPENDLIMIT (the scenario's message size).
    expect(await c.login(user.name, user.password)).toMatch(/APPENDLIMIT=52428800/);
    c.raw.write('a5 APPEND Drafts {52428801}\r\n');
    expect(await c.line()).toBe('a5 BAD [TOOBIG] Literal too large.');
    // LITERAL- (RFC 7888 §4): a non-synchronising literal of more than 4096 octets is refused.
    c.raw.write(`a6 APPEND Drafts {4097-}\r\n${'y'.repeat(4097)}\r\n`);
    expect(await c.line()).toBe('a6 BAD [TOOBIG] Literal too large.');
    expect(await c.cmd('NOOP', 'a7')).toBe('a7 OK NOOP completed.');
    c.close();
  });

  it('a 10 MB line: "* BYE Too long argument." once past the cap, and other clients are served', async () => {
    const { client: c } = await ImapClient.connect(srv.port);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const bye = c.line();
    for (let i = 0; i < 10 && !c.raw.socket.destroyed; i++) c.raw.socket.write(chunk);
    expect(await bye).toBe('* BYE Too long argument.');
    await c.raw.closed;
    const other = await session();
    expect(await other.cmd('NOOP')).toBe('a2 OK NOOP completed.');
    other.close();
  });

  it('a client that does not read its FETCH: the server stops reading it, serves others, and the reply arrives whole', async () => {
    const big = `Subject: big\r\n\r\n${'z'.repeat(1024 * 1024)}\r\n`;
    writeMessage(w.s, user.name, big, { seconds: 1_700_000_100 });
    const slow = await session();
    await slow.cmd('EXAMINE INBOX');
    slow.raw.socket.pause();
    // 16 MiB of replies asked for, none read.
    slow.raw.write(Array.from({ length: 16 }, (_, i) => `s${i} FETCH 3 BODY.PEEK[]\r\n`).join(''));
    slow.raw.write('slast NOOP\r\n');
    const other = await session();
    expect(await other.cmd('NOOP')).toBe('a2 OK NOOP completed.');
    other.close();
    slow.raw.socket.resume();
    const all = await slow.until('slast', 120_000);
    expect(all.match(/\* 3 FETCH \(BODY\[\] \{1048594\}\r\n/g)).toHaveLength(16);
    expect(all.endsWith('slast OK NOOP completed.')).toBe(true);
    slow.close();
  });
});

describe('one Maildir: delivery, POP3 and IMAP at once', () => {
  it('IDLE: a delivery arrives as EXISTS, a POP3 DELE as EXPUNGE; the POP3 lock stays POP3s', async () => {
    const pop = await startPop3({ scenario: w.s });
    try {
      const c = await session();
      const sel = await c.cmd('SELECT INBOX');
      const exists = Number(/\* (\d+) EXISTS/.exec(sel)![1]);
      c.raw.write('i1 IDLE\r\n');
      expect(await c.line()).toBe('+ idling');
      const delivery = new MaildirDelivery();
      await delivery.deliver([md], Buffer.from('Subject: live\r\n\r\nnew mail\r\n'));
      await delivery.close();
      expect(await c.line()).toBe(`* ${exists + 1} EXISTS`);
      // POP3 holds its lock; IMAP goes on (dovecot lets both share a mailbox).
      const { client: p } = await Pop3Client.connect(pop.port);
      expect(await p.login(user.name, user.password)).toBe('+OK Logged in.');
      expect(await p.cmd('DELE 1')).toBe('+OK Marked to be deleted.');
      expect(await p.cmd('QUIT')).toBe('+OK Logging out, messages deleted.');
      expect(await c.line()).toBe('* 1 EXPUNGE');
      c.raw.write('DONE\r\n');
      expect(await c.line()).toBe('i1 OK Idle completed.');
      const { client: p2 } = await Pop3Client.connect(pop.port);
      expect(await p2.login(user.name, user.password)).toBe('+OK Logged in.');
      expect(await c.cmd('STORE 1 +FLAGS (\\Seen)', 'i2')).toMatch(/^\* 1 FETCH \(FLAGS \(.*\\Seen.*\)\)\r\ni2 OK Store completed\.$/);
      expect(await p2.cmd('QUIT')).toBe('+OK Logging out.');
      c.close();
    } finally {
      await pop.close();
    }
  });
});

describe('limits as on every listener', () => {
  it('autologout: shorter before login (RFC 9051 §5.4 allows it) than once authenticated', async () => {
    const short = await startImap({ scenario: w.s, plaintextAuth: true, loginTimeoutMs: 100, idleTimeoutMs: 60_000 });
    try {
      const { client: idle } = await ImapClient.connect(short.port);
      const { client: authed } = await ImapClient.connect(short.port);
      expect(await authed.login(user.name, user.password)).toMatch(/^a1 OK /);
      // The unauthenticated one is cut; the authenticated one, as quiet, is still served after that.
      expect(await idle.line(10_000)).toBe('* BYE Disconnected for inactivity.');
      await idle.raw.closed;
      expect(await authed.cmd('NOOP')).toBe('a2 OK NOOP completed.');
      authed.close();
    } finally {
      await short.close();
    }
  });

  it('at the connection cap the idle session is shed with a BYE and the newcomer is served', async () => {
    const s = { ...w.s, mail: { ...w.s.mail, limits: { ...w.s.mail.limits, maxConnections: 1, maxConnectionsPerAddress: 1 } } };
    const capped = await startImap({ scenario: s, plaintextAuth: true });
    try {
      const { client: first } = await ImapClient.connect(capped.port);
      const { client: second, greeting } = await ImapClient.connect(capped.port);
      expect(await first.line()).toBe('* BYE [UNAVAILABLE] Too many connections, closing this one.');
      expect(greeting).toMatch(/^\* OK \[CAPABILITY /);
      expect(await second.cmd('NOOP')).toBe('a1 OK NOOP completed.');
      second.close();
    } finally {
      await capped.close();
    }
  });

  it('STARTTLS: LOGINDISABLED before it, AUTH=PLAIN after; what was pipelined in clear is dropped', async () => {
    const t = await serverTls(w.s);
    const secure = await startImap({ scenario: w.s, tls: { key: t.key, cert: t.cert }, plaintextAuth: false });
    try {
      const { client: c, greeting } = await ImapClient.connect(secure.port);
      expect(greeting).toContain(' STARTTLS LOGINDISABLED]');
      expect(await c.cmd(`LOGIN ${user.name} ${user.password}`)).toBe(
        'a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
      );
      c.raw.write('a2 STARTTLS\r\na3 NOOP\r\n');
      expect(await c.line()).toBe('a2 OK Begin TLS negotiation now.');
      const tlsc = await upgradeToTls(c, fs.readFileSync(t.ca));
      tlsc.secure.write('b1 CAPABILITY\r\n');
      const caps = await tlsc.until(/^[\s\S]*?b1 OK[^\r]*\r\n/);
      expect(caps).toMatch(/^\* CAPABILITY [^\r]* AUTH=PLAIN\r\nb1 OK Capability completed\.\r\n$/);
      expect(caps).not.toContain('a3');
      tlsc.secure.write(`b2 LOGIN ${user.name} ${user.password}\r\n`);
      expect(await tlsc.until(/^[\s\S]*?b2 [^\r]*\r\n/)).toMatch(/^b2 OK \[CAPABILITY /);
      tlsc.secure.destroy();
    } finally {
      await secure.close();
    }
  });
});
