// Master files (RFC 1035 §5) into the zone loader: any text gives a zone or a ZoneFileError
// whose message starts with file:line (as named-checkzone reports), never another exception.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Scenario } from '@sstt/scenario';
import { mutated, runCampaign, type FuzzBudget } from '@sstt/testkit';
import { ZoneFileError } from '../src/zone/master-file.ts';
import { loadZone } from '../src/zone/store.ts';
import { bindZones } from '@sstt/infra';

const FILE = '/fuzz/db.zone';

/** Tokens master files are made of, to splice into real files. */
const TOKEN = fc.constantFrom(
  '(',
  ')',
  ';',
  '"',
  '\\',
  '\\0',
  '\\255',
  '\\999',
  '@',
  '$ORIGIN',
  '$TTL',
  '$INCLUDE',
  '$GENERATE',
  ' IN ',
  ' CH ',
  ' TYPE65534 ',
  ' CLASS1 ',
  ' \\# ',
  ' 1h30m ',
  ' 4294967296 ',
  ' SOA ',
  ' NS ',
  ' CNAME ',
  ' MX 10 ',
  ' TXT ',
  ' AAAA ',
  ' ::ffff:1.2.3.4 ',
  '.',
  '..',
  '*',
  '\n',
  '\r\n',
  '\t',
);

export function zoneFileCampaign(s: Scenario, budget: FuzzBudget): Promise<number> {
  // The master files BIND gets for the scenario: real text to start the mutations from.
  const sources = bindZones(s);
  const origin = sources[0]!.origin;
  const real = fc.constantFrom(...sources.map((z) => new Uint8Array(Buffer.from(z.text, 'latin1'))));
  const spliced = fc.tuple(fc.constantFrom(...sources.map((z) => z.text)), fc.array(fc.tuple(fc.nat(), TOKEN), { maxLength: 8 })).map(([text, inserts]) => {
    let t = text;
    for (const [at, tok] of inserts) {
      const i = at % (t.length + 1);
      t = t.slice(0, i) + tok + t.slice(i);
    }
    return t;
  });
  const text = fc.oneof(
    spliced,
    mutated(real, 8).map((b) => b.toString('latin1')),
    fc.array(fc.oneof(TOKEN, fc.string({ maxLength: 12 })), { maxLength: 40 }).map((parts) => parts.join(' ')),
    fc.string({ maxLength: 400, unit: 'binary' }),
  );
  const property = fc.property(text, (t) => {
    try {
      const zone = loadZone({ origin, file: FILE, text: t });
      assert.equal(zone.origin, origin);
    } catch (err) {
      if (!(err instanceof ZoneFileError)) throw err;
      assert.match(err.message, /^\/fuzz\/db\.zone:\d+: \S/);
      assert.ok(err.line >= 1, `line ${err.line}`);
    }
  });
  return runCampaign(property, budget);
}
