// Maildir file names, the one reading of them that the mail app (delivery, POP3), the console and
// IMAP share.
//
// A name is `<base>[:<info>]` (Maildir spec, https://cr.yp.to/proto/maildir.html):
// - the base is unique on its host and never changes once delivered: `<secs>.<uniqueness>.<host>`,
//   then dovecot's extra fields, each after a ",": `,S=<size>` the size of the file, `,W=<vsize>`
//   its size with CRLF line endings (RFC 3501 RFC822.SIZE, RFC 1939 §11's POP3 size). dovecot's
//   maildir-storage.h: "<base> [<extra sep> <extra data> [..]] <info sep> 2 <flags sep>";
// - the info "2,<flags>" holds the flags, one letter each, in ASCII order: the spec's D (draft),
//   F (flagged), P (passed), R (replied), S (seen), T (trashed), then dovecot's keywords a..z
//   (indexes 0..25 into the folder's dovecot-keywords, keywords.ts). dovecot keeps whatever follows
//   another "," in the info untouched.
// A malformed name is read as dovecot reads it (maildir-filename.c, maildir-filename-flags.c)
// unless a function says otherwise.
import os from 'node:os';

/** Separates the base from the info (the spec's ":"). */
export const INFO_SEP = ':';
/** The info of a name with flags: ":2," then the letters. */
export const FLAGS_INFO = `${INFO_SEP}2,`;
/** The flags the Maildir spec defines, in the order a name writes them. */
export const STANDARD_FLAGS = 'DFPRST';

/** The base of a name: everything before its first ":" (dovecot's maildir_filename_base_cmp). */
export function baseOf(name: string): string {
  const i = name.indexOf(INFO_SEP);
  return i < 0 ? name : name.slice(0, i);
}

/**
 * The flag letters of a name, '' when it has none: after its last ":" when that starts "2,", up to
 * the next "," (dovecot's maildir_filename_flags_get). ":1," (the spec's experimental info) and no
 * info at all carry no flags.
 */
export function flagsOf(name: string): string {
  const i = name.lastIndexOf(INFO_SEP);
  if (i < 0 || !name.startsWith('2,', i + 1)) return '';
  const end = name.indexOf(',', i + 3);
  return end < 0 ? name.slice(i + 3) : name.slice(i + 3, end);
}

export function hasFlag(name: string, flag: string): boolean {
  return flagsOf(name).includes(flag);
}

/** Flag letters each once, in ASCII order (the spec: "Flags must be stored in ASCII order"). */
export function sortFlags(flags: string): string {
  for (let i = 0; i < flags.length; i++) {
    const c = flags.charCodeAt(i);
    // A-Z and a-z only: a ",", ":" or "/" would change what the name means.
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) throw new RangeError(`not a Maildir flag letter: ${JSON.stringify(flags[i])}`);
  }
  return [...new Set(flags)].sort().join('');
}

/**
 * The name with its flags replaced by `flags` (sorted, each once): the info after the last ":" is
 * rewritten as "2,<flags>", and what followed another "," in an old "2," info is kept, as dovecot's
 * maildir_filename_flags_set does.
 */
export function withFlags(name: string, flags: string): string {
  const i = name.lastIndexOf(INFO_SEP);
  const head = i < 0 ? name : name.slice(0, i);
  let rest = '';
  if (i >= 0 && name.startsWith('2,', i + 1)) {
    const extra = name.indexOf(',', i + 3);
    if (extra >= 0) rest = name.slice(extra);
  }
  return `${head}${FLAGS_INFO}${sortFlags(flags)}${rest}`;
}

/**
 * The name a message takes when it moves from new/ to cur/ (the spec: "uniq" becomes
 * "uniq:info"): ":2," with no flags, or the name as it is when it already has an info.
 */
export function curName(name: string): string {
  return name.includes(INFO_SEP) ? name : `${name}${FLAGS_INFO}`;
}

/**
 * A size recorded in the base: `,S=` (the file's size) or `,W=` (with CRLF line endings). The
 * first such field counts; undefined when there is none or it is malformed. As dovecot's
 * maildir_filename_get_size, its digits must end at "," or the end of the base; unlike it, no
 * digits at all is malformed (dovecot reads 0) and so are more than 15 (past exact integers).
 */
