// The console's view of every user's Maildir. The Maildir stays the store of truth (the files
// our SMTP writes, dovecot and our POP3 read); this is a cache of the header fields the list
// shows, keyed by the message's unique Maildir name, rebuilt from the files at any time:
// - a Maildir name never changes for a message except for its info part after ":" (the
//   flags, Maildir spec "What can I do with the message?"), and the file's content never
//   changes, so a cached entry is valid as long as a file with that unique name exists;
// - the cache is saved to <paths.data>/console/index-<user>.json so a restart of a console
//   over a 100,000-message mailbox reads one JSON file instead of 100,000 message heads;
// - changes are seen with fs.watch on new/ and cur/ (inotify) and, as a safety net, a rescan
//   every RESCAN_MS; each scan is one readdir of each directory and a diff by name.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { baseOf, hasFlag, nameTime, sizeOf } from '@sstt/maildir';
import { maildirOf, type Scenario } from '@sstt/scenario';
import type { IndexChange, MessageSummary } from './api/schemas.ts';
import { summarizeHeaders } from './headers.ts';
import { startWorker } from './workers.ts';

/** Bytes of a message read to build its summary (the header block and the first parts). */
export const HEAD_BYTES = 16 * 1024;
export const RESCAN_MS = 5000;
/** How often a changed mailbox's cache is written. */
export const SAVE_MS = 30_000;
const WATCH_DEBOUNCE_MS = 40;
/** Index format; a cache of another version is ignored. */
const CACHE_VERSION = 4;
/** Distinct address strings shared per mailbox. */
const INTERN_MAX = 50_000;

// The summary of a message (id, Maildir file, header fields) and the index's changes are
// declared with the API (api/schemas.ts): they are what the list and the event stream send.
export type { IndexChange, MessageSummary };

/**
 * What the index keeps per message: the summary without its id (derived from user and key when
 * the message leaves the index) plus lower-case copies for search. Memory matters at 100,000
 * messages: every string is a flat copy (a substring of the 16 kB head read would keep the whole
 * head alive), a lower-case copy equal to its original is the original, and `user` is the
 * mailbox's own string.
 */
interface Entry extends Omit<MessageSummary, 'id'> {
  lcFrom: string;
  lcTo: string;
  lcSubject: string;
}

export function messageId(user: string, key: string): string {
  return Buffer.from(`${user}/${key}`, 'utf8').toString('base64url');
}

export function parseMessageId(id: string): { user: string; key: string } | undefined {
  if (!/^[A-Za-z0-9_-]{4,400}$/.test(id)) return undefined;
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  const key = text.slice(slash + 1);
  // A Maildir name never holds "/" and never starts with "." (Maildir spec).
  if (!key || key.includes('/') || key.startsWith('.') || key.includes('\0')) return undefined;
  return { user: text.slice(0, slash), key };
}

export function publicSummary(e: Omit<MessageSummary, 'id'>): MessageSummary {
  const { lcFrom: _a, lcTo: _b, lcSubject: _c, ...rest } = e as Entry;
  return { id: messageId(e.user, e.key), ...rest };
}

/** A flat copy of a string (V8 keeps substrings as slices of their parent). */
const own = (s: string) => (s.length > 12 ? Buffer.from(s, 'utf8').toString('utf8') : s);
const lower = (s: string) => {
  const l = s.toLowerCase();
  return l === s ? s : l;
};

/**
 * The entry as one object literal: every entry has the same hidden class (a spread of an object
 * built key by key can leave V8 with a dictionary-mode object, three times the size). Values that
 * repeat across a mailbox (the addresses) are shared through `intern`.
 */
