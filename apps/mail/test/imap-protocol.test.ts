// Our IMAP server with a scripted client: exact replies for each command and state (RFC 9051),
// flags and UIDs on disk as dovecot keeps them, bad input.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { parseKeywords, parseUidList } from '@sstt/maildir';
import type { Started } from '@sstt/testkit';
import { ImapClient, startImap } from './imap-helpers.ts';
import { pop3Scenario, writeMessage, type Pop3World } from './pop3-helpers.ts';

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
