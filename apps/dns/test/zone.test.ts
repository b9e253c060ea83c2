// The RFC 1035 master-file reader, the zone checks, and reload without restart.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindZones } from '@sstt/infra';
import { tempDir } from '@sstt/testkit';
import { parseMasterFile, parseTtl, ZoneFileError } from '../src/zone/master-file.ts';
import { buildZone } from '../src/zone/zone.ts';
import { TYPE } from '../src/wire.ts';
import { ask, memoryLogger, rcode, rrs, startDns, testScenario } from './helpers.ts';

const tmp = tempDir('sstt-dns-zone-');
afterAll(() => tmp.remove());

function parse(text: string, origin = 'ex.test') {
  return parseMasterFile({ origin, file: 'db.ex', text });
}

function error(text: string): string {
  try {
    buildZone('ex.test', 'db.ex', parse(text));
  } catch (err) {
    if (err instanceof ZoneFileError) return err.message;
    throw err;
  }
  return 'no error';
}

const HEAD = '$TTL 60\n@ SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 10.0.0.1\n';

describe('master file syntax', () => {
  it('$ORIGIN, $TTL, @, relative and absolute names, blank owners, class and TTL in either order', () => {
    const recs = parse(
      [
        '$ORIGIN ex.test.',
        '$TTL 1h',
        '@ IN SOA ns.ex.test. admin ( 2024 ; serial',
        '   1h 10m 1w 30 )  ; timers',
        '  NS ns',
        'ns 120 IN A 10.0.0.1',
        '   IN 30 AAAA ::ffff:10.0.0.1',
        'www.ex.test. A 10.0.0.2',
        '$ORIGIN sub.ex.test.',
        'deep TXT "a b;c" plain "q\\"uote" "\\065"',
        'mx MX 10 @',
        'srv SRV 1 2 3 mx',
        'ptr PTR other.example.',
        'caa CAA 128 issue "ca.test"',
      ].join('\n'),
    );
    const show = recs.map((r) => `${r.name} ${r.ttl} ${r.type}${r.target ? ` ${r.target}` : ''}`);
    expect(show).toEqual([
      'ex.test 3600 6',
      'ex.test 3600 2 ns.ex.test',
      'ns.ex.test 120 1',
      'ns.ex.test 30 28',
      'www.ex.test 3600 1',
      'deep.sub.ex.test 3600 16',
      'mx.sub.ex.test 3600 15 sub.ex.test',
      'srv.sub.ex.test 3600 33 mx.sub.ex.test',
      'ptr.sub.ex.test 3600 12 other.example',
      'caa.sub.ex.test 3600 257',
    ]);
    expect(recs[0]!.soa).toEqual({ serial: 2024, minimum: 30 });
    const txt = recs[5]!.rdata.map((b) => (b as Buffer).subarray(1).toString('latin1'));
    expect(txt).toEqual(['a b;c', 'plain', 'q"uote', 'A']);
    expect((recs[3]!.rdata[0] as Buffer).toString('hex')).toBe('00000000000000000000ffff0a000001');
  });

  it('TTL units', () => {
    expect(parseTtl('1w2d3h4m5s')).toBe(604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    expect(parseTtl('300')).toBe(300);
    expect(parseTtl('1x')).toBeUndefined();
  });

  it('$INCLUDE with its own origin', () => {
    const inc = path.join(tmp.dir, 'hosts.inc');
    fs.writeFileSync(inc, 'h1 A 10.0.0.9\n');
    const main = path.join(tmp.dir, 'db.inc');
    fs.writeFileSync(main, `${HEAD}$INCLUDE hosts.inc lan.ex.test.\nafter A 10.0.0.10\n`);
    const recs = parseMasterFile({ origin: 'ex.test', file: main });
    expect(recs.map((r) => r.name).slice(-2)).toEqual(['h1.lan.ex.test', 'after.ex.test']);
  });
});

describe('errors name the file and line', () => {
  const cases: Array<[string, string]> = [
    [`${HEAD}www A 10.0.0.300\n`, 'db.ex:5: A: bad IPv4 address "10.0.0.300"'],
    [`${HEAD}www BOGUS 1\n`, 'db.ex:5: unknown or unsupported record type "BOGUS"'],
    [`${HEAD}www MX 10\n`, 'db.ex:5: MX: expected 2 fields, found 1'],
    [`${HEAD}www A 10.0.0.1 extra\n`, 'db.ex:5: A: extra field "extra"'],
    [`${HEAD}www TXT "open\n`, 'db.ex:5: unterminated quoted string'],
    [`${HEAD}www SOA ns admin ( 1 2 3 4 5\n`, 'db.ex:5: "(" not closed before the end of the file'],
    [`${HEAD}www CNAME ns\nwww A 10.0.0.1\n`, 'db.ex:6: www.ex.test: CNAME and other data'],
    ['@ SOA ns admin 1 2 3 4 5\n', 'db.ex:1: zone ex.test/IN: has no NS records'],
    ['www A 10.0.0.1\n', 'db.ex:1: no TTL: add a $TTL line or a TTL to the first record'],
    [`$TTL 60\n@ NS ns\nns A 10.0.0.1\n`, 'db.ex:1: no SOA record at the zone apex ex.test'],
    [`$TTL 60\n@ SOA ns admin 1 2 3 4 5\n@ NS ns\n`, "db.ex:3: NS 'ns.ex.test' has no address records (A or AAAA)"],
    [`${HEAD}$BOGUS x\n`, 'db.ex:5: unknown directive $BOGUS'],
    [`${HEAD}www CH A 10.0.0.1\n`, 'db.ex:5: only class IN is served'],
  ];
  it.each(cases)('%#', (text, message) => {
    expect(error(text)).toBe(message);
  });

  it("BIND's master files of the scenario load without warnings", () => {
    for (const src of bindZones(testScenario())) {
      const zone = buildZone(src.origin, src.fileName, parseMasterFile({ origin: src.origin, file: src.fileName, text: src.text }));
      expect(zone.warnings).toEqual([]);
      expect(zone.soa.type).toBe(TYPE.SOA);
    }
  });
});

describe('reload without restart', () => {
  it('a changed file is served at once; a broken one keeps the old zone and logs file:line and why', async () => {
    const file = path.join(tmp.dir, 'db.reload.test');
    fs.writeFileSync(file, '$TTL 60\n@ SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 10.0.0.1\nwww A 10.0.0.2\n');
    const { log, lines } = memoryLogger();
    const srv = await startDns({ scenario: testScenario(), zoneFiles: [{ origin: 'reload.test', file }], log, reloadDebounceMs: 10 });
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('condition not reached in 5 s');
    };
    try {
      expect(rrs((await ask('udp', srv.port, { name: 'www.reload.test' })).answers)).toEqual(['www.reload.test 60 A 10.0.0.2']);
      // An editor's way: write elsewhere, rename over the file.
      fs.writeFileSync(`${file}.tmp`, '$TTL 60\n@ SOA ns admin 2 2 3 4 5\n@ NS ns\nns A 10.0.0.1\nwww A 10.0.0.3\nnew A 10.0.0.4\n');
      fs.renameSync(`${file}.tmp`, file);
      await until(async () => rrs((await ask('udp', srv.port, { name: 'www.reload.test' })).answers)[0] === 'www.reload.test 60 A 10.0.0.3');
      expect(rcode(await ask('tcp', srv.port, { name: 'new.reload.test' }))).toBe('NOERROR');

      fs.writeFileSync(file, '$TTL 60\n@ SOA ns admin 3 2 3 4 5\n@ NS ns\nns A 10.0.0.1\nwww A 10.0.0.999\n');
      await until(async () => lines.some((l) => l.includes(`${file}:5: A: bad IPv4 address "10.0.0.999"; still serving the previous zone`)));
      expect(rrs((await ask('udp', srv.port, { name: 'www.reload.test' })).answers)).toEqual(['www.reload.test 60 A 10.0.0.3']);
    } finally {
      await srv.close();
    }
  });

  it('a broken file at startup is a one-line configuration error', async () => {
    const file = path.join(tmp.dir, 'db.broken.test');
    fs.writeFileSync(file, '$TTL 60\n@ SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 10.0.0.1\nwww MX x y\n');
    const err = await startDns({ zoneFiles: [{ origin: 'broken.test', file }] }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${file}:5: zone: expected a valid RFC 1035 master file, found MX: bad preference "x"`);
  });
});
