// The zone model: nodes by lower-case name, RRsets by type, the empty non-terminals that make a
// name exist without data (RFC 8020, RFC 4592 §2.2.2), and the checks BIND's loader makes
// (SOA at the apex, NS at the apex with addresses, CNAME alone at its name: RFC 1034 §3.6.2).
import { isSubdomain, lower, TYPE, typeName } from '../wire.ts';
import { ZoneFileError, type ParsedRecord } from './master-file.ts';

export interface RRset {
  /** Owner in the zone file's case, without the final dot. */
  name: string;
  type: number;
  ttl: number;
  records: ParsedRecord[];
}

export interface ZoneNode {
  name: string;
  /** In the order the file first used each type. */
  rrsets: Map<number, RRset>;
}

export interface Zone {
  /** Apex, lower case. */
  origin: string;
  file: string;
  serial: number;
  soa: RRset;
  ns: RRset;
  /** RFC 2308 §5: the negative answer's SOA TTL, min(SOA TTL, SOA minimum). */
  negativeTtl: number;
  nodes: Map<string, ZoneNode>;
  /** Names with no data but with names below them: NODATA, not NXDOMAIN. */
  nonTerminals: Set<string>;
  /** Warnings the loader printed (out-of-zone data ignored, TTL mismatch). */
  warnings: string[];
}

/** Types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5: DNSSEC's own). */
const BESIDE_CNAME = new Set<number>([TYPE.CNAME, TYPE.RRSIG, TYPE.NSEC, TYPE.SIG, TYPE.KEY, TYPE.NXT]);
/** Types of which a name holds one record at most (RFC 1034 §3.6.2, RFC 6672 §2.4). */
const SINGLETONS = new Set<number>([TYPE.CNAME, TYPE.SOA, TYPE.DNAME]);

/**
 * Builds and checks a zone; throws ZoneFileError naming the offending record's line, with
 * BIND's reason. `warnings` are the master-file reader's, kept with the zone's own.
 */
