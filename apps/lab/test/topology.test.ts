// The lab as data: names under one prefix, interface names the kernel accepts, each host's
// resolver files; and the strongSwan settings for both kinds of kernel (kernel ESP where the
// kernel has it, kernel-libipsec in UDP 4500 where it has not, as on these VMs).
import { describe, expect, it } from 'vitest';
import { loadScenario } from '@sstt/scenario';
import { strongswanConf } from '../src/lab.ts';
import { HOST_NAMES, hostsFile, labTopology, resolvConf } from '../src/topology.ts';

const s = loadScenario({ env: { SSTT_PROFILE: 'lab' }, configFile: undefined, resolvConfPath: '/dev/null' });
const t = labTopology(s);

describe('labTopology', () => {
  it('names every namespace under one prefix and gives each host its lab address', () => {
    expect(t.prefix).toBe(`sstt${s.id}`);
    expect([t.lanNs, ...HOST_NAMES.map((h) => t.hosts[h].ns)].every((ns) => ns.startsWith(`${t.prefix}-`))).toBe(true);
    expect(t.hosts.cliente.address).toBe(s.network.client);
    expect(t.hosts.servidor.address).toBe(s.network.server);
    expect(t.hosts.exterior.address).toBe(s.network.gateway);
    // Linux interface names are at most 15 characters (IFNAMSIZ - 1).
    for (const h of HOST_NAMES) for (const n of [t.hosts[h].ifname, t.hosts[h].port, t.bridge]) expect(n.length).toBeLessThanOrEqual(15);
  });

  it("the client and the server resolve through the server's DNS with the domain as search; /etc/hosts names the host", () => {
    expect(resolvConf(s, t.hosts.cliente)).toBe(`nameserver ${s.network.server}\nsearch ${s.domain}\n`);
    expect(resolvConf(s, t.hosts.servidor)).toBe(`nameserver ${s.network.server}\nsearch ${s.domain}\n`);
    expect(hostsFile(s, t.hosts.cliente)).toContain(`${s.network.client}\tcliente.${s.domain} cliente\n`);
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
