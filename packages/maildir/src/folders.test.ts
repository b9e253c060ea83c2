import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  copyMessages,
  ensureSpecialFolders,
  FolderCache,
  flagsOfName,
  keywordLetters,
  lettersOf,
  readSubscriptions,
  storeMessage,
  syncFolder,
  updateSubscriptions,
} from './folders.ts';
import { MODSEQ_FILE } from './modseq.ts';
import { parseUidList } from './uidlist.ts';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function folder(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-folders-'));
  dirs.push(d);
  for (const s of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(d, s));
  return d;
}

const put = (d: string, name: string) => fs.writeFileSync(path.join(d, 'new', name), 'Subject: x\r\n\r\nbody\r\n');
/** cur/ as if last changed a minute ago: a listing of it may be cached. */
const settle = (d: string) => fs.utimesSync(path.join(d, 'cur'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

describe('syncFolder', () => {
  it("new/ to cur/, UIDs in dovecot's order, then the appended ones in their order; an expunged file leaves the uidlist", async () => {
    const d = folder();
    put(d, '1700000002.M2P1.h');
    put(d, '1700000001.M1P1.h');
    const st = await syncFolder(d);
    expect(st.messages.map((m) => [m.uid, m.base])).toEqual([
      [1, '1700000001.M1P1.h'],
      [2, '1700000002.M2P1.h'],
    ]);
    expect(fs.readdirSync(path.join(d, 'new'))).toEqual([]);
    const b = await storeMessage(d, 'S', { content: Buffer.from('Subject: y\n\nz\n') });
    const a = await storeMessage(d, '', { content: Buffer.from('Subject: w\r\n\r\nv\r\n') });
    const st2 = await syncFolder(d, [b, a]);
    expect(st2.messages.map((m) => m.uid)).toEqual([1, 2, 3, 4]);
    expect(st2.messages[2]!.base).toBe(b);
    fs.unlinkSync(path.join(d, 'cur', st2.messages[0]!.name));
    const st3 = await syncFolder(d);
    expect(st3.messages.map((m) => m.uid)).toEqual([2, 3, 4]);
    expect(parseUidList(fs.readFileSync(path.join(d, 'dovecot-uidlist'), 'utf8'))!.records.map((r) => r.uid)).toEqual([2, 3, 4]);
  });

  it('a file put in cur/ by another program gets a UID, with a delivery to new/ in the same sync; one in new/ and cur/ at once is one message', async () => {
    const d = folder();
    const cache = new FolderCache();
    put(d, '1700000001.M1P1.h');
    await syncFolder(d, [], cache);
    settle(d);
    await syncFolder(d, [], cache); // the cur/ listing is cached now
    fs.writeFileSync(path.join(d, 'cur', '1700000003.M3P1.h:2,S'), 'Subject: c\r\n\r\nc\r\n');
    put(d, '1700000002.M2P1.h');
    const st = await syncFolder(d, [], cache);
    expect(st.messages.map((m) => [m.uid, m.name])).toEqual([
      [1, '1700000001.M1P1.h:2,'],
      [2, '1700000002.M2P1.h:2,'],
      [3, '1700000003.M3P1.h:2,S'],
    ]);
    // A crash between a copy into cur/ and the unlink from new/ (or another MDA) leaves both.
    fs.writeFileSync(path.join(d, 'cur', '1700000004.M4P1.h:2,'), 'Subject: d\r\n\r\nd\r\n');
    put(d, '1700000004.M4P1.h');
    const st2 = await syncFolder(d, [], cache);
    expect(st2.messages.map((m) => [m.uid, m.base])).toEqual([
      [1, '1700000001.M1P1.h'],
      [2, '1700000002.M2P1.h'],
      [3, '1700000003.M3P1.h'],
      [4, '1700000004.M4P1.h'],
    ]);
    expect(fs.readdirSync(path.join(d, 'new'))).toEqual([]);
  });

  it('with a cache: what changed since (a delivery, a flag renamed by another program, a replaced uidlist) is seen', async () => {
    const d = folder();
    const cache = new FolderCache();
    put(d, '1700000001.M1P1.h');
    await syncFolder(d, [], cache);
    settle(d);
    const cached = await syncFolder(d, [], cache); // lists cur/ once more and keeps the listing
    expect(cached.messages.map((m) => m.name)).toEqual(['1700000001.M1P1.h:2,']);
    put(d, '1700000002.M2P1.h');
    expect((await syncFolder(d, [], cache)).messages.map((m) => m.uid)).toEqual([1, 2]);
    settle(d);
    await syncFolder(d, [], cache);
    fs.renameSync(path.join(d, 'cur', '1700000001.M1P1.h:2,'), path.join(d, 'cur', '1700000001.M1P1.h:2,FS'));
    expect((await syncFolder(d, [], cache)).messages[0]!.name).toBe('1700000001.M1P1.h:2,FS');
    // dovecot rewrites the uidlist (by rename: a new file) with a new UIDVALIDITY.
    const text = fs.readFileSync(path.join(d, 'dovecot-uidlist'), 'utf8').replace(/ V\d+ /, ' V42 ');
    fs.writeFileSync(path.join(d, 'dovecot-uidlist.new'), text);
    fs.renameSync(path.join(d, 'dovecot-uidlist.new'), path.join(d, 'dovecot-uidlist'));
    expect((await syncFolder(d, [], cache)).validity).toBe(42);
  });

  it('a quiet folder: the last sync again, without the lock; a delivery, a flag renamed or a new modseq file ends it', async () => {
    const d = folder();
    const cache = new FolderCache();
    put(d, '1700000001.M1P1.h');
    await syncFolder(d, [], cache);
    settle(d);
    const first = await syncFolder(d, [], cache);
    // Another program holds the uidlist lock: a quiet folder is still answered, from the last sync.
    fs.writeFileSync(path.join(d, 'dovecot-uidlist.lock'), '');
    expect(await syncFolder(d, [], cache)).toBe(first);
    fs.unlinkSync(path.join(d, 'dovecot-uidlist.lock'));
    put(d, '1700000002.M2P1.h');
    const delivered = await syncFolder(d, [], cache);
    expect(delivered.messages.map((m) => m.uid)).toEqual([1, 2]);
    settle(d);
    const quiet = await syncFolder(d, [], cache);
    fs.renameSync(path.join(d, 'cur', '1700000002.M2P1.h:2,'), path.join(d, 'cur', '1700000002.M2P1.h:2,S'));
    settle(d);
    const renamed = await syncFolder(d, [], cache);
    expect(renamed).not.toBe(quiet);
    expect(renamed.messages[1]!.name).toBe('1700000002.M2P1.h:2,S');
    const again = await syncFolder(d, [], cache);
    fs.copyFileSync(path.join(d, MODSEQ_FILE), path.join(d, `${MODSEQ_FILE}.new`));
    fs.renameSync(path.join(d, `${MODSEQ_FILE}.new`), path.join(d, MODSEQ_FILE));
    expect(await syncFolder(d, [], cache)).not.toBe(again);
  });

  it('calls made while a sync runs share the one that runs after it: at most two reads for ten callers, all seeing the delivery', async () => {
    const d = folder();
    const cache = new FolderCache();
    put(d, '1700000001.M1P1.h');
    const states = await Promise.all(Array.from({ length: 10 }, () => syncFolder(d, [], cache)));
    expect(new Set(states).size).toBeLessThanOrEqual(2);
    for (const st of states) expect(st.messages.map((m) => m.uid)).toEqual([1]);
  });

  it('copies keep flags and keywords by name, and get UIDs in the target', async () => {
    const from = folder();
    const to = folder();
    put(from, '1700000001.M1P1.h');
    const st = await syncFolder(from);
    const letters = lettersOf(['\\Seen', '$Work'], (await keywordLetters(from, ['$Work']))!)!;
    fs.renameSync(path.join(from, 'cur', st.messages[0]!.name), path.join(from, 'cur', `1700000001.M1P1.h:2,${letters}`));
    const again = await syncFolder(from);
    // The target knows another keyword first: $Work gets another letter there.
    await keywordLetters(to, ['$Other']);
    const { validity, copied, uids } = await copyMessages(from, again.messages, ['$Work'], to);
    expect(copied).toHaveLength(1);
    expect(uids).toEqual([1]);
    const target = await syncFolder(to);
    expect(target.validity).toBe(validity);
    expect(flagsOfName(target.messages[0]!.name, ['$Other', '$Work'])).toEqual(['\\Seen', '$Work']);
  });
});

describe('syncFolder and mod-sequences', () => {
  it('keeps them in sstt-modseq beside the uidlist; a rename or an unlink by someone else raises them at the next sync', async () => {
    const d = folder();
    fs.writeFileSync(path.join(d, 'new', '1700000001.M1P1.h'), 'Subject: x\r\n\r\nx\r\n');
    fs.writeFileSync(path.join(d, 'new', '1700000002.M2P1.h'), 'Subject: y\r\n\r\ny\r\n');
    const cache = new FolderCache();
    const st = await syncFolder(d, [], cache);
    expect([st.highestModSeq, st.messages.map((m) => m.modseq)]).toEqual([2, [2, 2]]);
    expect(fs.readFileSync(path.join(d, MODSEQ_FILE), 'utf8')).toBe('sstt-modseq 1 V' + st.validity + ' H2\n1 2 \n2 2 \n');
    expect((await syncFolder(d, [], cache)).highestModSeq).toBe(2);
    fs.renameSync(path.join(d, 'cur', st.messages[0]!.name), path.join(d, 'cur', '1700000001.M1P1.h:2,S'));
    const flagged = await syncFolder(d, [], cache);
    expect([flagged.highestModSeq, flagged.messages.map((m) => m.modseq)]).toEqual([3, [3, 2]]);
    fs.unlinkSync(path.join(d, 'cur', flagged.messages[1]!.name));
    // Another server (its own cache) sees the same file.
    const gone = await syncFolder(d, [], new FolderCache());
    expect([gone.highestModSeq, gone.messages.map((m) => [m.uid, m.modseq])]).toEqual([4, [[1, 3]]]);
  });

  it('a folder whose file cannot be kept has no mod-sequences (NOMODSEQ), and its sync still works', async () => {
    const d = folder();
    fs.writeFileSync(path.join(d, 'new', '1700000001.M1P1.h'), 'x');
    fs.mkdirSync(path.join(d, MODSEQ_FILE));
    const st = await syncFolder(d);
    expect([st.highestModSeq, st.messages.map((m) => [m.uid, m.modseq])]).toEqual([undefined, [[1, 0]]]);
  });
});

describe('ensureSpecialFolders', () => {
  it('twenty logins at once into a new Maildir: each succeeds, the special folders subscribed once', async () => {
    const md = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-folders-'));
    dirs.push(md);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => ensureSpecialFolders(md)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await readSubscriptions(md)).sort()).toEqual(['Drafts', 'Junk', 'Sent', 'Trash']);
    expect(fs.readdirSync(md).filter((n) => n.includes('subscriptions.'))).toEqual([]);
  });
});

