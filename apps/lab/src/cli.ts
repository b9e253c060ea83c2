// sstt-lab: the lab's two machines (and the outside world) on one Linux host.
//   sstt-lab [up] [--swanctl] [--no-ipsec]   build the lab, run it in the foreground; Ctrl-C takes it down
//   sstt-lab down                            remove what a lab that died left behind (from var/lab/state.json)
//   sstt-lab exec <host> -- <command...>     run a command on cliente, servidor or exterior
//   sstt-lab shell <host>                    a shell there
//   sstt-lab capture                         where the LAN capture is, and its frames decoded
//   sstt-lab check                           replay the lab report's exchanges and check them
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { certPaths, ConfigError, EXIT_CONFIG, parseCommandLine, type Scenario } from '@sstt/scenario';
import { ipBinary, requireTool } from '@sstt/host';
import { runCheck } from './check.ts';
import { down, hostOf, LabError, labContext, requireRoot, up, type LabContext } from './lab.ts';
import { readState, type LabState } from './state.ts';
import { HOST_NAMES, type HostName } from './topology.ts';

const USAGE = `usage: sstt-lab [up] [--swanctl] [--no-ipsec] | down | exec <host> -- <command...> | shell <host> | capture | check
hosts: ${HOST_NAMES.join(', ')}; --id and --config as for every sstt program`;

function table(ctx: LabContext, state: LabState): string {
  const { s, topo } = ctx;
  const c = certPaths(s);
  const u1 = s.users[0]!;
  const u2 = s.users[1] ?? u1;
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  const p = s.listen.ports;
  const ipsec =
    state.ipsec === 'off'
      ? 'off (--no-ipsec): the services travel in clear'
      : `${state.variant === 'stroke' ? 'ipsec.conf (starter)' : 'swanctl.conf (vici)'}, ${state.ipsec === 'kernel' ? 'kernel ESP (IP protocol 50)' : 'kernel-libipsec: this kernel has no ESP, so ESP travels in UDP 4500'}`;
  const runs: Record<HostName, string> = {
    cliente: `resolv.conf: nameserver ${s.network.server}, search ${s.domain}`,
    servidor: `DNS :${p.dns}, SMTP :${p.smtp}, submission :${p.submission}, POP3 :${p.pop3}, POP3S :${p.pop3s}, HTTP :${p.http}, HTTPS :${p.https}`,
    exterior: 'a resolver for the names outside the domain (the DNS of servidor forwards there)',
  };
  const lines = [`sstt lab: ${s.domain} on one machine. IPsec: ${ipsec}`, '', `${'HOST'.padEnd(10)}${'ADDRESS'.padEnd(17)}WHAT RUNS THERE`];
  for (const h of HOST_NAMES) lines.push(`${h.padEnd(10)}${topo.hosts[h].address.padEnd(17)}${runs[h]}`);
  lines.push(
    '',
    'Try (as root):',
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

function labFlags(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => k === 'id' || k === 'config'));
}

function needHost(name: string | undefined): HostName {
  if (!name || !(HOST_NAMES as readonly string[]).includes(name))
    throw new LabError(`name a host: ${HOST_NAMES.join(', ')} (got ${JSON.stringify(name ?? '')})`);
  return name as HostName;
}

function needRunningLab(ctx: LabContext): LabState {
  const state = readState(ctx.topo.stateFile);
  if (!state) throw new LabError('no lab is up: start one with sudo npm run lab');
  return state;
}

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values, positionals } = parseCommandLine(
    own,
    { swanctl: { type: 'boolean' }, 'no-ipsec': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [verb = 'up', target] = positionals;
  const ctx = labContext(labFlags(values));
  switch (verb) {
    case 'up': {
      requireRoot();
      const lab = await up(ctx, { ipsec: !values['no-ipsec'], variant: values.swanctl ? 'vici' : 'stroke', log: (l) => console.log(l) });
      console.log(`\n${table(ctx, lab.state)}`);
      await new Promise<void>((resolve) => {
        for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve());
      });
      console.log('taking the lab down...');
      await lab.stop();
      console.log('lab down');
      return 0;
    }
    case 'down': {
      const removed = await down(ctx, (l) => console.log(l));
      console.log(removed ? 'lab removed' : `nothing to remove (no ${path.relative(process.cwd(), ctx.topo.stateFile)})`);
      return 0;
    }
    case 'exec':
    case 'shell': {
      requireRoot();
      const host = needHost(target);
      needRunningLab(ctx);
      const cmd = verb === 'shell' ? [process.env.SHELL || '/bin/bash'] : command;
      if (cmd.length === 0) throw new LabError('usage: sstt-lab exec <host> -- <command...>');
      const r = spawnSync(ipBinary(), hostOf(ctx, host).argv(cmd), { stdio: 'inherit', env: process.env });
      return r.status ?? 1;
    }
    case 'capture': {
      needRunningLab(ctx);
      console.log(ctx.topo.capture);
      const r = spawnSync(requireTool('tshark'), ['-n', '-r', ctx.topo.capture, '-o', 'esp.enable_null_encryption_decode_heuristic:TRUE'], {
        stdio: 'inherit',
      });
      return r.status ?? 1;
    }
    case 'check': {
      requireRoot();
      const state = needRunningLab(ctx);
      return (await runCheck(ctx, state, (l) => console.log(l))) ? 0 : 1;
    }
    default:
      throw new LabError(`unknown command ${JSON.stringify(verb)}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof LabError || err instanceof ConfigError) {
      process.stderr.write(`sstt-lab: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  },
);

export type { Scenario };
