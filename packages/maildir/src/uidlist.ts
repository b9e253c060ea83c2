// dovecot's `dovecot-uidlist`: the file in a Maildir that maps each message file to its IMAP
// UID, and (with the UIDVALIDITY) gives the POP3 UIDL under dovecot's default
// `pop3_uidl_format = %08Xu%08Xv`. We read and write the same file with the same lock, so
// dovecot and this server show the same UIDLs for the same Maildir whichever touched it first.
//
// Format version 3 (dovecot ≥ 1.1):
//   header: `3 V<uidvalidity> N<next uid> G<128-bit guid hex>` (other keys kept as they are)
//   entry:  `<uid> [<key><value> ...] :<file name without the ":2,<flags>" info>`
// Entry keys: `W<size>` the virtual (CRLF) size, `S<size>` the physical size. Version 1
// (`1 <uidvalidity> <next uid>` / `<uid> <file name>`, Courier's courierimapuiddb) is read too.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { baseOf } from './name.ts';

export const UIDLIST_NAME = 'dovecot-uidlist';
/** dovecot's dotlock: created exclusively, the new contents written into it, renamed over the list. */
export const UIDLIST_LOCK_NAME = `${UIDLIST_NAME}.lock`;
/** dovecot overrides a uidlist lock older than this (MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT). */
export const UIDLIST_LOCK_STALE_MS = 120_000;
/** How long we wait for another process (dovecot, another server) to release the lock. */
export const UIDLIST_LOCK_WAIT_MS = 10_000;

export interface UidRecord {
  uid: number;
  /** The file's base name: everything before the ":2," info part. */
  base: string;
  /** Extension fields in file order, e.g. [['W', '26']]. */
  ext: Array<[string, string]>;
}

export interface UidList {
  validity: number;
  nextUid: number;
  guid: string;
  /** Other header fields we do not interpret, kept verbatim. */
  extraHeader: string[];
  /** Sorted by uid. */
  records: UidRecord[];
}

export function newUidList(now = Date.now()): UidList {
  return {
    validity: Math.floor(now / 1000) >>> 0,
    nextUid: 1,
    guid: crypto.randomBytes(16).toString('hex'),
    extraHeader: [],
    records: [],
  };
}

/** Parses a uidlist; undefined when the text is not one (dovecot then rebuilds it, and so do we). */
export function parseUidList(text: string): UidList | undefined {
  const lines = text.split('\n');
  const header = lines[0]?.split(' ') ?? [];
  const list: UidList = { validity: 0, nextUid: 1, guid: '', extraHeader: [], records: [] };
  let v1 = false;
  if (header[0] === '3') {
    for (const field of header.slice(1)) {
      if (field === '') continue;
      const key = field[0];
      const value = field.slice(1);
      if (key === 'V') list.validity = Number(value);
      else if (key === 'N') list.nextUid = Number(value);
      else if (key === 'G') list.guid = value;
      else list.extraHeader.push(field);
    }
  } else if (header[0] === '1' && header.length >= 3) {
    v1 = true;
    list.validity = Number(header[1]);
    list.nextUid = Number(header[2]);
  } else return undefined;
  if (!Number.isInteger(list.validity) || list.validity <= 0 || !Number.isInteger(list.nextUid) || list.nextUid < 1) return undefined;
  // Thousands of entries, parsed at every login: plain index scans, no per-line split/slice chains.
  let last = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const sp = line.indexOf(' ');
    if (sp <= 0) return undefined;
    const uid = parseDigits(line, 0, sp);
    if (uid <= last) return undefined;
    last = uid;
    const ext: Array<[string, string]> = [];
    let nameAt = sp + 1;
    if (!v1) {
      const colon = line.indexOf(':', sp + 1);
      if (colon < 0) return undefined;
      // ` W2048 S2040 :name`: fields between the uid and the colon
      let at = sp + 1;
      while (at < colon) {
        let end = line.indexOf(' ', at);
        if (end < 0 || end > colon) end = colon;
        if (end > at) ext.push([line[at]!, line.slice(at + 1, end)]);
        at = end + 1;
      }
      nameAt = colon + 1;
    }
    list.records.push({ uid, base: baseOf(line.slice(nameAt)), ext });
  }
  if (list.nextUid <= last) list.nextUid = last + 1;
  return list;
}

export function serializeUidList(list: UidList): string {
  const head = ['3', `V${list.validity}`, `N${list.nextUid}`, `G${list.guid}`, ...list.extraHeader].join(' ');
  let text = `${head}\n`;
  for (const r of list.records) {
    const ext = r.ext.map(([k, v]) => ` ${k}${v}`).join('');
    text += `${r.uid}${ext} :${r.base}\n`;
  }
  return text;
}

/** A non-negative decimal integer spanning text[from, to); -1 when it is not one. */
function parseDigits(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The POP3 UIDL dovecot shows with `pop3_uidl_format = %08Xu%08Xv` (its %X prints lower-case hex). */
export function uidl(uid: number, validity: number): string {
  return hex8(uid) + hex8(validity);
}

/** `%08x` (the UIDVALIDITY half is the same for a whole mailbox: callers may compute it once). */
export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** A held dotlock (`dotlock` below). */
export interface DotLock {
  /** Replaces the locked file with `text` (written into the lock file, fsynced, renamed over it). */
  commit(text: string): Promise<void>;
  /** Drops the lock without changing the file. */
  release(): Promise<void>;
}

/** Takes dovecot's uidlist dotlock in `maildir`, waiting for another holder; breaks a stale one. */
export function lockUidList(maildir: string, waitMs = UIDLIST_LOCK_WAIT_MS): Promise<DotLock> {
  return dotlock(maildir, UIDLIST_NAME, UIDLIST_LOCK_STALE_MS, waitMs);
}

/**
 * dovecot's dotlock for replacing `dir/name` (file-dotlock.c with DOTLOCK_CREATE: the uidlist,
 * the subscriptions): `name.lock` made with O_EXCL, the new content written into it, fsynced and
 * renamed over the file. A lock older than `staleMs` is broken; another holder is waited for.
 */
export async function dotlock(dir: string, name: string, staleMs: number, waitMs: number): Promise<DotLock> {
  const lockPath = path.join(dir, `${name}.lock`);
  const deadline = Date.now() + waitMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await fs.promises.open(lockPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      let held = true;
      const release = async () => {
        if (!held) return;
        held = false;
        await fh.close().catch(() => {});
        await fs.promises.unlink(lockPath).catch(() => {});
      };
      return {
        release,
        async commit(text) {
          try {
            await fh.writeFile(text);
            // Running as root on a Maildir owned by its user: give the file to that user, so
            // dovecot (which runs as the mail user) can read and replace it.
            const owner = await fs.promises.stat(dir);
            if (process.getuid?.() === 0 && owner.uid !== 0) await fh.chown(owner.uid, owner.gid);
            await fh.sync();
            await fh.close();
            await fs.promises.rename(lockPath, path.join(dir, name));
            held = false;
          } finally {
            if (held) await release();
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await fs.promises.stat(lockPath).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > staleMs) {
      await fs.promises.unlink(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}
