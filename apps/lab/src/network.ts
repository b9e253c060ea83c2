// The lab's network, built from the topology: a namespace per host, the bridges, a veth pair per
// link created directly inside its two namespaces, the addresses, and each machine's /etc/netns
// files. Nothing is created in the machine's own namespace. Each thing is recorded as soon as it
// exists, so `down` removes it even when the build dies half-way.
import fs from 'node:fs';
import path from 'node:path';
import { ipCmd, requireTool, run, vethBetween } from '@sstt/host';
import type { LabRecord } from './state.ts';
import type { Topology } from './topology.ts';

export async function buildNetwork(topo: Topology, record: LabRecord): Promise<void> {
  // Bridges first: the cable is there before anything is plugged in.
  const hosts = Object.values(topo.hosts).sort((a, b) => Number(b.kind === 'bridge') - Number(a.kind === 'bridge'));
  for (const h of hosts) {
    await ipCmd('netns', 'add', h.ns);
    record.namespace(h.ns);
    await ipCmd('-n', h.ns, 'link', 'set', 'lo', 'up');
    // No IPv6 on the lab's links: no router solicitations or MLD reports in the capture.
    await run(requireTool('ip'), ['netns', 'exec', h.ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
  for (const h of hosts) {
    if (!h.bridge) continue;
    await ipCmd('-n', h.ns, 'link', 'add', h.bridge, 'type', 'bridge');
    await ipCmd('-n', h.ns, 'link', 'set', h.bridge, 'up');
  }
  for (const { a, b } of topo.links) {
    await vethBetween({ ns: topo.hosts[a.host].ns, name: a.ifname }, { ns: topo.hosts[b.host].ns, name: b.ifname });
    for (const end of [a, b]) {
      const h = topo.hosts[end.host];
      if (h.bridge) await ipCmd('-n', h.ns, 'link', 'set', end.ifname, 'master', h.bridge);
      if (end.address) await ipCmd('-n', h.ns, 'addr', 'add', end.address, 'dev', end.ifname);
      await ipCmd('-n', h.ns, 'link', 'set', end.ifname, 'up');
    }
  }
  for (const h of hosts) {
    if (Object.keys(h.etc).length === 0) continue;
    const etc = path.join('/etc/netns', h.ns);
    fs.mkdirSync(etc, { recursive: true });
    record.etcDir(etc);
    for (const [name, text] of Object.entries(h.etc)) fs.writeFileSync(path.join(etc, name), text);
  }
}