function withSearch(m: Omit<MessageSummary, 'id'>, user: string, intern: (s: string) => string): Entry {
  const c = own;
  const e: Entry = {
    user,
    key: c(m.key),
    file: c(m.file),
    time: m.time,
    size: m.size,
    seen: m.seen,
    from: intern(m.from),
    to: intern(m.to),
    cc: intern(m.cc),
    subject: c(m.subject),
    date: m.date,
    messageId: c(m.messageId),
    smtpId: c(m.smtpId),
    attachments: m.attachments,
    auth: m.auth,
    lcFrom: '',
    lcTo: '',
    lcSubject: '',
  };
  e.lcFrom = intern(lower(e.from));
  e.lcTo = intern(e.cc ? `${e.to} ${e.cc}`.toLowerCase() : lower(e.to));
  e.lcSubject = lower(e.subject);
  return e;
}

/** The cache holds rows of these fields (arrays: a third of the size of objects in JSON). */
const CACHE_FIELDS = ['key', 'file', 'time', 'size', 'seen', 'from', 'to', 'cc', 'subject', 'date', 'messageId', 'smtpId', 'attachments', 'auth'] as const;

/** Seen: a message in cur/ whose name has the S flag (Maildir spec). */
const seenOf = (sub: 'new' | 'cur', name: string) => sub === 'cur' && hasFlag(name, 'S');

class Mailbox {
  /** Newest first. */
  entries: Entry[] = [];
  byKey = new Map<string, Entry>();
  private readonly headBuf = Buffer.allocUnsafe(HEAD_BYTES);
  private watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** The inode and mtime of new/ and cur/ at the last scan. */
  private lastStamp = '';
  /** One copy of each address string of the mailbox (bounded: past INTERN_MAX, no sharing). */
  private readonly interned = new Map<string, string>();
  private readonly intern = (s: string): string => {
    if (s.length <= 12) return s;
    const hit = this.interned.get(s);
    if (hit !== undefined) return hit;
    const copy = own(s);
    if (this.interned.size < INTERN_MAX) this.interned.set(copy, copy);
    return copy;
  };

  constructor(
    readonly user: string,
    readonly dir: string,
    private readonly cacheFile: string,
    private readonly emit: (c: IndexChange) => void,
    /** Our mail server's authserv-id: whose Authentication-Results the index summarizes. */
    private readonly authservId = '',
  ) {}

  get unread(): number {
    let n = 0;
    for (const e of this.entries) if (!e.seen) n += 1;
    return n;
  }

  loadCache(): void {
    try {
      // One JSON line per message, parsed one at a time from the file's bytes: reading a
      // 100,000-message cache never holds the whole text as one string.
      const buf = fs.readFileSync(this.cacheFile);
      let start = buf.indexOf(10) + 1;
      const head = JSON.parse(buf.toString('utf8', 0, start)) as { version: number; fields: string[] };
      if (head.version !== CACHE_VERSION || head.fields.join() !== CACHE_FIELDS.join()) return;
      while (start < buf.length) {
        let end = buf.indexOf(10, start);
        if (end < 0) end = buf.length;
        const row = JSON.parse(buf.toString('utf8', start, end)) as unknown[];
        start = end + 1;
        const m = Object.fromEntries(CACHE_FIELDS.map((f, i) => [f, row[i]])) as unknown as Omit<MessageSummary, 'id'>;
        const e = withSearch(m, this.user, this.intern);
        this.byKey.set(e.key, e);
      }
    } catch {
      // no cache or a damaged one: it is rebuilt from the files
    }
  }