export function buildZone(originText: string, file: string, records: ParsedRecord[], parseWarnings: string[] = []): Zone {
  const origin = lower(originText.replace(/\.$/, ''));
  const nodes = new Map<string, ZoneNode>();
  const nonTerminals = new Set<string>();
  const warnings: string[] = [...parseWarnings];
  // BIND's loader gathers the records of one owner (as spelled) before adding them to the zone:
  // within such a run the last of two identical records stays, later runs keep what is there.
  let run = 0;
  let runOwner: string | undefined;
  const runOf = new WeakMap<ParsedRecord, number>();
  const rdataIndex = new Map<RRset, Map<string, number>>();
  for (const r of records) {
    if (r.name !== runOwner) {
      run++;
      runOwner = r.name;
    }
    const key = lower(r.name);
    if (!isSubdomain(key, origin)) {
      // BIND: "ignoring out-of-zone data"
      warnings.push(`${r.file}:${r.line}: ignoring out-of-zone data (${r.name})`);
      continue;
    }
    if (r.type === TYPE.SOA && key !== origin) throw new ZoneFileError(r.file, r.line, `SOA record not at top of zone (${r.name})`);
    // RFC 4592 §4.2: a wildcard cannot delegate.
    if (r.type === TYPE.NS && key.startsWith('*.')) throw new ZoneFileError(r.file, r.line, `${r.name}: invalid NS owner name (wildcard)`);
    let node = nodes.get(key);
    if (!node) {
      node = { name: r.name, rrsets: new Map() };
      nodes.set(key, node);
    }
    let set = node.rrsets.get(r.type);
    if (!set) {
      set = { name: node.name, type: r.type, ttl: r.ttl, records: [] };
      node.rrsets.set(r.type, set);
    } else if (r.ttl !== set.ttl) {
      warnings.push(`${r.file}:${r.line}: TTL set to prior TTL (${set.ttl})`);
    }
    // Identical records are one record (RFC 2181 §5); names in RDATA compare without case.
    // Looked up by a key of the RDATA, not by scanning the set: RRsets of thousands of records
    // (BIND's own limits test zone) would make the scan quadratic.
    let index = rdataIndex.get(set);
    if (!index) rdataIndex.set(set, (index = new Map()));
    const rkey = rdataKey(r);
    const same = index.get(rkey) ?? -1;
    if (same >= 0) {
      if (runOf.get(set.records[same]!) === run) {
        set.records[same] = r;
        runOf.set(r, run);
      }
      continue;
    }
    if (SINGLETONS.has(r.type) && set.records.length) throw new ZoneFileError(r.file, r.line, `${r.name}: multiple RRs of singleton type`);
    index.set(rkey, set.records.length);
    set.records.push(r);
    runOf.set(r, run);
    if (node.rrsets.has(TYPE.CNAME) && [...node.rrsets.keys()].some((t) => !BESIDE_CNAME.has(t))) {
      throw new ZoneFileError(r.file, r.line, `${r.name}: CNAME and other data`);
    }
  }
  const apex = nodes.get(origin);
  const soa = apex?.rrsets.get(TYPE.SOA);
  if (!soa) throw new ZoneFileError(file, 1, `no SOA record at the zone apex ${origin}`);
  const ns = apex!.rrsets.get(TYPE.NS);
  if (!ns) throw new ZoneFileError(file, soa.records[0]!.line, `zone ${origin}/IN: has no NS records`);
  for (const key of nodes.keys()) {
    for (let name = parent(key); name !== undefined && name.length > origin.length; name = parent(name)) {
      if (!nodes.has(name)) nonTerminals.add(name);
    }
  }
  // BIND refuses a zone whose in-zone name servers have no address.
  for (const r of ns.records) {
    const t = lower(r.target!);
    if (!isSubdomain(t, origin)) continue;
    const node = nodes.get(t);
    if (!node?.rrsets.has(TYPE.A) && !node?.rrsets.has(TYPE.AAAA)) {
      throw new ZoneFileError(r.file, r.line, `NS '${r.target}' has no address records (A or AAAA)`);
    }
  }
  const soaRec = soa.records[0]!;
  return {
    origin,
    file,
    serial: soaRec.soa!.serial,
    soa,
    ns,
    negativeTtl: Math.min(soa.ttl, soaRec.soa!.minimum),
    nodes,
    nonTerminals,
    warnings,
  };
}

/** The name one label up (labels may hold escaped dots). */
export function parent(name: string): string | undefined {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\') i++;
    else if (c === '.') return name.slice(i + 1);
  }
  return undefined;
}

/** Equal for two records exactly when their RDATA is the same (names compared without case). */
function rdataKey(r: ParsedRecord): string {
  let key = '';
  for (const p of r.rdata) {
    const part = Buffer.isBuffer(p) ? `b${p.toString('latin1')}` : `n${lower(p.name)}`;
    key += `${part.length}:${part}`;
  }
  return key;
}

/** The zones this server is authoritative for; finds the closest enclosing one. */
export class ZoneSet {
  private readonly byOrigin = new Map<string, Zone>();
  private sorted: Zone[] = [];

  constructor(zones: Zone[] = []) {
    for (const z of zones) this.byOrigin.set(z.origin, z);
    this.sort();
  }

  private sort(): void {
    this.sorted = [...this.byOrigin.values()].sort((a, b) => b.origin.length - a.origin.length);
  }

  /** A copy with one zone replaced (reload): answers in flight keep the old set. */
  with(zone: Zone): ZoneSet {
    const next = new ZoneSet([...this.byOrigin.values()]);
    next.byOrigin.set(zone.origin, zone);
    next.sort();
    return next;
  }

  get zones(): Zone[] {
    return this.sorted;
  }

  /** The zone that holds `name` (lower case), if any. */
  find(name: string): Zone | undefined {
    for (const z of this.sorted) if (isSubdomain(name, z.origin)) return z;
    return undefined;
  }
}

export function describe(set: RRset): string {
  return `${set.name} ${typeName(set.type)}`;
}
