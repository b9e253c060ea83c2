// The zone files of other DNS servers' test suites (BIND, Knot, NSD) kept read-only beside the
// clone in ../shared/dns-zones: where they are, what BIND makes of each (named-checkzone -D is
// the oracle for the owners and types to ask), the questions the differential test sends, and a
// byte-exact reading of replies (dns-packet's decoder folds names through UTF-8 and would hide
// differences in octets above 0x7f).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool, run } from '@sstt/testkit';
import { readName, TYPE, typeFromText, typeName } from '../../src/wire.ts';

/** The repository root (this file is apps/dns/test/reference/shared-zones.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** ../shared/dns-zones beside the clone; a missing folder fails the test, saying where it looked. */
export function sharedZonesDir(): string {
  const dir = path.resolve(REPO_ROOT, '../shared/dns-zones');
  if (!fs.existsSync(path.join(dir, 'manifest.tsv'))) {
    throw new Error(`the shared zone files are missing: expected ${dir}/manifest.tsv (a copy of the shared dns-zones folder beside the clone)`);
  }
  return dir;
}

/**
 * The project's own zones for the same test (test/reference/zones/<folder>/), for shapes the
 * shared folder lacks and real zones have (issue 18): delegations to name servers in the parent
 * zone, and $GENERATE.
 */
export function ownZones(): SharedZone[] {
  const dir = path.join(REPO_ROOT, 'apps/dns/test/reference/zones');
  return [
    ['delegations', 'delegations.test'],
    ['generate', '2.0.192.in-addr.arpa'],
  ].map(([folder, origin]) => ({
    folder: `own-${folder}`,
    origin: origin!,
    file: path.join(dir, folder!, `db.${origin}`),
    includeDir: path.join(dir, folder!),
    source: `apps/dns/test/reference/zones/${folder}`,
  }));
}

export interface SharedZone {
  /** Folder name in the shared directory (bind-chain, knot-records, ...). */
  folder: string;
  origin: string;
  /** Absolute path of the main master file. */
  file: string;
  /** The folder $INCLUDE paths are relative to (absolute). */
  includeDir: string;
  source: string;
}

export function readManifest(dir: string): SharedZone[] {
  return fs
    .readFileSync(path.join(dir, 'manifest.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [folder, origin, file, inc, source] = l.split('\t');
      if (!folder || !origin || !file || !inc) throw new Error(`manifest.tsv: bad line "${l}"`);
      return { folder, origin, file: path.join(dir, folder, file), includeDir: path.join(dir, folder, inc), source: source ?? '' };
    });
}

/** One record as BIND dumps it. */
export interface DumpedRecord {
  /** Owner in wire form, exact case. */
  owner: Buffer;
  type: number;
  text: string;
}

/** named-checkzone's verdict: the records it loaded, or its error lines. */
export async function bindDump(z: SharedZone): Promise<{ ok: true; records: DumpedRecord[] } | { ok: false; errors: string }> {
  const checkzone = requireTool('named-checkzone');
  // -k ignore: the README's `check-names primary ignore`; -i none: no integrity checks beyond loading.
  const r = await run(checkzone, ['-k', 'ignore', '-i', 'none', '-D', '-o', '-', z.origin, z.file], { cwd: z.includeDir });
  if (r.code !== 0) return { ok: false, errors: r.stdout + r.stderr };
  const records: DumpedRecord[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim() || line.startsWith(';') || line.startsWith('zone ') || line === 'OK') continue;
    const m = /^(\S+)\s+\d+\s+IN\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const type = typeFromText(m[2]!);
    if (type === undefined) throw new Error(`named-checkzone printed an unknown type: ${line}`);
    records.push({ owner: presentationToWire(m[1]!), type, text: line.replace(/\s+/g, ' ') });
  }
  return { ok: true, records };
}

/** A presentation name (RFC 1035 §5.1 escapes, final dot) in wire form. */
export function presentationToWire(name: string): Buffer {
  const out: number[] = [];
  let label: number[] = [];
  const end = () => {
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\') {
      const d = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (d) {
        label.push(Number(d[0]));
        i += 3;
      } else label.push(name.charCodeAt(++i));
    } else if (c === '.') {
      if (label.length) end();
    } else label.push(name.charCodeAt(i));
  }
  if (label.length) end();
  out.push(0);
  return Buffer.from(out);
}

