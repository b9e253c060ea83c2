// A user's Maildir++ as IMAP (apps/mail) and the console see it, with dovecot's own files so that
// dovecot's IMAP and POP3 and ours show the same messages, UIDs and flags (https://doc.dovecot.org/admin_manual/
// mailbox_formats/maildir/): UIDs and UIDVALIDITY in each folder's dovecot-uidlist, system
// flags as the name's letters (D \Draft, F \Flagged, R \Answered, S \Seen, T \Deleted),
// keywords as letters a..z indexing dovecot-keywords, subscriptions in `subscriptions`.
// Every change to a folder's list happens under dovecot's uidlist lock.
import fs from 'node:fs';
import path from 'node:path';
import { KEYWORDS_FILE, keywordIndex, keywordLetter, MAX_KEYWORDS, parseKeywords, serializeKeywords } from './keywords.ts';
import { ensureFolder, ensureMaildir, folderDir, folderOf, INBOX, isFolderName, SPECIAL_USE } from './layout.ts';
import { baseOf, curName, flagsOf, sizeOf, sortNames, uniqueName, withFlags, withSizes } from './name.ts';
import { advanceModSeqs, MODSEQ_FILE, readModSeqs, writeModSeqsAside, type ModSeqs } from './modseq.ts';
import { dotlock, lockUidList, newUidList, parseUidList, serializeUidList, UIDLIST_NAME, type UidList } from './uidlist.ts';

/** Synchronous file-system calls per batch before a sync yields to the event loop (other sessions). */
const SYNC_BATCH = 128;

/**
 * Runs cheap synchronous work (a rename, a few-KiB read from the page cache) item by item,
 * yielding between batches: for thousands of new messages this is several times faster than one
 * thread-pool round trip per call, and other sessions still get their turn.
 */
export async function inBatches<T>(items: readonly T[], work: (item: T) => void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SYNC_BATCH === 0) await new Promise((r) => setImmediate(r));
    work(items[i]!);
  }
}

/** IMAP system flags and their Maildir letters (RFC 9051 §2.3.2; the Maildir spec's info), in the order dovecot lists them. */
export const SYSTEM_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['\\Answered', 'R'],
  ['\\Flagged', 'F'],
  ['\\Deleted', 'T'],
  ['\\Seen', 'S'],
  ['\\Draft', 'D'],
];
const LETTER_OF = new Map(SYSTEM_FLAGS.map(([f, l]) => [f.toLowerCase(), l]));
const FLAG_OF = new Map(SYSTEM_FLAGS.map(([f, l]) => [l, f]));

export interface StoredMessage {
  uid: number;
  base: string;
  /** Its file name in cur/ now. */
  name: string;
  /** RFC 7162 MODSEQ: the mod-sequence of its last change (modseq.ts); 0 when the folder has none (NOMODSEQ). */
  modseq: number;
}

export interface FolderState {
  validity: number;
  nextUid: number;
  /** Shared with the sync cache: a caller that keeps or changes them copies them first. */
  messages: ReadonlyArray<Readonly<StoredMessage>>;
  /** RFC 7162 HIGHESTMODSEQ; undefined when the folder's mod-sequences cannot be kept (NOMODSEQ). */
  highestModSeq: number | undefined;
}

/**
 * Running as root on a Maildir owned by its user (the tests; a lab run as root): what we create
 * is given to that user, so that dovecot, which runs as the mail user, can read and replace it
 * (as the uidlist's commit does in @sstt/maildir).
 */
async function giveToOwner(owner: string, ...paths: string[]): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const st = await fs.promises.stat(owner);
  if (st.uid === 0) return;
  for (const p of paths) await fs.promises.chown(p, st.uid, st.gid);
}

/** A folder of the Maildir, created with its maildirfolder mark, owned as the Maildir is. */
export async function createFolder(maildir: string, name: string): Promise<void> {
  const dir = await ensureFolder(maildir, name);
  await giveToOwner(maildir, dir, ...['tmp', 'new', 'cur', 'maildirfolder'].map((n) => path.join(dir, n)));
}

