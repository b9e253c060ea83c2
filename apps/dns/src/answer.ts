// The authoritative answer rules (RFC 1034 §4.3.2, RFC 2308, RFC 6604) as BIND 9 applies them
// with `minimal-responses no`:
// - a positive answer carries the zone's NS RRset in the authority section (unless the answer
//   already is the apex NS) and the addresses of NS, MX and SRV targets in the additional
//   section, from any of our zones, never repeating an RRset already in the message;
// - NODATA and NXDOMAIN carry the SOA with the negative TTL min(SOA TTL, SOA minimum);
// - CNAMEs are followed inside our zones; a chain leaving them is reported to the caller, who
//   forwards the target (BIND restarts the query with recursion);
// - ANY returns the RRsets at the name without following CNAMEs and without additional data.
import { lower, RCODE, TYPE } from './wire.ts';
import type { RRset, Zone, ZoneNode, ZoneSet } from './zone/zone.ts';

/** Longest CNAME chain followed (BIND stops after 16 restarts). */
export const MAX_CNAME_CHAIN = 16;

export interface Answer {
  rcode: number;
  /** Authoritative: the question's name is in one of our zones. */
  aa: boolean;
  answer: RRset[];
  authority: RRset[];
  additional: RRset[];
  /** The CNAME chain left our zones at this name (lower case): forward it. */
  outside?: string;
  /** Synthesised from a wildcard (RFC 4592): the name itself does not exist. */
  wildcard?: boolean;
  /** At or below a delegation (NS below the apex): a referral, not ours to answer (RFC 1034 §4.3.2 3b). */
  referral?: boolean;
  /** EDNS options for the reply (an Extended DNS Error, RFC 8914). */
  ednsOptions?: Buffer;
}

/** EDNS option code of an Extended DNS Error (RFC 8914 §2). */
export const EDNS_EDE = 15;

/** An Extended DNS Error option: info-code and text (RFC 8914 §2). */
export function extendedError(infoCode: number, text: string): Buffer {
  const t = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(6 + t.length);
  b.writeUInt16BE(EDNS_EDE, 0);
  b.writeUInt16BE(2 + t.length, 2);
  b.writeUInt16BE(infoCode, 4);
  t.copy(b, 6);
  return b;
}

/** BIND's reply to a CNAME loop: SERVFAIL with EDE 0 "max. restarts reached". */
const LOOP_ERROR = extendedError(0, 'max. restarts reached');

const ADDRESS_TYPES = [TYPE.A, TYPE.AAAA];
const NEEDS_ADDRESSES = new Set<number>([TYPE.NS, TYPE.MX, TYPE.SRV]);

/** Answers a question from our zones, or returns undefined when no zone of ours holds the name. */
export function answerFromZones(zones: ZoneSet, qnameLower: string, qtype: number): Answer | undefined {
  let zone = zones.find(qnameLower);
  if (!zone) return undefined;
  const result: Answer = { rcode: RCODE.NOERROR, aa: true, answer: [], authority: [], additional: [] };
  let name = qnameLower;
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    const cut = delegation(zone, name);
    if (cut) {
      if (hop > 0) break;
      // A referral: the child zone's NS in authority with their glue, no AA.
      result.aa = false;
      result.referral = true;
      result.authority.push(cut);
      addAddresses(zones, result, cut);
      return result;
    }
    let node = zone.nodes.get(name);
    if (!node && !zone.nonTerminals.has(name)) {
      node = fromWildcard(zone, name);
      if (node && hop === 0) result.wildcard = true;
    }
    if (!node) {
      // RFC 6604 §2.1: the rcode describes the last name of the chain.
      if (!zone.nonTerminals.has(name)) result.rcode = RCODE.NXDOMAIN;
      result.authority.push(negativeSoa(zone));
      return result;
    }
    if (qtype === TYPE.ANY) {
      for (const set of node.rrsets.values()) result.answer.push(set);
      addNsAuthority(result, zone);
      return result;
    }
    const set = node.rrsets.get(qtype);
    if (set) {
      result.answer.push(set);
      break;
    }
    const cname = node.rrsets.get(TYPE.CNAME);
    if (!cname) {
      result.authority.push(negativeSoa(zone));
      return result;
    }
    result.answer.push(cname);
    seen.add(name);
    const target = lower(cname.records[0]!.target!);
    if (seen.has(target) || hop + 1 >= MAX_CNAME_CHAIN) {
      // A loop or an endless chain: BIND gives up after its restarts with SERVFAIL.
      result.rcode = RCODE.SERVFAIL;
      result.ednsOptions = LOOP_ERROR;
      return result;
    }
    const next = zones.find(target);
    if (!next) {
      result.outside = target;
      break;
    }
    zone = next;
    name = target;
  }
  addNsAuthority(result, zone);
  for (const set of [...result.answer, ...result.authority]) addAddresses(zones, result, set);
  return result;
}

/** The NS RRset of the highest zone cut between the apex (excluded) and `name` (included). */
function delegation(zone: Zone, name: string): RRset | undefined {
  if (name === zone.origin) return undefined;
  const rel = name.slice(0, name.length - zone.origin.length - 1).split('.');
  let cur = zone.origin;
  for (let i = rel.length - 1; i >= 0; i--) {
    cur = `${rel[i]}.${cur}`;
    const ns = zone.nodes.get(cur)?.rrsets.get(TYPE.NS);
    if (ns) return ns;
  }
  return undefined;
}

/**
 * RFC 4592 §3.3.1: below the closest encloser (the nearest existing ancestor), a `*` node
 * answers for the name; its RRsets are shown with the query name as owner (lower case, as BIND).
 */
function fromWildcard(zone: Zone, name: string): ZoneNode | undefined {
  let encloser = name;
  do {
    const i = encloser.indexOf('.');
    if (i < 0) return undefined;
    encloser = encloser.slice(i + 1);
  } while (encloser !== zone.origin && !zone.nodes.has(encloser) && !zone.nonTerminals.has(encloser));
  const wild = zone.nodes.get(`*.${encloser}`);
  if (!wild) return undefined;
  const rrsets = new Map<number, RRset>();
  for (const [type, set] of wild.rrsets) rrsets.set(type, { ...set, name });
  return { name, rrsets };
}

/** The SOA as a negative answer shows it (RFC 2308 §3). */
function negativeSoa(zone: Zone): RRset {
  return zone.negativeTtl === zone.soa.ttl ? zone.soa : { ...zone.soa, ttl: zone.negativeTtl };
}

function addNsAuthority(result: Answer, zone: Zone): void {
  if (result.answer.includes(zone.ns)) return;
  result.authority.push(zone.ns);
}

function inMessage(result: Answer, name: string, type: number): boolean {
  for (const section of [result.answer, result.authority, result.additional]) {
    for (const s of section) if (s.type === type && lower(s.name) === name) return true;
  }
  return false;
}

/** Additional section processing (RFC 1035 §3.3.9, §3.3.11; RFC 2782): A and AAAA of the targets. */
function addAddresses(zones: ZoneSet, result: Answer, set: RRset): void {
  if (!NEEDS_ADDRESSES.has(set.type)) return;
  for (const r of set.records) {
    const target = lower(r.target!);
    const node = zones.find(target)?.nodes.get(target);
    if (!node) continue;
    for (const t of ADDRESS_TYPES) {
      const addr = node.rrsets.get(t);
      if (addr && !inMessage(result, target, t)) result.additional.push(addr);
    }
  }
}
