// RDATA from its presentation form to wire form, per type, as BIND 9.18 reads it: RFC 1035 §3.3
// and §5, RFC 3597 §5 generic `\# length hex` for any type, and the formats of the types real
// zones carry (DNAME, NAPTR, URI, SSHFP, TLSA/SMIMEA, SVCB/HTTPS, LOC, CERT, DS/CDS, DNSKEY/CDNSKEY,
// RRSIG, NSEC, NSEC3, NSEC3PARAM, IPSECKEY, APL, ...). dns-packet's codecs encode the fixed-layout
// DNSSEC and key types (DS, DNSKEY, SSHFP, TLSA); what it lacks, or encodes without escapes in
// names, is written here. Names that BIND compresses in replies (RFC 3597 §4: the RFC 1035 types)
// stay name parts; every other name is uncompressed (RFC 3597 §4, RFC 6672 §2.5 for DNAME).
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { readName, TYPE, typeFromText, typeName, u16, u32, type RdataPart } from '../wire.ts';

export interface Token {
  /** Decoded text; in an unquoted token an escaped dot or backslash stays escaped (a name's form). */
  text: string;
  quoted: boolean;
  /** The token as written in the file, between the quotes for a quoted one (to tell `\#` from a quoted or plain `#`; $GENERATE substitutes in it). */
  raw: string;
}

export interface Rdata {
  rdata: RdataPart[];
  /** Names this record points at (NS, MX, SRV, CNAME, PTR, DNAME targets). */
  target?: string;
  /** SOA only. */
  soa?: { serial: number; minimum: number };
}

export interface RdataContext {
  /** Makes a name absolute (origin, `@`) and checks its labels. */
  name(text: string): string;
  fail(why: string): never;
}

/** The value of a token as octets (latin1): the escapes a name keeps are undone. */
export function tokenValue(t: Token): string {
  return t.quoted || !t.text.includes('\\') ? t.text : t.text.replace(/\\(.)/g, '$1');
}

/** dns-packet's per-type RDATA codecs (exported by the package, absent from its type declarations). */
type Codec = { encode(value: unknown): Buffer };
const codecs = dnsPacket as unknown as Record<'sshfp' | 'tlsa' | 'ds' | 'dnskey', Codec>;

/** DNSSEC algorithm mnemonics (RFC 4034 App. A.1, IANA registry), as BIND accepts them. */
const ALGORITHMS: Record<string, number> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  NSEC3DSA: 6,
  NSEC3RSASHA1: 7,
  RSASHA256: 8,
  RSASHA512: 10,
  ECCGOST: 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

/** CERT types (RFC 4398 §2.1). */
const CERT_TYPES: Record<string, number> = { PKIX: 1, SPKI: 2, PGP: 3, IPKIX: 4, ISPKI: 5, IPGP: 6, ACPKIX: 7, IACPKIX: 8, URI: 253, OID: 254 };

/** SvcParamKeys (RFC 9460 §14.3.2). */
const SVC_KEYS: Record<string, number> = { mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7 };

