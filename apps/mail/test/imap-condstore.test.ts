// CONDSTORE (RFC 7162 §3.1) with real clients and exact replies: Python's imaplib sends the raw
// commands (ENABLE, SELECT's HIGHESTMODSEQ, FETCH MODSEQ and CHANGEDSINCE, STORE UNCHANGEDSINCE
// and its MODIFIED, SEARCH MODSEQ, STATUS HIGHESTMODSEQ) while Python's poplib deletes a message
// through our POP3 on the same Maildir: the DELE raises HIGHESTMODSEQ. Then the NOMODSEQ case (a
// folder whose sstt-modseq cannot be kept), and the mod-sequences on disk. What dovecot changes
// is seen the same way (imap-dovecot.test.ts); imapflow's use is in imap-imapflow.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { MODSEQ_FILE, parseModSeqs } from '@sstt/maildir';
import { requireTool, run, type Started } from '@sstt/testkit';
import { ImapClient, startImap } from './imap-helpers.ts';
import { pop3Scenario, startPop3, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let imap: Started;
let pop3: Started;
let python: string;

beforeAll(async () => {
  python = requireTool('python3');
  w = pop3Scenario();
  imap = await startImap({ scenario: w.s, plaintextAuth: true });
  pop3 = await startPop3({ scenario: w.s, plaintextAuth: true });
});

afterAll(async () => {
  await imap?.close();
  await pop3?.close();
  w?.remove();
});

const SCRIPT = String.raw`
import imaplib, poplib, json, sys
iport, pport, user, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}
m = imaplib.IMAP4('127.0.0.1', iport)
m.login(user, password)
out['caps'] = 'CONDSTORE' in m.capability()[1][0].decode().split()
def reply(typ, data):
    return [typ, [d.decode() if isinstance(d, bytes) else d for d in data]]
out['enable'] = reply(*m.enable('CONDSTORE'))
out['enabled'] = reply(*m.response('ENABLED'))
m.select('INBOX')
out['highest'] = reply(*m.response('HIGHESTMODSEQ'))
out['fetch'] = reply(*m.fetch('1:*', '(FLAGS MODSEQ)'))
out['store'] = reply(*m.store('2', '+FLAGS', '(\\Flagged)'))
out['cstore'] = reply(*m.store('1:3', '(UNCHANGEDSINCE 2) +FLAGS', '(\\Seen)'))
out['modified'] = reply(*m.response('MODIFIED'))
out['silent'] = reply(*m.uid('STORE', '3', '(UNCHANGEDSINCE 4) +FLAGS.SILENT', '(\\Answered)'))
out['search'] = reply(*m.search(None, 'MODSEQ', '4'))
# POP3 deletes message 1 on the same Maildir; IMAP's next command sees the EXPUNGE.
p = poplib.POP3('127.0.0.1', pport)
p.user(user)
p.pass_(password)
p.dele(1)
p.quit()
m.noop()
out['expunged'] = reply(*m.response('EXPUNGE'))
out['status'] = reply(*m.status('INBOX', '(MESSAGES HIGHESTMODSEQ)'))
out['changed'] = reply(*m.fetch('1:*', '(FLAGS) (CHANGEDSINCE 4)'))
try:
    m.fetch('1', '(FLAGS) (CHANGEDSINCE x)')
except imaplib.IMAP4.error as e:
    out['bad'] = str(e)
m.logout()
print(json.dumps(out))
`;

describe('CONDSTORE with Python imaplib (and poplib on the same Maildir)', () => {
  it('answers each CONDSTORE command exactly; a POP3 DELE raises HIGHESTMODSEQ', async () => {
    const user = w.s.users[0]!;
    for (const n of [1, 2, 3]) writeMessage(w.s, user.name, `Subject: m${n}\r\n\r\nbody ${n}\r\n`, { seconds: 1_700_000_000 + n });
    const r = await run(python, ['-c', SCRIPT, String(imap.port), String(pop3.port), user.name, user.password]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      caps: true,
      enable: ['OK', ['Enabled.']],
      enabled: ['ENABLED', ['CONDSTORE']],
      // A new folder is at 1; the messages its first sync finds are its first change (dovecot's values).
      highest: ['HIGHESTMODSEQ', ['2']],
      fetch: ['OK', ['1 (FLAGS () MODSEQ (2))', '2 (FLAGS () MODSEQ (2))', '3 (FLAGS () MODSEQ (2))']],
      store: ['OK', ['2 (MODSEQ (3) FLAGS (\\Flagged))']],
      // Message 2 changed after 2: left alone and named in MODIFIED; 1 and 3 share the next mod-sequence.
      cstore: ['OK', ['1 (MODSEQ (4) FLAGS (\\Seen))', '3 (MODSEQ (4) FLAGS (\\Seen))']],
      modified: ['MODIFIED', ['2']],
      // .SILENT: no FLAGS, but the new MODSEQ (RFC 7162 §3.1.3).
      silent: ['OK', ['3 (UID 3 MODSEQ (5))']],
      search: ['OK', ['1 3 (MODSEQ 5)']],
      expunged: ['EXPUNGE', ['1']],
      status: ['OK', ['INBOX (MESSAGES 2 HIGHESTMODSEQ 6)']],
      // Since 4: message 3 (now 2) changed at 5; the DELE at 6 is an expunge, not a FETCH.
      changed: ['OK', ['2 (FLAGS (\\Answered \\Seen) MODSEQ (5))']],
      bad: "FETCH command error: BAD [b'Error in IMAP command FETCH: Invalid CHANGEDSINCE modseq.']",
    });
    // On disk, beside dovecot's files: the folder's HIGHESTMODSEQ and each message's mod-sequence and letters.
    const md = maildirOf(w.s, user.name);
    const mods = parseModSeqs(fs.readFileSync(path.join(md, MODSEQ_FILE), 'utf8'))!;
    expect(mods.highest).toBe(6);
    expect([...mods.byUid]).toEqual([
      [2, { modseq: 3, letters: 'F' }],
      [3, { modseq: 5, letters: 'RS' }],
    ]);
  });
});

