// Durable Maildir delivery (the delivery side: tmp/ -> fsync -> new/ -> fsync(new/)).
//
// Layout and names follow the Maildir spec (https://cr.yp.to/proto/maildir.html) and what
// dovecot's own LDA writes (@sstt/maildir: uniqueName, withSizes):
//   <secs>.M<usecs>P<pid>Q<counter>.<host>,S=<size>,W=<vsize>
// where S= is the size in bytes of the file as stored and W= its "virtual" size, the size with
// every line ending in CRLF, which is what POP3 reports (RFC 1939 §11: sizes are counted with
// CRLF line endings). dovecot reads both from the name instead of stat()ing/reading the file.
//
// LINE ENDINGS: we store messages with CRLF line endings, exactly as they travelled on the
// wire after dot-unstuffing, with any bare LF turned into CRLF. So S= equals W=, a POP3 server
// can report the file size as the message size and stream RETR straight from the file, and
// dovecot (which accepts CRLF Maildir files) shows the same sizes.
//
// DURABILITY: deliver() resolves only after, for every recipient, the file's data is on disk
// (fdatasync), it has been renamed into new/, and new/ itself has been fsynced. A crash at any
// point leaves either the complete file in new/ or nothing there (at worst a stray file in
// tmp/, which the spec says readers ignore and cleaners remove after 36 hours).
// fsyncs of the same new/ directory requested while one is running are merged into the next
// one (group commit): no caller is released before a sync that started after its rename.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ensureMaildir, uniqueName, withSizes } from '@sstt/maildir';

/** Bytes gathered in memory before one write() to the tmp file. */
const WRITE_CHUNK = 256 * 1024;
/** Files left in tmp/ longer than this are removed (Maildir spec: 36 hours). */
export const TMP_MAX_AGE_MS = 36 * 3600 * 1000;

export interface DeliverMeta {
  /** Header lines to put in front of the message (Return-Path, Received), CRLF-terminated. */
  prepend?: string | Buffer;
  /** Refuse (SizeExceededError) a message body larger than this many bytes. */
  maxBytes?: number;
}

export interface Delivered {
  /** The unique base name of the first recipient's file (without the ,S=...,W=... info). */
  id: string;
  /** Absolute paths of the files now in each recipient's new/. */
  files: string[];
  size: number;
}

export class SizeExceededError extends Error {
  override readonly name = 'SizeExceededError';
  constructor(readonly limit: number) {
    super(`message exceeds the size limit of ${limit} bytes`);
  }
}

