// The lab as data: names under one prefix, interface names the kernel accepts, each host's
// resolver files; a value that holds together (every process on a host of it, every link between
// two of its hosts), what servidor runs declared as the sockets it opens, the table rendered from
// it, and another ID giving a lab that shares no name with this one; and the strongSwan settings
// for both kinds of kernel (kernel ESP where the kernel has it, kernel-libipsec in UDP 4500 where
// it has not, as on these VMs).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { certPaths, loadScenario, SERVICE_TRANSPORTS, SERVICES } from '@sstt/scenario';
import { strongswanConf } from '../src/ipsec.ts';
import type { LabState } from '../src/state.ts';
import { labTable, runsOn } from '../src/table.ts';
import { OUTSIDE_MX, OUTSIDE_ZONE, outsideZoneText } from '../src/outside.ts';
import { hostsFile, labDir, labEnv, labTopology, MACHINES, machines, resolvConf, type Topology } from '../src/topology.ts';

const lab = (env: Record<string, string> = {}) => loadScenario({ env: { SSTT_PROFILE: 'lab', ...env }, configFile: undefined, resolvConfPath: '/dev/null' });
const s = lab();
const t = labTopology(s);
const up: LabState = { prefix: t.prefix, startedAt: '', namespaces: [], etcDirs: [], processes: [], ipsec: 'kernel', variant: 'stroke' };

/** Every name a lab gives to something outside its own namespaces: namespaces, /etc/netns directories, files. */
function namesOf(topo: Topology): string[] {
  const hosts = Object.values(topo.hosts);
  return [
    ...hosts.map((h) => h.ns),
    ...hosts.map((h) => path.join('/etc/netns', h.ns)),
    ...hosts.map((h) => h.dir),
    ...hosts.flatMap((h) => h.mounts.map((m) => m.source)),
    ...topo.processes.flatMap((p) => [...Object.keys(p.files), ...(p.log ? [p.log] : []), ...(p.writes ? [p.writes] : [])]),
    topo.stateFile,
    topo.capture,
  ];
}

