// resolve's decisions and files as values, and resolve/--undo against a directory of the test's
// own standing in for /etc (HostPaths): the method chosen from the machine's facts, each method's
// file exactly, the hosts block added and removed byte for byte, idempotence, an undo after a crash,
// and a record that names a file resolve never writes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import type { Invoker } from './invoker.ts';
import { HOST_PATHS, type HostPaths } from './paths.ts';
import { chooseMethod, hostsBlock, networkManagerDns, type ResolverFacts, resolve, resolvePlan, unresolve, withoutBlock } from './resolve.ts';
import { hostStatePath, type ResolveMethod } from './state.ts';

const facts = (f: Partial<ResolverFacts>): ResolverFacts => ({ platform: 'linux', resolvConf: '', resolvedRuntime: false, nmRuntime: false, ...f });
const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n';

describe('the method, from the machine', () => {
  it.each<[string, Partial<ResolverFacts>, ResolveMethod, string]>([
    ['macOS', { platform: 'darwin' }, 'macos', 'macOS: a file in /etc/resolver'],
    ['systemd-resolved 258', { resolvConf: stub, resolvedRuntime: true, systemdVersion: 258 }, 'delegate', 'systemd-resolved 258: a dns-delegate file'],
    [
      'systemd-resolved 252 (Debian 12)',
      { resolvConfTarget: '../run/systemd/resolve/stub-resolv.conf', resolvConf: stub, resolvedRuntime: true, systemdVersion: 252 },
      'hosts',
      'systemd-resolved 252 cannot route one domain to a server on this machine without sending it every other lookup (dns-delegate needs 258): /etc/hosts, which it reads',
    ],
    [
      'a stub resolv.conf but resolved not running',
      { resolvConf: stub, systemdVersion: 258 },
      'hosts',
      'no resolver here routes one domain to one server: /etc/hosts',
    ],
    [
      "NetworkManager's dnsmasq",
      { resolvConf: 'nameserver 127.0.1.1\n', nmRuntime: true, nmDns: 'dnsmasq' },
      'dnsmasq',
      "NetworkManager's dnsmasq: a server= line in its dnsmasq.d",
    ],
    [
      'NetworkManager writing resolv.conf itself',
      { resolvConf: 'nameserver 192.0.2.1\n', nmRuntime: true, nmDns: 'default' },
      'hosts',
      'no resolver here routes one domain to one server: /etc/hosts',
    ],
    ['dns=dnsmasq configured, NetworkManager not running', { nmDns: 'dnsmasq' }, 'hosts', 'no resolver here routes one domain to one server: /etc/hosts'],
  ])('%s', (_name, f, method, why) => {
    expect(chooseMethod(facts(f))).toEqual({ method, why });
  });

  it("NetworkManager's dns= is [main]'s, and the last file that sets it wins", () => {
    expect(networkManagerDns(['[main]\nplugins=ifupdown\ndns=dnsmasq\n', '[logging]\ndns=none\n'])).toBe('dnsmasq');
    expect(networkManagerDns(['[main]\ndns=dnsmasq\n', '[main]\n dns = systemd-resolved\n'])).toBe('systemd-resolved');
    expect(networkManagerDns(['[main]\nplugins=keyfile\n'])).toBeUndefined();
  });
});

const s = loadScenario({ env: {}, flags: {}, resolvConfPath: '/nonexistent' });
const hostdns = s.listen.ports.hostdns;

