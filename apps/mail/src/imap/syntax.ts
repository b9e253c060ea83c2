// What an IMAP command says (RFC 9051 §9, the formal syntax), read from its framed text and
// literals (framing.ts): atoms, quoted strings, literals, parenthesised lists, the fetch
// attributes with their [section]<partial>; sequence sets; and the other direction, strings as
// the server must write them (quoted or literal).
import type { RawCommand } from './framing.ts';

export type Token = { kind: 'atom'; value: string } | { kind: 'string'; value: string; bytes?: Buffer } | { kind: 'list'; items: Token[] };

/** A command that cannot be read; its message is the BAD's text, in dovecot's words (imap-parser.c). */
export class ImapSyntaxError extends Error {}

const MISSING_QUOTE = "Missing '\"'";

/**
 * The arguments of a command as a token tree, read as dovecot's parser reads them: atoms are
 * anything up to a space (or a ")" closing a list), except "(", "{", '"', controls and 8-bit
 * octets; a "[" inside an atom runs to its "]" (a fetch attribute's section may hold a space and
 * a header list, RFC 9051 §6.4.5), then an optional "<...>" partial (an unclosed one is left to FETCH to
 * name). In a quoted string a backslash escapes any character (RFC 9051 allows only '"' and "\\";
 * dovecot takes the others as themselves, and so do we); CR, LF and NUL end it in an error.
 */
export function tokenize(cmd: RawCommand, from = 0, fromText = 0): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  for (let seg = fromText; seg < cmd.text.length; seg++) {
    const t = cmd.text[seg]!;
    let i = seg === fromText ? from : 0;
    while (i < t.length) {
      const c = t[i]!;
      const top = stack[stack.length - 1]!;
      if (c === ' ') {
        i++;
      } else if (c === '(') {
        const list: Token = { kind: 'list', items: [] };
        top.push(list);
        stack.push(list.items);
        i++;
      } else if (c === ')') {
        if (stack.length === 1) throw new ImapSyntaxError("Unexpected ')'");
        stack.pop();
        i++;
      } else if (c === '"') {
        let v = '';
        i++;
        for (;;) {
          let q = t[i];
          if (q === undefined) throw new ImapSyntaxError(MISSING_QUOTE);
          if (q === '"') {
            i++;
            break;
          }
          if (q === '\\') q = t[++i];
          if (q === undefined || q === '\r' || q === '\n') throw new ImapSyntaxError(MISSING_QUOTE);
          if (q === '\u0000') throw new ImapSyntaxError('NULs not allowed in strings');
          v += q;
          i++;
        }
        top.push({ kind: 'string', value: v });
      } else {
        const start = i;
        while (i < t.length && t[i] !== ' ') {
          const a = t[i]!;
          if (a === ')') {
            if (stack.length === 1) throw new ImapSyntaxError("Unexpected ')'");
            break;
          }
          if (a === '[') {
            const close = sectionEnd(t, i);
            if (close >= 0) {
              i = close + 1;
              if (t[i] === '<') {
                const gt = t.indexOf('>', i);
                if (gt >= 0) i = gt + 1;
              }
              continue;
            }
          }
          const code = a.charCodeAt(0);
          if (a === '(' || a === '{' || a === '"' || code <= 0x20 || code === 0x7f) throw new ImapSyntaxError('Invalid characters in atom');
          if (code >= 0x80) throw new ImapSyntaxError('8bit data in atom');
          i++;
        }
        top.push({ kind: 'atom', value: t.slice(start, i) });
      }
    }
    const lit = cmd.literals[seg];
    if (lit) stack[stack.length - 1]!.push({ kind: 'string', value: '', bytes: lit });
  }
  if (stack.length !== 1) throw new ImapSyntaxError("Missing ')'");
  return root;
}

/**
 * Where the "]" of a section opened at `at` is: before any space, or past one "(header list)"
 * after a space (HEADER.FIELDS (A B)); -1 otherwise, and the atom ends at the space, as dovecot's
 * parser ends it (FETCH then says the "]" is missing).
 */
