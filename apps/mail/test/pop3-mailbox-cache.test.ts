// A login reuses what the previous one read (the parsed dovecot-uidlist, the listing of cur/)
// only while the Maildir has not changed: a message added to cur/, a uidlist replaced by
// dovecot, a change behind an mtime put back are all seen.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { MailboxCache, openMailbox } from '../src/pop3/mailbox.ts';
import { pop3Scenario, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let md: string;
let cur: string;
/** What the server keeps between logins: one cache for this file's logins. */
const cache = new MailboxCache();

beforeAll(() => {
  w = pop3Scenario();
  const user = w.s.users[0]!.name;
  md = maildirOf(w.s, user);
  cur = path.join(md, 'cur');
  for (let i = 0; i < 3; i++) writeMessage(w.s, user, `Subject: c${i}\r\n\r\nbody ${i}\r\n`);
});
afterAll(() => {
  w?.remove();
});

/** Puts a file into cur/ as another client would (a message moved there by dovecot). */
function addToCur(name: string, text: string): void {
  fs.writeFileSync(path.join(md, 'tmp', name), text);
  fs.renameSync(path.join(md, 'tmp', name), path.join(cur, `${name}:2,S`));
}

const setDirTime = (seconds: number) => fs.utimesSync(cur, seconds, seconds);

describe('the login sync cache', () => {
  it('sees a message added to cur/ after a cached listing', async () => {
    const first = await openMailbox(md, cache);
    expect(first.messages).toHaveLength(3);
    // cur/ unchanged for a while: the next listing is kept.
    setDirTime(Math.floor(Date.now() / 1000) - 60);
    expect((await openMailbox(md, cache)).messages).toHaveLength(3);
    expect((await openMailbox(md, cache)).messages.map((m) => m.uidl)).toEqual(first.messages.map((m) => m.uidl));
    addToCur('1700000000.M1P1.other', 'Subject: x\r\n\r\nxx\n');
    const after = await openMailbox(md, cache);
    expect(after.messages).toHaveLength(4);
    expect(after.messages[3]!.file).toBe(path.join(cur, '1700000000.M1P1.other:2,S'));
    expect(after.messages[3]!.size).toBe(18); // 17 octets, the bare LF counts 2
  });

  it('sees a change to cur/ even when its mtime is put back as it was', async () => {
    const now = Math.floor(Date.now() / 1000);
    setDirTime(now);
    const before = (await openMailbox(md, cache)).messages.length;
    addToCur('1700000001.M2P1.other,S=20', 'Subject: y\r\n\r\nyy\r\n');
    setDirTime(now); // the directory looks exactly as it did at the listing
    expect((await openMailbox(md, cache)).messages).toHaveLength(before + 1);
  });

  it('sees dovecot-uidlist replaced by another program', async () => {
    setDirTime(Math.floor(Date.now() / 1000) - 60);
    const a = await openMailbox(md, cache);
    await openMailbox(md, cache);
    const list = fs.readFileSync(path.join(md, 'dovecot-uidlist'), 'utf8');
    const validity = /^3 V(\d+)/.exec(list)![1]!;
    const next = String(Number(validity) + 7);
    // dovecot's way: a new file renamed over the old one.
    fs.writeFileSync(path.join(md, 'dovecot-uidlist.new'), list.replace(`V${validity}`, `V${next}`));
    fs.renameSync(path.join(md, 'dovecot-uidlist.new'), path.join(md, 'dovecot-uidlist'));
    const b = await openMailbox(md, cache);
    expect(b.validity).toBe(Number(next));
    expect(b.messages.map((m) => m.uidl.slice(0, 8))).toEqual(a.messages.map((m) => m.uidl.slice(0, 8)));
    expect(b.messages[0]!.uidl.slice(8)).toBe(Number(next).toString(16).padStart(8, '0'));
  });
});
