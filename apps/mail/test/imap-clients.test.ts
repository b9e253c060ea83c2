// Real IMAP clients against our server: Python's imaplib (LOGIN, STARTTLS, IMAP4_SSL, SELECT,
// FETCH, SEARCH, STORE, COPY, MOVE, APPEND, CREATE, EXPUNGE) and curl's imap:// and imaps://
// (fetch, search, store, move), each checked in the Maildir on disk.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths, maildirOf } from '@sstt/scenario';
import { flagsOf, parseUidList } from '@sstt/maildir';
import { initPki } from '@sstt/pki';
import { requireTool, run, type Started } from '@sstt/testkit';
import { startImap } from './imap-helpers.ts';
import { pop3Scenario, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let plain: Started;
let implicit: Started;
let ca: string;
let curl: string;
let python: string;

const message = (n: number) => `From: sender${n}@example.test\r\nTo: user@example.test\r\nSubject: message ${n}\r\n\r\nbody of ${n}\r\n`;

beforeAll(async () => {
  curl = requireTool('curl');
  python = requireTool('python3');
  w = pop3Scenario();
  await initPki(w.s);
  const p = certPaths(w.s);
  ca = p.ca.cert;
  const tlsOpts = { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert) };
  // Plain-text logins off, as in the dev profile's default: imaplib must use STARTTLS.
  plain = await startImap({ scenario: w.s, tls: tlsOpts, plaintextAuth: false });
  implicit = await startImap({ scenario: w.s, tls: tlsOpts, implicitTls: true });
}, 120_000);

afterAll(async () => {
  await plain?.close();
  await implicit?.close();
  w?.remove();
});

