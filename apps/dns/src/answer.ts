// The authoritative answer rules (RFC 1034 §4.3.2, RFC 2308, RFC 6604, RFC 6672) as BIND 9.18
// applies them with `minimal-responses no` (each checked against named: test/answer-rules.test.ts,
// test/zones-diff.test.ts):
// - a positive answer carries the zone's NS RRset in the authority section (unless the answer
//   already is the apex NS, or the question is DNSKEY or DS) and the addresses of NS, MX, SRV
//   and NAPTR targets in the additional section, never repeating an RRset already in the
//   message, from the zone that holds the target and only where that zone is authoritative for
//   it (not at or below a cut); that zone must be the answer's own unless the client may recurse;
// - NODATA and NXDOMAIN carry the SOA with the negative TTL min(SOA TTL, SOA minimum);
// - below a zone cut: a referral (the cut's NS, its glue and nothing else in additional, no AA),
//   also at the end of a CNAME chain (the chain and AA kept); DS at the cut itself is the
//   parent's data (RFC 4035 §3.1.4.1);
// - below a DNAME: the DNAME and a CNAME synthesised from it, then on with the new name;
// - CNAMEs are followed inside our zones, 12 steps at most (then SERVFAIL and an EDE), into
//   another of our zones only for a client that may recurse (else the chain ends there, with no
//   authority and no additional data); a chain leaving our zones is reported to the caller, who
//   forwards the target (BIND restarts the query);
// - ANY returns the RRsets at the name without following CNAMEs and without additional data.
import { isSubdomain, lower, nameWireLength, RCODE, TYPE } from './wire.ts';
import { parent, type RRset, type Zone, type ZoneNode, type ZoneSet } from './zone/zone.ts';

/**
 * CNAME and DNAME steps followed before giving up with SERVFAIL: BIND 9.18 restarts a query at
 * most 11 times (query.c MAX_RESTARTS), so the 12th alias is the last one in an answer.
 */
export const MAX_CNAME_CHAIN = 12;

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
  /**
   * The authority section is part of the answer (a negative answer's SOA, RFC 2308 §3; a
   * referral's NS and glue, RFC 1034 §4.3.2): BIND keeps it even in a minimal reply.
   */
  needsAuthority?: boolean;
  /**
   * The answer depends on how the question was spelled: a CNAME synthesised from a DNAME keeps
   * the question's case in its owner and target, as BIND's does (RFC 6672 §3.1). Such an answer
   * is made for each query and never kept in wire form.
   */
  perQuestion?: boolean;
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
const NEEDS_ADDRESSES = new Set<number>([TYPE.NS, TYPE.MX, TYPE.SRV, TYPE.NAPTR]);

/** Longest domain name in wire form (RFC 1035 §2.3.4). */
const MAX_NAME_WIRE = 255;

/**
 * Answers a question from our zones, or returns undefined when no zone of ours holds the name.
 * `recursive`: the client asked for recursion (RD) and may have it. BIND 9.18 then looks in all
 * its zones, for a CNAME's target and for additional data; otherwise only in the zone of the
 * question (query.c, query_validatezonedb: `WANTRECURSION(client) && RECURSIONOK(client)`). So
 * the lab's reverse zone, whose NS lies in the forward zone, gets that NS's address for RD=1 and
 * none for RD=0, whatever `recursion yes` says (measured against named 9.18: bind-diff.test.ts).
 */