describe('labTopology', () => {
  it('names every namespace under one prefix and gives each machine its lab address', () => {
    expect(t.prefix).toBe(`sstt${s.id}`);
    expect(Object.values(t.hosts).every((h) => h.ns === `${t.prefix}-${h.name}`)).toBe(true);
    expect(t.hosts.cliente.address).toBe(s.network.client);
    expect(t.hosts.servidor.address).toBe(s.network.server);
    expect(t.hosts.exterior.address).toBe(s.network.gateway);
    expect(machines(t).map((h) => h.name)).toEqual([...MACHINES]);
    expect(t.hosts.lan).toMatchObject({ kind: 'bridge', bridge: 'lan', etc: {}, mounts: [] });
    // Linux interface names are at most 15 characters (IFNAMSIZ - 1).
    const ifnames = [...t.links.flatMap((l) => [l.a.ifname, l.b.ifname]), t.hosts.lan.bridge!];
    for (const n of ifnames) expect(n.length).toBeLessThanOrEqual(15);
  });

  it("the client and the server resolve through the server's DNS with the domain as search; /etc/hosts names the host", () => {
    expect(resolvConf(s, t.hosts.cliente)).toBe(`nameserver ${s.network.server}\nsearch ${s.domain}\n`);
    expect(resolvConf(s, t.hosts.servidor)).toBe(`nameserver ${s.network.server}\nsearch ${s.domain}\n`);
    expect(hostsFile(s, t.hosts.cliente)).toContain(`${s.network.client}\tcliente.${s.domain} cliente\n`);
    // The value carries them: `up` writes exactly these to /etc/netns/<ns>/.
    expect(t.hosts.cliente.etc).toEqual({ 'resolv.conf': resolvConf(s, t.hosts.cliente), hosts: hostsFile(s, t.hosts.cliente) });
  });

  it("the outside world: um.es's MX record and its SMTP server at the gateway, where our mail app relays as its smarthost", () => {
    const zone = outsideZoneText(s);
    expect(zone).toContain(`@\tIN MX 10 ${OUTSIDE_MX}.\n`);
    expect(zone).toContain(`mx\tIN A ${s.network.gateway}\n`);
    const mx = t.processes.find((p) => p.name === 'exterior: mx')!;
    expect(mx.sockets).toEqual([{ service: 'smtp', transport: 'tcp', address: s.network.gateway, port: 25 }]);
    expect(JSON.parse(mx.argv.at(-1)!)).toMatchObject({ domain: OUTSIDE_ZONE, dir: t.outsideMail });
    expect(labEnv(s).SSTT_MAIL_SMARTHOST).toBe(s.network.gateway);
    expect(loadScenario({ env: labEnv(s), configFile: undefined, resolvConfPath: '/dev/null' }).mail.smarthost).toEqual({ host: s.network.gateway, port: 25 });
  });

  it('every process runs on a host of the lab, every link joins two of its hosts, each machine plugged into the bridge with its address', () => {
    expect(t.processes.length).toBeGreaterThan(0);
    for (const p of t.processes) expect(Object.keys(t.hosts), p.name).toContain(p.host);
    for (const p of t.processes) expect(p.name.startsWith(`${p.host}: `)).toBe(true);
    for (const { a, b } of t.links) {
      expect(Object.keys(t.hosts)).toContain(a.host);
      expect(Object.keys(t.hosts)).toContain(b.host);
      expect(a.host).not.toBe(b.host);
    }
    const prefixLength = s.network.lan.split('/')[1];
    for (const m of machines(t)) {
      const ends = t.links.filter((l) => l.a.host === m.name);
      expect(ends).toEqual([{ a: { host: m.name, ifname: 'eth0', address: `${m.address}/${prefixLength}` }, b: { host: 'lan', ifname: m.name } }]);
    }
    // The capture runs on the bridge, where every frame between the machines passes.
    expect(t.processes[0]).toMatchObject({ host: 'lan', writes: t.capture, sockets: [] });
  });

  it("servidor's process declares the sockets of the domain's services on its address (DNS on UDP and TCP); the console only with a password", () => {
    const server = t.processes.filter((p) => p.host === 'servidor');
    expect(server).toHaveLength(1);
    // In the lab the host view is the DNS itself (one port, one pair of sockets).
    const withoutConsole = SERVICES.filter((x) => x !== 'console' && x !== 'hostdns');
    expect(server[0]!.sockets).toEqual(
      withoutConsole.flatMap((service) =>
        SERVICE_TRANSPORTS[service].map((transport) => ({ service, transport, address: s.network.server, port: s.listen.ports[service] })),
      ),
    );
    expect(server[0]!.sockets.filter((x) => x.service === 'dns').map((x) => x.transport)).toEqual(['udp', 'tcp']);
    const withConsole = labTopology(lab({ SSTT_CONSOLE_PASSWORD: 'secret' })).processes.find((p) => p.host === 'servidor')!;
    expect(withConsole.sockets.at(-1)).toEqual({ service: 'console', transport: 'tcp', address: s.network.server, port: s.listen.ports.console });
    // exterior's resolver on the gateway, where servidor's DNS forwards.
    expect(t.processes.find((p) => p.host === 'exterior')!.sockets.map((x) => `${x.transport} ${x.address}`)).toEqual([
      `udp ${s.network.gateway}`,
      `tcp ${s.network.gateway}`,
    ]);
  });

  it('the IPsec peers are the machines with a role, the responder (server) first; strongSwan files mounted from their own directory', () => {
    expect(t.ipsecPeers.map((n) => t.hosts[n].role)).toEqual(['server', 'client']);
    for (const n of t.ipsecPeers) {
      const h = t.hosts[n];
      expect(h.mounts.map((m) => m.target)).toContain('/run');
      for (const m of h.mounts) expect(m.source).toBe(`${h.dir}${m.target}`);
    }
    expect(t.hosts.exterior.mounts).toEqual([]);
  });

  it('another ID gives disjoint namespaces; with the directory keyed by the ID too, the two labs share no name at all', () => {
    const other = lab({ SSTT_ID: s.id === '1234' ? '4321' : '1234' });
    const shared = (a: Topology, b: Topology) => namesOf(a).filter((n) => namesOf(b).includes(n));
    const o = labTopology(other);
    expect(Object.values(o.hosts).filter((h) => Object.values(t.hosts).some((x) => x.ns === h.ns))).toEqual([]);
    // With their default directories (var/lab/<ID>) two IDs share no name at all.
    const mine = labTopology(s);
    const theirs = labTopology(other);
    expect(labDir(s)).toBe(path.join(s.paths.root, 'var', 'lab', s.id));
    expect(shared(mine, theirs)).toEqual([]);
    // ...while the same ID gives the same names: the value is a function of the scenario.
    expect(namesOf(labTopology(lab()))).toEqual(namesOf(t));
  });
});