/** Files of a folder's cur/ ('' is INBOX). */
function cur(user: string, folder = ''): string[] {
  const dir = path.join(maildirOf(w.s, user), folder === '' ? '' : `.${folder}`, 'cur');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

const IMAPLIB = String.raw`
import imaplib, json, ssl, sys
mode, port, user, password, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
out = {}
if mode == 'ssl':
    m = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx)
else:
    m = imaplib.IMAP4('127.0.0.1', port)
    out['before_tls'] = 'LOGINDISABLED' in m.capabilities
    m.starttls(ssl_context=ctx)
out['login'] = m.login(user, password)[0]
typ, data = m.select('INBOX')
out['exists'] = int(data[0])
typ, data = m.uid('SEARCH', None, 'ALL')
out['uids'] = data[0].decode().split()
typ, data = m.uid('FETCH', '1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['subject'] = data[0][1].decode()
typ, data = m.fetch('2', '(RFC822)')
out['rfc822'] = data[0][1].decode()
out['store'] = m.store('1', '+FLAGS', '(\\Flagged)')[1][0].decode()
out['search_unseen'] = m.search(None, 'UNSEEN')[1][0].decode()
out['search_subject'] = m.search(None, 'SUBJECT', '"message 3"')[1][0].decode()
out['create'] = m.create('Archive.2026')[0]
out['copy'] = m.uid('COPY', '1', 'Archive.2026')[0]
typ, data = m.uid('MOVE', '3', 'Trash')
out['move'] = typ
out['append'] = m.append('Sent', '(\\Seen)', None, b'From: me@example.test\r\nSubject: sent\r\n\r\nsent body\r\n')[0]
out['list'] = [l.decode() for l in m.list()[1]]
out['status'] = m.status('Sent', '(MESSAGES UNSEEN UIDNEXT)')[1][0].decode()
m.store('2', '+FLAGS', '(\\Deleted)')
out['expunge'] = [x.decode() for x in m.expunge()[1] if x]
out['close'] = m.close()[0]
out['logout'] = m.logout()[0]
print(json.dumps(out))
`;

describe('Python imaplib', () => {
  for (const mode of ['starttls', 'ssl'] as const) {
    it(`works a mailbox over ${mode === 'ssl' ? 'IMAPS' : 'STARTTLS'}; every change is on disk`, async () => {
      const user = mode === 'ssl' ? w.s.users[0]! : w.s.users[1]!;
      for (const n of [1, 2, 3]) writeMessage(w.s, user.name, message(n), { seconds: 1_700_000_000 + n });
      const port = mode === 'ssl' ? implicit.port : plain.port;
      const r = await run(python, ['-c', IMAPLIB, mode, String(port), user.name, user.password, ca]);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      if (mode === 'starttls') expect(out.before_tls).toBe(true);
      expect(out).toMatchObject({
        login: 'OK',
        exists: 3,
        uids: ['1', '2', '3'],
        subject: 'Subject: message 1\r\n\r\n',
        rfc822: message(2),
        store: '1 (FLAGS (\\Flagged))',
        search_unseen: '1 3',
        search_subject: '3',
        create: 'OK',
        copy: 'OK',
        move: 'OK',
        append: 'OK',
        status: 'Sent (MESSAGES 1 UNSEEN 0 UIDNEXT 2)',
        // imaplib keeps every untagged EXPUNGE until expunge() returns them: MOVE's (3), then EXPUNGE's (2).
        expunge: ['3', '2'],
        close: 'OK',
        logout: 'BYE',
      });
      expect(out.list).toEqual([
        '(\\HasNoChildren) "." INBOX',
        '(\\Noselect \\HasChildren) "." Archive',
        '(\\HasNoChildren) "." Archive.2026',
        '(\\HasNoChildren \\Drafts) "." Drafts',
        '(\\HasNoChildren \\Junk) "." Junk',
        '(\\HasNoChildren \\Sent) "." Sent',
        '(\\HasNoChildren \\Trash) "." Trash',
      ]);
      // On disk: message 1 flagged and kept, 2 expunged (FETCH RFC822 had set \Seen), 3 moved to Trash.
      const inbox = cur(user.name);
      expect(inbox).toHaveLength(1);
      expect(flagsOf(inbox[0]!)).toBe('F');
      expect(fs.readFileSync(path.join(maildirOf(w.s, user.name), 'cur', inbox[0]!), 'utf8')).toBe(message(1));
      expect(cur(user.name, 'Trash').map((n) => fs.readFileSync(path.join(maildirOf(w.s, user.name), '.Trash', 'cur', n), 'utf8'))).toEqual([message(3)]);
      expect(cur(user.name, 'Archive.2026').map(flagsOf)).toEqual(['F']);
      expect(cur(user.name, 'Sent').map(flagsOf)).toEqual(['S']);
      const trashList = parseUidList(fs.readFileSync(path.join(maildirOf(w.s, user.name), '.Trash', 'dovecot-uidlist'), 'utf8'))!;
      expect(trashList.records.map((x) => x.uid)).toEqual([1]);
    });
  }
});

/**
 * IDLE from another process, as a mail client and a delivery agent act on a real machine: the
 * moment the client reads "+ idling", a message is renamed into new/. A client in the server's own
 * process cannot do that before the server's next step; one in another process can, in the instant
 * between the server's "+" and its starting to watch the folder (the benchmark's load hit that
 * window about one run in four: the EXISTS never came).
 */
const IDLE_RACE = String.raw`
import json, os, socket, ssl, sys, time
port, user, password, ca, maildir, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)))
s.settimeout(10)
f = s.makefile('rb')
def line():
    return f.readline().decode().rstrip('\r\n')
def until(tag):
    while True:
        l = line()
        if l.startswith(tag + ' '):
            return l
line()
s.sendall(('a LOGIN "%s" "%s"\r\n' % (user, password)).encode()); until('a')
s.sendall(b'b SELECT INBOX\r\n')
while True:
    l = line()
    if l.endswith(' EXISTS'):
        exists = int(l.split()[1])
    if l.startswith('b '):
        break
told = []
for i in range(rounds):
    name = '%d.M%dP%d.idlerace' % (time.time(), i, os.getpid())
    with open(os.path.join(maildir, 'tmp', name), 'w') as m:
        m.write('Subject: idle %d\r\n\r\nhello\r\n' % i)
    s.sendall(b'i%d IDLE\r\n' % i)
    plus = line()
    os.rename(os.path.join(maildir, 'tmp', name), os.path.join(maildir, 'new', name))
    try:
        told.append([plus, line()])
    except socket.timeout:
        told.append([plus, 'nothing in 10 s'])
        break
    s.sendall(b'DONE\r\n')
    until('i%d' % i)
print(json.dumps({'exists': exists, 'told': told}))
`;

describe('IDLE from another process', () => {
  it('a message delivered the moment the client reads "+ idling" is told at once, 30 times in a row', async () => {
    const user = w.s.users[3] ?? w.s.users[0]!;
    const md = maildirOf(w.s, user.name);
    writeMessage(w.s, user.name, message(1), { seconds: 1_700_000_001 });
    const rounds = 30;
    const r = await run(python, ['-c', IDLE_RACE, String(implicit.port), user.name, user.password, ca, md, String(rounds)], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { exists: number; told: string[][] };
    expect(out.told).toEqual(Array.from({ length: rounds }, (_, i) => ['+ idling', `* ${out.exists + i + 1} EXISTS`]));
  }, 90_000);
});

describe('curl imap:// and imaps://', () => {
  it('fetches, searches, stores and moves', async () => {
    const user = w.s.users[2] ?? w.s.users[0]!;
    const md = maildirOf(w.s, user.name);
    fs.rmSync(md, { recursive: true, force: true });
    for (const n of [1, 2]) writeMessage(w.s, user.name, message(n), { seconds: 1_700_000_100 + n });
    const up = `${user.name}:${user.password}`;
    const base = `imap://127.0.0.1:${plain.port}`;
    const tls = ['--ssl-reqd', '--cacert', ca];
    const fetched = await run(curl, ['-sS', ...tls, '-u', up, `${base}/INBOX;UID=2`]);
    expect(fetched.stdout).toBe(message(2));
    const search = await run(curl, ['-sS', ...tls, '-u', up, `${base}/INBOX?SUBJECT%20%22message%201%22`]);
    expect(search.stdout).toBe('* SEARCH 1\r\n');
    const stored = await run(curl, ['-sS', ...tls, '-u', up, '-X', 'UID STORE 1 +FLAGS (\\Answered)', `${base}/INBOX`]);
    expect(stored.stdout).toBe('* 1 FETCH (UID 1 FLAGS (\\Answered))\r\n');
    const moved = await run(curl, ['-sS', '--cacert', ca, '-u', up, '-X', 'UID MOVE 2 Junk', `imaps://127.0.0.1:${implicit.port}/INBOX`]);
    expect(moved.stdout).toMatch(/^\* OK \[COPYUID \d+ 2 1\] Moved UIDs\.\r\n\* 2 EXPUNGE\r\n$/);
    expect(cur(user.name).map(flagsOf)).toEqual(['R']);
    expect(cur(user.name, 'Junk').map(flagsOf)).toEqual(['S']);
    const clear = await run(curl, ['-sS', '-u', up, `${base}/INBOX;UID=1`]);
    expect(clear.code).not.toBe(0); // plain-text login refused without TLS (LOGINDISABLED)
  });
});
