// The file side of the server: turning a request-target into a path that cannot leave the web
// root, finding the file, the validators (ETag, Last-Modified), a small-file cache validated by
// inode, size and mtime, and byte ranges.
import fs from 'node:fs';
import { formatHttpDate } from './http-date.ts';
import { mimeTypeOf } from './mime.ts';

/** Files up to this size are kept in memory (validated by stat on every request). */
export const CACHE_FILE_MAX = 2 * 1024 * 1024;
/** The cache's whole budget; least recently used files leave first. */
export const CACHE_TOTAL_MAX = 64 * 1024 * 1024;
/**
 * A cached file is trusted without a new stat for this long (ms) after its last validation,
 * like nginx's open_file_cache_valid: a changed file is seen at most this late. 0 validates
 * on every request.
 */
export const CACHE_VALIDATE_MS = 1000;
/** The file served for a path ending in "/". */
export const INDEX_FILE = 'index.html';

export type TargetResult =
  | { kind: 'ok' /** decoded path below the root, "/"-separated, no leading slash */; relPath: string; isDirPath: boolean }
  | { kind: 'forbidden'; reason: string }
  | { kind: 'bad'; reason: string };

const HEX = /^[0-9a-fA-F]{2}$/;

/**
 * Turns a request-target into a relative path, refusing (403) every spelling that could climb
 * out of the root: a ".." segment, raw or percent-encoded (%2e%2e, .%2E, ...), an encoded slash
 * (%2f), a backslash raw or encoded (%5c), a NUL (%00). A symlink pointing out is caught later
 * by `containedRealPath`.
 */
