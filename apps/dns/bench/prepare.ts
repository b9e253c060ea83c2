// Writes what both benchmarked servers load into a work directory: the generated zone files of
// the lab scenario (packages/infra, GENERATORS.bind), a named.conf for BIND built from the
// generated named.conf.options (forwarders replaced by a dead loopback port: the query mix never
// leaves our zones), and dnsperf's query file (A, MX, AAAA-NODATA, NXDOMAIN).
// Usage: tsx bench/prepare.ts <workdir> <port>
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadScenario } from '@sstt/scenario';
import { GENERATORS } from '@sstt/infra';
import { requireTool } from '@sstt/testkit';
import { referenceOptions } from '../test/reference/reference.ts';
import { namedConf } from '../test/reference/named.ts';
import { zoneStatements } from '../test/reference/zones.ts';
import { writePeerConfs } from './peers.ts';

const [dir, portText] = process.argv.slice(2);
if (!dir || !portText) {
  console.error('usage: prepare.ts <workdir> <port>');
  process.exit(2);
}
const port = Number(portText);
fs.mkdirSync(dir, { recursive: true });
const s = loadScenario({
  env: { SSTT_PROFILE: 'lab', SSTT_DATA_DIR: dir, SSTT_CERTS_DIR: dir, SSTT_DNS_FORWARDERS: '127.0.0.1:9' },
  flags: {},
  configFile: undefined,
});
// ZONE=<folder of ../shared/dns-zones> (or ZONE=<path to such a folder>): benchmark that real zone
// instead of the lab's: both servers load it, and the queries are every (owner, type) BIND's
// canonical dump of it lists, plus a name that does not exist.
const sharedZone = process.env.ZONE;
if (sharedZone) {
  const folder = path.isAbsolute(sharedZone) ? sharedZone : path.resolve(s.paths.root, '..', 'shared', 'dns-zones', sharedZone);
  const manifest = path.join(path.dirname(folder), 'manifest.tsv');
  const row = fs
    .readFileSync(manifest, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .find((r) => r[0] === path.basename(folder));
  if (!row) throw new Error(`${path.basename(folder)} is not in ${manifest}`);
  const [, origin, main] = row as [string, string, string];
  // Its files (and $INCLUDEs, relative to named's directory) next to the configuration.
  for (const f of fs.readdirSync(folder)) fs.copyFileSync(path.join(folder, f), path.join(dir, f));
  const file = path.join(dir, main);
  // The two options the shared zones' README names for named 9.18.
  const options = ['recursion no;', 'minimal-responses no;', 'max-records-per-type 0;', 'check-names primary ignore;'];
  fs.writeFileSync(
    path.join(dir, 'named.conf'),
    namedConf({ dir, host: '127.0.0.1', port, zones: [{ origin, file }], options }, (z) => z.file),
  );
  fs.writeFileSync(path.join(dir, 'zones.json'), JSON.stringify([{ origin, file }]));
  writePeerConfs(dir, port, [{ origin, file }]);
  const dump = execFileSync(requireTool('named-checkzone'), ['-D', '-o', '-', origin, file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const seen = new Set<string>();
  let probe: string | undefined;
  for (const line of dump.split('\n')) {
    const [owner, , , type, rdata] = line.split(/\s+/);
    if (!owner || !type || owner.startsWith(';')) continue;
    if (type === 'A' && !probe) probe = `${owner.replace(/\.$/, '')} ${rdata}`;
    seen.add(`${owner} ${type}`);
  }
  seen.add(`sstt-no-such-name.${origin}. A`);
  fs.writeFileSync(path.join(dir, 'queries.txt'), `${[...seen].join('\n')}\n`);
  if (!probe) throw new Error(`${origin}: no A record to probe readiness with`);
  console.log(probe);
  process.exit(0);
}
const files = GENERATORS.bind!(s);
const byBase = new Map([...files].map(([rel, text]) => [path.basename(rel), text]));
const zones = zoneStatements(byBase.get('named.conf.local') ?? '').map(({ origin, file }) => {
  const text = byBase.get(path.basename(file));
  if (text === undefined) throw new Error(`generator did not write ${file}`);
  const out = path.join(dir, `db.${origin}`);
  fs.writeFileSync(out, text);
  return { origin, file: out };
});
if (zones.length === 0) throw new Error('the bind generator produced no zone');
const options = [...referenceOptions(byBase.get('named.conf.options') ?? ''), 'forwarders { 127.0.0.1 port 9; };'];
fs.writeFileSync(
  path.join(dir, 'named.conf'),
  namedConf({ dir, host: '127.0.0.1', port, zones, options }, (z) => z.file),
);
fs.writeFileSync(path.join(dir, 'zones.json'), JSON.stringify(zones));
writePeerConfs(dir, port, zones);
const d = s.domain;
const www = s.names.find((n) => n.label === 'www')!.fqdn;
const queries = [
  `${www} A`,
  `${s.names.find((n) => n.label === 'pop')!.fqdn} A`,
  `${s.names.find((n) => n.label === 'smtp')!.fqdn} A`,
  `${d} MX`,
  `${www} AAAA`,
  `nonexistent.${d} A`,
];
fs.writeFileSync(path.join(dir, 'queries.txt'), `${queries.join('\n')}\n`);
// For the shell script: the name and the address a ready server answers.
console.log(`${www} ${s.names.find((n) => n.label === 'www')!.address}`);