async function listOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await fs.promises.readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * What the previous sync of a folder read, kept so that the next one skips what has not
 * changed (dovecot keeps the same in its index):
 * - the parsed dovecot-uidlist, valid while the file is the same file: dovecot and we replace
 *   it by rename under the lock we hold, so a new version is a new inode (size and times are
 *   compared too);
 * - the listing of cur/, valid while the directory's mtime has not moved, and only kept when
 *   that mtime was already STABLE_DIR_MS old at the listing: a change in the same clock tick as
 *   an earlier one would not move it (dovecot's maildir sync follows the same rule).
 * Entries are never mutated.
 */
export interface FolderCacheEntry {
  uidKey?: string;
  list?: Readonly<UidList>;
  curKey?: string;
  files?: ReadonlyMap<string, string>;
  /** The folder's mod-sequences (modseq.ts) while its file is the same file. */
  modKey?: string;
  mods?: ModSeqs;
  /** What `mods` was last compared with: the cur/ listing (the cached object) and the uidlist's version. */
  modFor?: ReadonlyMap<string, string>;
  modUidKey?: string;
  /**
   * The last sync's result, with the versions it was read from (the uidlist, cur/ while its
   * listing is the cached one, the mod-sequence file): while they are the same and new/ is empty,
   * the next sync is that result again, without the lock, the listing or the comparison (dovecot
   * answers a quiet mailbox from its index in the same way, after a stat of each directory).
   */
  last?: { state: FolderState; uidKey: string; curKey: string; modKey: string | undefined };
  /** The sync of this folder running now, and the one that will run after it for everyone who asked meanwhile. */
  running?: Promise<FolderState>;
  queued?: Promise<FolderState>;
}
const MAX_CACHED_FOLDERS = 256;
const STABLE_DIR_MS = 1000;

/**
 * One server's sync cache, by folder directory, bounded (the oldest goes first). A server creates
 * its own, or main.ts gives one to both listeners of a protocol (STYLE §25: state belongs to the
 * handle, so two servers in one process never share it and closing one leaves the other's alone).
 */
export class FolderCache {
  private readonly entries = new Map<string, FolderCacheEntry>();

  constructor(private readonly max = MAX_CACHED_FOLDERS) {}

  /** Whether the last sync of `dir` is remembered. */
  has(dir: string): boolean {
    return this.entries.has(dir);
  }

  /** The entry of a folder (a new one, dropping the oldest past the bound). */
  of(dir: string): FolderCacheEntry {
    let c = this.entries.get(dir);
    if (!c) {
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      c = {};
      this.entries.set(dir, c);
    }
    return c;
  }

  /** Forgets what a sync read (a folder changed behind the server's back in the same tick), or everything. */
  forget(dir?: string): void {
    if (dir === undefined) this.entries.clear();
    else this.entries.delete(dir);
  }
}

/** Identity of a file or directory version; undefined when it does not exist. */
export async function versionOf(file: string): Promise<{ key: string; ino: bigint; mtimeMs: number } | undefined> {
  try {
    const st = await fs.promises.stat(file, { bigint: true });
    return { key: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, ino: st.ino, mtimeMs: Number(st.mtimeNs / 1_000_000n) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The uidlist as it is on disk (parsed, or from the cache when the file has not changed); a copy the caller may change. */
export async function readUidListCached(dir: string, cache: FolderCacheEntry): Promise<UidList | undefined> {
  const file = path.join(dir, UIDLIST_NAME);
  const v = await versionOf(file);
  if (!v) return undefined;
  if (cache.list && cache.uidKey === v.key) return { ...cache.list, extraHeader: [...cache.list.extraHeader] };
  const text = await fs.promises.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const parsed = text === undefined ? undefined : parseUidList(text);
  cache.list = parsed;
  cache.uidKey = parsed ? v.key : undefined;
  return parsed && { ...parsed, extraHeader: [...parsed.extraHeader] };
}

/** base name -> file name in cur/ (from the cache while cur/ has not changed); the caller copies it before a change. */
export async function listCurCached(cur: string, cache: FolderCacheEntry): Promise<ReadonlyMap<string, string>> {
  const v = await versionOf(cur);
  if (v && cache.files && cache.curKey === v.key) return cache.files;
  const files = new Map<string, string>();
  for (const name of await listOrEmpty(cur)) files.set(baseOf(name), name);
  const stable = v !== undefined && Date.now() - v.mtimeMs > STABLE_DIR_MS;
  cache.files = stable ? files : undefined;
  cache.curKey = stable ? v.key : undefined;
  return files;
}

/**
 * Synchronises a folder with its dovecot-uidlist (under the lock): new/ moves to cur/, files
 * without a UID get one in dovecot's order, then `appended` (files just put in cur/, in that
 * order: APPEND, COPY, MOVE, so that their UIDs follow the order of the source). `cache`: what
 * the last sync read (a large folder's second SELECT reads two stats instead of its listing).
 */
export function syncFolder(dir: string, appended: readonly string[] = [], cache?: FolderCache): Promise<FolderState> {
  if (!cache || appended.length > 0) return syncOnce(dir, appended, cache?.of(dir) ?? {});
  // One sync of a folder at a time per server, and one more for all who ask while it runs (it
  // starts after their call, so it sees what they saw): 200 clients selecting one mailbox at once
  // made one sync each, all waiting on one another for the uidlist lock (4 s for 132 of them).
  const c = cache.of(dir);
  if (c.queued) return c.queued;
  const start = (): Promise<FolderState> => {
    const p = syncOnce(dir, appended, c).finally(() => {
      if (c.running === p) c.running = undefined;
    });
    c.running = p;
    return p;
  };
  if (!c.running) return start();
  const next = c.running
    .catch(() => undefined)
    .then(() => {
      c.queued = undefined;
      return start();
    });
  c.queued = next;
  return next;
}

async function syncOnce(dir: string, appended: readonly string[], c: FolderCacheEntry): Promise<FolderState> {
  if (c.last && appended.length === 0 && (await unchangedSince(dir, c.last))) return c.last.state;
  c.last = undefined;
  const lock = await lockUidList(dir);
  try {
    const parsed = await readUidListCached(dir, c);
    const list = parsed ?? newUidList();
    let changed = parsed === undefined;
    const cur = path.join(dir, 'cur');
    // The cur/ listing (perhaps the cached one, never changed) and what this sync moved in from
    // new/ beside it: a 2,000-message folder is not copied for the one message a delivery adds.
    const listed = await listCurCached(cur, c);
    const movedIn = new Map<string, string>();
    const nameOf = (base: string) => movedIn.get(base) ?? listed.get(base);
    const arrived = await listOrEmpty(path.join(dir, 'new'));
    const moved = arrived.length > 0;
    // Synchronous renames in batches: one thread-pool round trip each made the first SELECT of
    // 100,000 delivered messages take 4.8 s (dovecot's: 1.9 s).
    await inBatches(arrived, (name) => {
      const target = curName(name);
      try {
        fs.renameSync(`${dir}/new/${name}`, `${cur}/${target}`);
        movedIn.set(baseOf(name), target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // another reader moved it first
      }
    });
    const records = list.records.filter((r) => nameOf(r.base) !== undefined);
    if (records.length !== list.records.length) changed = true;
    // A base is in `listed`, in `movedIn`, or in both (a file in new/ and cur/ at once): every file
    // has its record when the records are as many as the distinct bases, and none is looked for.
    const onlyMoved = [...movedIn.keys()].filter((b) => !listed.has(b));
    if (records.length < listed.size + onlyMoved.length) {
      const known = new Set(records.map((r) => r.base));
      const late = new Set(appended);
      const fresh = sortNames([...listed.keys(), ...onlyMoved].filter((b) => !known.has(b) && !late.has(b)));
      for (const base of [...fresh, ...appended.filter((b) => nameOf(b) !== undefined && !known.has(b))]) {
        records.push({ uid: list.nextUid++, base, ext: [] });
        changed = true;
      }
    }
    list.records = records;
    const messages = records.map((r) => ({ uid: r.uid, base: r.base, name: nameOf(r.base)!, modseq: 0 }));
    // The same uidlist, cur/ listing (the cached one) and modseq file as the last sync: nothing to compare.
    const same = !moved && !changed && c.modFor === listed && c.modUidKey === c.uidKey && c.uidKey !== undefined;
    const mods = await syncModSeqs(dir, list.validity, messages, c, same);
    c.modFor = listed;
    c.modUidKey = c.uidKey;
    if (changed) {
      c.list = c.uidKey = undefined;
      await lock.commit(serializeUidList(list));
    }
    if (mods) for (const m of messages) m.modseq = mods.byUid.get(m.uid)!.modseq;
    const state: FolderState = { validity: list.validity, nextUid: list.nextUid, messages, highestModSeq: mods?.highest };
    // Kept when this sync read the folder as it stays: nothing moved or written, cur/'s listing
    // the cached (stable) one.
    if (!moved && !changed && c.files === listed && c.uidKey !== undefined && c.curKey !== undefined)
      c.last = { state, uidKey: c.uidKey, curKey: c.curKey, modKey: c.modKey };
    return state;
  } finally {
    await lock.release();
  }
}

/** Whether the folder is as `last` read it: the same uidlist, cur/ and mod-sequence file, nothing in new/ (four looks at once). */
async function unchangedSince(dir: string, last: NonNullable<FolderCacheEntry['last']>): Promise<boolean> {
  const [uid, cur, mod, fresh] = await Promise.all([
    versionOf(path.join(dir, UIDLIST_NAME)),
    versionOf(path.join(dir, 'cur')),
    versionOf(path.join(dir, MODSEQ_FILE)).catch(() => undefined),
    listOrEmpty(path.join(dir, 'new')),
  ]);
  return uid?.key === last.uidKey && cur?.key === last.curKey && mod?.key === last.modKey && fresh.length === 0;
}

/**
 * The folder's mod-sequences brought up to what is there now (modseq.ts), written when they moved;
 * called under the uidlist lock. Undefined when the file cannot be read or replaced (a directory
 * in its place, a read-only folder): the folder is then NOMODSEQ (RFC 7162 §3.1.2.2), and IMAP
 * goes on without CONDSTORE on it. `sameAsLastSync`: the folder is as the last sync read it (the
 * same uidlist and cached cur/ listing), so the file, if it is still ours, needs no comparison.
 */
async function syncModSeqs(
  dir: string,
  validity: number,
  messages: ReadonlyArray<{ uid: number; name: string }>,
  c: FolderCacheEntry,
  sameAsLastSync: boolean,
): Promise<ModSeqs | undefined> {
  const file = path.join(dir, MODSEQ_FILE);
  try {
    const v = await versionOf(file);
    let prev = c.mods && v && c.modKey === v.key ? c.mods : undefined;
    if (prev && sameAsLastSync) return prev;
    if (!prev && v) prev = await readModSeqs(dir);
    const { next, changed } = advanceModSeqs(prev, validity, messages);
    if (changed) {
      c.mods = c.modKey = undefined;
      const tmp = await writeModSeqsAside(dir, next);
      await giveToOwner(dir, tmp);
      await fs.promises.rename(tmp, file);
    }
    const now = changed ? await versionOf(file) : v;
    c.mods = now ? next : undefined;
    c.modKey = now?.key;
    return next;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** A folder's keyword names by index (dovecot-keywords). */
export async function readKeywords(dir: string): Promise<Array<string | undefined>> {
  const text = await fs.promises.readFile(path.join(dir, KEYWORDS_FILE), 'utf8').catch(() => '');
  return parseKeywords(text);
}

/** Letters for `keywords`, adding the ones the folder does not know (under the uidlist lock); undefined past 26. */
export async function keywordLetters(dir: string, keywords: readonly string[]): Promise<Map<string, string> | undefined> {
  let names = await readKeywords(dir);
  const find = (k: string) => names.findIndex((n) => n !== undefined && n.toLowerCase() === k.toLowerCase());
  if (keywords.some((k) => find(k) < 0)) {
    const lock = await lockUidList(dir);
    try {
      names = await readKeywords(dir);
      for (const k of keywords) {
        if (find(k) >= 0) continue;
        let free = names.indexOf(undefined);
        if (free < 0) free = names.length;
        if (free >= MAX_KEYWORDS) return undefined;
        names[free] = k;
      }
      const tmp = path.join(dir, `${KEYWORDS_FILE}.tmp`);
      await fs.promises.writeFile(tmp, serializeKeywords(names));
      await giveToOwner(dir, tmp);
      await fs.promises.rename(tmp, path.join(dir, KEYWORDS_FILE));
    } finally {
      await lock.release();
    }
  }
  return new Map(keywords.map((k) => [k.toLowerCase(), keywordLetter(find(k))]));
}

/** The IMAP flags of a file name (system flags, then its keywords by name). */
export function flagsOfName(name: string, keywords: ReadonlyArray<string | undefined>): string[] {
  const letters = flagsOf(name);
  const out: string[] = [];
  for (const [f, l] of SYSTEM_FLAGS) if (letters.includes(l)) out.push(f);
  for (const l of letters) {
    const i = keywordIndex(l);
    const k = i === undefined ? undefined : keywords[i];
    if (k) out.push(k);
  }
  return out;
}

/**
 * The letters of a flag list (system flags and keywords, through `letters` from keywordLetters);
 * undefined when a flag is \Recent or another \-flag we cannot store.
 */
export function lettersOf(flags: readonly string[], letters: ReadonlyMap<string, string>): string | undefined {
  let out = '';
  for (const f of flags) {
    const l = f.startsWith('\\') ? LETTER_OF.get(f.toLowerCase()) : letters.get(f.toLowerCase());
    if (l === undefined) return undefined;
    out += l;
  }
  return out;
}

/** Letters that are neither a system flag nor a keyword (P, dovecot's others): kept as they are. */
export function otherLetters(name: string): string {
  return [...flagsOf(name)].filter((l) => !FLAG_OF.has(l) && keywordIndex(l) === undefined).join('');
}

/** Renames a message to carry `letters`; follows a rename by someone else once. Returns the new name, or undefined if it is gone. */
export async function setLetters(dir: string, msg: StoredMessage, letters: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const next = withFlags(msg.name, letters);
    if (next === msg.name) return next;
    try {
      await fs.promises.rename(path.join(dir, 'cur', msg.name), path.join(dir, 'cur', next));
      msg.name = next;
      return next;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const found = (await listOrEmpty(path.join(dir, 'cur'))).find((n) => baseOf(n) === msg.base);
      if (!found) return undefined;
      msg.name = found;
    }
  }
  return undefined;
}

/**
 * Puts a message into a folder's cur/ (tmp/ first, fsynced, as a delivery): `content` or a link
 * to (else a copy of) `from`. Returns the new base, to be given to syncFolder.
 */
export async function storeMessage(dir: string, letters: string, src: { content: Buffer; mtimeMs?: number } | { file: string }): Promise<string> {
  await ensureMaildir(dir);
  const unique = uniqueName();
  const tmp = path.join(dir, 'tmp', unique);
  let base: string;
  if ('file' in src) {
    const from = baseOf(path.basename(src.file));
    const s = sizeOf(from, 'S');
    const w = sizeOf(from, 'W');
    base = s !== undefined && w !== undefined ? withSizes(unique, s, w) : unique;
    try {
      await fs.promises.link(src.file, tmp);
    } catch {
      await fs.promises.copyFile(src.file, tmp);
      await giveToOwner(dir, tmp);
    }
  } else {
    const text = src.content;
    let lf = 0;
    for (let i = 0; i < text.length; i++) if (text[i] === 0x0a && (i === 0 || text[i - 1] !== 0x0d)) lf++;
    base = withSizes(unique, text.length, text.length + lf);
    const fh = await fs.promises.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (src.mtimeMs !== undefined) await fs.promises.utimes(tmp, src.mtimeMs / 1000, src.mtimeMs / 1000);
    await giveToOwner(dir, tmp);
  }
  await fs.promises.rename(tmp, path.join(dir, 'cur', withFlags(`${base}:2,`, letters)));
  return base;
}

export interface FolderInfo {
  /** The IMAP name: INBOX, or the Maildir++ name ("." is the hierarchy separator). */
  name: string;
  dir: string;
  specialUse: string | undefined;
}

/** INBOX and every folder of the Maildir, in name order (INBOX first). */
export async function listFolders(maildir: string): Promise<FolderInfo[]> {
  const out: FolderInfo[] = [{ name: INBOX, dir: maildir, specialUse: undefined }];
  const entries = await fs.promises.readdir(maildir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const e of entries) {
    const f = e.isDirectory() ? folderOf(e.name) : undefined;
    if (f) names.push(f);
  }
  for (const f of names.sort()) out.push({ name: f, dir: folderDir(maildir, f), specialUse: (SPECIAL_USE as Record<string, string>)[f] });
  return out;
}

/**
 * The special-use folders (RFC 6154), created and subscribed at login when they are not, as
 * dovecot does with `auto = subscribe`: clients that list subscribed folders only (Thunderbird's
 * `LIST (SUBSCRIBED)`) find them.
 */
export async function ensureSpecialFolders(maildir: string): Promise<void> {
  await ensureMaildir(maildir);
  for (const f of Object.keys(SPECIAL_USE)) if (!folderExists(folderDir(maildir, f))) await createFolder(maildir, f);
  const subscribed = await readSubscriptions(maildir);
  const missing = Object.keys(SPECIAL_USE).filter((f) => !subscribed.includes(f));
  if (missing.length > 0) await updateSubscriptions(maildir, (names) => [...names, ...missing.filter((f) => !names.includes(f))]);
}

/** The directory of an IMAP mailbox name, or undefined when the name cannot be a folder. */
export function mailboxDir(maildir: string, name: string): string | undefined {
  if (name.toUpperCase() === INBOX) return maildir;
  return isFolderName(name) ? folderDir(maildir, name) : undefined;
}

/** Whether the folder exists (a directory with cur/). */
export function folderExists(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'cur'));
}

const SUBSCRIPTIONS = 'subscriptions';

/** The subscribed names: dovecot's v2 file ("V\t2", a blank line, names with "\t" between levels) or the old one name per line. */
export async function readSubscriptions(maildir: string): Promise<string[]> {
  const text = await fs.promises.readFile(path.join(maildir, SUBSCRIPTIONS), 'utf8').catch(() => '');
  const lines = text.split('\n');
  if (lines[0] === 'V\t2')
    return lines
      .slice(2)
      .filter((l) => l !== '')
      .map((l) => l.split('\t').join('.'));
  return lines.filter((l) => l !== '');
}

/** dovecot's limits for the subscriptions dotlock (subscription-file.c): stale after 30 s; we wait 10 s for a holder. */
const SUBSCRIPTIONS_LOCK_STALE_MS = 30_000;
const SUBSCRIPTIONS_LOCK_WAIT_MS = 10_000;

/**
 * Changes the subscriptions under dovecot's dotlock (`subscriptions.lock`, replaced by rename, as
 * dovecot writes them): `change` gets the names read under the lock and returns the new list, or
 * the same array for no change. Read, change and write without the lock, two SUBSCRIBEs at once
 * (two sessions, or ours and dovecot's) each wrote its own list and one of the two names was lost.
 */
export async function updateSubscriptions(maildir: string, change: (names: string[]) => readonly string[]): Promise<void> {
  const lock = await dotlock(maildir, SUBSCRIPTIONS, SUBSCRIPTIONS_LOCK_STALE_MS, SUBSCRIPTIONS_LOCK_WAIT_MS);
  try {
    const names = await readSubscriptions(maildir);
    const next = change(names);
    if (next === names) return;
    await lock.commit(`V\t2\n\n${next.map((n) => `${n.split('.').join('\t')}\n`).join('')}`);
  } finally {
    await lock.release();
  }
}

/**
 * Copies messages of the folder `fromDir` into `toDir` (flags and keywords with them, keywords by
 * name through the target's dovecot-keywords) and gives them UIDs there in the order given: the
 * target's UIDVALIDITY and, for each message copied, its new UID (RFC 4315 COPYUID). A message
 * whose file is gone meanwhile is left out (`copied` says which were).
 */
export async function copyMessages(
  fromDir: string,
  messages: readonly StoredMessage[],
  fromKeywords: ReadonlyArray<string | undefined>,
  toDir: string,
): Promise<{ validity: number; copied: StoredMessage[]; uids: number[] }> {
  const bases: string[] = [];
  const copied: StoredMessage[] = [];
  for (const msg of messages) {
    const flags = flagsOfName(msg.name, fromKeywords);
    const letters =
      lettersOf(
        flags,
        (await keywordLetters(
          toDir,
          flags.filter((f) => !f.startsWith('\\')),
        )) ?? new Map(),
      ) ?? '';
    try {
      bases.push(await storeMessage(toDir, letters, { file: path.join(fromDir, 'cur', msg.name) }));
      copied.push(msg);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const st = await syncFolder(toDir, bases);
  const uidOf = new Map(st.messages.map((m) => [m.base, m.uid]));
  return { validity: st.validity, copied, uids: bases.map((b) => uidOf.get(b)!) };
}