export function resolveTarget(target: string): TargetResult {
  let p = target;
  // absolute-form (RFC 9112 §3.2.2): a server must accept it; only the path matters here.
  const abs = /^https?:\/\/[^/?#]*/i.exec(p);
  if (abs) p = p.slice(abs[0].length) || '/';
  if (p.charCodeAt(0) !== 0x2f) return { kind: 'bad', reason: 'request-target is not an absolute path' };
  const q = p.search(/[?#]/);
  if (q >= 0) p = p.slice(0, q);
  if (p.includes('\\')) return { kind: 'forbidden', reason: 'backslash in path' };

  const segments = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const raw = segments[i]!;
    let seg = raw;
    if (raw.includes('%')) {
      const bytes: number[] = [];
      for (let j = 0; j < raw.length; j++) {
        const c = raw.charCodeAt(j);
        if (c === 0x25) {
          const hex = raw.slice(j + 1, j + 3);
          if (!HEX.test(hex)) return { kind: 'bad', reason: 'bad percent-encoding' };
          bytes.push(parseInt(hex, 16));
          j += 2;
        } else bytes.push(c);
      }
      const buf = Buffer.from(bytes);
      seg = buf.toString('utf8');
      if (!Buffer.from(seg, 'utf8').equals(buf)) return { kind: 'bad', reason: 'path is not UTF-8' };
      if (seg.includes('/')) return { kind: 'forbidden', reason: 'encoded slash in path' };
      if (seg.includes('\\')) return { kind: 'forbidden', reason: 'encoded backslash in path' };
    }
    if (seg.includes('\0')) return { kind: 'forbidden', reason: 'NUL in path' };
    if (seg === '..') return { kind: 'forbidden', reason: 'dot-dot segment' };
    if (seg === '.' || seg === '') continue;
    out.push(seg);
  }
  const last = segments[segments.length - 1];
  const isDirPath = out.length === 0 || last === '' || last === '.';
  return { kind: 'ok', relPath: out.join('/'), isDirPath };
}

/** Resolves symlinks and checks the result is still inside the (real) root. */
export function containedRealPath(
  realRoot: string,
  candidate: string,
): { kind: 'ok'; real: string } | { kind: 'outside' } | { kind: 'missing' } | { kind: 'denied' } {
  let real: string;
  try {
    real = fs.realpathSync.native(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'denied' };
    return { kind: 'missing' };
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith('/') ? realRoot : `${realRoot}/`)) return { kind: 'outside' };
  return { kind: 'ok', real };
}

export interface FileEntry {
  real: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
  mime: string;
  etag: string;
  lastModified: string;
  /** The whole file, for files up to CACHE_FILE_MAX. */
  body?: Buffer;
  /** When the entry was last checked against the file (Date.now()). */
  validatedAt: number;
  /** The lookup answer for this entry, allocated once. */
  found: LookupResult;
}

export type LookupResult =
  | { kind: 'file'; entry: FileEntry }
  | { kind: 'directory' }
  | { kind: 'missing' }
  | { kind: 'forbidden'; reason: string }
  | { kind: 'unsupported' };

/** Finds files below one root; keeps small ones in memory. */
export class FileStore {
  readonly realRoot: string;
  private readonly rootPrefix: string;
  private cache = new Map<string, FileEntry>();
  private cached = 0;

  constructor(
    readonly root: string,
    private readonly cacheFileMax = CACHE_FILE_MAX,
    private readonly cacheTotalMax = CACHE_TOTAL_MAX,
    private readonly validateMs = CACHE_VALIDATE_MS,
  ) {
    this.realRoot = fs.realpathSync.native(root);
    this.rootPrefix = this.realRoot.endsWith('/') ? this.realRoot : `${this.realRoot}/`;
  }

  /**
   * Looks a relative path up (only files kept in memory are cached; bigger ones are looked up
   * each time, which costs nothing next to sending them). Order of refusals: leaving the root (403), a directory, an
   * extension outside the table (415), a missing file (404).
   * The file system calls are synchronous on purpose: stat and realpath of a page-cached local
   * file cost microseconds, far less than a round trip through the thread pool.
   */
  lookup(relPath: string): LookupResult {
    // relPath comes normalised from resolveTarget; anything else misses the cache and meets
    // the realpath containment check below.
    const candidate = relPath === '' ? this.realRoot : `${this.rootPrefix}${relPath}`;
    // Fast path: one stat of the requested path. If it is still the very inode (same device,
    // inode, size and mtime) that was found inside the root when the entry was made, the answer
    // is the same; a file replaced by a symlink pointing out is another inode and misses.
    const hit = this.cache.get(candidate);
    if (hit) {
      const now = Date.now();
      if (now - hit.validatedAt < this.validateMs) return hit.found;
      const st = fs.statSync(candidate, { throwIfNoEntry: false });
      if (st && st.ino === hit.ino && st.dev === hit.dev && st.size === hit.size && st.mtimeMs === hit.mtimeMs) {
        hit.validatedAt = now;
        // LRU: move to the end.
        this.cache.delete(candidate);
        this.cache.set(candidate, hit);
        return hit.found;
      }
      this.evict(candidate);
    }

    const contained = containedRealPath(this.realRoot, candidate);
    if (contained.kind === 'outside') return { kind: 'forbidden', reason: 'symlink out of the web root' };
    if (contained.kind === 'denied') return { kind: 'forbidden', reason: 'permission denied' };
    const mime = mimeTypeOf(relPath);
    if (contained.kind === 'missing') return mime ? { kind: 'missing' } : { kind: 'unsupported' };
    let st: fs.Stats;
    try {
      st = fs.statSync(contained.real);
    } catch {
      return { kind: 'missing' };
    }
    if (st.isDirectory()) return { kind: 'directory' };
    if (!mime) return { kind: 'unsupported' };
    if (!st.isFile()) return { kind: 'forbidden', reason: 'not a regular file' };

    const entry: FileEntry = {
      real: contained.real,
      size: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      dev: st.dev,
      mime,
      // Like nginx: mtime and size in hex; strong, since a change of either changes it.
      etag: `"${Math.floor(st.mtimeMs).toString(16)}-${st.size.toString(16)}"`,
      lastModified: formatHttpDate(st.mtimeMs),
      validatedAt: Date.now(),
      found: { kind: 'missing' }, // replaced just below: the entry refers to itself
    };
    entry.found = { kind: 'file', entry };
    if (st.size <= this.cacheFileMax) {
      try {
        const body = fs.readFileSync(contained.real);
        if (body.length === st.size) {
          entry.body = body;
          this.insert(candidate, entry);
        }
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') return { kind: 'forbidden', reason: 'permission denied' };
        return { kind: 'missing' };
      }
    }
    return entry.found;
  }

  private insert(key: string, entry: FileEntry): void {
    const size = entry.body!.length;
    while (this.cached + size > this.cacheTotalMax && this.cache.size > 0) {
      this.evict(this.cache.keys().next().value!);
    }
    this.cache.set(key, entry);
    this.cached += size;
  }

  private evict(key: string): void {
    const e = this.cache.get(key);
    if (!e) return;
    this.cache.delete(key);
    this.cached -= e.body?.length ?? 0;
  }
}

export type RangeResult = { kind: 'none' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * A single byte range (RFC 9110 §14.1.2): "bytes=a-b", "bytes=a-", "bytes=-n". Several ranges
 * or a syntax we do not read are ignored (the whole file is sent, as §14.2 allows).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  const m = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(header);
  if (!m) return { kind: 'none' };
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return { kind: 'none' };
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return { kind: 'none' }; // invalid: ignore (§14.1.1)
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return { kind: 'range', start, end };
}