describe("each method's files", () => {
  it('systemd-resolved 258+: a dns-delegate file routing both zones (routing-only) to the host view', () => {
    expect(resolvePlan(s, 'delegate')).toEqual({
      method: 'delegate',
      files: [
        {
          file: `/etc/systemd/dns-delegate.d/${s.domain}.dns-delegate`,
          content: `# ${s.domain} through the DNS app's host view (npx sstt resolve; npx sstt resolve --undo removes this file)\n[Delegate]\nDNS=127.0.0.1:${hostdns}\nDomains=~${s.domain} ~${s.network.reverseZone}\n`,
        },
      ],
    });
  });

  it('macOS: one resolver(5) file per zone', () => {
    const plan = resolvePlan(s, 'macos');
    expect(plan.files.map((f) => f.file)).toEqual([`/etc/resolver/${s.domain}`, `/etc/resolver/${s.network.reverseZone}`]);
    for (const f of plan.files) expect(f.content.split('\n').slice(1)).toEqual(['nameserver 127.0.0.1', `port ${hostdns}`, '']);
  });

  it("/etc/hosts: every address name of the zone (the autoconfig alias too) at the dev servers' address, between markers naming the domain", () => {
    expect(hostsBlock(s).split('\n')).toEqual([
      `# BEGIN ${s.domain}: added by npx sstt resolve, removed by npx sstt resolve --undo`,
      ...['dns', 'www', 'web', 'smtp', 'pop', 'mail', 'servidor', 'cliente', 'autoconfig'].map((l) => `127.0.0.1\t${l}.${s.domain}`),
      `# END ${s.domain}`,
      '',
    ]);
    const lab = loadScenario({ env: { SSTT_PROFILE: 'lab' }, flags: {}, resolvConfPath: '/nonexistent' });
    expect(hostsBlock(lab)).toContain(`\n${lab.network.server}\twww.${lab.domain}\n`);
  });

  it('only a marked block is ever cut from a hosts file', () => {
    const block = hostsBlock(s);
    expect(withoutBlock(`a\n${block}b\n`, block)).toBe('a\nb\n');
    expect(withoutBlock('a\nb', `\n${block}`)).toBeUndefined();
    expect(withoutBlock('127.0.0.1 localhost\n', '127.0.0.1 localhost\n')).toBeUndefined();
  });
});

