// imapflow (the Node IMAP client behind many web mail apps) against our server: IDLE told of a
// delivery, MOVE with the UIDs COPYUID maps, flags, LIST with special use, APPEND to Sent,
// STATUS; CONDSTORE (HIGHESTMODSEQ, a fetch changedSince after changes made by others); each
// checked on disk.
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { flagsOf } from '@sstt/maildir';
import type { Started } from '@sstt/testkit';
import { MaildirDelivery } from '../src/maildir.ts';
import { startImap } from './imap-helpers.ts';
import { pop3Scenario, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let srv: Started;
let user: { name: string; password: string };

beforeAll(async () => {
  w = pop3Scenario();
  user = w.s.users[0]!;
  srv = await startImap({ scenario: w.s, plaintextAuth: true });
});

afterAll(async () => {
  await srv?.close();
  w?.remove();
});

/** A client; `onServerLine` sees each line the server sends (imapflow's debug log of the dialogue). */
function client(onServerLine?: (line: string) => void, who: { name: string; password: string } = user): ImapFlow {
  const quiet = () => {};
  const debug = (o: { src?: string; msg?: string }) => {
    if (o.src === 's' && typeof o.msg === 'string') onServerLine?.(o.msg);
  };
  return new ImapFlow({
    host: '127.0.0.1',
    port: srv.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: who.name, pass: who.password },
    // IDLE as soon as the connection is free (imapflow waits 15 s by default).
    autoIdleDelay: 10,
    logger: onServerLine ? { debug, info: quiet, warn: quiet, error: quiet } : false,
  });
}

describe('imapflow', () => {
  it('IDLE: a delivery reaches the idling client as an exists event', async () => {
    writeMessage(w.s, user.name, 'Subject: one\r\n\r\none\r\n', { seconds: 1_700_000_001 });
    let idling!: () => void;
    const idle = new Promise<void>((r) => (idling = r));
    const c = client((line) => {
      if (line.startsWith('+ idling')) idling();
    });
    await c.connect();
    try {
      await c.mailboxOpen('INBOX');
      expect(c.mailbox ? c.mailbox.exists : undefined).toBe(1);
      const exists = new Promise<{ count: number; prevCount: number }>((resolve) => c.once('exists', resolve));
      // imapflow enters IDLE by itself once the connection is free; the delivery comes after our "+ idling".
      await idle;
      const delivery = new MaildirDelivery();
      await delivery.deliver([maildirOf(w.s, user.name)], Buffer.from('Subject: two\r\n\r\ntwo\r\n'));
      await delivery.close();
      expect(await exists).toMatchObject({ count: 2, prevCount: 1 });
    } finally {
      await c.logout();
    }
  });

  it('MOVE with the COPYUID map, flags, special-use LIST, APPEND to Sent, STATUS', async () => {
    const c = client();
    await c.connect();
    try {
      const boxes = await c.list();
      expect(boxes.map((b) => [b.path, b.specialUse ?? null]).sort()).toEqual([
        ['Drafts', '\\Drafts'],
        ['INBOX', '\\Inbox'],
        ['Junk', '\\Junk'],
        ['Sent', '\\Sent'],
        ['Trash', '\\Trash'],
      ]);
      const lock = await c.getMailboxLock('INBOX');
      try {
        expect(await c.messageFlagsAdd('1', ['\\Seen', '$Important'], { uid: true })).toBe(true);
        const msg = await c.fetchOne('1', { flags: true, source: true, envelope: true }, { uid: true });
        expect(msg && [...(msg.flags ?? [])].sort()).toEqual(['$Important', '\\Seen']);
        expect(msg ? msg.envelope?.subject : undefined).toBe('one');
        const moved = await c.messageMove('1', 'Trash', { uid: true });
        expect(moved && Object.fromEntries(moved.uidMap ?? [])).toEqual({ 1: 1 });
      } finally {
        lock.release();
      }
      const sent = await c.append('Sent', Buffer.from('Subject: sent by imapflow\r\n\r\nhi\r\n'), ['\\Seen']);
      expect(sent ? sent.uid : undefined).toBe(1);
      expect(await c.status('Sent', { messages: true, unseen: true, uidNext: true })).toMatchObject({ messages: 1, unseen: 0, uidNext: 2 });
    } finally {
      await c.logout();
    }
    const md = maildirOf(w.s, user.name);
    const trash = fs.readdirSync(path.join(md, '.Trash', 'cur'));
    expect(trash.map(flagsOf)).toEqual(['Sa']);
    expect(fs.readFileSync(path.join(md, '.Trash', 'dovecot-keywords'), 'utf8')).toBe('0 $Important\n');
    expect(fs.readdirSync(path.join(md, '.Sent', 'cur')).map(flagsOf)).toEqual(['S']);
  });

  it('CONDSTORE: HIGHESTMODSEQ rises with changes made by others (a flag set on disk, a delivery); fetch changedSince returns just those', async () => {
    const other = w.s.users[1]!;
    const md = maildirOf(w.s, other.name);
    for (const n of [1, 2, 3]) writeMessage(w.s, other.name, `Subject: m${n}\r\n\r\nbody ${n}\r\n`, { seconds: 1_700_000_000 + n });
    const c = client(undefined, other);
    let highest = 0n;
    await c.connect();
    try {
      expect(c.enabled.has('CONDSTORE')).toBe(true);
      const lock = await c.getMailboxLock('INBOX');
      try {
        const box = c.mailbox ? c.mailbox : undefined;
        // A new folder is at 1; the three messages its first sync found are its first change (as dovecot counts).
        expect(box?.highestModseq).toBe(2n);
        const before = await c.fetchAll('1:*', { flags: true }, { changedSince: 2n });
        expect(before).toEqual([]);
        // Someone else (dovecot, the console) flags message 2 by renaming its file, then mail is delivered.
        const cur = path.join(md, 'cur');
        const second = fs.readdirSync(cur).sort()[1]!;
        fs.renameSync(path.join(cur, second), path.join(cur, `${second.split(':')[0]}:2,F`));
        const delivery = new MaildirDelivery();
        await delivery.deliver([md], Buffer.from('Subject: m4\r\n\r\nbody 4\r\n'));
        await delivery.close();
        // NOOP syncs the folder (or IDLE's watcher did already, maybe once per change): both get mod-sequences above 2.
        await c.noop();
        const changed = await c.fetchAll('1:*', { flags: true, uid: true }, { changedSince: 2n });
        expect(changed.map((m) => [m.uid, [...(m.flags ?? [])]])).toEqual([
          [2, ['\\Flagged']],
          [4, []],
        ]);
        const top = changed.map((m) => m.modseq!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[1]!;
        expect(changed.every((m) => m.modseq! > 2n)).toBe(true);
        // Ours: a STORE takes the next one, and only it has changed since.
        expect(await c.messageFlagsAdd('1', ['\\Seen'], { uid: true })).toBe(true);
        const mine = await c.fetchAll('1:*', { flags: true, uid: true }, { changedSince: top });
        expect(mine.map((m) => [m.uid, m.modseq])).toEqual([[1, top + 1n]]);
        highest = top + 1n;
      } finally {
        lock.release();
      }
      expect(await c.status('INBOX', { highestModseq: true })).toMatchObject({ highestModseq: highest });
    } finally {
      await c.logout();
    }
  });
});
