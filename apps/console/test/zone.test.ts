// The zone is one value (packages/scenario zone.ts) with three readers, and they agree: what the
// domain's DNS answers (asked with dig), what BIND's master files hold (packages/infra; read back
// by apps/dns's master-file reader behind a second server, and by named-checkzone) and what the
// console's zone table lists are the same records under the same serial.
import fs from 'node:fs';
import path from 'node:path';
import { createDnsServer } from '@sstt/dns';
import { bindZones } from '@sstt/infra';
import { silentLogger } from '@sstt/runtime';
import { recordText, scenarioZones, soaOf, type ResourceRecord } from '@sstt/scenario';
import { requireTool, run, startServer, type Started } from '@sstt/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZoneRecord } from '../src/api/schemas.ts';
import { startWorld, type World } from './world.ts';

let w: World;
let fromFiles: Started;
beforeAll(async () => {
  // With DKIM keys: the zone has every kind of record it can hold (SPF, DKIM, DMARC TXT).
  w = await startWorld({ mailAuth: true });
  const dir = path.join(w.root, 'bind');
  fs.mkdirSync(dir);
  const zoneFiles = bindZones(w.s).map((z) => {
    const file = path.join(dir, z.fileName);
    fs.writeFileSync(file, z.text);
    return { origin: z.origin, file };
  });
  fromFiles = await startServer(createDnsServer({ scenario: w.s, host: '127.0.0.1', port: 0, forwarders: [], zoneFiles, log: silentLogger() }));
});
afterAll(async () => {
  await fromFiles?.close();
  await w?.close();
});

/** One record per line, fields separated by one space (dig and named-checkzone use tabs and runs of spaces). */
const norm = (line: string) => line.trim().split(/\s+/).join(' ');

/** The records of each (name, type) of the zone together, in the order the zone first has them: what dig prints asked each in turn. */
function byRRset(records: ResourceRecord[]): { questions: string[]; lines: string[] } {
  const sets = new Map<string, ResourceRecord[]>();
  for (const r of records) sets.set(`${r.name}. ${r.type}`, [...(sets.get(`${r.name}. ${r.type}`) ?? []), r]);
  return { questions: [...sets.keys()].flatMap((k) => k.split(' ')), lines: [...sets.values()].flat().map((r) => norm(recordText(r))) };
}

async function digAll(port: number, questions: string[]): Promise<string[]> {
  const r = await run(requireTool('dig'), ['@127.0.0.1', '-p', String(port), '+noall', '+answer', '+norecurse', ...questions]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map(norm);
}

describe('one zone, three readers', () => {
  it('the DNS, the master files and the console: same records, same serial', async () => {
    const rows = (await w.api<{ records: ZoneRecord[] }>('/api/v1/dns/zone')).body.records;
    const zones = scenarioZones(w.s);
    expect(zones.map((z) => z.origin)).toEqual([w.s.domain, w.s.network.reverseZone]);
    // Mail authentication's TXT records are among them: SPF, the two DKIM keys, DMARC.
    const d = w.s.domain;
    expect(zones[0]!.records.filter((r) => r.type === 'TXT').map((r) => r.name)).toEqual([d, `rsa._domainkey.${d}`, `ed25519._domainkey.${d}`, `_dmarc.${d}`]);
    for (const z of zones) {
      const serial = soaOf(z).serial;
      const want = z.records.map((r) => norm(recordText(r)));
      const { questions, lines } = byRRset(z.records);
      // The DNS serving the value, and a DNS reading BIND's files with the master-file reader.
      expect(await digAll(w.dns.port, questions), `${z.origin} from the value`).toEqual(lines);
      expect(await digAll(fromFiles.port, questions), `${z.origin} from the master file`).toEqual(lines);
      // BIND's own reader of the same file: the records (in its canonical order) and the serial.
      const file = bindZones(w.s).find((f) => f.origin === z.origin)!;
      const filePath = path.join(w.root, 'bind', file.fileName);
      const checked = await run(requireTool('named-checkzone'), ['-D', z.origin, filePath]);
      expect(checked.code, checked.stderr + checked.stdout).toBe(0);
      expect(checked.stdout.split('\n').filter(Boolean).map(norm).sort()).toEqual([...want].sort());
      const loaded = await run(requireTool('named-checkzone'), [z.origin, filePath]);
      expect(loaded.stdout).toContain(`zone ${z.origin}/IN: loaded serial ${serial}`);
      // The console's zone table.
      const listed = rows.filter((r) => r.zone === z.origin).map((r) => norm(`${r.name} ${r.ttl} IN ${r.type} ${r.data}`));
      expect(listed, `${z.origin} in the console`).toEqual(want);
      // The one serial, as each reader shows it.
      const soaSerial = (line: string | undefined) => Number(line?.split(' ')[6]);
      expect(soaSerial(listed.find((l) => l.includes(' IN SOA ')))).toBe(serial);
      expect(soaSerial((await digAll(w.dns.port, [z.origin, 'SOA']))[0])).toBe(serial);
      expect(soaSerial((await digAll(fromFiles.port, [z.origin, 'SOA']))[0])).toBe(serial);
    }
  });
});
