// RFC 1035 §5 master files: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, relative names and "@",
// a blank owner repeating the previous one, parentheses spanning lines, ";" comments, quoted
// strings with \X and \DDD escapes, TTL units as BIND writes them (1h30m), TYPEn and CLASSn
// (RFC 3597 §5); the RDATA of each type is read in rdata.ts. Errors carry file:line, as
// named-checkzone's do.
import fs from 'node:fs';
import path from 'node:path';
import { CLASS_IN, labels, TYPE, typeFromText, type RdataPart } from '../wire.ts';
import { parseRdata, parseTtl, type Token } from './rdata.ts';

export { parseTtl };

export class ZoneFileError extends Error {
  override readonly name = 'ZoneFileError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly why: string,
  ) {
    super(`${file}:${line}: ${why}`);
  }
}

/** One record as read from the file. Names are absolute, without the final dot, in the file's case. */
export interface ParsedRecord {
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdata: RdataPart[];
  /** Names this record points at (NS, MX, SRV, CNAME, PTR targets; SOA mname). */
  target?: string;
  /** SOA only. */
  soa?: { serial: number; minimum: number };
  file: string;
  line: number;
}

interface Entry {
  tokens: Token[];
  /** The line started with blank space: the owner is the previous one. */
  blankOwner: boolean;
  line: number;
}

const CLASSES: Record<string, number> = { IN: CLASS_IN, CH: 3, HS: 4, CS: 2 };
const MAX_INCLUDE_DEPTH = 8;

/** Splits the text into logical entries (one per record or directive), joining parenthesised lines. */
function entries(text: string, file: string): Entry[] {
  const out: Entry[] = [];
  let cur: Entry | undefined;
  let depth = 0;
  let lineNo = 0;
  for (const rawLine of text.split(/\r?\n/)) {
    lineNo++;
    if (depth === 0) {
      if (cur?.tokens.length) out.push(cur);
      cur = { tokens: [], blankOwner: /^[ \t]/.test(rawLine), line: lineNo };
    }
    let i = 0;
    const s = rawLine;
    while (i < s.length) {
      const c = s[i]!;
      if (c === ' ' || c === '\t') {
        i++;
      } else if (c === ';') {
        break;
      } else if (c === '(') {
        depth++;
        i++;
      } else if (c === ')') {
        if (depth === 0) throw new ZoneFileError(file, lineNo, 'unbalanced parentheses');
        depth--;
        i++;
      } else if (c === '"') {
        let t = '';
        i++;
        for (;;) {
          if (i >= s.length) throw new ZoneFileError(file, lineNo, 'unterminated quoted string');
          const d = s[i]!;
          if (d === '"') {
            i++;
            break;
          }
          if (d === '\\') {
            const esc = unescapeAt(s, i, file, lineNo);
            t += esc.ch;
            i = esc.next;
          } else {
            t += d;
            i++;
          }
        }
        cur!.tokens.push({ text: t, quoted: true, raw: '' });
      } else {
        let t = '';
        const start = i;
        while (i < s.length && !' \t;()"'.includes(s[i]!)) {
          if (s[i] === '\\') {
            const esc = unescapeAt(s, i, file, lineNo);
            // A dot or backslash that is data stays escaped, so that it is not a label boundary.
            t += esc.ch === '.' || esc.ch === '\\' ? `\\${esc.ch}` : esc.ch;
            i = esc.next;
          } else t += s[i++];
        }
        cur!.tokens.push({ text: t, quoted: false, raw: s.slice(start, i) });
      }
    }
  }
  if (depth !== 0) throw new ZoneFileError(file, cur?.line ?? lineNo, '"(" not closed before the end of the file');
  if (cur?.tokens.length) out.push(cur);
  return out;
}

/** \X or \DDD (RFC 1035 §5.1). */
function unescapeAt(s: string, i: number, file: string, line: number): { ch: string; next: number } {
  const m = /^\\(\d{3})/.exec(s.slice(i, i + 4));
  if (m) {
    const v = Number(m[1]);
    if (v > 255) throw new ZoneFileError(file, line, `bad escape \\${m[1]}`);
    return { ch: String.fromCharCode(v), next: i + 4 };
  }
  if (i + 1 >= s.length) throw new ZoneFileError(file, line, 'escape at end of line');
  return { ch: s[i + 1]!, next: i + 2 };
}

export interface ParseOptions {
  /** Zone apex (the initial $ORIGIN), without the final dot. */
  origin: string;
  file: string;
  /** Text to parse; read from `file` otherwise. */
  text?: string;
  /** Receives the loader's warnings (file:line and why), as BIND logs them. */
  warnings?: string[];
}

/** Parses a master file into records. Throws ZoneFileError with the file and line. */
export function parseMasterFile(opts: ParseOptions): ParsedRecord[] {
  const records: ParsedRecord[] = [];
  const state: State = { origin: stripDot(opts.origin), ttl: undefined, lastTtl: undefined, owner: undefined, warnings: opts.warnings ?? [] };
  parseInto(records, opts.text ?? fs.readFileSync(opts.file, 'utf8'), opts.file, state, 0);
  return records;
}

/** Does the name end with a dot that is not escaped (an even run of backslashes before it)? */
function absoluteName(n: string): boolean {
  if (!n.endsWith('.')) return false;
  let k = n.length - 2;
  while (k >= 0 && n[k] === '\\') k--;
  return (n.length - 2 - k) % 2 === 0;
}

function stripDot(n: string): string {
  return absoluteName(n) ? n.slice(0, -1) : n;
}