/** Removes files older than TMP_MAX_AGE_MS from <dir>/tmp (debris of crashes mid-delivery). */
export async function cleanTmp(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await fs.promises.readdir(path.join(dir, 'tmp'));
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = path.join(dir, 'tmp', name);
    try {
      const st = await fs.promises.stat(p);
      if (now - st.mtimeMs > TMP_MAX_AGE_MS) {
        await fs.promises.unlink(p);
        removed += 1;
      }
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

// ---- fsync helpers (callback API: one thread-pool job each, no FileHandle bookkeeping) ----

const fdatasync = (fd: number) => new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
const fsyncFd = (fd: number) => new Promise<void>((res, rej) => fs.fsync(fd, (e) => (e ? rej(e) : res())));

/**
 * Group commit of directory fsyncs: each directory has at most one fsync running; requests
 * arriving meanwhile wait for the next one, which starts when the running one ends. It keeps the
 * directories' descriptors open between deliveries (at most 1024).
 */
class DirSyncer {
  private readonly dirs = new Map<string, { fd: number; running: Promise<void> | undefined; next: Promise<void> | undefined }>();
  private closed = false;

  /** Directory descriptors held now. */
  get size(): number {
    return this.dirs.size;
  }

  sync(dir: string): Promise<void> {
    // A delivery that finishes after close(): one fsync on a descriptor of its own.
    if (this.closed) return syncOnce(dir);
    let d = this.dirs.get(dir);
    if (!d) {
      d = { fd: fs.openSync(dir, 'r'), running: undefined, next: undefined };
      this.dirs.set(dir, d);
      if (this.dirs.size > 1024) this.evict();
    }
    const entry = d;
    if (!entry.running) {
      entry.running = fsyncFd(entry.fd).finally(() => {
        entry.running = undefined;
      });
      return entry.running;
    }
    // A sync is running, but it may have started before our rename: wait for the next one.
    entry.next ??= entry.running
      .catch(() => {})
      .then(() => {
        entry.next = undefined;
        return this.sync(dir);
      });
    return entry.next;
  }

  /** Drops the cached descriptor of a directory that was removed and recreated. */
  forget(dir: string): void {
    const d = this.dirs.get(dir);
    if (!d) return;
    this.dirs.delete(dir);
    void this.release(d);
  }

  /** Closes a descriptor once the syncs on it have finished (its number must not be reused under them). */
  private async release(d: { fd: number; running: Promise<void> | undefined; next: Promise<void> | undefined }): Promise<void> {
    await Promise.resolve(d.next ?? d.running).catch(() => {});
    fs.closeSync(d.fd);
  }

  private evict(): void {
    for (const [dir, d] of this.dirs) {
      if (d.running || d.next) continue;
      fs.closeSync(d.fd);
      this.dirs.delete(dir);
      if (this.dirs.size <= 512) return;
    }
  }

  /** Closes every descriptor, after the syncs running on it. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.dirs.values()];
    this.dirs.clear();
    await Promise.all(all.map((d) => this.release(d)));
  }
}

async function syncOnce(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One server's delivery into Maildirs: the Maildirs it knows exist (saves three mkdir calls per
 * delivery) and its directory syncer. The SMTP server creates its own, or main.ts gives one to
 * both SMTP listeners (STYLE §25: state belongs to the handle, never to the module, so two
 * servers in one process do not share descriptors and closing one leaves the other's alone).
 */
export class MaildirDelivery {
  private readonly syncer = new DirSyncer();
  private readonly known = new Set<string>();

  /** Directory descriptors held for group commit now. */
  get openDirectories(): number {
    return this.syncer.size;
  }

  /**
   * Delivers one message into every Maildir of `dirs` (each created if missing) and resolves
   * once it is durable in all of them. The data is written once, to the first Maildir's tmp/;
   * the other recipients get a hard link to it (a copy across file systems), each under its own
   * unique name. On a failure before the renames nothing reaches any new/.
   */
  deliver(dirs: string[], message: Readable | Buffer, meta: DeliverMeta = {}): Promise<Delivered> {
    return deliver(this.syncer, this.known, dirs, message, meta);
  }

  /** Closes the directory descriptors (after the syncs running on them); a later delivery still syncs. */
  close(): Promise<void> {
    return this.syncer.close();
  }
}

/**
 * Turns bare LF into CRLF, keeping state across chunks (a CR at the end of one chunk followed
 * by LF at the start of the next is one line ending).
 */
export class CrlfNormalizer {
  private lastWasCR = false;

  push(chunk: Buffer): Buffer {
    let bare = 0;
    const prevCR = this.lastWasCR;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      if (!(i === 0 ? prevCR : chunk[i - 1] === 13)) bare += 1;
    }
    this.lastWasCR = chunk.length > 0 ? chunk[chunk.length - 1] === 13 : this.lastWasCR;
    if (bare === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + bare);
    let o = 0;
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      const cr = i === 0 ? prevCR : chunk[i - 1] === 13;
      if (cr) continue;
      o += chunk.copy(out, o, start, i);
      out[o++] = 13;
      start = i;
    }
    o += chunk.copy(out, o, start);
    return out.subarray(0, o);
  }
}

/** Writes buffers to an fd with few syscalls: small chunks are gathered up to WRITE_CHUNK. */
class FileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  size = 0;
  constructor(private readonly fd: Promise<number>) {}

  /** Queues `b`; returns a promise only when a write had to happen (backpressure). */
  write(b: Buffer): Promise<void> | undefined {
    if (b.length === 0) return undefined;
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.size += b.length;
    return this.pendingBytes >= WRITE_CHUNK ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const fd = await this.fd;
    let off = 0;
    while (off < buf.length) off += await writeFd(fd, buf, off);
  }
}

