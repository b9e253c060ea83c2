// RFC 1035 §5 master files: $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, relative names and "@",
// a blank owner repeating the previous one, parentheses spanning lines, ";" comments, quoted
// strings with \X and \DDD escapes, TTL units as BIND writes them (1h30m), and the record types
// A NS CNAME SOA PTR MX TXT AAAA SRV CAA. Errors carry file:line, as named-checkzone's do.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLASS_IN, TYPE, u16, u32, type RdataPart } from '../wire.ts';

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

interface Token {
  text: string;
  quoted: boolean;
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
      if (cur && cur.tokens.length) out.push(cur);
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
            const esc = unescape(s, i, file, lineNo);
            t += esc.ch;
            i = esc.next;
          } else {
            t += d;
            i++;
          }
        }
        cur!.tokens.push({ text: t, quoted: true });
      } else {
        let t = '';
        while (i < s.length && !' \t;()"'.includes(s[i]!)) {
          if (s[i] === '\\') {
            const esc = unescape(s, i, file, lineNo);
            t += esc.ch === '.' ? '\\.' : esc.ch;
            i = esc.next;
          } else t += s[i++];
        }
        cur!.tokens.push({ text: t, quoted: false });
      }
    }
  }
  if (depth !== 0) throw new ZoneFileError(file, cur?.line ?? lineNo, '"(" not closed before the end of the file');
  if (cur && cur.tokens.length) out.push(cur);
  return out;
}

/** \X or \DDD (RFC 1035 §5.1). */
function unescape(s: string, i: number, file: string, line: number): { ch: string; next: number } {
  const m = /^\\(\d{3})/.exec(s.slice(i, i + 4));
  if (m) {
    const v = Number(m[1]);
    if (v > 255) throw new ZoneFileError(file, line, `bad escape \\${m[1]}`);
    return { ch: String.fromCharCode(v), next: i + 4 };
  }
  if (i + 1 >= s.length) throw new ZoneFileError(file, line, 'escape at end of line');
  return { ch: s[i + 1]!, next: i + 2 };
}

/** TTL: seconds, or BIND's units (1w2d3h4m5s). */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n <= 0x7fffffff ? n : undefined;
  }
  const re = /(\d+)([wdhms])/giy;
  const mult: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * mult[m[2]!.toLowerCase()]!;
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 && total <= 0x7fffffff ? total : undefined;
}

export interface ParseOptions {
  /** Zone apex (the initial $ORIGIN), without the final dot. */
  origin: string;
  file: string;
  /** Text to parse; read from `file` otherwise. */
  text?: string;
}

/** Parses a master file into records. Throws ZoneFileError with the file and line. */
export function parseMasterFile(opts: ParseOptions): ParsedRecord[] {
  const records: ParsedRecord[] = [];
  const state = { origin: stripDot(opts.origin), ttl: undefined as number | undefined, lastTtl: undefined as number | undefined, owner: undefined as string | undefined };
  parseInto(records, opts.text ?? fs.readFileSync(opts.file, 'utf8'), opts.file, state, 0);
  return records;
}