/** Parses one record's RDATA tokens for `type`. */
export function parseRdata(type: number, args: Token[], ctx: RdataContext): Rdata {
  const tn = typeName(type);
  const { fail } = ctx;
  // RFC 3597 §5: `\# length hex...` for any type. For TXT, BIND reads `\# text` as two strings.
  if (args[0] && !args[0].quoted && args[0].raw === '\\#' && (args.length === 1 || /^\d+$/.test(args[1]!.text) || type !== TYPE.TXT)) {
    return generic(type, args, ctx);
  }
  const count = (n: number, max = n) => {
    if (args.length < n) fail(`${tn}: expected ${n} field${n > 1 ? 's' : ''}, found ${args.length}`);
    if (args.length > max) fail(`${tn}: extra field "${args[max]!.text}"`);
  };
  const num = (i: number, max: number, what: string): number => {
    const tok = args[i];
    if (!tok) return fail(`${tn}: missing ${what}`);
    if (!/^\d+$/.test(tok.text) || Number(tok.text) > max) fail(`${tn}: bad ${what} "${tok.text}"`);
    return Number(tok.text);
  };
  const mnemonic = (i: number, table: Record<string, number>, max: number, what: string): number => {
    const tok = args[i];
    const known = tok ? table[tok.text.toUpperCase().replace(/-/g, '')] : undefined;
    return known ?? num(i, max, what);
  };
  const rest = (from: number) => args.slice(from).map(tokenValue).join('');
  const hex = (from: number, what: string, allowEmpty = false): Buffer => {
    const text = rest(from);
    if ((!text && !allowEmpty) || !/^([0-9a-fA-F]{2})*$/.test(text)) fail(`${tn}: bad ${what} "${text}"`);
    return Buffer.from(text, 'hex');
  };
  const base64 = (from: number, what: string, allowEmpty = false): Buffer => {
    const text = rest(from);
    if ((!text && !allowEmpty) || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) fail(`${tn}: bad ${what} "${text}"`);
    return Buffer.from(text, 'base64');
  };
  const name = (i: number) => {
    if (!args[i]) fail(`${tn}: missing name`);
    return ctx.name(args[i]!.text);
  };
  const ipv4 = (text: string): Buffer => {
    if (!net.isIPv4(text)) fail(`${tn}: bad IPv4 address "${text}"`);
    return Buffer.from(text.split('.').map(Number));
  };
  const ipv6 = (text: string): Buffer => {
    if (!net.isIPv6(text)) fail(`${tn}: bad IPv6 address "${text}"`);
    return ipv6Bytes(text);
  };
  const strings = (from: number, min: number): Buffer[] => {
    if (args.length - from < min) fail(`${tn}: expected at least ${min} string${min > 1 ? 's' : ''}`);
    return args.slice(from).map((a) => charString(tokenValue(a), tn, fail));
  };
  const viaPacket = (codec: Codec, value: unknown): Buffer => codec.encode(value).subarray(2);

  switch (type) {
    case TYPE.A:
      count(1);
      return { rdata: [ipv4(args[0]!.text)] };
    case TYPE.AAAA:
      count(1);
      return { rdata: [ipv6(args[0]!.text)] };
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.MD:
    case TYPE.MF:
    case TYPE.MB:
    case TYPE.MG:
    case TYPE.MR: {
      count(1);
      const target = name(0);
      return { rdata: [{ name: target, compress: true }], target };
    }
    case TYPE.DNAME: {
      // RFC 6672 §2.5: the DNAME target is never compressed.
      count(1);
      const target = name(0);
      return { rdata: [{ name: target, compress: false }], target };
    }
    case TYPE.MX: {
      count(2);
      const target = name(1);
      return { rdata: [u16(num(0, 0xffff, 'preference')), { name: target, compress: true }], target };
    }
    case TYPE.AFSDB:
    case TYPE.RT:
    case TYPE.KX:
    case TYPE.LP: {
      count(2);
      const target = name(1);
      return { rdata: [u16(num(0, 0xffff, 'preference')), { name: target, compress: false }], ...(type === TYPE.LP ? {} : { target }) };
    }
    case TYPE.MINFO:
    case TYPE.RP:
      count(2);
      return {
        rdata: [
          { name: name(0), compress: type === TYPE.MINFO },
          { name: name(1), compress: type === TYPE.MINFO },
        ],
      };
    case TYPE.SRV: {
      count(4);
      const target = name(3);
      // RFC 2782: the target is not compressed.
      return {
        rdata: [u16(num(0, 0xffff, 'priority')), u16(num(1, 0xffff, 'weight')), u16(num(2, 0xffff, 'port')), { name: target, compress: false }],
        target,
      };
    }
    case TYPE.SOA: {
      count(7);
      const mname = name(0);
      const rname = name(1);
      const serial = num(2, 0xffffffff, 'serial');
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
    case TYPE.TXT:
    case TYPE.SPF:
    case TYPE.AVC:
      return { rdata: strings(0, 1) };
    case TYPE.HINFO:
      count(2);
      return { rdata: strings(0, 2) };
    case TYPE.CAA: {
      count(3);
      const flags = num(0, 255, 'flags');
      const tag = args[1]!.text;
      if (!/^[A-Za-z0-9]{1,255}$/.test(tag)) fail(`CAA: bad tag "${tag}"`);
      return { rdata: [Buffer.from([flags, tag.length]), Buffer.from(tag, 'latin1'), Buffer.from(tokenValue(args[2]!), 'latin1')] };
    }
    case TYPE.NAPTR: {
      // RFC 3403 §4.1: order, preference, flags, services, regexp, replacement (uncompressed).
      count(6);
      const target = name(5);
      return {
        rdata: [u16(num(0, 0xffff, 'order')), u16(num(1, 0xffff, 'preference')), ...strings(2, 0).slice(0, 3), { name: target, compress: false }],
        target,
      };
    }
    case TYPE.URI: {
      // RFC 7553 §4.5: the target is the rest of the RDATA, no length octet.
      count(3);
      const target = Buffer.from(tokenValue(args[2]!), 'latin1');
      if (target.length === 0) fail('URI: empty target');
      return { rdata: [u16(num(0, 0xffff, 'priority')), u16(num(1, 0xffff, 'weight')), target] };
    }
    case TYPE.SSHFP: {
      if (args.length < 3) count(3);
      return {
        rdata: [
          viaPacket(codecs.sshfp, {
            algorithm: num(0, 255, 'algorithm'),
            hash: num(1, 255, 'fingerprint type'),
            fingerprint: hex(2, 'fingerprint').toString('hex'),
          }),
        ],
      };
    }
    case TYPE.TLSA:
    case TYPE.SMIMEA: {
      // RFC 8162 §2: SMIMEA has TLSA's format.
      if (args.length < 4) count(4);
      const value = {
        usage: num(0, 255, 'usage'),
        selector: num(1, 255, 'selector'),
        matchingType: num(2, 255, 'matching type'),
        certificate: hex(3, 'certificate data'),
      };
      return { rdata: [viaPacket(codecs.tlsa, value)] };
    }
    case TYPE.DS:
    case TYPE.CDS:
    case TYPE.DLV:
    case TYPE.TA: {
      if (args.length < 4) count(4);
      const value = {
        keyTag: num(0, 0xffff, 'key tag'),
        algorithm: mnemonic(1, ALGORITHMS, 255, 'algorithm'),
        digestType: num(2, 255, 'digest type'),
        digest: hex(3, 'digest'),
      };
      return { rdata: [viaPacket(codecs.ds, value)] };
    }
    case TYPE.DNSKEY:
    case TYPE.CDNSKEY:
    case TYPE.KEY: {
      if (args.length < 3) count(4);
      const flags = num(0, 0xffff, 'flags');
      const protocol = num(1, 255, 'protocol');
      const algorithm = mnemonic(2, ALGORITHMS, 255, 'algorithm');
      // RFC 8078 §4: the CDNSKEY "delete" form `0 3 0 AA==` has a key of one zero octet.
      const wire = viaPacket(codecs.dnskey, { flags, algorithm, key: base64(3, 'key', type === TYPE.KEY) });
      wire[2] = protocol;
      return { rdata: [wire] };
    }
    case TYPE.RRSIG:
    case TYPE.SIG: {
      if (args.length < 9) count(9);
      const covered = typeFromText(args[0]!.text);
      if (covered === undefined) fail(`${tn}: bad type covered "${args[0]!.text}"`);
      const origTtl = parseTtl(args[3]!.text);
      if (origTtl === undefined) fail(`${tn}: bad original TTL "${args[3]!.text}"`);
      return {
        rdata: [
          u16(covered!),
          Buffer.from([mnemonic(1, ALGORITHMS, 255, 'algorithm'), num(2, 255, 'labels')]),
          u32(origTtl!),
          u32(sigTime(args[4]!.text, tn, fail)),
          u32(sigTime(args[5]!.text, tn, fail)),
          u16(num(6, 0xffff, 'key tag')),
          { name: name(7), compress: false },
          base64(8, 'signature'),
        ],
      };
    }
    case TYPE.NSEC: {
      if (args.length < 1) count(1);
      return { rdata: [{ name: name(0), compress: false }, typeBitmap(args.slice(1), tn, fail)] };
    }
    case TYPE.NSEC3: {
      // RFC 5155 §3.3: hash algorithm, flags, iterations, salt (- for none), next hashed owner
      // in base32hex, type bitmap.
      if (args.length < 5) count(5);
      const next = base32hex(args[4]!.text, tn, fail);
      return {
        rdata: [
          Buffer.from([num(0, 255, 'hash algorithm'), num(1, 255, 'flags')]),
          u16(num(2, 0xffff, 'iterations')),
          salt(args[3]!.text, tn, fail),
          Buffer.from([next.length]),
          next,
          typeBitmap(args.slice(5), tn, fail),
        ],
      };
    }
    case TYPE.NSEC3PARAM:
      count(4);
      return { rdata: [Buffer.from([num(0, 255, 'hash algorithm'), num(1, 255, 'flags')]), u16(num(2, 0xffff, 'iterations')), salt(args[3]!.text, tn, fail)] };
    case TYPE.CERT: {
      if (args.length < 4) count(4);
      return {
        rdata: [
          u16(mnemonic(0, CERT_TYPES, 0xffff, 'certificate type')),
          u16(num(1, 0xffff, 'key tag')),
          Buffer.from([mnemonic(2, ALGORITHMS, 255, 'algorithm')]),
          base64(3, 'certificate'),
        ],
      };
    }
    case TYPE.DHCID:
    case TYPE.OPENPGPKEY:
      if (args.length < 1) count(1);
      return { rdata: [base64(0, type === TYPE.DHCID ? 'digest' : 'key')] };
    case TYPE.LOC:
      return {
        rdata: [
          loc(
            args.map((a) => a.text),
            fail,
          ),
        ],
      };
    case TYPE.IPSECKEY: {
      // RFC 4025 §3: precedence, gateway type, algorithm, gateway, optional base64 key.
      if (args.length < 4) count(4);
      const gwType = num(1, 3, 'gateway type');
      const gw = args[3]!.text;
      let gateway: RdataPart;
      if (gwType === 0) {
        if (gw !== '.') fail(`IPSECKEY: bad gateway "${gw}"`);
        gateway = Buffer.alloc(0);
      } else if (gwType === 1) gateway = ipv4(gw);
      else if (gwType === 2) gateway = ipv6(gw);
      else gateway = { name: name(3), compress: false };
      return { rdata: [Buffer.from([num(0, 255, 'precedence'), gwType, num(2, 255, 'algorithm')]), gateway, base64(4, 'key', true)] };
    }
    case TYPE.APL:
      return { rdata: args.map((a) => aplItem(a.text, fail)) };
    case TYPE.NID:
    case TYPE.L64: {
      count(2);
      const groups = args[1]!.text.split(':');
      if (groups.length !== 4 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) fail(`${tn}: bad locator "${args[1]!.text}"`);
      return { rdata: [u16(num(0, 0xffff, 'preference')), ...groups.map((g) => u16(parseInt(g, 16)))] };
    }
    case TYPE.L32:
      count(2);
      return { rdata: [u16(num(0, 0xffff, 'preference')), ipv4(args[1]!.text)] };
    case TYPE.EUI48:
    case TYPE.EUI64: {
      count(1);
      const octets = type === TYPE.EUI48 ? 6 : 8;
      const text = args[0]!.text;
      if (!new RegExp(`^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){${octets - 1}}$`).test(text)) fail(`${tn}: bad address "${text}"`);
      return { rdata: [Buffer.from(text.replace(/-/g, ''), 'hex')] };
    }
    case TYPE.ZONEMD:
      if (args.length < 4) count(4);
      return { rdata: [u32(num(0, 0xffffffff, 'serial')), Buffer.from([num(1, 255, 'scheme'), num(2, 255, 'hash algorithm')]), hex(3, 'digest')] };
    case TYPE.CSYNC:
      if (args.length < 2) count(2);
      return { rdata: [u32(num(0, 0xffffffff, 'serial')), u16(num(1, 0xffff, 'flags')), typeBitmap(args.slice(2), tn, fail)] };
    case TYPE.SVCB:
    case TYPE.HTTPS: {
      if (args.length < 2) count(2);
      return { rdata: [u16(num(0, 0xffff, 'priority')), { name: name(1), compress: false }, svcParams(args.slice(2), tn, fail)] };
    }
    default:
      return fail(`${tn}: no presentation format known here; write it in RFC 3597 generic form (\\# length hex)`);
  }
}

/** RFC 3597 §5: `\# length hex...`; names in the RFC 1035 types become name parts again. */
function generic(type: number, args: Token[], ctx: RdataContext): Rdata {
  const tn = typeName(type);
  const { fail } = ctx;
  if (args.length < 2 || !/^\d+$/.test(args[1]!.text)) fail(`${tn}: bad generic RDATA length "${args[1]?.text ?? ''}"`);
  const length = Number(args[1]!.text);
  const text = args.slice(2).map(tokenValue).join('');
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) fail(`${tn}: bad generic RDATA "${text}"`);
  const bytes = Buffer.from(text, 'hex');
  if (bytes.length !== length) fail(`${tn}: generic RDATA has ${bytes.length} octets, not ${length}`);
  const nameAt = (o: number): { name: string; end: number } => {
    const n = readName(bytes, o);
    if (!n || n.end > bytes.length) return fail(`${tn}: bad name in generic RDATA`);
    return n;
  };
  const exact = (n: number) => {
    if (bytes.length !== n) fail(`${tn}: generic RDATA must have ${n} octets, not ${bytes.length}`);
  };
  switch (type) {
    case TYPE.A:
      exact(4);
      return { rdata: [bytes] };
    case TYPE.AAAA:
      exact(16);
      return { rdata: [bytes] };
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.DNAME: {
      const n = nameAt(0);
      exact(n.end);
      return { rdata: [{ name: n.name, compress: type !== TYPE.DNAME }], target: n.name };
    }
    case TYPE.MX: {
      const n = nameAt(2);
      exact(n.end);
      return { rdata: [bytes.subarray(0, 2), { name: n.name, compress: true }], target: n.name };
    }
    case TYPE.SRV: {
      const n = nameAt(6);
      exact(n.end);
      return { rdata: [bytes.subarray(0, 6), { name: n.name, compress: false }], target: n.name };
    }
    case TYPE.SOA: {
      const m = nameAt(0);
      const r = nameAt(m.end);
      exact(r.end + 20);
      const t = bytes.subarray(r.end);
      return {
        rdata: [{ name: m.name, compress: true }, { name: r.name, compress: true }, t],
        soa: { serial: t.readUInt32BE(0), minimum: t.readUInt32BE(16) },
      };
    }
    case TYPE.TXT:
    case TYPE.SPF:
      for (let o = 0; o < bytes.length; o += bytes[o]! + 1) if (o + 1 + bytes[o]! > bytes.length) fail(`${tn}: bad character-string in generic RDATA`);
      if (bytes.length === 0) fail(`${tn}: empty generic RDATA`);
      return { rdata: [bytes] };
    default:
      return { rdata: [bytes] };
  }
}