/** A wire name as text: labels with dots and backslashes escaped, other octets as latin1. */
export function wireToText(name: Buffer): string {
  return readName(name, 0)?.name ?? '?';
}

function wireLabels(name: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; name[o] !== 0; o += name[o]! + 1) out.push(name.subarray(o + 1, o + 1 + name[o]!));
  return out;
}

function fromLabels(ls: Buffer[]): Buffer {
  return Buffer.concat([...ls.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
}

function lowerWire(name: Buffer): string {
  return Buffer.from(name.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c))).toString('latin1');
}

/** Flips the case of every other ASCII letter (the server must echo the question's case). */
function mixCase(name: Buffer): Buffer {
  let k = 0;
  return Buffer.from(
    name.map((c) => {
      const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
      return letter && k++ % 2 === 0 ? c ^ 0x20 : c;
    }),
  );
}

export interface ZoneQuery {
  label: string;
  qname: Buffer;
  qtype: number;
  tcp: boolean;
  /** EDNS UDP size; undefined: no OPT. */
  edns?: number;
  dnssecOk: boolean;
  rd: boolean;
}

/**
 * The questions for one zone: every (owner, type) BIND loaded, two types an owner lacks (NODATA
 * or a CNAME to follow), ANY, a name below each owner (NXDOMAIN, wildcard, referral, DNAME),
 * DS/NS/A at and below each cut, names synthesised from each wildcard and each DNAME (one too
 * long for RFC 6672 §2.2), mixed case; then transports and EDNS variants by turns (TCP, no
 * EDNS, EDNS 512, DO, RD=0), and all of them for RRsets too big for 512 octets.
 */
export function zoneQueries(z: SharedZone, records: DumpedRecord[], limit: number): ZoneQuery[] {
  const owners = new Map<string, { name: Buffer; types: Map<number, number> }>();
  for (const r of records) {
    const key = lowerWire(r.owner);
    let o = owners.get(key);
    if (!o) owners.set(key, (o = { name: r.owner, types: new Map() }));
    o.types.set(r.type, (o.types.get(r.type) ?? 0) + 1);
  }
  const base: Array<{ name: Buffer; type: number; why: string; big?: boolean }> = [];
  const apex = presentationToWire(`${z.origin}.`);
  const under = (name: Buffer, ...prefix: string[]) => fromLabels([...prefix.map((p) => Buffer.from(p, 'latin1')), ...wireLabels(name)]);
  base.push({ name: under(apex, 'nx-sstt'), type: TYPE.A, why: 'NXDOMAIN at the apex' });
  for (const t of [TYPE.SOA, TYPE.NS, TYPE.DNSKEY, TYPE.DS, TYPE.NSEC3PARAM, TYPE.CDS]) base.push({ name: apex, type: t, why: `apex ${typeName(t)}` });
  for (const { name, types } of owners.values()) {
    const first = wireLabels(name)[0]?.toString('latin1');
    for (const [t, n] of types) base.push({ name, type: t, why: `${typeName(t)} (${n})`, big: n > 20 });
    for (const t of [TYPE.A, TYPE.TXT]) if (!types.has(t)) base.push({ name, type: t, why: `${typeName(t)} absent` });
    if (owners.size <= 60) base.push({ name, type: TYPE.ANY, why: 'ANY' });
    base.push({ name: under(name, 'nx-sstt'), type: TYPE.A, why: 'below the owner' });
    base.push({ name: mixCase(name), type: [...types.keys()][0]!, why: 'mixed case' });
    if (types.has(TYPE.NS) && lowerWire(name) !== lowerWire(apex)) {
      for (const t of [TYPE.DS, TYPE.A, TYPE.DNAME]) base.push({ name, type: t, why: `cut ${typeName(t)}` });
      base.push({ name: under(name, 'x-sstt'), type: TYPE.A, why: 'below a cut' });
      base.push({ name: under(name, 'x-sstt'), type: TYPE.DS, why: 'DS below a cut' });
    }
    if (first === '*') {
      const parent = fromLabels(wireLabels(name).slice(1));
      for (const t of new Set([TYPE.A, TYPE.TXT, TYPE.MX, ...types.keys()]))
        base.push({ name: under(parent, 'w-sstt'), type: t, why: `from a wildcard ${typeName(t)}` });
      base.push({ name: under(parent, 'a', 'b-sstt'), type: TYPE.A, why: 'two labels below a wildcard' });
    }
    if (types.has(TYPE.DNAME)) {
      base.push({ name: under(name, 'x-sstt'), type: TYPE.A, why: 'below a DNAME' });
      base.push({ name: mixCase(under(name, 'x-sstt')), type: TYPE.A, why: 'below a DNAME, mixed case' });
      base.push({ name: under(name, 'a', 'b-sstt'), type: TYPE.AAAA, why: 'two labels below a DNAME' });
      // A question of 255 octets: where the target is longer than the owner, the result overflows.
      const pad: string[] = [];
      for (let room = 255 - name.length; room > 1; room -= Math.min(64, room)) pad.push('l'.repeat(Math.min(63, room - 1)));
      base.push({ name: under(name, ...pad), type: TYPE.A, why: 'a 255-octet name below a DNAME (YXDOMAIN when the target is longer)' });
    }
  }
  const out: ZoneQuery[] = [];
  base.forEach((b, i) => {
    const label = `${wireToText(b.name)} ${typeName(b.type)} [${b.why}]`;
    const q = (how: string, more: Partial<ZoneQuery>) =>
      out.push({ label: `${label} ${how}`, qname: b.name, qtype: b.type, tcp: false, edns: 1232, dnssecOk: false, rd: true, ...more });
    q('UDP EDNS 1232', {});
    const turns: Array<[string, Partial<ZoneQuery>]> = [
      ['TCP', { tcp: true }],
      ['UDP no EDNS', { edns: undefined }],
      ['UDP EDNS 512', { edns: 512 }],
      ['UDP EDNS 1232 DO', { dnssecOk: true }],
      ['UDP RD=0', { rd: false }],
      ['TCP no EDNS', { tcp: true, edns: undefined }],
    ];
    if (b.big) for (const [how, more] of turns) q(how, more);
    else q(...turns[i % turns.length]!);
  });
  return out.slice(0, limit);
}