function stripDot(n: string): string {
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

interface State {
  origin: string;
  ttl: number | undefined;
  lastTtl: number | undefined;
  owner: string | undefined;
}

function parseInto(records: ParsedRecord[], text: string, file: string, state: State, depth: number): void {
  for (const e of entries(text, file)) {
    const fail = (why: string): never => {
      throw new ZoneFileError(file, e.line, why);
    };
    const absolute = (n: string, origin = state.origin): string => {
      if (n === '@') return origin;
      if (n === '.') return '';
      if (n.endsWith('.') && !n.endsWith('\\.')) return n.slice(0, -1);
      return origin === '' ? n : `${n}.${origin}`;
    };
    const checkName = (n: string): string => {
      const ls = n === '' ? [] : n.split(/(?<!\\)\./);
      if (ls.some((l) => l.length === 0)) fail(`bad name "${n}": empty label`);
      if (ls.some((l) => l.replace(/\\\./g, '.').length > 63)) fail(`bad name "${n}": label longer than 63 octets`);
      if (n.length + 2 > 255) fail(`bad name "${n}": longer than 255 octets`);
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
        const v = parseTtl(t[1]!.text);
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
      const asTtl = ttl === undefined && /^\d/.test(w) ? parseTtl(w) : undefined;
      if (asTtl !== undefined) {
        ttl = asTtl;
        i++;
      } else if (klass === undefined && CLASSES[w.toUpperCase()] !== undefined) {
        klass = CLASSES[w.toUpperCase()];
        i++;
      } else if (/^\d/.test(w) && ttl === undefined) fail(`bad TTL "${w}"`);
    }
    if (i >= t.length) fail('missing record type');
    const typeText = t[i++]!.text.toUpperCase();
    const type = (TYPE as Record<string, number>)[typeText];
    if (type === undefined || type === TYPE.OPT || type === TYPE.ANY || type === TYPE.AXFR || type === TYPE.IXFR) {
      fail(`unknown or unsupported record type "${t[i - 1]!.text}"`);
    }
    if (klass !== undefined && klass !== CLASS_IN) fail('only class IN is served');
    const args = t.slice(i);
    const rec = rdata(type!, args, (n) => checkName(absolute(n)), fail);
    if (ttl !== undefined) state.lastTtl = ttl;
    // RFC 2308 §4: $TTL; before it existed, the last explicit TTL (RFC 1035 §5.1); failing
    // both, BIND uses the SOA's minimum, which is the SOA's own last field.
    const effTtl = ttl ?? state.ttl ?? state.lastTtl ?? rec.soa?.minimum;
    if (effTtl === undefined) fail('no TTL: add a $TTL line or a TTL to the first record');
    records.push({ name: owner, type: type!, klass: CLASS_IN, ttl: effTtl!, ...rec, file, line: e.line });
  }
}

type Rdata = Pick<ParsedRecord, 'rdata' | 'target' | 'soa'>;

function rdata(type: number, args: Token[], name: (n: string) => string, fail: (why: string) => never): Rdata {
  const tn = Object.entries(TYPE).find(([, v]) => v === type)![0];
  const count = (n: number) => {
    if (args.length < n) fail(`${tn}: expected ${n} field${n > 1 ? 's' : ''}, found ${args.length}`);
    if (args.length > n) fail(`${tn}: extra field "${args[n]!.text}"`);
  };
  const num = (tok: Token, max: number, what: string): number => {
    if (!/^\d+$/.test(tok.text) || Number(tok.text) > max) fail(`${tn}: bad ${what} "${tok.text}"`);
    return Number(tok.text);
  };
  switch (type) {
    case TYPE.A: {
      count(1);
      const a = args[0]!.text;
      if (!net.isIPv4(a)) fail(`A: bad IPv4 address "${a}"`);
      return { rdata: [Buffer.from(a.split('.').map(Number))] };
    }
    case TYPE.AAAA: {
      count(1);
      const a = args[0]!.text;
      if (!net.isIPv6(a)) fail(`AAAA: bad IPv6 address "${a}"`);
      return { rdata: [ipv6Bytes(a)] };
    }
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR: {
      count(1);
      const target = name(args[0]!.text);
      return { rdata: [{ name: target, compress: true }], target };
    }
    case TYPE.MX: {
      count(2);
      const target = name(args[1]!.text);
      return { rdata: [u16(num(args[0]!, 0xffff, 'preference')), { name: target, compress: true }], target };
    }
    case TYPE.SRV: {
      count(4);
      const target = name(args[3]!.text);
      // RFC 2782: the target is not compressed.
      return {
        rdata: [u16(num(args[0]!, 0xffff, 'priority')), u16(num(args[1]!, 0xffff, 'weight')), u16(num(args[2]!, 0xffff, 'port')), { name: target, compress: false }],
        target,
      };
    }
    case TYPE.SOA: {
      count(7);
      const mname = name(args[0]!.text);
      const rname = name(args[1]!.text);
      const serial = num(args[2]!, 0xffffffff, 'serial');
      const times = args.slice(3).map((a, k) => {
        const v = parseTtl(a.text);
        if (v === undefined) fail(`SOA: bad ${['refresh', 'retry', 'expire', 'minimum'][k]} "${a.text}"`);
        return v!;
      });
      return {
        rdata: [{ name: mname, compress: true }, { name: rname, compress: true }, u32(serial), ...times.map(u32)],
        soa: { serial, minimum: times[3]! },
      };
    }
    case TYPE.TXT: {
      if (args.length === 0) fail('TXT: expected at least one string');
      return { rdata: args.map((a) => charString(a.text, fail)) };
    }
    case TYPE.CAA: {
      count(3);
      const flags = num(args[0]!, 255, 'flags');
      const tag = args[1]!.text;
      if (!/^[A-Za-z0-9]{1,255}$/.test(tag)) fail(`CAA: bad tag "${tag}"`);
      return { rdata: [Buffer.from([flags, tag.length]), Buffer.from(tag, 'latin1'), Buffer.from(args[2]!.text, 'latin1')] };
    }
    case TYPE.HINFO: {
      count(2);
      return { rdata: args.map((a) => charString(a.text, fail)) };
    }
    default:
      return fail(`unsupported record type ${tn}`);
  }
}

/** <character-string> of RFC 1035 §3.3: one length byte, at most 255 bytes. */
function charString(text: string, fail: (why: string) => never): Buffer {
  const b = Buffer.from(text, 'latin1');
  if (b.length > 255) fail(`string longer than 255 bytes`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function ipv6Bytes(a: string): Buffer {
  // An embedded IPv4 tail (::ffff:1.2.3.4, RFC 4291 §2.2) becomes its two 16-bit groups.
  let text = a;
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const p = v4[2]!.split('.').map(Number);
    text = `${v4[1]}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const hex = (x: string) => parseInt(x, 16);
  const h = head ? head.split(':').map(hex) : [];
  const r = rest ? rest.split(':').map(hex) : [];
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  words.forEach((w, k) => out.writeUInt16BE(w, k * 2));
  return out;
}
