// A user's Maildir as a POP3 session sees it: at login the messages in new/ move to cur/ (with
// the ":2," info suffix, as dovecot does), every message gets its dovecot UID from
// dovecot-uidlist (assigned there when new), and its POP3 size (RFC 1939 §5 "exact size":
// octets with CRLF line endings). The session then works on that snapshot; deletions happen
// only in UPDATE (RFC 1939 §6).
import fs from 'node:fs';
import path from 'node:path';
import {
  baseOf,
  curName,
  ensureMaildir,
  type FolderCache,
  hex8,
  inBatches,
  listCurCached,
  lockUidList,
  newUidList,
  readUidListCached,
  serializeUidList,
  sizeOf,
  sortNames,
  UIDLIST_LOCK_NAME,
  UIDLIST_NAME,
  type UidRecord,
  versionOf,
} from '@sstt/maildir';
import { VirtualSizeCounter } from './wire.ts';

/** Files at most this large are read in one go for RETR/TOP; larger ones are streamed. */
export const SMALL_MESSAGE_OCTETS = 64 * 1024;
/** File operations (renames new/ -> cur/, size measurements) run this many at a time at login. */
const FS_CONCURRENCY = 32;

/** The POP3 size of a small file read in one go; -1 when the file is large (measure it streaming). */
function smallVirtualSize(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size > SMALL_MESSAGE_OCTETS) return -1;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const counter = new VirtualSizeCounter();
    counter.add(buf.subarray(0, got));
    return counter.size;
  } finally {
    fs.closeSync(fd);
  }
}

async function inPool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export interface Message {
  /** 1-based message number of this session (RFC 1939 §5). */
  number: number;
  uid: number;
  uidl: string;
  /** Absolute path of the file (in cur/). */
  file: string;
  /** The file's name without the ":2,<flags>" info part. */
  base: string;
  /** Octets as POP3 sends them (CRLF line endings, before byte stuffing). */
  size: number;
  deleted: boolean;
}

export interface MailboxSnapshot {
  maildir: string;
  validity: number;
  messages: Message[];
}

/** The POP3 size recorded in the name (`,W=`, dovecot's) or in the uidlist (`W`); -1 if neither. */
function knownSize(r: UidRecord): number {
  const w = sizeOf(r.base, 'W');
  if (w !== undefined) return w;
  for (const [k, v] of r.ext) if (k === 'W') return Number(v);
  return -1;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await fs.promises.readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The POP3 size of a file, read in chunks (never the whole file in memory). */
export async function measureVirtualSize(file: string): Promise<number> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const counter = new VirtualSizeCounter();
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      counter.add(buf.subarray(0, bytesRead));
    }
    return counter.size;
  } finally {
    await fh.close();
  }
}

// The per-message loops of a login, as top-level functions (not closures created per login):
// optimised once, they stay optimised from one login to the next.

/** Names in `names` whose base is not a key of `files`. */
function notIn(names: readonly string[], files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const name of names) if (!files.has(baseOf(name))) out.push(name);
  return out;
}

/** The records whose file is still there. */
function present(records: readonly UidRecord[], files: ReadonlyMap<string, string>): UidRecord[] {
  const out: UidRecord[] = [];
  for (const r of records) if (files.has(r.base)) out.push(r);
  return out;
}

/** Files without a record, in dovecot's order for new UIDs. */
function freshBases(files: ReadonlyMap<string, string>, records: readonly UidRecord[]): string[] {
  const known = new Set<string>();
  for (const r of records) known.add(r.base);
  const out: string[] = [];
  for (const b of files.keys()) if (!known.has(b)) out.push(b);
  return sortNames(out);
}

function buildMessages(records: readonly UidRecord[], files: ReadonlyMap<string, string>, cur: string, validityHex: string): Message[] {
  const messages: Message[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    messages[i] = {
      number: i + 1,
      uid: r.uid,
      uidl: hex8(r.uid) + validityHex,
      // Names from readdir hold no "/": a concatenation, not path.join, for thousands of files.
      file: `${cur}/${files.get(r.base)!}`,
      base: r.base,
      size: knownSize(r),
      deleted: false,
    };
  }
  return messages;
}

/**
 * What each login read, for the next login of the same Maildir: @sstt/maildir's FolderCache (the
 * parsed uidlist while it is the same file, cur/'s listing while it has not moved), one per POP3
 * server or shared by main.ts between its POP3 and POP3S listeners.
 */
