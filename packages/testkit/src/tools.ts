// Finding the Debian programs the tests drive. A missing one fails the test with the exact
// install command: a test is never skipped because its tool is absent.
import fs from 'node:fs';
import path from 'node:path';

/** Each tool and the Debian package that ships it. */
export const TOOL_PACKAGES = {
  dig: 'bind9-dnsutils',
  kdig: 'knot-dnsutils',
  named: 'bind9',
  'named-checkzone': 'bind9-utils',
  'named-checkconf': 'bind9-utils',
  curl: 'curl',
  openssl: 'openssl',
  swaks: 'swaks',
  apache2: 'apache2',
  apache2ctl: 'apache2',
  dovecot: 'dovecot-core',
  doveadm: 'dovecot-core',
  ipsec: 'strongswan-starter',
  swanctl: 'strongswan-swanctl',
  charon: 'strongswan-charon',
  tcpdump: 'tcpdump',
  ping: 'iputils-ping',
  ip: 'iproute2',
  dnsperf: 'dnsperf',
  wrk: 'wrk',
  nginx: 'nginx-light',
  exim4: 'exim4-daemon-light',
  python3: 'python3',
  certutil: 'libnss3-tools',
  pk12util: 'libnss3-tools',
  unshare: 'util-linux',
} as const;

export type Tool = keyof typeof TOOL_PACKAGES;

const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/lib/ipsec', '/usr/local/sbin'];

/** Absolute path of a tool, or undefined. */
export function findTool(name: Tool | string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Absolute path of a tool; throws with the install hint when it is missing. */
export function requireTool(name: Tool): string {
  const found = findTool(name);
  if (found) return found;
  const pkg = TOOL_PACKAGES[name];
  throw new Error(`${name} is not installed: run \`apt-get install -y ${pkg}\` (or \`bash .ci/run\`, which installs every tool the tests use)`);
}