/** The message for a question: ID, RD, one question, an OPT when asked (RFC 1035 §4.1, RFC 6891 §6.1.2). */
export function encodeZoneQuery(q: ZoneQuery, id: number): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(q.rd ? 0x0100 : 0, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.qtype, 0);
  tail.writeUInt16BE(1, 2);
  const parts = [head, q.qname, tail];
  if (q.edns !== undefined) {
    head.writeUInt16BE(1, 10);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(TYPE.OPT, 1);
    opt.writeUInt16BE(q.edns, 3);
    opt[7] = q.dnssecOk ? 0x80 : 0;
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

/** What is compared of a reply. */
export interface ReplyShape {
  rcode: number;
  flags: string;
  question: string;
  sections: [string[], string[], string[]];
  opt: string | null;
}

const NAME_FIRST = new Set<number>([TYPE.NS, TYPE.CNAME, TYPE.PTR, TYPE.DNAME, TYPE.MD, TYPE.MF, TYPE.MB, TYPE.MG, TYPE.MR, TYPE.NSEC]);
const U16_NAME = new Set<number>([TYPE.MX, TYPE.AFSDB, TYPE.RT, TYPE.KX, TYPE.LP]);

/** RDATA as text with its names decompressed (servers compress differently), exact case. */
function rdataText(msg: Buffer, type: number, at: number, len: number): string {
  const end = at + len;
  const hex = (o: number) => msg.subarray(o, end).toString('hex');
  const nm = (o: number) => readName(msg, o) ?? { name: '?', end };
  if (NAME_FIRST.has(type)) {
    const n = nm(at);
    return `${n.name}. ${hex(n.end)}`;
  }
  if (U16_NAME.has(type)) return `${msg.readUInt16BE(at)} ${nm(at + 2).name}.`;
  if (type === TYPE.SOA || type === TYPE.MINFO || type === TYPE.RP) {
    const a = nm(at);
    const b = nm(a.end);
    return `${a.name}. ${b.name}. ${hex(b.end)}`;
  }
  if (type === TYPE.SRV) return `${msg.subarray(at, at + 6).toString('hex')} ${nm(at + 6).name}.`;
  if (type === TYPE.RRSIG || type === TYPE.SIG) {
    const n = nm(at + 18);
    return `${msg.subarray(at, at + 18).toString('hex')} ${n.name}. ${hex(n.end)}`;
  }
  if (type === TYPE.NAPTR) {
    let o = at + 4;
    for (let k = 0; k < 3; k++) o += msg[o]! + 1;
    return `${msg.subarray(at, o).toString('hex')} ${nm(o).name}.`;
  }
  return hex(at);
}

/** Reads a reply octet by octet; undefined when it is not a well-formed message. */
export function replyShape(msg: Buffer, withTtl = true): ReplyShape | undefined {
  if (msg.length < 12) return undefined;
  const f = msg.readUInt16BE(2);
  const names: Array<[string, number]> = [
    ['qr', 0x8000],
    ['aa', 0x0400],
    ['tc', 0x0200],
    ['rd', 0x0100],
    ['ra', 0x0080],
    ['z', 0x0040],
    ['ad', 0x0020],
    ['cd', 0x0010],
  ];
  const flags = [`opcode${(f >> 11) & 15}`, ...names.filter(([, b]) => f & b).map(([n]) => n)].join(' ');
  let o = 12;
  let question = '';
  for (let i = 0; i < msg.readUInt16BE(4); i++) {
    const n = readName(msg, o);
    if (!n) return undefined;
    question += `${n.name}. ${typeName(msg.readUInt16BE(n.end))} ${msg.readUInt16BE(n.end + 2)}`;
    o = n.end + 4;
  }
  const sections: [string[], string[], string[]] = [[], [], []];
  let opt: string | null = null;
  let rcode = f & 15;
  const counts = [msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const n = readName(msg, o);
      if (!n || n.end + 10 > msg.length) return undefined;
      const type = msg.readUInt16BE(n.end);
      const klass = msg.readUInt16BE(n.end + 2);
      const ttl = msg.readUInt32BE(n.end + 4);
      const len = msg.readUInt16BE(n.end + 8);
      const at = n.end + 10;
      if (at + len > msg.length) return undefined;
      if (type === TYPE.OPT) {
        rcode |= msg[n.end + 4]! << 4;
        const options: string[] = [];
        for (let p = at; p + 4 <= at + len; p += 4 + msg.readUInt16BE(p + 2)) {
          const code = msg.readUInt16BE(p);
          options.push(code === 15 ? `EDE${msg.readUInt16BE(p + 4)}` : String(code));
        }
        opt = `udp=${klass} version=${msg[n.end + 5]} do=${msg[n.end + 6]! >> 7} options=[${options.join(',')}]`;
      } else {
        sections[s]!.push(`${n.name}. ${withTtl ? `${ttl} ` : ''}${klass} ${typeName(type)} ${rdataText(msg, type, at, len)}`);
      }
      o = at + len;
    }
  }
  for (const s of sections) s.sort();
  return { rcode, flags, question, sections, opt };
}

