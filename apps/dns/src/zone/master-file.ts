// RFC 1035 §5 master files: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, relative names and "@",
// a blank owner repeating the previous one, parentheses spanning lines, ";" comments, quoted
// strings with \X and \DDD escapes, TTL units as BIND writes them (1h30m), TYPEn and CLASSn
// (RFC 3597 §5), and BIND's $GENERATE (generate.ts); the RDATA of each type is read in rdata.ts.
// Errors carry file:line, as named-checkzone's do.
import fs from 'node:fs';
import path from 'node:path';
import { CLASS_IN, labels, TYPE, typeFromText, type RdataPart } from '../wire.ts';
import { GenerateError, parseRange, qstringText, substitute } from './generate.ts';
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
/** Room BIND 9.18 gives a $GENERATE owner (DNS_MASTER_LHS) and its data (DNS_MASTER_RHS). */
const GENERATE_LHS_ROOM = 2048;
const GENERATE_RHS_ROOM = 65535 - 12 - 1 - 2 - 2 - 4 - 2;

/**
 * Splits the text into logical entries (one per record or directive), joining parenthesised
 * lines. `firstLine`: the line number of the text's first line (a $GENERATE line read again).
 */
function entries(text: string, file: string, firstLine = 1): Entry[] {
  const out: Entry[] = [];
  let cur: Entry | undefined;
  let depth = 0;
  let lineNo = firstLine - 1;
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
        const start = ++i;
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
        cur!.tokens.push({ text: t, quoted: true, raw: s.slice(start, i - 1) });
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

/** What reading one entry takes: its failure (file:line), its names, its records. */
interface EntryReader {
  fail(why: string): never;
  /** Absolute (relative to the current $ORIGIN, `@`) and checked (RFC 1035 §2.3.4). */
  name(text: string): string;
  /** `[TTL] [class]` in either order from t[i] (RFC 1035 §5.1); returns where the type should be. */
  ttlAndClass(i: number, fail: (why: string) => never): { ttl: number | undefined; next: number };
  /** One record: its RDATA read, its TTL (explicit or inherited) settled. */
  add(owner: string, ttl: number | undefined, type: number, args: Token[], fail: (why: string) => never): void;
}

function entryReader(e: Entry, file: string, state: State, records: ParsedRecord[]): EntryReader {
  const t = e.tokens;
  const fail = (why: string): never => {
    throw new ZoneFileError(file, e.line, why);
  };
  const name = (n: string): string => {
    const abs = n === '@' ? state.origin : n === '.' ? '' : absoluteName(n) ? n.slice(0, -1) : state.origin === '' ? n : `${n}.${state.origin}`;
    const ls = labels(abs);
    if (ls.some((l) => l.length === 0)) fail(`bad name "${abs}": empty label`);
    if (ls.some((l) => l.length > 63)) fail(`bad name "${abs}": label longer than 63 octets`);
    if (ls.reduce((sum, l) => sum + l.length + 1, 1) > 255) fail(`bad name "${abs}": longer than 255 octets`);
    return abs;
  };
  return {
    fail,
    name,
    ttlAndClass(i, failWith) {
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
        } else if (/^\d/.test(w) && ttl === undefined) failWith(`bad TTL "${w}"`);
      }
      if (klass !== undefined && klass !== CLASS_IN) failWith('only class IN is served');
      return { ttl, next: i };
    },
    add(owner, ttl, type, args, failWith) {
      const rec = parseRdata(type, args, { name, fail: failWith });
      if (ttl !== undefined) state.lastTtl = ttl;
      // RFC 2308 §4: $TTL; before it existed, the last explicit TTL (RFC 1035 §5.1); failing
      // both, BIND takes the SOA's minimum, with a warning, as the default for what follows.
      if (ttl === undefined && state.ttl === undefined && state.lastTtl === undefined && rec.soa) {
        state.warnings.push(`${file}:${e.line}: no TTL specified; using SOA MINTTL instead`);
        state.ttl = rec.soa.minimum;
      }
      const effTtl = ttl ?? state.ttl ?? state.lastTtl;
      if (effTtl === undefined) failWith('no TTL: add a $TTL line or a TTL to the first record');
      records.push({ name: owner, type, klass: CLASS_IN, ttl: effTtl!, ...rec, file, line: e.line });
    },
  };
}

