// The zone files both servers load: the ones the infra generator (`@sstt/infra`, GENERATORS.bind)
// writes for the scenario, plus a test-only zone with what the lab zone lacks (CNAMEs inside, to
// the lab's zone and to the outside, TXT, AAAA, CAA, a wildcard, delegations, $GENERATE, and an
// RRset too large for 512 bytes, forcing TC).
import fs from 'node:fs';
import path from 'node:path';
import type { Scenario } from '@sstt/scenario';
import { GENERATORS } from '@sstt/infra';

export interface ZoneFile {
  origin: string;
  file: string;
}

/** The outside world of the tests: zones served by the upstream stub (never a real resolver). */
export const OUTSIDE = {
  /** A fake outside domain (the seed forwards www.um.es and gets a CNAME chain back). */
  domain: 'um.es',
  /** A second outside zone, the target of the outside CNAME chain. */
  cdn: 'cdn-sstt.test',
} as const;

/** The test-only extra zone served by both BIND and our server. */
export const EXTRA_ORIGIN = 'diff-sstt.test';

/** Finds the zone statements of a named.conf text: origin -> file name as written. */
export function zoneStatements(conf: string): Array<{ origin: string; file: string }> {
  const out: Array<{ origin: string; file: string }> = [];
  const re = /zone\s+"([^"]+)"\s*(?:IN\s*)?\{([^}]*)\}/gi;
  for (let m = re.exec(conf); m; m = re.exec(conf)) {
    const file = /file\s+"([^"]+)"/.exec(m[2]!);
    if (file) out.push({ origin: m[1]!.replace(/\.$/, ''), file: file[1]! });
  }
  return out;
}

/**
 * Writes the generator's zone files for `s` into `dir` and returns them. Throws when the
 * generator produces no zone (the test then fails and says so).
 */
export function labZoneFiles(s: Scenario, dir: string): ZoneFile[] {
  const files = GENERATORS.bind!(s);
  const local = [...files.entries()].find(([rel]) => path.basename(rel) === 'named.conf.local');
  if (!local) throw new Error(`the bind generator wrote no named.conf.local (got: ${[...files.keys()].join(', ') || 'nothing'})`);
  const zones = zoneStatements(local[1]);
  if (zones.length === 0) throw new Error(`no zone statements in ${local[0]}`);
  return zones.map(({ origin, file }) => {
    const entry = [...files.entries()].find(([rel]) => path.basename(rel) === path.basename(file));
    if (!entry) throw new Error(`named.conf.local names ${file} for ${origin}, which the generator did not write`);
    const out = path.join(dir, `lab.${origin}.zone`);
    fs.writeFileSync(out, entry[1]);
    return { origin, file: out };
  });
}

/** The generator's named.conf.options text (for the options the reference should share). */
export function labNamedOptions(s: Scenario): string | undefined {
  const files = GENERATORS.bind!(s);
  return [...files.entries()].find(([rel]) => path.basename(rel) === 'named.conf.options')?.[1];
}

/** The test-only zone: record types and shapes the lab zone does not have. `lab`: the lab's domain. */
export function extraZoneText(lab: string): string {
  const o = EXTRA_ORIGIN;
  const big = Array.from({ length: 40 }, (_, i) => `big      IN A     10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const txt = Array.from({ length: 6 }, (_, i) => `bigtxt   IN TXT   "${'record-' + i + '-'}${'x'.repeat(90)}"`);
  return [
    '$TTL 600',
    `$ORIGIN ${o}.`,
    `@        IN SOA   ns1.${o}. hostmaster.${o}. ( 2024010101 3600 600 86400 120 ) ; negative TTL 120`,
    `         IN NS    ns1`,
    `         IN NS    ns2.${OUTSIDE.domain}.`,
    '         IN MX    5 mx',
    '         IN MX    20 mx2',
    '         IN TXT   "v=spf1 mx -all"',
    '         IN CAA   0 issue "letsencrypt.org"',
    'ns1      IN A     10.1.0.1',
    'mx       IN A     10.1.0.2',
    '         IN AAAA  fd00::2',
    'mx2      IN CNAME mx',
    'host     IN A     10.1.0.3',
    '         IN AAAA  fd00::3',
    'alias    IN CNAME host',
    'alias2   IN CNAME alias',
    'loop1    IN CNAME loop2',
    'loop2    IN CNAME loop1',
    `out      IN CNAME www.${OUTSIDE.domain}.`,
    `dangling IN CNAME nothere.${o}.`,
    '*.wild   IN A     10.1.0.9',
    '*.wild   IN TXT   "wildcard"',
    'deep.a.b IN A     10.1.0.10',
    '_sip._udp IN SRV  10 60 5060 host',
    'multi    IN TXT   "first string" "second; with a semicolon" "quote \\" inside"',
    'MiXeD    IN A     10.1.0.30',
    'sub      IN NS    ns.sub',
    'ns.sub   IN A     10.1.0.20',
    // Delegated to a name server elsewhere in this zone (the common shape in real zones: no glue
    // goes with the referral) and to one with glue below the cut.
    'garden   IN NS    mx',
    'garden   IN NS    ns.garden',
    'ns.garden IN A    10.1.0.21',
    'gluemx   IN MX    10 ns.garden',
    // Into the lab's zone: followed only for a client that may recurse.
    `tolab    IN CNAME www.${lab}.`,
    // BIND's $GENERATE: a pool of hosts, and their exchanges.
    '$GENERATE 1-4 gen$ A 10.1.3.$',
    '$GENERATE 1-4/3 gmx${0,2} MX "10 gen$"',
    ...big,
    ...txt,
    '',
  ].join('\n');
}

/** Zone files of the upstream stub: the outside domain with a CNAME chain into a second zone. */
export function outsideZoneTexts(): Array<{ origin: string; text: string }> {
  const d = OUTSIDE.domain;
  const c = OUTSIDE.cdn;
  return [
    {
      origin: d,
      text: [
        '$TTL 300',
        `@    IN SOA ns.${d}. hostmaster.${d}. ( 1 3600 600 86400 60 )`,
        `     IN NS  ns.${d}.`,
        `     IN MX  10 mx.${d}.`,
        `ns   IN A   10.99.0.53`,
        `mx   IN A   10.99.0.25`,
        `ns2  IN A   10.99.0.54`,
        `www  IN CNAME www2.${d}.`,
        `www2 IN CNAME edge.${c}.`,
        `web  IN A   10.99.0.80`,
        ...Array.from({ length: 90 }, (_, i) => `huge IN A   10.98.${Math.floor(i / 200)}.${(i % 200) + 1}`),
        '',
      ].join('\n'),
    },
    {
      origin: c,
      text: [
        '$TTL 120',
        `@    IN SOA ns.${c}. hostmaster.${c}. ( 1 3600 600 86400 30 )`,
        `     IN NS  ns.${d}.`,
        `edge IN A   10.99.1.1`,
        `edge IN A   10.99.1.2`,
        '',
      ].join('\n'),
    },
  ];
}
