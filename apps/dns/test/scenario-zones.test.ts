// The scenario's zones served from their typed records (src/scenario-zones.ts) are the zones the
// master-file reader makes of BIND's files for the same records (packages/infra), record for
// record and byte for byte on the wire: so the bind-diff test, which serves those files, speaks
// for the zones the server really serves.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindZones, masterFile } from '@sstt/infra';
import { scenarioZones, type ZoneData } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { scenarioZoneLabel, zoneFromData } from '../src/scenario-zones.ts';
import { ZoneFileError } from '../src/zone/master-file.ts';
import { loadZone } from '../src/zone/store.ts';
import type { RRset, Zone } from '../src/zone/zone.ts';
import { startDns, testScenario } from './helpers.ts';
import { buildQuery, exchange } from './reference/client.ts';
import { labQueries } from './reference/queries.ts';

const tmp = tempDir('sstt-dns-scenario-zones-');
afterAll(() => tmp.remove());

/** A zone without where its records came from (file and line), in the order the answers use. */
function shape(z: Zone) {
  const strip = (set: RRset) => ({ ...set, records: set.records.map(({ file: _f, line: _l, ...r }) => r) });
  return {
    origin: z.origin,
    serial: z.serial,
    negativeTtl: z.negativeTtl,
    soa: strip(z.soa),
    ns: strip(z.ns),
    nodes: [...z.nodes].map(([key, n]) => [key, n.name, [...n.rrsets].map(([type, set]) => [type, strip(set)])]),
    nonTerminals: [...z.nonTerminals],
    warnings: z.warnings,
  };
}

const fromFile = (z: ZoneData) => loadZone({ origin: z.origin, file: `db.${z.origin}`, text: masterFile(z, 'test') });

/** A zone with what the scenario's lack: TXT (quotes, backslash, octets outside ASCII, an empty string), a TTL of its own, an outside CNAME and NS. */
const o = 'data-sstt.test';
const synthetic: ZoneData = {
  origin: o,
  ttl: 600,
  records: [
    { name: o, ttl: 600, type: 'SOA', mname: `ns.${o}`, rname: `admin.${o}`, serial: 7, refresh: 3600, retry: 600, expire: 86400, minimum: 60 },
    { name: o, ttl: 600, type: 'NS', host: `ns.${o}` },
    { name: o, ttl: 600, type: 'NS', host: 'ns.elsewhere.test' },
    { name: o, ttl: 600, type: 'MX', preference: 5, exchange: `mx.${o}` },
    { name: o, ttl: 600, type: 'TXT', strings: ['v=spf1 mx -all'], comment: 'SPF (RFC 7208)' },
    { name: `ns.${o}`, ttl: 600, type: 'A', address: '10.1.0.1' },
    { name: `mx.${o}`, ttl: 120, type: 'A', address: '10.1.0.2' },
    { name: `sel._domainkey.${o}`, ttl: 600, type: 'TXT', strings: [`v=DKIM1; k=rsa; p=${'A'.repeat(237)}`, 'B'.repeat(100)] },
    { name: `q.${o}`, ttl: 600, type: 'TXT', strings: ['say "hi" \\ back', '', 'caf\u00e9\ttab;'] },
    { name: `_sip._udp.${o}`, ttl: 600, type: 'SRV', priority: 10, weight: 60, port: 5060, target: `ns.${o}` },
    { name: `alias.${o}`, ttl: 600, type: 'CNAME', target: 'www.outside.test' },
    { name: `1.${o}`, ttl: 600, type: 'PTR', target: `ns.${o}` },
  ],
};

describe('zones from data and from master files', () => {
  it.each(['dev', 'lab'])('the %s scenario: the same zones, record for record', (profile) => {
    const zones = scenarioZones(testScenario({ SSTT_PROFILE: profile }));
    expect(zones.map((z) => z.origin)).toHaveLength(2);
    for (const z of zones) {
      const ours = zoneFromData(z);
      expect(ours.file).toBe(scenarioZoneLabel(z.origin));
      expect(ours.warnings).toEqual([]);
      expect(shape(ours)).toEqual(shape(fromFile(z)));
    }
  });

  it('every type the zone data has, TXT escapes and a TTL of its own included', () => {
    expect(shape(zoneFromData(synthetic))).toEqual(shape(fromFile(synthetic)));
  });

  it('a TXT string over 255 octets: refused with the master-file reader reason', () => {
    const long: ZoneData = {
      ...synthetic,
      records: [synthetic.records[0], synthetic.records[1]!, { name: `t.${o}`, ttl: 600, type: 'TXT', strings: ['x'.repeat(256)] }],
    };
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        if (err instanceof ZoneFileError) return err.message;
        throw err;
      }
      return 'no error';
    };
    expect(reason(() => zoneFromData(long))).toBe(`scenario:${o}:3: TXT: string longer than 255 bytes`);
    expect(reason(() => fromFile(long)).replace(/^db\.[^:]+:\d+: /, '')).toBe('TXT: string longer than 255 bytes');
  });
});

describe('answers', () => {
  it("every lab query: byte-identical replies from the scenario's zones and from BIND's files for them", async () => {
    const s = testScenario({ SSTT_PROFILE: 'lab' });
    const zoneFiles = bindZones(s).map((z) => {
      const file = path.join(tmp.dir, z.fileName);
      fs.writeFileSync(file, z.text);
      return { origin: z.origin, file };
    });
    const fromData = await startDns({ scenario: s });
    const fromFiles = await startDns({ scenario: s, zoneFiles });
    try {
      // The queries answered, without a client COOKIE: each server signs its server cookie with a
      // secret of its own (RFC 7873 §5.2); silence is about headers, not zones (server.test.ts).
      const queries = labQueries(s).filter((q) => q.timeoutMs === undefined && q.source === undefined && q.ednsOptions === undefined);
      expect(queries.length).toBeGreaterThan(40);
      let id = 0x2000;
      for (const q of queries) {
        const msg = buildQuery(q, id++);
        const a = await exchange({ host: '127.0.0.1', port: fromData.port }, msg, q.tcp ?? false);
        const b = await exchange({ host: '127.0.0.1', port: fromFiles.port }, msg, q.tcp ?? false);
        expect(a, q.label).not.toBeNull();
        expect(a!.toString('hex'), q.label).toBe(b!.toString('hex'));
      }
    } finally {
      await fromData.close();
      await fromFiles.close();
    }
  });
});
