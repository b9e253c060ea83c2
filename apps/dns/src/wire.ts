// DNS wire format pieces that the hot path and the zone builder share: type and rcode tables,
// domain names (RFC 1035 §3.1, §4.1.4) and an encoder for record sections with name compression.
// dns-packet does not compress and allocates per field; answers here are encoded once per zone
// load and then copied, so this small encoder is the one place that lays out our records.

/**
 * RR types this server knows by name (the IANA registry's mnemonics as BIND 9.18 reads them);
 * any other type is written TYPEn (RFC 3597 §5).
 */
export const TYPE = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  X25: 19,
  ISDN: 20,
  RT: 21,
  NSAP: 22,
  SIG: 24,
  KEY: 25,
  PX: 26,
  GPOS: 27,
  AAAA: 28,
  LOC: 29,
  NXT: 30,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  A6: 38,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  NID: 104,
  L32: 105,
  L64: 106,
  LP: 107,
  EUI48: 108,
  EUI64: 109,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
  AVC: 258,
  DOA: 259,
  AMTRELAY: 260,
  TA: 32768,
  DLV: 32769,
} as const;

export const TYPE_NAME: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));

export function typeName(t: number): string {
  return TYPE_NAME[t] ?? `TYPE${t}`;
}

/** A type mnemonic or RFC 3597 `TYPEn` (any case) to its number; undefined when neither. */
export function typeFromText(text: string): number | undefined {
  const up = text.toUpperCase();
  const known = (TYPE as Record<string, number>)[up];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(up);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : undefined;
}

export const CLASS_IN = 1;

/** Response codes (RFC 1035 §4.1.1; BADVERS is extended, RFC 6891 §6.1.3). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** RFC 6672 §2.2: a DNAME substitution made a name longer than 255 octets. */
  YXDOMAIN: 6,
  BADVERS: 16,
} as const;

export const OPCODE_QUERY = 0;

/** Header flag bits of the third and fourth bytes (RFC 1035 §4.1.1, RFC 4035 §3.2). */
export const FLAG = {
  QR: 0x80,
  AA: 0x04,
  TC: 0x02,
  RD: 0x01,
  RA: 0x80,
  AD: 0x20,
  CD: 0x10,
} as const;

export const HEADER_LENGTH = 12;
/** Largest UDP reply without EDNS (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_SIZE = 512;
/** Wire length of an OPT record with no options (RFC 6891 §6.1.2). */
export const OPT_LENGTH = 11;

/**
 * Names as stored: presentation form without the final dot, in the zone file's case. Octets are
 * latin1 characters; a dot or a backslash inside a label is escaped (`\\.`, `\\\\`), so that
 * the label boundaries of a name read from the wire and of a name read from a file agree
 * (RFC 1035 §5.1, RFC 4343 §2.1).
 */
export function lower(name: string): string {
  // RFC 4343 §3: only A-Z fold; String.prototype.toLowerCase would fold Latin-1 letters too.
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) > 0x7f) return name.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return name.toLowerCase();
}

