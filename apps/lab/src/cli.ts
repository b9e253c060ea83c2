// sstt-lab: the lab's two machines (and the outside world) on one Linux host.
//   sstt-lab [up] [--swanctl] [--no-ipsec] [--reference]
//                                            build the lab, run it in the foreground; Ctrl-C takes it down
//                                            (--reference: servidor runs BIND, exim4, dovecot, Apache)
//   sstt-lab down                            remove what a lab that died left behind (from var/lab/<ID>/state.json)
//   sstt-lab exec <host> -- <command...>     run a command on cliente, servidor or exterior
//   sstt-lab shell <host>                    a shell there
//   sstt-lab capture                         where the LAN capture is, and its frames decoded
//   sstt-lab check [--format F]               replay the lab report's exchanges and check them
//   sstt-lab check --pcap FILE --id N [--client A --server A] [--no-ipsec] [--format F]
//                                            grade a capture made elsewhere, without replaying
//   (F: table, json, junit, html)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, EXIT_CONFIG, parseCommandLine } from '@sstt/scenario';
import { ipBinary, requireTool } from '@sstt/host';
import { runCheck } from './check.ts';
import { gradeCapture } from './grade.ts';
import { dialogues, differences, renderDifferences } from './compare.ts';
import { type CheckResult, FORMATS, type Format, passed, render } from './report.ts';
import { hostOf } from './host.ts';
import { down, labContext, requireRoot, up, type LabContext } from './lab.ts';
import { readState, type LabState } from './state.ts';
import { labTable } from './table.ts';
import { MACHINES, type MachineName } from './topology.ts';
import { LabError } from './wait.ts';

const USAGE = `usage: sstt-lab [up] [--swanctl] [--no-ipsec] [--reference] | down | exec <host> -- <command...> | shell <host> | capture
       | check [--format table|json|junit|html] | check --pcap FILE --id N [--client ADDR --server ADDR] [--no-ipsec] [--format ...]
       | compare [--id N] | compare --pcap OURS --pcap REFERENCE [--id N] [--reference-id M]
hosts: ${MACHINES.join(', ')}; --id and --config as for every sstt program`;

function needFormat(value: unknown): Format {
  const f = (value ?? 'table') as string;
  if (!(FORMATS as readonly string[]).includes(f)) throw new LabError(`--format: one of ${FORMATS.join(', ')} (got ${JSON.stringify(f)})`);
  return f as Format;
}

async function printResult(result: CheckResult, format: Format): Promise<number> {
  process.stdout.write(await render(result, format));
  return passed(result) ? 0 : 1;
}

function labFlags(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => k === 'id' || k === 'config'));
}

function needHost(name: string | undefined): MachineName {
  if (!name || !(MACHINES as readonly string[]).includes(name)) throw new LabError(`name a host: ${MACHINES.join(', ')} (got ${JSON.stringify(name ?? '')})`);
  return name as MachineName;
}

function needRunningLab(ctx: LabContext): LabState {
  const state = readState(ctx.topo.stateFile);
  if (!state) throw new LabError('no lab is up: start one with sudo npm run lab');
  return state;
}

/**
 * `compare` without captures: ours, then the reference lab, of the same ID, each up, its report
 * replayed by `check` (its table printed), its capture kept beside the lab's, and taken down.
 */
async function replayBoth(flags: Record<string, unknown>, format: Format): Promise<[string, string]> {
  requireRoot();
  const kept: string[] = [];
  for (const reference of [false, true]) {
    const ctx = labContext(flags, { reference });
    const lab = await up(ctx, { ipsec: true, variant: 'stroke', log: (l) => console.error(l) });
    try {
      const result = await runCheck(ctx, lab.state);
      process.stderr.write(await render(result, format));
      const file = path.join(ctx.topo.dir, reference ? 'reference.pcapng' : 'ours.pcapng');
      fs.copyFileSync(ctx.topo.capture, file);
      kept.push(file);
    } finally {
      await lab.stop();
    }
  }
  return [kept[0]!, kept[1]!];
}

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values, positionals } = parseCommandLine(
    own,
    {
      swanctl: { type: 'boolean' },
      reference: { type: 'boolean' },
      'no-ipsec': { type: 'boolean' },
      pcap: { type: 'string', multiple: true },
      'reference-id': { type: 'string' },
      client: { type: 'string' },
      server: { type: 'string' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [verb = 'up', target] = positionals;
  const format = needFormat(verb === 'compare' && values.format === 'json' ? 'table' : values.format);
  // A lab that is up says whether its servidor runs the reference programs (its mounts, its users).
  const flags = labFlags(values);
  const running = readState(labContext(flags).topo.stateFile);
  const ctx = labContext(flags, { reference: verb === 'up' ? values.reference === true : running?.reference === true });
  switch (verb) {
    case 'up': {
      requireRoot();
      const lab = await up(ctx, { ipsec: !values['no-ipsec'], variant: values.swanctl ? 'vici' : 'stroke', log: (l) => console.log(l) });
      console.log(`\n${labTable(ctx.s, ctx.topo, lab.state)}`);
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
      const r = spawnSync(ipBinary(), hostOf(ctx.topo, host).argv(cmd), { stdio: 'inherit', env: process.env });
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
      const pcap = (values.pcap as string[] | undefined)?.[0];
      if (pcap !== undefined) {
        // A capture made elsewhere: no lab, no root; the student's ID names the domain and users.
        if (values.id === undefined) throw new LabError('check --pcap: name the student with --id N (the capture is graded for sstt<N>.org)');
        if (!fs.existsSync(pcap)) throw new LabError(`check --pcap: no file ${pcap}`);
        const { s } = ctx;
        const client = (values.client as string | undefined) ?? s.network.client;
        const server = (values.server as string | undefined) ?? s.network.server;
        const capture = path.resolve(pcap);
        const steps = await gradeCapture({ capture, s, client, server, ipsec: !values['no-ipsec'] });
        return printResult({ domain: s.domain, id: s.id, capture, mode: 'pcap', steps }, format);
      }
      requireRoot();
      const state = needRunningLab(ctx);
      return printResult(await runCheck(ctx, state), format);
    }
    case 'compare': {
      // Two captures of the report's replay, ours then the reference lab's (each of its own ID);
      // without --pcap, both labs of this ID are brought up one after the other and replayed.
      let [ours, reference] = (values.pcap as string[] | undefined) ?? [];
      const refId = (values['reference-id'] as string | undefined) ?? ctx.s.id;
      if (ours === undefined && reference === undefined) [ours, reference] = await replayBoth(flags, format);
      if (!ours || !reference) throw new LabError('usage: sstt-lab compare [--id N] | compare --pcap OURS --pcap REFERENCE [--id N] [--reference-id M]');
      const side = (capture: string, s: typeof ctx.s) => ({ capture: path.resolve(capture), s, client: s.network.client, server: s.network.server });
      const refScenario = labContext({ ...flags, id: refId }).s;
      const diffs = differences(await dialogues(side(ours, ctx.s)), await dialogues(side(reference, refScenario)));
      process.stdout.write(values.format === 'json' ? `${JSON.stringify(diffs, null, 2)}\n` : renderDifferences(diffs));
      return diffs.length === 0 ? 0 : 1;
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