/** Feeds a Buffer or a Readable through `onChunk`, awaiting it when it returns a promise. */
async function consume(message: Readable | Buffer, onChunk: (b: Buffer) => Promise<void> | undefined): Promise<void> {
  if (Buffer.isBuffer(message)) {
    await onChunk(message);
    return;
  }
  for await (const chunk of message) {
    const p = onChunk(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    if (p) await p;
  }
}

/**
 * MaildirDelivery.deliver. Every file system call goes through the thread pool: creating or
 * renaming a file may wait for a journal commit (other sessions' fsyncs), which must not stall
 * the event loop.
 */
async function deliver(syncer: DirSyncer, known: Set<string>, dirs: string[], message: Readable | Buffer, meta: DeliverMeta): Promise<Delivered> {
  if (dirs.length === 0) throw new Error('deliver: no recipient Maildir');
  const unique = [...new Set(dirs.map((d) => path.resolve(d)))];
  for (const d of unique) {
    if (known.has(d)) continue;
    await ensureMaildir(d);
    known.add(d);
  }

  const id = uniqueName();
  const first = unique[0]!;
  const tmp = path.join(first, 'tmp', id);
  // Opened while the message streams in; awaited at the first write.
  const fdP = openTmp(syncer, tmp);
  fdP.catch(() => {});
  const created: string[] = [];
  /** Set while this function owns an open descriptor for the tmp file. */
  let fd: number | undefined;
  let opened = false;
  try {
    const w = new FileWriter(fdP);
    const norm = new CrlfNormalizer();
    if (meta.prepend) void w.write(norm.push(Buffer.isBuffer(meta.prepend) ? meta.prepend : Buffer.from(meta.prepend, 'utf8')));
    let body = 0;
    let exceeded = false;
    await consume(message, (chunk) => {
      if (exceeded) return undefined; // keep draining the stream, write nothing more
      body += chunk.length;
      if (meta.maxBytes !== undefined && body > meta.maxBytes) {
        exceeded = true;
        return undefined;
      }
      return w.write(norm.push(chunk));
    });
    fd = await fdP;
    opened = true;
    created.push(tmp);
    if (exceeded) throw new SizeExceededError(meta.maxBytes!);
    await w.flush();
    await fdatasync(fd);
    fd = undefined;
    await closeFd((await fdP) as number);

    const size = w.size;
    // Every recipient's tmp name: the first is the file written above, the others links to it.
    const names = unique.map((_, i) => (i === 0 ? id : uniqueName()));
    const tmps = [tmp];
    for (let i = 1; i < unique.length; i++) {
      const t = path.join(unique[i]!, 'tmp', names[i]!);
      await linkOrCopy(tmp, t);
      created.push(t);
      tmps.push(t);
    }
    // Stored with CRLF line endings: the size is the virtual size too.
    const files = unique.map((d, i) => path.join(d, 'new', withSizes(names[i]!, size, size)));
    // A copy made by linkOrCopy across file systems must be on disk too before its rename.
    await Promise.all(tmps.slice(1).map((t) => syncIfCopy(t, tmp)));
    await Promise.all(tmps.map((t, i) => fs.promises.rename(t, files[i]!)));
    created.length = 0;
    await Promise.all(unique.map((d) => syncer.sync(path.join(d, 'new'))));
    return { id, files, size };
  } catch (err) {
    if (!opened) {
      // the stream failed before the open was awaited: the file may exist all the same
      const f = await fdP.catch(() => undefined);
      if (f !== undefined) {
        fd = f;
        created.push(tmp);
      }
    }
    if (fd !== undefined) await closeFd(fd).catch(() => {});
    for (const t of new Set(created)) await fs.promises.rm(t, { force: true });
    throw err;
  }
}

const O_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
const openFd = (file: string) => new Promise<number>((res, rej) => fs.open(file, O_NEW, 0o600, (e, fd) => (e ? rej(e) : res(fd))));
const writeFd = (fd: number, buf: Buffer, off: number) =>
  new Promise<number>((res, rej) => fs.write(fd, buf, off, buf.length - off, null, (e, n) => (e ? rej(e) : res(n))));
const closeFd = (fd: number) => new Promise<void>((res, rej) => fs.close(fd, (e) => (e ? rej(e) : res())));

/** Opens a new tmp/ file; a Maildir removed behind our back is forgotten and recreated. */
async function openTmp(syncer: DirSyncer, file: string): Promise<number> {
  try {
    return await openFd(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const dir = path.dirname(path.dirname(file));
    await ensureMaildir(dir);
    syncer.forget(path.join(dir, 'new'));
    return openFd(file);
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.promises.link(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.promises.copyFile(from, to);
  }
}

/** fsyncs `file` when it is a separate copy of `original` (a hard link shares its data). */
async function syncIfCopy(file: string, original: string): Promise<void> {
  if (fs.statSync(file).ino === fs.statSync(original).ino) return;
  const fd = fs.openSync(file, 'r');
  try {
    await fdatasync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