  saveCache(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.cacheFile}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.cacheFile), { recursive: true });
      const fd = fs.openSync(tmp, 'w');
      try {
        let out = `${JSON.stringify({ version: CACHE_VERSION, fields: CACHE_FIELDS })}\n`;
        for (const e of this.entries) {
          out += `${JSON.stringify(CACHE_FIELDS.map((f) => e[f]))}\n`;
          if (out.length > 1 << 20) {
            fs.writeSync(fd, out);
            out = '';
          }
        }
        fs.writeSync(fd, out);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.cacheFile);
    } catch {
      // the cache is an optimisation; the next start rebuilds it
    }
  }

  private summarize(sub: 'new' | 'cur', name: string): Entry | undefined {
    const file = path.join(this.dir, sub, name);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return undefined; // gone between readdir and open (taken by POP3)
    }
    try {
      const n = fs.readSync(fd, this.headBuf, 0, HEAD_BYTES, 0);
      const st = fs.fstatSync(fd);
      const key = baseOf(name);
      const delivered = nameTime(key);
      const h = summarizeHeaders(this.headBuf, n, this.authservId);
      return withSearch(
        {
          ...h,
          user: this.user,
          key,
          file: `${sub}/${name}`,
          time: delivered ? delivered.secs * 1000 + delivered.usecs / 1000 : st.mtimeMs,
          // dovecot's S= field, else the file's size
          size: sizeOf(name, 'S') ?? st.size,
          seen: seenOf(sub, name),
        },
        this.user,
        this.intern,
      );
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** One readdir of new/ and cur/, diffed against the index. `quiet` emits no changes. */
  scan(quiet = false): void {
    // A directory's mtime changes with every file added, removed or renamed in it: when neither
    // new/ nor cur/ changed since the last scan there is nothing to read (a 100,000-message
    // mailbox is not listed every RESCAN_MS for nothing). A change in the last second is scanned
    // anyway (two changes within one timestamp tick).
    const stamp = ['new', 'cur']
      .map((sub) => {
        try {
          const st = fs.statSync(path.join(this.dir, sub));
          return `${st.ino}:${st.mtimeMs}`;
        } catch {
          return '-';
        }
      })
      .join(' ');
    const recent = ['new', 'cur'].some((_, i) => Date.now() - Number(stamp.split(' ')[i]!.split(':')[1] ?? 0) < 1000);
    if (stamp === this.lastStamp && !recent) return;
    this.lastStamp = stamp;
    const present = new Map<string, { sub: 'new' | 'cur'; name: string }>();
    for (const sub of ['new', 'cur'] as const) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(path.join(this.dir, sub));
      } catch {
        // no Maildir yet: an empty mailbox
      }
      for (const name of names) if (!name.startsWith('.')) present.set(baseOf(name), { sub, name });
    }
    let added = false;
    for (const [key, { sub, name }] of present) {
      const old = this.byKey.get(key);
      const file = `${sub}/${name}`;
      if (old && old.file === file) continue;
      if (old) {
        old.file = file;
        old.seen = seenOf(sub, name);
        this.dirty = true;
        if (!quiet) this.emit({ type: 'message.update', user: this.user, message: publicSummary(old) });
        continue;
      }
      const e = this.summarize(sub, name);
      if (!e) continue;
      this.byKey.set(key, e);
      this.dirty = true;
      added = true;
      if (!quiet) this.emit({ type: 'message.new', user: this.user, message: publicSummary(e) });
    }
    let removed = false;
    for (const [key, e] of this.byKey) {
      if (present.has(key)) continue;
      this.byKey.delete(key);
      removed = true;
      this.dirty = true;
      if (!quiet) this.emit({ type: 'message.delete', user: this.user, id: messageId(this.user, e.key) });
    }
    if (added || removed || this.entries.length !== this.byKey.size) {
      this.entries = [...this.byKey.values()].sort((a, b) => b.time - a.time);
    }
  }

  watch(): void {
    const kick = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.scan(), WATCH_DEBOUNCE_MS);
    };
    for (const sub of ['new', 'cur']) {
      try {
        const w = fs.watch(path.join(this.dir, sub), kick);
        w.on('error', () => {});
        this.watchers.push(w);
      } catch {
        // the Maildir does not exist yet: the periodic rescan finds it once it does
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}

export interface MailIndex extends EventEmitter<{ change: [IndexChange] }> {
  users(): string[];
  mailbox(user: string): { entries: IndexedEntry[]; unread: number; dir: string } | undefined;
  get(id: string): MessageSummary | undefined;
  /** The absolute file of a message (looked up again if it was renamed meanwhile). */
  pathOf(m: MessageSummary): string;
  /** Scans now (after the console itself changed a Maildir). */
  rescan(user: string): void;
  close(): void;
}

/** A mailbox with no cache and at least this many files is first indexed in a worker thread. */
export const WORKER_MIN_MESSAGES = 2000;

/** Indexes one mailbox and writes its cache (what the worker does; also usable in-thread). */
export function buildMailboxCache(o: { user: string; dir: string; cacheFile: string; authservId: string }): number {
  const b = new Mailbox(o.user, o.dir, o.cacheFile, () => {}, o.authservId);
  b.loadCache();
  b.scan(true);
  b.saveCache();
  return b.entries.length;
}

/**
 * The first start over a large mailbox: its index is built in a worker thread, which writes the
 * cache and exits. Reading 100,000 message heads allocates far more than the index keeps, and V8
 * gives a grown heap back only lazily; a worker's heap goes away with the worker, so the console
 * itself only ever reads the compact cache. A failed worker leaves the job to openMailIndex.
 */
export async function prebuildCaches(s: Scenario, opts: { cacheDir?: string; workerMin?: number } = {}): Promise<void> {
  const cacheDir = opts.cacheDir ?? path.join(s.paths.data, 'console');
  for (const u of s.users) {
    const cacheFile = path.join(cacheDir, `index-${u.name}.json`);
    if (fs.existsSync(cacheFile)) continue;
    const dir = maildirOf(s, u.name);
    let n = 0;
    for (const sub of ['new', 'cur']) {
      try {
        n += fs.readdirSync(path.join(dir, sub)).length;
      } catch {
        // no Maildir yet
      }
    }
    if (n < (opts.workerMin ?? WORKER_MIN_MESSAGES)) continue;
    await new Promise<void>((resolve) => {
      const w = startWorker('index-worker', { user: u.name, dir, cacheFile, authservId: s.mail.auth.authservId });
      w.once('error', () => resolve());
      w.once('exit', () => resolve());
    });
  }
}

export function openMailIndex(s: Scenario, opts: { cacheDir?: string; rescanMs?: number } = {}): MailIndex {
  const cacheDir = opts.cacheDir ?? path.join(s.paths.data, 'console');
  const events = new EventEmitter<{ change: [IndexChange] }>();
  events.setMaxListeners(0);
  const boxes = new Map<string, Mailbox>();
  for (const u of s.users) {
    const box = new Mailbox(u.name, maildirOf(s, u.name), path.join(cacheDir, `index-${u.name}.json`), (c) => events.emit('change', c), s.mail.auth.authservId);
    box.loadCache();
    box.scan(true);
    box.saveCache();
    box.watch();
    boxes.set(u.name, box);
  }
  const rescan = setInterval(() => {
    for (const b of boxes.values()) b.scan();
  }, opts.rescanMs ?? RESCAN_MS);
  rescan.unref();
  // The cache is rewritten whole, so not after every delivery: a mailbox that changed is saved
  // every SAVE_MS and at close (a crash in between costs a few heads read again at the next start).
  const save = setInterval(() => {
    for (const b of boxes.values()) b.saveCache();
  }, SAVE_MS);
  save.unref();

  return Object.assign(events, {
    users: () => [...boxes.keys()],
    mailbox(user: string) {
      const b = boxes.get(user);
      return b ? { entries: b.entries, unread: b.unread, dir: b.dir } : undefined;
    },
    get(id: string) {
      const p = parseMessageId(id);
      if (!p) return undefined;
      const e = boxes.get(p.user)?.byKey.get(p.key);
      return e ? publicSummary(e) : undefined;
    },
    pathOf(m: MessageSummary) {
      const b = boxes.get(m.user)!;
      const e = b.byKey.get(m.key);
      return path.join(b.dir, e ? e.file : m.file);
    },
    rescan(user: string) {
      boxes.get(user)?.scan();
    },
    close() {
      clearInterval(rescan);
      clearInterval(save);
      for (const b of boxes.values()) {
        b.close();
        b.saveCache();
      }
    },
  }) as MailIndex;
}

/** Entries for the search module (with their lower-case fields). */
export type IndexedEntry = Entry;