function sectionEnd(t: string, at: number): number {
  for (let i = at + 1; i < t.length; i++) {
    const c = t[i];
    if (c === ']') return i;
    if (c === ' ') {
      if (t[i + 1] !== '(') return -1;
      const close = t.indexOf(')', i + 2);
      return close >= 0 && t[close + 1] === ']' ? close + 1 : -1;
    }
  }
  return -1;
}

/** An astring's text (RFC 9051 §9 astring: atom, quoted or literal); undefined for a list. */
export function astring(t: Token | undefined): string | undefined {
  if (!t || t.kind === 'list') return undefined;
  if (t.kind === 'string') return t.bytes ? t.bytes.toString('latin1') : t.value;
  return t.value;
}

export function isAtom(t: Token | undefined, value?: string): t is { kind: 'atom'; value: string } {
  return t?.kind === 'atom' && (value === undefined || t.value.toUpperCase() === value);
}

/** A sequence set (RFC 9051 §9 sequence-set): ranges with `*` as `star`; undefined if malformed. */
export type SeqSet = Array<[number, number]>;

export function parseSeqSet(text: string, star: number): SeqSet | undefined {
  if (text === '$' || text === '') return undefined;
  const out: SeqSet = [];
  for (const part of text.split(',')) {
    const ends = part.split(':');
    if (ends.length > 2) return undefined;
    const nums: number[] = [];
    for (const e of ends) {
      if (e === '*') nums.push(star);
      else if (/^[1-9]\d{0,9}$/.test(e) && Number(e) <= 0xffffffff) nums.push(Number(e));
      else return undefined;
    }
    const a = nums[0]!;
    const b = nums[1] ?? a;
    out.push(a <= b ? [a, b] : [b, a]);
  }
  return out;
}

export function inSeqSet(set: SeqSet, n: number): boolean {
  // Indexed: asked once per message of a mailbox, where for-of made an iterator per call.
  for (let i = 0; i < set.length; i++) if (n >= set[i]![0] && n <= set[i]![1]) return true;
  return false;
}

/** Numbers as a compact sequence set ("1:3,7"), ascending; '' for none. */
export function formatSeqSet(nums: readonly number[]): string {
  const sorted = [...nums].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * A string as the server writes it (RFC 9051 §4.3): quoted when it can be (no CR, LF, NUL, no
 * 8-bit), a literal otherwise; NIL for undefined.
 */
export function quote(s: string | undefined | null): string {
  if (s === undefined || s === null) return 'NIL';
  if (/[\r\n\0]/.test(s) || /[^\x01-\x7f]/.test(s) || s.length > 1024) return `{${s.length}}\r\n${s}`;
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** An astring when it can be an atom (mailbox names in LIST), quoted otherwise. */
export function astringOut(s: string): string {
  return /^[\x21\x23-\x24\x26-\x27\x2b-\x5b\x5e-\x7a\x7c\x7e]+$/.test(s) && s.toUpperCase() !== 'NIL' ? s : quote(s);
}

/** RFC 9051 §2.3.3 date-time: "17-Jul-1996 02:44:25 -0700" (we write UTC). */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function imapDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** RFC 9051 date-time (APPEND's date): ms since the epoch, undefined if malformed. */
export function parseDateTime(s: string): number | undefined {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  if (mon < 0) return undefined;
  const utc = Date.UTC(Number(m[3]), mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const off = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  return Number.isNaN(utc) ? undefined : utc - off;
}

/** RFC 9051 date (SEARCH's SINCE, BEFORE, ON): the UTC midnight of that day, undefined if malformed. */
export function parseDate(s: string): number | undefined {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) return undefined;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  if (mon < 0) return undefined;
  return Date.UTC(Number(m[3]), mon, Number(m[1]));
}

/**
 * Whether a mailbox name is valid modified UTF-7 (RFC 3501 §5.1.3; RFC 9051 §5.1 keeps it for
 * clients that did not ENABLE UTF8=ACCEPT): printable ASCII, "&" starting a base64 run ended by "-".
 */
export function isModifiedUtf7(name: string): boolean {
  return /^(?:[\x20-\x25\x27-\x7e]|&-|&[A-Za-z0-9+,]+-)*$/.test(name);
}
