#!/usr/bin/env node
// `npm run setup`: installs the Debian packages the tests use (the list is
// packages/host/debian-packages.json, which the tool finder reads too), as root or through
// sudo. Needs nothing from node_modules, so it runs before `npm install` (which builds the C
// addon with the g++ and make installed here).
//   npm run setup                 the test tools
//   npm run setup -- --bench      also the reference servers and load generators of `npm run bench`
//   npm run setup -- --dry-run    print what would be installed
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { bench: { type: 'boolean' }, 'dry-run': { type: 'boolean' } } });
const list = JSON.parse(fs.readFileSync(new URL('../packages/host/debian-packages.json', import.meta.url), 'utf8'));
const wanted = new Set(Object.keys(list.extra));
for (const [tool, pkg] of Object.entries(list.tools)) if (values.bench || !list.benchOnly.includes(tool)) wanted.add(pkg);
const packages = [...wanted].sort();

// The name is the script's argument, never part of its text.
const has = (cmd) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
if (!has('dpkg-query') || !has('apt-get')) {
  console.error(`setup: this is not a Debian-like system (no apt-get). Install these packages or their equivalents by hand:\n  ${packages.join(' ')}`);
  process.exit(1);
}
// One dpkg-query for the whole list (one per package took seconds on a loaded machine). It exits 1
// when a name is unknown to dpkg, and still prints a line for each package it knows.
const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...packages], { encoding: 'utf8' });
const installed = new Set(
  r.stdout
    .split('\n')
    .filter((l) => l.endsWith(' install ok installed'))
    .map((l) => l.split(' ')[0]),
);
const missing = packages.filter((p) => !installed.has(p));
if (missing.length === 0) {
  console.log(`setup: all ${packages.length} Debian packages the tests use are installed`);
  process.exit(0);
}
console.log(`setup: installing ${missing.length} Debian package(s): ${missing.join(' ')}`);
if (values['dry-run']) process.exit(0);

let prefix = [];
if (process.getuid?.() !== 0) {
  if (!has('sudo')) {
    console.error('setup: installing Debian packages needs root: run `npm run setup` as root, or install sudo');
    process.exit(1);
  }
  prefix = ['sudo'];
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
function apt(args) {
  // dpkg may be locked by an unattended upgrade for a while: wait and try again rather than fail.
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(prefix[0] ?? 'apt-get', [...prefix.slice(1), ...(prefix.length ? ['apt-get'] : []), ...args], { stdio: 'inherit', env });
    if (r.status === 0) return;
    if (attempt === 10) {
      console.error(`setup: apt-get ${args[0]} failed ${attempt} times`);
      process.exit(1);
    }
    console.error(`setup: apt-get ${args[0]} failed (attempt ${attempt}), retrying in 10 s`);
    execFileSync('sleep', ['10']);
  }
}
apt(['update', '-q']);
apt(['install', '-y', '-q', '--no-install-recommends', ...missing]);

// The packages start their daemons where they can (named on :53, apache2 on :80, dovecot on
// :110, charon): the tests run their own instances, so stop the system's.
if (has('systemctl')) {
  for (const unit of ['named', 'bind9', 'apache2', 'dovecot', 'ipsec', 'strongswan-starter', 'nginx', 'exim4']) {
    spawnSync(prefix[0] ?? 'systemctl', [...(prefix.length ? ['systemctl'] : []), 'stop', unit], { stdio: 'ignore' });
  }
}
console.log('setup: done');
