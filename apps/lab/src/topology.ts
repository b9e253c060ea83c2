// The lab on one machine as data, derived from the scenario (like Kathará's lab.conf): which
// hosts exist, their addresses and namespaces, the LAN joining them, and the one prefix under
// which everything the lab creates is named. Building and tearing down only read this value.
import path from 'node:path';
import type { Scenario } from '@sstt/scenario';

export const HOST_NAMES = ['cliente', 'servidor', 'exterior'] as const;
export type HostName = (typeof HOST_NAMES)[number];

export interface LabHost {
  name: HostName;
  /** What the host stands for, for the table. */
  role: string;
  address: string;
  /** Its network namespace. */
  ns: string;
  /** Its interface (inside its namespace) and the bridge port it is plugged into (inside the LAN's). */
  ifname: string;
  port: string;
}

export interface Topology {
  /** Every namespace, link and file of this lab is named under this prefix. */
  prefix: string;
  /** The namespace holding the LAN's bridge (the "cable"), where the capture runs. */
  lanNs: string;
  bridge: string;
  prefixLength: number;
  hosts: Record<HostName, LabHost>;
  /** var/lab: the state file, certificates, Maildir, logs, the capture. */
  dir: string;
  stateFile: string;
  capture: string;
}

export function labTopology(s: Scenario): Topology {
  const prefix = `sstt${s.id}`;
  const dir = path.join(s.paths.root, 'var', 'lab');
  const host = (name: HostName, role: string, address: string): LabHost => ({ name, role, address, ns: `${prefix}-${name}`, ifname: 'eth0', port: name });
  return {
    prefix,
    lanNs: `${prefix}-lan`,
    bridge: 'lan',
    prefixLength: Number(s.network.lan.split('/')[1]),
    hosts: {
      cliente: host('cliente', "the student's machine: browser, Thunderbird, Wireshark", s.network.client),
      servidor: host('servidor', 'every service of the domain', s.network.server),
      exterior: host('exterior', 'the outside world: a resolver for names outside the domain', s.network.gateway),
    },
    dir,
    stateFile: path.join(dir, 'state.json'),
    capture: path.join(dir, 'lan.pcapng'),
  };
}

/** Host names and the names of the zone that point at them, for each host's /etc/hosts. */
export function hostsFile(s: Scenario, h: LabHost): string {
  const fqdn = s.names.find((n) => n.address === h.address && n.label === h.name)?.fqdn;
  return [`127.0.0.1\tlocalhost`, `${h.address}\t${fqdn ? `${fqdn} ` : ''}${h.name}`, ''].join('\n');
}

/** Each host's /etc/resolv.conf: the client and the server ask the domain's DNS, as in the report. */
export function resolvConf(s: Scenario, h: LabHost): string {
  if (h.name === 'exterior') return 'nameserver 127.0.0.1\n';
  return `nameserver ${s.network.server}\nsearch ${s.domain}\n`;
}