describe('resolve and --undo on files of the test', () => {
  let tmp: { dir: string; remove(): void };
  let sc: Scenario;
  let paths: HostPaths;
  let inv: Invoker;
  let lines: string[];
  const reloads: ResolveMethod[] = [];
  const opts = () => ({
    inv,
    paths,
    say: (l: string) => lines.push(l),
    reload: async (m: ResolveMethod) => {
      reloads.push(m);
      return undefined;
    },
  });

  beforeEach(() => {
    tmp = tempDir('sstt-resolve-');
    sc = loadScenario({ env: { SSTT_DATA_DIR: path.join(tmp.dir, 'var') }, flags: {}, resolvConfPath: '/nonexistent' });
    const etc = path.join(tmp.dir, 'etc');
    fs.mkdirSync(etc);
    paths = Object.fromEntries(Object.entries(HOST_PATHS).map(([k, v]) => [k, path.join(tmp.dir, v)])) as HostPaths;
    inv = { user: 'me', uid: process.getuid!(), gid: process.getgid!(), home: tmp.dir, root: true, env: process.env };
    lines = [];
    reloads.length = 0;
  });
  afterEach(() => tmp.remove());

  it('hosts: a file whose last line has no newline comes back byte for byte', async () => {
    const original = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost'; // no final newline
    fs.writeFileSync(paths.hosts, original);
    await resolve(sc, { ...opts(), via: 'hosts' });
    expect(fs.readFileSync(paths.hosts, 'utf8')).toBe(`${original}\n${hostsBlock(sc)}`);
    // The same block again is no change (idempotent), and nothing asks a resolver to reload.
    await resolve(sc, opts());
    expect(fs.readFileSync(paths.hosts, 'utf8')).toBe(`${original}\n${hostsBlock(sc)}`);
    expect(lines).toContain(`  ${paths.hosts}: the block is already there`);
    expect(await unresolve(sc, opts())).toBe(true);
    expect(fs.readFileSync(paths.hosts, 'utf8')).toBe(original);
    expect(reloads).toEqual([]);
    expect(fs.existsSync(hostStatePath(sc))).toBe(false);
  });

  it('hosts: a line the user added after the block keeps its own line', async () => {
    const original = '127.0.0.1\tlocalhost';
    fs.writeFileSync(paths.hosts, original);
    await resolve(sc, { ...opts(), via: 'hosts' });
    fs.appendFileSync(paths.hosts, '10.0.0.1\tmine\n');
    expect(await unresolve(sc, opts())).toBe(true);
    expect(fs.readFileSync(paths.hosts, 'utf8')).toBe(`${original}\n10.0.0.1\tmine\n`);
  });

  it('delegate: the file and the directories it needed, each recorded; the resolver told after writing and after removing', async () => {
    await resolve(sc, { ...opts(), via: 'delegate' });
    const file = path.join(paths.dnsDelegates, `${sc.domain}.dns-delegate`);
    expect(fs.readFileSync(file, 'utf8')).toBe(resolvePlan(sc, 'delegate', paths).files[0]!.content);
    const record = JSON.parse(fs.readFileSync(hostStatePath(sc), 'utf8'));
    expect(record.resolve.method).toBe('delegate');
    expect(record.resolve.changes.map((c: { kind: string; dir?: string; file?: string }) => c.dir ?? c.file)).toEqual([
      path.join(tmp.dir, 'etc/systemd'),
      paths.dnsDelegates,
      file,
    ]);
    await resolve(sc, opts());
    expect(reloads).toEqual(['delegate']);
    // --via something else while recorded: refused, with the way out.
    await expect(resolve(sc, { ...opts(), via: 'hosts' })).rejects.toThrow(
      `resolve is already set up through delegate for ${sc.domain}: run npx sstt resolve --undo first, then --via hosts`,
    );
    expect(await unresolve(sc, opts())).toBe(true);
    expect(reloads).toEqual(['delegate', 'delegate']);
    expect(fs.existsSync(path.join(tmp.dir, 'etc/systemd'))).toBe(false);
    expect(fs.readdirSync(path.join(tmp.dir, 'etc'))).toEqual([]);
  });

  it('undo after a crash before the write: the recorded file is "already gone", the directory goes, the record ends', async () => {
    await resolve(sc, { ...opts(), via: 'dnsmasq' });
    const file = path.join(paths.nmDnsmasqD, `${sc.domain}.conf`);
    fs.rmSync(file); // as if the crash came between the record and the write
    lines = [];
    expect(await unresolve(sc, opts())).toBe(true);
    expect(lines).toContain(`  ${file}: already gone`);
    expect(fs.existsSync(paths.nmDnsmasqD)).toBe(false);
    expect(fs.existsSync(hostStatePath(sc))).toBe(false);
  });

  it('a record naming a file resolve never writes: that file is left alone', async () => {
    const victim = path.join(tmp.dir, 'etc', 'passwd');
    fs.writeFileSync(victim, 'root:x:0:0::/root:/bin/sh\n');
    fs.mkdirSync(path.dirname(hostStatePath(sc)), { recursive: true });
    const digest = (await import('./files.ts')).sha256(fs.readFileSync(victim));
    fs.writeFileSync(
      hostStatePath(sc),
      JSON.stringify({ version: 1, id: sc.id, domain: sc.domain, resolve: { method: 'hosts', changes: [{ kind: 'file', file: victim, sha256: digest }] } }),
    );
    expect(await unresolve(sc, opts())).toBe(true);
    expect(lines).toContain(`  ${victim}: not a file sstt resolve writes: left alone`);
    expect(fs.readFileSync(victim, 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
  });

  it('a drop-in that exists and is not ours is refused, and no record is left behind', async () => {
    const file = path.join(paths.nmDnsmasqD, `${sc.domain}.conf`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'server=/elsewhere/\n');
    await expect(resolve(sc, { ...opts(), via: 'dnsmasq' })).rejects.toThrow(
      `${file} exists and was not written by sstt: move it away, then run sstt resolve again`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('server=/elsewhere/\n');
    expect(fs.existsSync(hostStatePath(sc))).toBe(false);
  });
});