/** Labels of a name, unescaped ("" is the root). */
export function labels(name: string): string[] {
  if (name === '') return [];
  if (!name.includes('\\')) return name.split('.');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\' && i + 1 < name.length) cur += name[++i];
    else if (c === '.') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** One label in stored form: its dots and backslashes escaped. */
export function escapeLabel(label: string): string {
  return /[.\\]/.test(label) ? label.replace(/[.\\]/g, (c) => `\\${c}`) : label;
}

/** Is `name` equal to or below `apex`? Both lower-case, without the final dot. */
export function isSubdomain(name: string, apex: string): boolean {
  if (apex === '' || name === apex) return true;
  if (!name.endsWith(`.${apex}`)) return false;
  // The dot found must end a label: not the escaped dot of `a\\.apex` (an odd run of backslashes).
  let k = name.length - apex.length - 2;
  let slashes = 0;
  while (k >= 0 && name[k] === '\\') {
    slashes++;
    k--;
  }
  return slashes % 2 === 0;
}

/** Wire length of an uncompressed name. */
export function nameWireLength(name: string): number {
  let n = 1;
  for (const l of labels(name)) n += l.length + 1;
  return n;
}

/** Uncompressed wire form of a name. */
export function nameToWire(name: string): Buffer {
  const out = Buffer.alloc(nameWireLength(name));
  let o = 0;
  for (const l of labels(name)) {
    o = out.writeUInt8(l.length, o);
    o += out.write(l, o, 'latin1');
  }
  out[o] = 0;
  return out;
}

/**
 * Reads a (possibly compressed) name at `offset`. Returns the name and where the name ended in
 * the message, or undefined when it is malformed (loop, out of bounds, too long: RFC 1035 §2.3.4).
 */
export function readName(buf: Buffer, offset: number): { name: string; end: number } | undefined {
  const parts: string[] = [];
  let o = offset;
  let end = -1;
  let jumps = 0;
  let length = 1;
  for (;;) {
    if (o >= buf.length) return undefined;
    const len = buf[o]!;
    if (len === 0) {
      if (end < 0) end = o + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= buf.length || ++jumps > 64) return undefined;
      if (end < 0) end = o + 2;
      o = ((len & 0x3f) << 8) | buf[o + 1]!;
      continue;
    }
    if (len & 0xc0) return undefined;
    if (o + 1 + len > buf.length) return undefined;
    length += len + 1;
    if (length > 255) return undefined;
    parts.push(escapeLabel(buf.toString('latin1', o + 1, o + 1 + len)));
    o += len + 1;
  }
  return { name: parts.join('.'), end };
}

/** One piece of RDATA: literal bytes or a domain name (compressible or not, RFC 3597 §4). */
export type RdataPart = Buffer | { name: string; compress: boolean };

/** A record ready to encode. */
export interface WireRecord {
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdata: RdataPart[];
}

/**
 * Writes records into a growing buffer, compressing names against what is already written
 * (RFC 1035 §4.1.4). `base` is where the first byte will sit in the final message, so the
 * pointers are right when the bytes are copied after a header and a question of known length.
 * Compression is case-sensitive, as BIND's, so that every name keeps its case.
 */
export class SectionWriter {
  private buf = Buffer.alloc(512);
  private len = 0;
  private readonly dict = new Map<string, number>();
  constructor(private readonly base: number) {}

  get length(): number {
    return this.len;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  private u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  private raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /**
   * Registers a name already written at absolute offset `at` (the question's name at 12), so
   * that later names point into it, as BIND compresses against the question.
   */
  seed(name: string, at: number): void {
    const ls = labels(name);
    let o = at;
    for (let i = 0; i < ls.length; i++) {
      const suffix = ls.slice(i).map(escapeLabel).join('.');
      if (o < 0x4000 && !this.dict.has(suffix)) this.dict.set(suffix, o);
      o += ls[i]!.length + 1;
    }
  }

  name(name: string, compress: boolean): void {
    const ls = labels(name);
    for (let i = 0; i < ls.length; i++) {
      const suffix = ls.slice(i).map(escapeLabel).join('.');
      const at = compress ? this.dict.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      const abs = this.base + this.len;
      if (abs < 0x4000 && !this.dict.has(suffix)) this.dict.set(suffix, abs);
      const l = Buffer.from(ls[i]!, 'latin1');
      this.u8(l.length);
      this.raw(l);
    }
    this.u8(0);
  }

  record(rr: WireRecord): void {
    this.name(rr.name, true);
    this.u16(rr.type);
    this.u16(rr.klass);
    this.u32(rr.ttl);
    const lenAt = this.len;
    this.u16(0);
    for (const part of rr.rdata) {
      if (Buffer.isBuffer(part)) this.raw(part);
      else this.name(part.name, part.compress);
    }
    this.buf.writeUInt16BE(this.len - lenAt - 2, lenAt);
  }
}

/** A 16-bit big-endian field (RDATA building off the hot path: zone load, relayed answers). */
export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A 32-bit big-endian field (TTLs, SOA timers). */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
