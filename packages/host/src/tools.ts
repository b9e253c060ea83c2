// Finding the Debian programs the tests drive. A missing one fails the test with the exact
// install command: a test is never skipped because its tool is absent.
import fs from 'node:fs';
import path from 'node:path';
import debianPackages from '../debian-packages.json' with { type: 'json' };

/**
 * The one list of Debian packages (debian-packages.json beside this package): each tool the tests
 * and benchmarks run and the package that ships it, the tools only benchmarks use, and packages
 * that are not a tool (plugins, libraries, the addon's compiler). `npm run setup` installs from it.
 */
export const DEBIAN_PACKAGES = debianPackages as {
  tools: Record<string, string>;
  benchOnly: string[];
  extra: Record<string, string>;
};

/** Every program the tests and benchmarks run through requireTool/findTool. */
export const TOOLS = [
  'dig',
  'kdig',
  'named',
  'named-checkzone',
  'named-checkconf',
  'curl',
  'openssl',
  'swaks',
  'apache2',
  'apache2ctl',
  'dovecot',
  'doveadm',
  'doveconf',
  'ipsec',
  'swanctl',
  'charon',
  'tcpdump',
  'ping',
  'ip',
  'strace',
  'python3',
  'certutil',
  'pk12util',
  'update-ca-certificates',
  'getent',
  'unshare',
  'nsenter',
  'tshark',
  'xmllint',
  'dumpcap',
  'systemd-analyze',
  'dnsperf',
  'knotd',
  'nsd',
  'wrk',
  'nginx',
  'exim4',
  'update-exim4.conf',
  'clang',
  'chromium',
  'thunderbird',
  'dkimverify',
  'dkimsign',
  'spfquery',
  'dnsmasq',
] as const;

export type Tool = (typeof TOOLS)[number];

/** Each tool and the Debian package that ships it (a test checks every tool has one). */
export const TOOL_PACKAGES = DEBIAN_PACKAGES.tools as Record<Tool, string>;

/** The packages `npm run setup` installs (with `bench`: also the benchmarks' servers and load generators). */
export function setupPackages(bench = false): string[] {
  const wanted = new Set(Object.keys(DEBIAN_PACKAGES.extra));
  for (const [tool, pkg] of Object.entries(DEBIAN_PACKAGES.tools)) if (bench || !DEBIAN_PACKAGES.benchOnly.includes(tool)) wanted.add(pkg);
  return [...wanted].sort();
}

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