describe('NOMODSEQ', () => {
  it('a folder whose mod-sequences cannot be kept: NOMODSEQ at SELECT, BAD for MODSEQ, CHANGEDSINCE and UNCHANGEDSINCE, 0 in STATUS', async () => {
    const user = w.s.users[1]!;
    const { client: c } = await ImapClient.connect(imap.port);
    try {
      expect(await c.login(user.name, user.password)).toMatch(/^a1 OK /);
      expect(await c.cmd('CREATE Odd')).toBe('a2 OK Create completed.');
      expect(await c.cmd('APPEND Odd {12+}\r\nSubject: x\r\n')).toMatch(/^a3 OK \[APPENDUID \d+ 1\] Append completed\.$/);
      // A directory where the file should be: it can be neither read nor replaced (even by root).
      const file = path.join(maildirOf(w.s, user.name), '.Odd', MODSEQ_FILE);
      fs.rmSync(file);
      fs.mkdirSync(file);
      expect((await c.cmd('SELECT Odd (CONDSTORE)')).replace(/UIDVALIDITY \d+/, 'UIDVALIDITY V')).toBe(
        [
          '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
          '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.',
          '* 1 EXISTS',
          '* 0 RECENT',
          '* OK [UNSEEN 1] First unseen.',
          '* OK [UIDVALIDITY V] UIDs valid',
          '* OK [UIDNEXT 2] Predicted next UID',
          '* OK [NOMODSEQ] No permanent modsequences',
          'a4 OK [READ-WRITE] Select completed.',
        ].join('\r\n'),
      );
      // RFC 7162 §3.1.2.2: tagged BAD for each command that needs mod-sequences.
      const bad = (tag: string, verb: string) => `${tag} BAD Error in IMAP command ${verb}: Mailbox does not support mod-sequences (NOMODSEQ).`;
      expect(await c.cmd('FETCH 1 (FLAGS MODSEQ)')).toBe(bad('a5', 'FETCH'));
      expect(await c.cmd('UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)')).toBe(bad('a6', 'UID FETCH'));
      expect(await c.cmd('STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)')).toBe(bad('a7', 'STORE'));
      expect(await c.cmd('SEARCH MODSEQ 1')).toBe(bad('a8', 'SEARCH'));
      // A plain STORE works, without MODSEQ; STATUS gives HIGHESTMODSEQ 0 for such a mailbox (RFC 7162 §3.1.7).
      expect(await c.cmd('STORE 1 +FLAGS (\\Seen)')).toBe('* 1 FETCH (FLAGS (\\Seen))\r\na9 OK Store completed.');
      expect(await c.cmd('STATUS Odd (MESSAGES HIGHESTMODSEQ)')).toBe('* STATUS Odd (MESSAGES 1 HIGHESTMODSEQ 0)\r\na10 OK Status completed.');
    } finally {
      c.close();
    }
  });
});