export function sizeOf(name: string, field: 'S' | 'W'): number | undefined {
  // Read in place (no slice of the base or of the digits): asked per message of every FETCH.
  const sep = name.indexOf(INFO_SEP);
  const baseEnd = sep < 0 ? name.length : sep;
  const at = name.indexOf(field === 'S' ? ',S=' : ',W=');
  if (at < 0 || at >= baseEnd) return undefined;
  let end = at + 3;
  let n = 0;
  for (; end < baseEnd; end++) {
    const c = name.charCodeAt(end);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (end === at + 3 || end - (at + 3) > 15 || (end < baseEnd && name.charCodeAt(end) !== 44)) return undefined;
  return n;
}

/** The base of a delivered file with the sizes dovecot reads instead of stat()ing or reading it (its LDA writes S= then W=). */
export function withSizes(unique: string, size: number, vsize: number): string {
  return `${unique},S=${size},W=${vsize}`;
}

/** The host part of a unique name: "/" and ":" written as "\057" and "\072", as the spec says. */
export function nameHost(host = os.hostname()): string {
  return host.replace(/\//g, '\\057').replace(/:/g, '\\072');
}

// One counter for the whole process, on purpose: the name is unique per host through the pid and
// this counter, and two servers in one process share the pid.
let counter = 0;

/**
 * A base unique on this host (the spec's "modern delivery identifiers"):
 * `<secs>.M<usecs>P<pid>Q<counter>.<host>`, dovecot's own shape plus the counter the spec's Q is for.
 */
export function uniqueName(nowMs = performance.timeOrigin + performance.now(), host = nameHost()): string {
  const secs = Math.floor(nowMs / 1000);
  const usecs = Math.floor((nowMs - secs * 1000) * 1000);
  counter += 1;
  return `${secs}.M${usecs}P${process.pid}Q${counter}.${host}`;
}

/** Where the decimal digits of `name` that start at `from` end. */
function digitsEnd(name: string, from = 0): number {
  let i = from;
  while (i < name.length && name.charCodeAt(i) >= 48 && name.charCodeAt(i) <= 57) i++;
  return i;
}

/**
 * The microseconds of the uniqueness part that follows the seconds at `from` (".<uniqueness>."):
 * the digits after its first "M" (dovecot's maildir_fname_get_usecs); undefined when there is none.
 */
function usecsAt(name: string, from: number): number | undefined {
  if (name[from] !== '.') return undefined;
  for (let i = from + 1; i < name.length && name[i] !== '.' && name[i] !== INFO_SEP; i++) {
    if (name[i] !== 'M') continue;
    const end = digitsEnd(name, i + 1);
    return end === i + 1 ? 0 : Number(name.slice(i + 1, end));
  }
  return undefined;
}

/**
 * When the message was delivered, as its name says: the leading seconds of a name that starts
 * "<digits>." and the microseconds of its "M" field (0 without one); undefined for a name that
 * does not start that way (a reader then takes the file's mtime).
 */
export function nameTime(name: string): { secs: number; usecs: number } | undefined {
  const n = digitsEnd(name);
  if (n === 0 || name[n] !== '.') return undefined;
  return { secs: Number(name.slice(0, n)), usecs: usecsAt(name, n) ?? 0 };
}

interface SortKey {
  name: string;
  secs: number;
  usecs: number | undefined;
  /** Where the comparison of the rest starts: after the seconds. */
  rest: number;
}

function sortKey(name: string): SortKey {
  const rest = digitsEnd(name);
  return { name, secs: rest === 0 ? 0 : Number(name.slice(0, rest)), usecs: usecsAt(name, rest), rest };
}

/** dovecot's maildir_filename_base_cmp from `a.rest` and `b.rest`: char by char up to ":" or the end. */
function compareRest(a: SortKey, b: SortKey): number {
  let i = a.rest;
  let j = b.rest;
  for (;;) {
    const ca = i < a.name.length ? a.name.charCodeAt(i) : 0;
    const cb = j < b.name.length ? b.name.charCodeAt(j) : 0;
    const endA = ca === 0 || ca === 58;
    if (ca !== cb || endA) {
      if (endA && (cb === 0 || cb === 58)) return 0;
      return ca - cb;
    }
    i++;
    j++;
  }
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a.secs !== b.secs) return a.secs - b.secs;
  if (a.usecs !== undefined && b.usecs !== undefined && a.usecs !== b.usecs) return a.usecs - b.usecs;
  return compareRest(a, b);
}

/**
 * dovecot's order of new files, in which they get their UIDs (maildir_filename_sort_cmp): by the
 * seconds the name starts with (none counts as 0), then by the microseconds when both have an "M"
 * field, then by the rest of the base.
 */
export function compareNames(a: string, b: string): number {
  return compareKeys(sortKey(a), sortKey(b));
}

/** `names` in the order of compareNames, each name parsed once (thousands at a first login). */
export function sortNames(names: readonly string[]): string[] {
  return names
    .map(sortKey)
    .sort(compareKeys)
    .map((k) => k.name);
}