export function answerFromZones(zones: ZoneSet, qnameLower: string, qtype: number, recursive = false, asked = qnameLower): Answer | undefined {
  let zone = zones.find(qnameLower);
  if (!zone) return undefined;
  const result: Answer = { rcode: RCODE.NOERROR, aa: true, answer: [], authority: [], additional: [] };
  let name = qnameLower;
  /** `name` as spelled: the question's case, then a CNAME target's as written in the zone. */
  let spelled = asked;
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    const above = cutOrDname(zone, name, qtype);
    if (above?.type === TYPE.NS) {
      // RFC 1034 §4.3.2 3b: a referral, the child zone's NS in authority with their glue. Reached
      // through a CNAME, BIND keeps the chain (and AA) and refers to that cut, not to our apex.
      if (hop === 0) {
        result.aa = false;
        result.referral = true;
      }
      result.authority.push(above);
      result.needsAuthority = true;
      addGlue(zone, result, above);
      return result;
    }
    if (above?.type === TYPE.DNAME) {
      // RFC 6672 §3.1: the DNAME, then a CNAME from the query name to the name with the DNAME's
      // owner replaced by its target (TTL of the DNAME), then on with that name.
      result.answer.push(above);
      // Like a wildcard's, the name asked need not exist: not one to keep among the hot answers.
      if (hop === 0) result.wildcard = true;
      result.perQuestion = true;
      const owner = lower(above.name);
      const target = `${spelled.slice(0, spelled.length - owner.length)}${above.records[0]!.target!}`;
      if (nameWireLength(target) > MAX_NAME_WIRE) {
        // RFC 6672 §2.2: the substitution would overflow a name.
        result.rcode = RCODE.YXDOMAIN;
        return result;
      }
      const cname: RRset = {
        name: spelled,
        type: TYPE.CNAME,
        ttl: above.ttl,
        records: [{ ...above.records[0]!, type: TYPE.CNAME, rdata: [{ name: target, compress: true }], target }],
      };
      result.answer.push(cname);
      if (!follow(result, seen, name, target, hop)) return result;
      const next = zones.find(lower(target));
      if (!next) {
        result.outside = lower(target);
        break;
      }
      if (next !== zone && !recursive) return result;
      zone = next;
      name = lower(target);
      spelled = target;
      continue;
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
      result.needsAuthority = true;
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
      result.needsAuthority = true;
      return result;
    }
    result.answer.push(cname);
    const target = lower(cname.records[0]!.target!);
    if (!follow(result, seen, name, target, hop)) return result;
    const next = zones.find(target);
    if (!next) {
      result.outside = target;
      break;
    }
    // Another of our zones: BIND goes on only for a client that may recurse; for the others the
    // answer is the chain so far, without authority or additional data.
    if (next !== zone && !recursive) return result;
    zone = next;
    name = target;
    spelled = cname.records[0]!.target!;
  }
  // BIND leaves the zone's NS out of DNSKEY and DS answers (what a validator asks for is all it
  // gets), and with it their addresses.
  if (qtype !== TYPE.DNSKEY && qtype !== TYPE.DS) addNsAuthority(result, zone);
  // Without recursion the chain never left the question's zone: `zone` is that zone.
  for (const set of [...result.answer, ...result.authority]) addAddresses(zones, recursive ? undefined : zone, result, set);
  return result;
}

/**
 * Whether the chain may go on to `target`: not into a loop, not past BIND's restart limit; else
 * the answer becomes SERVFAIL with EDE 0 "max. restarts reached", as BIND's.
 */
function follow(result: Answer, seen: Set<string>, name: string, target: string, hop: number): boolean {
  seen.add(name);
  if (!seen.has(lower(target)) && hop + 1 < MAX_CNAME_CHAIN) return true;
  result.rcode = RCODE.SERVFAIL;
  result.ednsOptions = LOOP_ERROR;
  return false;
}

/**
 * Walking down from the apex to `name`: the first zone cut (an NS RRset below the apex, RFC 1034
 * §4.2.1) or DNAME strictly above `name` (RFC 6672 §3.1), whichever comes first. A DS question at
 * the cut itself is the parent's to answer (RFC 4035 §3.1.4.1), so that cut does not count.
 */