interface State {
  origin: string;
  ttl: number | undefined;
  lastTtl: number | undefined;
  owner: string | undefined;
  warnings: string[];
}

function parseInto(records: ParsedRecord[], text: string, file: string, state: State, depth: number): void {
  for (const e of entries(text, file)) {
    const fail = (why: string): never => {
      throw new ZoneFileError(file, e.line, why);
    };
    const absolute = (n: string, origin = state.origin): string => {
      if (n === '@') return origin;
      if (n === '.') return '';
      if (absoluteName(n)) return n.slice(0, -1);
      return origin === '' ? n : `${n}.${origin}`;
    };
    const checkName = (n: string): string => {
      const ls = labels(n);
      if (ls.some((l) => l.length === 0)) fail(`bad name "${n}": empty label`);
      if (ls.some((l) => l.length > 63)) fail(`bad name "${n}": label longer than 63 octets`);
      if (ls.reduce((sum, l) => sum + l.length + 1, 1) > 255) fail(`bad name "${n}": longer than 255 octets`);
      return n;
    };
    const t = e.tokens;
    const first = t[0]!;
    if (!e.blankOwner && !first.quoted && first.text.startsWith('$')) {
      const dir = first.text.toUpperCase();
      if (dir === '$ORIGIN') {
        if (t.length !== 2) fail('$ORIGIN takes one name');
        state.origin = checkName(absolute(t[1]!.text));
      } else if (dir === '$TTL') {
        if (t.length !== 2) fail('$TTL takes one value');
        const v = recordTtl(t[1]!.text);
        if (v === undefined) fail(`bad TTL "${t[1]!.text}"`);
        state.ttl = v;
      } else if (dir === '$INCLUDE') {
        if (t.length < 2 || t.length > 3) fail('$INCLUDE takes a file and an optional origin');
        if (depth >= MAX_INCLUDE_DEPTH) fail('$INCLUDE nested too deep');
        const inc = path.resolve(path.dirname(file), t[1]!.text);
        let incText: string;
        try {
          incText = fs.readFileSync(inc, 'utf8');
        } catch (err) {
          // biome-ignore lint/correctness/noVoidTypeReturn: `return` tells TypeScript that fail() never returns, so incText is assigned below
          return fail(`$INCLUDE ${t[1]!.text}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
        }
        // RFC 1035 §5.1: the origin and owner return to their values after the included file.
        const saved = { origin: state.origin, owner: state.owner };
        if (t[2]) state.origin = checkName(absolute(t[2].text));
        parseInto(records, incText, inc, state, depth + 1);
        state.origin = saved.origin;
        state.owner = saved.owner;
      } else fail(`unknown directive ${first.text}`);
      continue;
    }

    let i = 0;
    let owner: string;
    if (e.blankOwner) {
      if (state.owner === undefined) fail('no owner name for the first record');
      owner = state.owner!;
    } else {
      owner = checkName(absolute(t[0]!.text));
      i = 1;
    }
    state.owner = owner;
    let ttl: number | undefined;
    let klass: number | undefined;
    for (let k = 0; k < 2 && i < t.length; k++) {
      const w = t[i]!.text;
      const asTtl = ttl === undefined && /^\d/.test(w) ? recordTtl(w) : undefined;
      const asClass = klass === undefined ? classFromText(w) : undefined;
      if (asTtl !== undefined) {
        ttl = asTtl;
        i++;
      } else if (asClass !== undefined) {
        klass = asClass;
        i++;
      } else if (/^\d/.test(w) && ttl === undefined) fail(`bad TTL "${w}"`);
    }
    if (i >= t.length) fail('missing record type');
    const typeTok = t[i++]!;
    const type = typeTok.quoted ? undefined : typeFromText(typeTok.text);
    // Meta-types are questions, never data (RFC 6895 §3.1).
    if (type === undefined || type === TYPE.OPT || (type >= 128 && type <= 255)) fail(`unknown or unsupported record type "${typeTok.text}"`);
    if (klass !== undefined && klass !== CLASS_IN) fail('only class IN is served');
    const args = t.slice(i);
    const rec = parseRdata(type!, args, { name: (n) => checkName(absolute(n)), fail });
    if (ttl !== undefined) state.lastTtl = ttl;
    // RFC 2308 §4: $TTL; before it existed, the last explicit TTL (RFC 1035 §5.1); failing
    // both, BIND takes the SOA's minimum, with a warning, as the default for what follows.
    if (ttl === undefined && state.ttl === undefined && state.lastTtl === undefined && rec.soa) {
      state.warnings.push(`${file}:${e.line}: no TTL specified; using SOA MINTTL instead`);
      state.ttl = rec.soa.minimum;
    }
    const effTtl = ttl ?? state.ttl ?? state.lastTtl;
    if (effTtl === undefined) fail('no TTL: add a $TTL line or a TTL to the first record');
    records.push({ name: owner, type: type!, klass: CLASS_IN, ttl: effTtl!, ...rec, file, line: e.line });
  }
}

/** A record's TTL: at most 2^31 - 1 (RFC 2181 §8); SOA timers may use all 32 bits. */
function recordTtl(text: string): number | undefined {
  const v = parseTtl(text);
  return v !== undefined && v <= 0x7fffffff ? v : undefined;
}

/** IN, CH, HS, CS, or RFC 3597's CLASSn. */
function classFromText(w: string): number | undefined {
  const up = w.toUpperCase();
  const known = CLASSES[up];
  if (known !== undefined) return known;
  const m = /^CLASS(\d{1,5})$/.exec(up);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : undefined;
}