describe('updateSubscriptions', () => {
  it('twenty sessions subscribing at once each keep their name', async () => {
    const md = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-folders-'));
    dirs.push(md);
    const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
    await Promise.all(names.map((n) => updateSubscriptions(md, (list) => [...list, n])));
    expect((await readSubscriptions(md)).sort()).toEqual([...names].sort());
    expect(fs.readFileSync(path.join(md, 'subscriptions'), 'utf8').startsWith('V\t2\n\n')).toBe(true);
    expect(fs.readdirSync(md).filter((n) => n.startsWith('subscriptions.'))).toEqual([]);
  });

  it('waits while dovecot holds subscriptions.lock, then writes on the list dovecot left', async () => {
    const md = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-folders-'));
    dirs.push(md);
    const lock = path.join(md, 'subscriptions.lock');
    fs.writeFileSync(lock, '');
    let done = false;
    const update = updateSubscriptions(md, (list) => [...list, 'ours']).then(() => {
      done = true;
    });
    // dovecot, holding the lock, replaces the file by renaming its lock over it.
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    fs.writeFileSync(lock, 'V\t2\n\nTheirs\n');
    fs.renameSync(lock, path.join(md, 'subscriptions'));
    await update;
    expect(await readSubscriptions(md)).toEqual(['Theirs', 'ours']);
  });
});