function cutOrDname(zone: Zone, name: string, qtype: number): RRset | undefined {
  const path: string[] = [];
  for (let n: string | undefined = name; n !== undefined && n !== zone.origin; n = parent(n)) path.push(n);
  const apexDname = name !== zone.origin ? zone.nodes.get(zone.origin)?.rrsets.get(TYPE.DNAME) : undefined;
  if (apexDname) return apexDname;
  for (let i = path.length - 1; i >= 0; i--) {
    const cur = path[i]!;
    const node = zone.nodes.get(cur);
    if (!node) continue;
    const ns = node.rrsets.get(TYPE.NS);
    if (ns && !(i === 0 && qtype === TYPE.DS)) return ns;
    const dname = i > 0 ? node.rrsets.get(TYPE.DNAME) : undefined;
    if (dname) return dname;
  }
  return undefined;
}

/**
 * RFC 4592 §3.3.1: below the closest encloser (the nearest existing ancestor), a `*` node
 * answers for the name; its RRsets are shown with the query name as owner (lower case, as BIND).
 */
function fromWildcard(zone: Zone, name: string): ZoneNode | undefined {
  let encloser: string | undefined = name;
  do {
    encloser = parent(encloser);
    if (encloser === undefined) return undefined;
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

/**
 * Additional section processing (RFC 1035 §3.3.9, §3.3.11; RFC 2782; RFC 3403 §4.1) as BIND 9.18's
 * query_additional_cb: the A and AAAA of each target from the zone that holds it (the closest of
 * ours), when that zone is `own` (undefined: any of ours, for a client that may recurse), and
 * only where the zone is authoritative for the name: an address at or below a cut is glue, which
 * goes with referrals only (addGlue), and one below a DNAME is not there at all.
 */
function addAddresses(zones: ZoneSet, own: Zone | undefined, result: Answer, set: RRset): void {
  if (!NEEDS_ADDRESSES.has(set.type)) return;
  for (const r of set.records) {
    const target = lower(r.target!);
    const zone = zones.find(target);
    if (!zone || (own && zone !== own) || cutOrDname(zone, target, TYPE.A)) continue;
    const node = zone.nodes.get(target);
    if (!node) continue;
    if (set.type === TYPE.NAPTR) {
      // RFC 3403 §4.1 (and BIND): flag "S" adds the replacement's SRV RRset, whose targets'
      // addresses follow; flag "A" adds the replacement's own addresses; others add nothing.
      const flags = (r.rdata[2] as Buffer).toString('latin1', 1).toLowerCase();
      if (flags.includes('s')) {
        const srv = node.rrsets.get(TYPE.SRV);
        if (srv && !inMessage(result, target, TYPE.SRV)) {
          result.additional.push(srv);
          addAddresses(zones, own, result, srv);
        }
        continue;
      }
      if (!flags.includes('a')) continue;
    }
    addAddressesOf(node, target, result);
  }
}

/**
 * A referral's additional section (RFC 1034 §4.3.2 step 3b, RFC 9471 §2): glue only, the
 * addresses the referring zone holds at or below one of its cuts (this one or another). A name
 * server elsewhere in the parent zone (`garden NS o` beside `o A`) or in another zone gets none:
 * BIND 9.18 takes a referral's additional records from its glue cache alone, with or without
 * recursion (rbtdb.c, glue_nsdname_cb accepts DNS_R_GLUE only).
 */
function addGlue(zone: Zone, result: Answer, ns: RRset): void {
  for (const r of ns.records) {
    const target = lower(r.target!);
    if (!isSubdomain(target, zone.origin) || cutOrDname(zone, target, TYPE.A)?.type !== TYPE.NS) continue;
    const node = zone.nodes.get(target);
    if (node) addAddressesOf(node, target, result);
  }
}

/** The A and AAAA RRsets at `node`, those not in the message yet. */
function addAddressesOf(node: ZoneNode, name: string, result: Answer): void {
  for (const t of ADDRESS_TYPES) {
    const addr = node.rrsets.get(t);
    if (addr && !inMessage(result, name, t)) result.additional.push(addr);
  }
}