describe('the table', () => {
  it('has a row per machine with its address and what runs there, from the value; the bridge is not a machine', () => {
    const table = labTable(s, t, up);
    const rows = table.split('\n').filter((l) => /^\S+\s+\d+\.\d+\.\d+\.\d+\s/.test(l));
    expect(rows).toEqual(machines(t).map((h) => `${h.name.padEnd(10)}${h.address!.padEnd(17)}${runsOn(t, h)}`));
    expect(runsOn(t, t.hosts.servidor)).toBe(t.processes.find((p) => p.host === 'servidor')!.summary);
    expect(runsOn(t, t.hosts.servidor)).toContain(`:${s.listen.ports.https}`);
    expect(runsOn(t, t.hosts.cliente)).toBe(t.hosts.cliente.about);
    expect(table).toContain('IPsec: ipsec.conf (starter), kernel ESP (IP protocol 50)');
    expect(table).toContain(`npx sstt-lab capture          (${path.relative(s.paths.root, t.capture)})`);
  });

  it('gives paths from the repository root, whatever directory the program runs in (npm run lab runs it in apps/lab)', () => {
    expect(process.cwd()).not.toBe(s.paths.root); // vitest runs in the workspace, as turbo runs the lab
    const c = certPaths(s);
    const u1 = s.users[0]!;
    const fromRoot = (f: string) => path.relative(s.paths.root, f);
    expect(fromRoot(c.ca.cert)).not.toMatch(/^\.\./);
    expect(labTable(s, t, up)).toContain(
      `npx sstt-lab exec cliente -- curl --cacert ${fromRoot(c.ca.cert)} --cert ${fromRoot(c.client(u1.name).cert)} --key ${fromRoot(c.client(u1.name).key)} https://www.${s.domain}/\n`,
    );
  });

  it('follows the value: a process added to cliente shows on its row, and nowhere else', () => {
    const changed: Topology = {
      ...t,
      processes: [...t.processes, { ...t.processes[0]!, name: 'cliente: thunderbird', host: 'cliente', summary: 'Thunderbird, by name' }],
    };
    const table = labTable(s, changed, up);
    expect(table).toContain(`${'cliente'.padEnd(10)}${s.network.client.padEnd(17)}Thunderbird, by name\n`);
    expect(table.split('Thunderbird, by name')).toHaveLength(2);
    expect(labTable(s, t, up)).not.toContain('Thunderbird, by name');
  });
});

describe('strongswanConf', () => {
  it('kernel ESP: kernel-netlink installs the SAs, no libipsec, no marks', () => {
    const c = strongswanConf('/x', 'stroke', false);
    expect(c).toMatch(/load = [^\n]*kernel-netlink[^\n]* stroke\n/);
    expect(c).not.toContain('kernel-libipsec');
    expect(c).not.toContain('fwmark');
  });

  it('no kernel ESP: kernel-libipsec with marked IKE/ESP sockets; vici for swanctl', () => {
    const c = strongswanConf('/x', 'vici', true);
    expect(c).toMatch(/load = [^\n]*kernel-libipsec kernel-netlink[^\n]* vici\n/);
    expect(c).toContain('kernel-libipsec { allow_peer_ts = yes }');
    expect(c).toContain('socket-default { fwmark = 0x42 }');
    expect(c).toContain('filelog { log { path = /x/charon.log');
  });
});
