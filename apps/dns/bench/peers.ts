// The other authoritative servers the DNS bench measures beside BIND: Knot DNS and NSD, each
// with one worker (as `named -n 1`), loading the same zone files on the same loopback port,
// in a private directory (nothing from /etc/knot or /etc/nsd, no control socket, no zone
// transfers, no journal writes).
import fs from 'node:fs';
import path from 'node:path';

export interface BenchZone {
  origin: string;
  file: string;
}

/** knot.conf for `knotd -c <dir>/knot.conf`: one UDP and one TCP worker. */
export function knotConf(dir: string, port: number, zones: BenchZone[]): string {
  const run = path.join(dir, 'knot');
  fs.mkdirSync(run, { recursive: true });
  return [
    'server:',
    `  rundir: "${run}"`,
    '  user: root',
    `  listen: 127.0.0.1@${port}`,
    '  udp-workers: 1',
    '  tcp-workers: 1',
    '  background-workers: 1',
    'database:',
    `  storage: "${run}"`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    journal-content: none',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    'zone:',
    ...zones.map((z) => `  - domain: ${z.origin}.\n    file: "${z.file}"`),
    '',
  ].join('\n');
}

/** nsd.conf for `nsd -d -c <dir>/nsd.conf`: one server process, no zone database on disk. */
export function nsdConf(dir: string, port: number, zones: BenchZone[]): string {
  return [
    'server:',
    '  ip-address: 127.0.0.1',
    `  port: ${port}`,
    '  server-count: 1',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    '  database: ""',
    `  pidfile: "${dir}/nsd.pid"`,
    `  xfrdfile: "${dir}/nsd-xfrd.state"`,
    `  zonelistfile: "${dir}/nsd-zone.list"`,
    '  do-ip6: no',
    '  hide-version: yes',
    '  minimal-responses: no',
    '  verbosity: 0',
    // NSD limits answers per client netblock by default (response rate limiting, 200/s): off, as
    // BIND and Knot run without it.
    '  rrl-ratelimit: 0',
    '  rrl-whitelist-ratelimit: 0',
    'remote-control:',
    '  control-enable: no',
    ...zones.flatMap((z) => ['zone:', `  name: "${z.origin}"`, `  zonefile: "${z.file}"`]),
    '',
  ].join('\n');
}

/** Writes both configurations beside named.conf. */
export function writePeerConfs(dir: string, port: number, zones: BenchZone[]): void {
  fs.writeFileSync(path.join(dir, 'knot.conf'), knotConf(dir, port, zones));
  fs.writeFileSync(path.join(dir, 'nsd.conf'), nsdConf(dir, port, zones));
}
