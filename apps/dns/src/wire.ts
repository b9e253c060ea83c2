// DNS wire format pieces that the hot path and the zone builder share: type and rcode tables,
// domain names (RFC 1035 §3.1, §4.1.4) and an encoder for record sections with name compression.
// dns-packet does not compress and allocates per field; answers here are encoded once per zone
// load and then copied, so this small encoder is the one place that lays out our records.

/** RR types this server knows by name (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 6891, RFC 8659). */
export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
} as const;

export const TYPE_NAME: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]));

export function typeName(t: number): string {
  return TYPE_NAME[t] ?? `TYPE${t}`;
}

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

/** Response codes (RFC 1035 §4.1.1; BADVERS is extended, RFC 6891 §6.1.3). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
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

/** A name as stored: presentation form without the final dot, in the zone file's case. */
export function lower(name: string): string {
  return name.toLowerCase();
}

/** Labels of a name ("" is the root). */
export function labels(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/** Is `name` equal to or below `apex`? Both lower-case, without the final dot. */
export function isSubdomain(name: string, apex: string): boolean {
  return apex === '' || name === apex || name.endsWith(`.${apex}`);
}

/** Wire length of an uncompressed name. */
export function nameWireLength(name: string): number {
  return name === '' ? 1 : Buffer.byteLength(name) + 2;
}

/** Uncompressed wire form of a name. */
export function nameToWire(name: string): Buffer {
  const out = Buffer.alloc(nameWireLength(name));
  let o = 0;
  for (const l of labels(name)) {
    o = out.writeUInt8(Buffer.byteLength(l), o);
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
    parts.push(buf.toString('latin1', o + 1, o + 1 + len));
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
      const suffix = ls.slice(i).join('.');
      if (o < 0x4000 && !this.dict.has(suffix)) this.dict.set(suffix, o);
      o += Buffer.byteLength(ls[i]!, 'latin1') + 1;
    }
  }

  name(name: string, compress: boolean): void {
    const ls = labels(name);
    for (let i = 0; i < ls.length; i++) {
      const suffix = ls.slice(i).join('.');
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
