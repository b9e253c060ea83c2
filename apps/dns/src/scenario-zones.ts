// The scenario's zones served from their typed records (packages/scenario zone.ts), never from
// the master files packages/infra writes for BIND: each record's RDATA goes to wire form field by
// field, as the master-file reader (zone/rdata.ts) makes it from the same record written out, and
// the zone is built and checked by the one loader (zone/zone.ts). The master-file reader stays
// for the zones given with --zone.
import { scenarioZones, type ResourceRecord, type Scenario, type ZoneData } from '@sstt/scenario';
import { CLASS_IN, TYPE, u16, u32, type RdataPart } from './wire.ts';
import { ZoneFileError, type ParsedRecord } from './zone/master-file.ts';
import type { Rdata } from './zone/rdata.ts';
import type { ZoneStore } from './zone/store.ts';
import { buildZone, ZoneSet, type Zone } from './zone/zone.ts';

/** What messages about a zone from the scenario name as its file: `scenario:<origin>`. */
export const scenarioZoneLabel = (origin: string): string => `scenario:${origin}`;

/** The wire form of one record's RDATA; names compressed where RFC 3597 §4 lets BIND compress them. */
function rdataOf(r: ResourceRecord, fail: (why: string) => never): Rdata {
  const name = (n: string, compress: boolean): RdataPart => ({ name: n, compress });
  switch (r.type) {
    case 'SOA':
      return {
        rdata: [name(r.mname, true), name(r.rname, true), u32(r.serial), u32(r.refresh), u32(r.retry), u32(r.expire), u32(r.minimum)],
        soa: { serial: r.serial, minimum: r.minimum },
      };
    case 'NS':
      return { rdata: [name(r.host, true)], target: r.host };
    case 'A':
      return { rdata: [Buffer.from(r.address.split('.').map(Number))] };
    case 'MX':
      return { rdata: [u16(r.preference), name(r.exchange, true)], target: r.exchange };
    case 'SRV':
      // RFC 2782: the target is not compressed.
      return { rdata: [u16(r.priority), u16(r.weight), u16(r.port), name(r.target, false)], target: r.target };
    case 'CNAME':
    case 'PTR':
      return { rdata: [name(r.target, true)], target: r.target };
    case 'TXT':
      // One <character-string> each: a length octet, then at most 255 octets (RFC 1035 §3.3).
      return {
        rdata: r.strings.map((s) => {
          const b = Buffer.from(s, 'latin1');
          if (b.length > 255) fail('TXT: string longer than 255 bytes');
          return Buffer.concat([Buffer.from([b.length]), b]);
        }),
      };
  }
}

/** A zone of typed records, built and checked as a master file's would be (BIND's loader checks, zone/zone.ts). */
export function zoneFromData(z: ZoneData): Zone {
  const file = scenarioZoneLabel(z.origin);
  const records: ParsedRecord[] = z.records.map((r, i) => {
    const line = i + 1;
    const fail = (why: string): never => {
      throw new ZoneFileError(file, line, why);
    };
    return { name: r.name, type: TYPE[r.type], klass: CLASS_IN, ttl: r.ttl, ...rdataOf(r, fail), file, line };
  });
  return buildZone(z.origin, file, records);
}

/** The scenario's zones as the server's store: fixed for the life of the server (a new scenario is a restart). */
export function scenarioZoneStore(s: Scenario): ZoneStore {
  const set = new ZoneSet(scenarioZones(s).map(zoneFromData));
  return { zones: () => set, watch() {}, reload: () => [], close() {} };
}