/** TTL: seconds, or BIND's units (1w2d3h4m5s). */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n <= 0xffffffff ? n : undefined;
  }
  const re = /(\d+)([wdhms])/giy;
  const mult: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * mult[m[2]!.toLowerCase()]!;
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 && total <= 0xffffffff ? total : undefined;
}

/** <character-string> of RFC 1035 §3.3: one length byte, at most 255 bytes. */
function charString(text: string, tn: string, fail: (why: string) => never): Buffer {
  const b = Buffer.from(text, 'latin1');
  if (b.length > 255) fail(`${tn}: string longer than 255 bytes`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

export function ipv6Bytes(a: string): Buffer {
  // An embedded IPv4 tail (::ffff:1.2.3.4, RFC 4291 §2.2) becomes its two 16-bit groups.
  let text = a;
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const p = v4[2]!.split('.').map(Number);
    text = `${v4[1]}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const hexWord = (x: string) => parseInt(x, 16);
  const h = head ? head.split(':').map(hexWord) : [];
  const r = rest ? rest.split(':').map(hexWord) : [];
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  words.forEach((w, k) => {
    out.writeUInt16BE(w, k * 2);
  });
  return out;
}

/** RRSIG times (RFC 4034 §3.2): YYYYMMDDHHmmSS in UTC, or seconds since 1970. */
function sigTime(text: string, tn: string, fail: (why: string) => never): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
    // RFC 4034 §3.1.5: serial number arithmetic, so the seconds are taken modulo 2^32.
    return (Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) / 1000) % 2 ** 32;
  }
  if (/^\d{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
  return fail(`${tn}: bad time "${text}"`);
}

/** RFC 4034 §4.1.2: the type bit maps, one window of up to 32 octets per 256 types. */
function typeBitmap(tokens: Token[], tn: string, fail: (why: string) => never): Buffer {
  const types = new Set<number>();
  for (const t of tokens) {
    const v = typeFromText(t.text);
    if (v === undefined) fail(`${tn}: bad type "${t.text}"`);
    types.add(v!);
  }
  const windows = new Map<number, Buffer>();
  for (const t of types) {
    const w = t >> 8;
    const bits = windows.get(w) ?? Buffer.alloc(32);
    bits[(t & 0xff) >> 3]! |= 0x80 >> (t & 7);
    windows.set(w, bits);
  }
  const out: Buffer[] = [];
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(w)!;
    let len = 32;
    while (len > 0 && bits[len - 1] === 0) len--;
    out.push(Buffer.from([w, len]), bits.subarray(0, len));
  }
  return Buffer.concat(out);
}

/** NSEC3 salt: `-` for none, else hex, with its length octet (RFC 5155 §3.3). */
function salt(text: string, tn: string, fail: (why: string) => never): Buffer {
  if (text === '-') return Buffer.from([0]);
  if (!/^([0-9a-fA-F]{2})+$/.test(text) || text.length > 510) fail(`${tn}: bad salt "${text}"`);
  const b = Buffer.from(text, 'hex');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** Base 32 with the extended hex alphabet, no padding (RFC 4648 §7, RFC 5155 §3.3). */
function base32hex(text: string, tn: string, fail: (why: string) => never): Buffer {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text.toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) fail(`${tn}: bad next hashed owner "${text}"`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  if (out.length === 0 || out.length > 255) fail(`${tn}: bad next hashed owner "${text}"`);
  return Buffer.from(out);
}

/** One APL item `[!]afi:address/prefix` (RFC 3123 §4), address octets without trailing zeros. */
function aplItem(text: string, fail: (why: string) => never): Buffer {
  const m = /^(!?)([12]):([^/]+)\/(\d+)$/.exec(text);
  if (!m) return fail(`APL: bad item "${text}"`);
  const afi = Number(m[2]);
  const prefix = Number(m[4]);
  const ok = afi === 1 ? net.isIPv4(m[3]!) : net.isIPv6(m[3]!);
  if (!ok || prefix > (afi === 1 ? 32 : 128)) fail(`APL: bad item "${text}"`);
  let addr = afi === 1 ? Buffer.from(m[3]!.split('.').map(Number)) : ipv6Bytes(m[3]!);
  let len = addr.length;
  while (len > 0 && addr[len - 1] === 0) len--;
  addr = addr.subarray(0, len);
  return Buffer.concat([u16(afi), Buffer.from([prefix, (m[1] ? 0x80 : 0) | len]), addr]);
}

/**
 * LOC (RFC 1876 §3 and App. A): `d [m [s]] N|S d [m [s]] E|W alt[m] [size[m] [hp[m] [vp[m]]]]`,
 * defaults 1m, 10000m, 10m; sizes as mantissa and power of ten, truncated as BIND does.
 */
function loc(t: string[], fail: (why: string) => never): Buffer {
  let i = 0;
  const coord = (hemis: string, maxDeg: number): number => {
    const parts: string[] = [];
    while (i < t.length && parts.length < 3 && !hemis.includes(t[i]!.toUpperCase())) parts.push(t[i++]!);
    const h = t[i++]?.toUpperCase();
    if (!h || !hemis.includes(h) || parts.length === 0) return fail(`LOC: bad ${maxDeg === 90 ? 'latitude' : 'longitude'}`);
    const [d, m = '0', s = '0'] = parts;
    if (!/^\d+$/.test(d!) || !/^\d+$/.test(m) || !/^\d+(\.\d{1,3})?$/.test(s)) fail(`LOC: bad ${maxDeg === 90 ? 'latitude' : 'longitude'}`);
    const deg = Number(d);
    const min = Number(m);
    const [sInt, sFrac = ''] = s.split('.');
    const msec = Number(sInt) * 1000 + Number(sFrac.padEnd(3, '0'));
    if (deg > maxDeg || min > 59 || msec > 59999 || (deg === maxDeg && (min > 0 || msec > 0))) fail(`LOC: bad ${maxDeg === 90 ? 'latitude' : 'longitude'}`);
    const value = deg * 3600000 + min * 60000 + msec;
    return (2 ** 31 + (h === hemis[0] ? value : -value)) >>> 0;
  };
  const lat = coord('NS', 90);
  const lon = coord('EW', 180);
  const metres = (text: string | undefined, what: string, signed: boolean): { m: number; cm: number; neg: boolean } => {
    const mm = text === undefined ? null : (signed ? /^(-?)(\d+)(?:\.(\d{1,2}))?m?$/ : /^()(\d+)(?:\.(\d{1,2}))?m?$/).exec(text);
    if (!mm) return fail(`LOC: bad ${what} "${text ?? ''}"`);
    return { neg: mm[1] === '-', m: Number(mm[2]), cm: Number((mm[3] ?? '').padEnd(2, '0')) };
  };
  const a = metres(t[i++], 'altitude', true);
  const altCm = (a.neg ? -1 : 1) * (a.m * 100 + a.cm);
  if (altCm < -10000000 || altCm > 4284967295) fail('LOC: bad altitude');
  const precision = (text: string | undefined, def: number, what: string): number => {
    if (text === undefined) return def;
    const { m, cm } = metres(text, what, false);
    if (m > 90000000 || (m === 90000000 && cm !== 0)) fail(`LOC: bad ${what} "${text}"`);
    let man: number;
    let exp: number;
    if (m > 0) {
      for (exp = 0; exp < 7; exp++) if (m < 10 ** (exp + 1)) break;
      man = Math.floor(m / 10 ** exp);
      exp += 2;
    } else if (cm >= 10) {
      man = Math.floor(cm / 10);
      exp = 1;
    } else {
      man = cm;
      exp = 0;
    }
    return (man << 4) | exp;
  };
  const size = precision(t[i++], 0x12, 'size');
  const hp = precision(t[i++], 0x16, 'horizontal precision');
  const vp = precision(t[i++], 0x13, 'vertical precision');
  if (i < t.length) fail(`LOC: extra field "${t[i]}"`);
  const out = Buffer.alloc(16);
  out[0] = 0;
  out[1] = size;
  out[2] = hp;
  out[3] = vp;
  out.writeUInt32BE(lat, 4);
  out.writeUInt32BE(lon, 8);
  out.writeUInt32BE((altCm + 10000000) >>> 0, 12);
  return out;
}

/** SVCB/HTTPS parameters (RFC 9460 §2.1, §7), sorted by key on the wire. */
function svcParams(tokens: Token[], tn: string, fail: (why: string) => never): Buffer {
  const params = new Map<number, Buffer>();
  const list = (v: string) => v.split(/(?<!\\),/).map((x) => x.replace(/\\(.)/g, '$1'));
  for (let k = 0; k < tokens.length; k++) {
    const text = tokenValue(tokens[k]!);
    const eq = text.indexOf('=');
    const keyText = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    let value = eq < 0 ? undefined : text.slice(eq + 1);
    // `key="quoted value"` arrives as `key=` and a quoted token.
    if (value === '' && tokens[k + 1]?.quoted) value = tokens[++k]!.text;
    const generic = /^key(\d{1,5})$/.exec(keyText);
    const key = SVC_KEYS[keyText] ?? (generic && Number(generic[1]) <= 0xffff ? Number(generic[1]) : undefined);
    if (key === undefined) fail(`${tn}: unknown parameter "${keyText}"`);
    if (params.has(key!)) fail(`${tn}: parameter "${keyText}" twice`);
    let wire: Buffer;
    const need = () => value ?? fail(`${tn}: parameter "${keyText}" needs a value`);
    switch (key) {
      case 0:
        wire = Buffer.concat(
          list(need())
            .map((n) => SVC_KEYS[n] ?? (/^key(\d+)$/.test(n) ? Number(n.slice(3)) : fail(`${tn}: bad mandatory key "${n}"`)))
            .sort((x, y) => x - y)
            .map(u16),
        );
        break;
      case 1:
        wire = Buffer.concat(list(need()).map((id) => charString(id, tn, fail)));
        break;
      case 2:
        if (value !== undefined) fail(`${tn}: no-default-alpn takes no value`);
        wire = Buffer.alloc(0);
        break;
      case 3:
        if (!/^\d+$/.test(need()) || Number(value) > 0xffff) fail(`${tn}: bad port "${value}"`);
        wire = u16(Number(value));
        break;
      case 4:
        wire = Buffer.concat(list(need()).map((x) => (net.isIPv4(x) ? Buffer.from(x.split('.').map(Number)) : fail(`${tn}: bad ipv4hint "${x}"`))));
        break;
      case 5:
        wire = Buffer.from(need(), 'base64');
        break;
      case 6:
        wire = Buffer.concat(list(need()).map((x) => (net.isIPv6(x) ? ipv6Bytes(x) : fail(`${tn}: bad ipv6hint "${x}"`))));
        break;
      default:
        wire = Buffer.from(value ?? '', 'latin1');
    }
    params.set(key!, wire);
  }
  return Buffer.concat([...params.entries()].sort(([a], [b]) => a - b).flatMap(([k, v]) => [u16(k), u16(v.length), v]));
}
