// The table `sstt-lab up` prints once the lab is up, rendered from the topology: a row per
// machine with its address and what runs there (its processes, or what the machine is for when
// it runs none), how IPsec came up, and the commands to try from cliente.
import path from 'node:path';
import { certPaths, type Scenario } from '@sstt/scenario';
import type { LabState } from './state.ts';
import { type LabHost, machines, type Topology } from './topology.ts';

/** What the WHAT RUNS THERE column says of a host. */
export function runsOn(topo: Topology, h: LabHost): string {
  const own = topo.processes.filter((p) => p.host === h.name);
  return own.length > 0 ? own.map((p) => p.summary).join('; ') : h.about;
}

function ipsecLine(state: LabState): string {
  if (state.ipsec === 'off') return 'off (--no-ipsec): the services travel in clear';
  const files = state.variant === 'stroke' ? 'ipsec.conf (starter)' : 'swanctl.conf (vici)';
  const esp = state.ipsec === 'kernel' ? 'kernel ESP (IP protocol 50)' : 'kernel-libipsec: this kernel has no ESP, so ESP travels in UDP 4500';
  return `${files}, ${esp}`;
}

/**
 * The table. Its paths are relative to the repository root, where the README says to run the
 * commands it suggests (`npm run lab` runs this program inside apps/lab, through turbo).
 */
export function labTable(s: Scenario, topo: Topology, state: LabState): string {
  const c = certPaths(s);
  const u1 = s.users[0]!;
  const u2 = s.users[1] ?? u1;
  const rel = (f: string) => path.relative(s.paths.root, f) || f;
  const lines = [`sstt lab: ${s.domain} on one machine. IPsec: ${ipsecLine(state)}`, '', `${'HOST'.padEnd(10)}${'ADDRESS'.padEnd(17)}WHAT RUNS THERE`];
  for (const h of machines(topo)) lines.push(`${h.name.padEnd(10)}${(h.address ?? '').padEnd(17)}${runsOn(topo, h)}`);
  lines.push(
    '',
    'Try (as root, from the repository root):',
    `  npx sstt-lab exec cliente -- dig www.${s.domain}`,
    `  npx sstt-lab exec cliente -- curl --cacert ${rel(c.ca.cert)} --cert ${rel(c.client(u1.name).cert)} --key ${rel(c.client(u1.name).key)} https://www.${s.domain}/`,
    `  npx sstt-lab exec cliente -- swaks --server smtp.${s.domain} --from ${u1.email} --to ${u2.email}`,
    `  npx sstt-lab exec cliente -- curl -u ${u2.name}:${u2.password} pop3://pop.${s.domain}/`,
    '  npx sstt-lab shell cliente',
    `  npx sstt-lab capture          (${rel(topo.capture)})`,
    "  npx sstt-lab check            (the lab report's exchanges, checked against the capture)",
    '',
    'Ctrl-C takes the lab down.',
  );
  return lines.join('\n');
}