function parseInto(records: ParsedRecord[], text: string, file: string, state: State, depth: number): void {
  for (const e of entries(text, file)) {
    const r = entryReader(e, file, state, records);
    const { fail } = r;
    const t = e.tokens;
    const first = t[0]!;
    // A directive starts with a plain `$`; an escaped one (`\$x`) begins an owner name.
    if (!e.blankOwner && !first.quoted && first.raw.startsWith('$')) {
      const dir = first.text.toUpperCase();
      if (dir === '$ORIGIN') {
        if (t.length !== 2) fail('$ORIGIN takes one name');
        state.origin = r.name(t[1]!.text);
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
        if (t[2]) state.origin = r.name(t[2].text);
        parseInto(records, incText, inc, state, depth + 1);
        state.origin = saved.origin;
        state.owner = saved.owner;
      } else if (dir === '$GENERATE') {
        generate(r, t, file, e.line);
      } else fail(`unknown directive ${first.text}`);
      continue;
    }

    let i = 0;
    let owner: string;
    if (e.blankOwner) {
      if (state.owner === undefined) fail('no owner name for the first record');
      owner = state.owner!;
    } else {
      owner = r.name(t[0]!.text);
      i = 1;
    }
    state.owner = owner;
    const { ttl, next } = r.ttlAndClass(i, fail);
    if (next >= t.length) fail('missing record type');
    const typeTok = t[next]!;
    const type = typeTok.quoted ? undefined : typeFromText(typeTok.text);
    if (type === undefined || metaType(type)) fail(`unknown or unsupported record type "${typeTok.text}"`);
    r.add(owner, ttl, type!, t.slice(next + 1), fail);
  }
}

/**
 * `$GENERATE range lhs [TTL] [class] type rhs` (generate.ts): one record per value of the range,
 * each read as if it stood on this line; the owner of a following blank-owner line stays the one
 * from before, as in BIND. Errors start with `$GENERATE:` and give BIND's reason.
 */
function generate(r: EntryReader, t: Token[], file: string, line: number): void {
  // Typed on the name, so that TypeScript knows the code after a call is not reached.
  const fail: (why: string) => never = (why) => r.fail(`$GENERATE: ${why}`);
  const [, rangeTok, lhsTok] = t;
  const { ttl, next } = r.ttlAndClass(3, fail);
  const typeTok = t[next];
  const rhsTok = t[next + 1];
  if (!rangeTok || !lhsTok || !typeTok || !rhsTok) fail('unexpected end of line');
  if (rangeTok.quoted || lhsTok.quoted) fail('syntax error: the range and the owner are not quoted strings');
  if (t[next + 2]) fail(`extra input text "${t[next + 2]!.text}" (the data is one field: quote it when it holds spaces)`);
  const type = typeTok.quoted ? undefined : typeFromText(typeTok.text);
  if (type === undefined) fail(`unknown RR type '${typeTok.text}'`);
  if (metaType(type)) fail(`meta RR type '${typeTok.text}'`);
  const rhs = rhsTok.quoted ? qstringText(rhsTok.raw) : rhsTok.raw;
  try {
    const { start, stop, step } = parseRange(rangeTok.text);
    for (let it = start; it <= stop; it += step) {
      // Escapes, quotes, parentheses and comments of the substituted text are read as in a file.
      const owner = entries(substitute(lhsTok.raw, it, GENERATE_LHS_ROOM), file, line)[0]!.tokens[0]!;
      const args = entries(substitute(rhs, it, GENERATE_RHS_ROOM), file, line).flatMap((x) => x.tokens);
      r.add(r.name(owner.text), ttl, type, args, fail);
    }
  } catch (err) {
    if (err instanceof GenerateError) fail(err.message);
    throw err;
  }
}

/** Meta-types are questions, never data (RFC 6895 §3.1): OPT and 128-255 (ANY, AXFR, TSIG...). */
function metaType(type: number): boolean {
  return type === TYPE.OPT || (type >= 128 && type <= 255);
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