/** The differences between BIND's reply and ours, as lines; a TC reply's records are compared by count and owner/type. */
export function compareShapes(b: ReplyShape, o: ReplyShape): string[] {
  const diffs: string[] = [];
  if (b.rcode !== o.rcode) diffs.push(`rcode: BIND ${b.rcode}, ours ${o.rcode}`);
  if (b.flags !== o.flags) diffs.push(`flags: BIND "${b.flags}", ours "${o.flags}"`);
  if (b.question !== o.question) diffs.push(`question: BIND "${b.question}", ours "${o.question}"`);
  if (b.opt !== o.opt) diffs.push(`OPT: BIND ${b.opt}, ours ${o.opt}`);
  const tc = b.flags.includes(' tc');
  ['answer', 'authority', 'additional'].forEach((sec, i) => {
    const bs = b.sections[i as 0 | 1 | 2];
    const os = o.sections[i as 0 | 1 | 2];
    if (tc) {
      const kinds = (rs: string[]) => [...new Set(rs.map((r) => r.split(' ').slice(0, 4).join(' ')))].sort().join(' | ');
      if (bs.length !== os.length || kinds(bs) !== kinds(os)) diffs.push(`${sec} (TC): BIND ${bs.length} [${kinds(bs)}], ours ${os.length} [${kinds(os)}]`);
      return;
    }
    const missing = bs.filter((r) => !os.includes(r));
    const extra = os.filter((r) => !bs.includes(r));
    if (missing.length || extra.length || bs.length !== os.length) {
      diffs.push(
        `${sec}: only BIND [${missing.slice(0, 6).join(' | ')}${missing.length > 6 ? ` ... ${missing.length}` : ''}], only ours [${extra.slice(0, 6).join(' | ')}${extra.length > 6 ? ` ... ${extra.length}` : ''}]`,
      );
    }
  });
  return diffs;
}