export { FolderCache as MailboxCache } from '@sstt/maildir';

/**
 * Synchronises the Maildir with dovecot-uidlist (under dovecot's lock) and returns the
 * session's snapshot: new/ moved to cur/, UIDs assigned, sizes known. `caches` keeps what this
 * login read for the next one.
 */
export async function openMailbox(maildir: string, caches: FolderCache): Promise<MailboxSnapshot> {
  await ensureMaildir(maildir);
  const lock = await lockUidList(maildir);
  try {
    const cache = caches.of(maildir);
    const parsed = await readUidListCached(maildir, cache);
    const list = parsed ?? newUidList();
    let changed = parsed === undefined;

    const cur = path.join(maildir, 'cur');
    const newDir = path.join(maildir, 'new');
    /** base name -> current file name in cur/ (copied before any change: the cache's is shared) */
    let files = await listCurCached(cur, cache);
    const moving = notIn(await readdirOrEmpty(newDir), files);
    if (moving.length > 0) files = new Map(files);
    const writable = files as Map<string, string>;
    const lost: string[] = [];
    await inBatches(moving, (name) => {
      // Maildir spec: a message leaves new/ once a client has seen it; ":2," = no flags yet.
      const target = curName(name);
      try {
        fs.renameSync(path.join(newDir, name), path.join(cur, target));
        writable.set(baseOf(name), target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        lost.push(baseOf(name)); // taken by another reader meanwhile
      }
    });
    if (lost.length > 0) for (const again of await readdirOrEmpty(cur)) if (lost.includes(baseOf(again))) writable.set(baseOf(again), again);

    // expunged since: dropped (dovecot drops them on its next sync too)
    const records = present(list.records, files);
    if (records.length !== list.records.length) changed = true;
    for (const base of freshBases(files, records)) {
      records.push({ uid: list.nextUid++, base, ext: [] });
      changed = true;
    }
    list.records = records;

    const messages = buildMessages(records, files, cur, hex8(list.validity));
    const unknown: Message[] = [];
    for (const m of messages) if (m.size < 0) unknown.push(m);
    const large: Message[] = [];
    await inBatches(unknown, (m) => {
      m.size = smallVirtualSize(m.file);
      if (m.size < 0) large.push(m);
    });
    await inPool(large, FS_CONCURRENCY, async (m) => {
      m.size = await measureVirtualSize(m.file);
    });
    // Cache the sizes as dovecot does, so the next login needs no read (new record objects:
    // the parsed ones may be shared with the sync cache).
    for (const m of unknown) {
      const r = records[m.number - 1]!;
      records[m.number - 1] = { ...r, ext: [...r.ext, ['W', String(m.size)]] };
    }
    if (unknown.length > 0) changed = true;
    if (changed) {
      // The lock file becomes the new uidlist (rename): same inode. If the uidlist has that inode
      // after the rename, it is what we wrote (anyone replacing it since created another inode
      // while ours was still in place), and the next login can take it from the cache.
      const ours = await versionOf(path.join(maildir, UIDLIST_LOCK_NAME)).catch(() => undefined);
      cache.list = cache.uidKey = undefined;
      await lock.commit(serializeUidList(list));
      const v = await versionOf(path.join(maildir, UIDLIST_NAME)).catch(() => undefined);
      if (ours && v && v.ino === ours.ino) {
        cache.list = { ...list, records: [...records] };
        cache.uidKey = v.key;
      }
    }
    return { maildir, validity: list.validity, messages };
  } finally {
    await lock.release();
  }
}

/** Finds a message's file again if its name changed (flags set by another client). */
export async function relocate(msg: Message): Promise<boolean> {
  const dir = path.dirname(msg.file);
  for (const name of await readdirOrEmpty(dir)) {
    if (baseOf(name) === msg.base) {
      msg.file = path.join(dir, name);
      return true;
    }
  }
  return false;
}

/** UPDATE state (RFC 1939 §6): removes the messages marked as deleted; returns how many could not be. */
export async function expunge(messages: readonly Message[]): Promise<number> {
  let failed = 0;
  for (const m of messages) {
    if (!m.deleted) continue;
    try {
      await fs.promises.unlink(m.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        failed++;
        continue;
      }
      // Renamed meanwhile: delete it under its new name; already gone counts as deleted.
      if (await relocate(m)) await fs.promises.unlink(m.file).catch(() => failed++);
    }
  }
  return failed;
}
