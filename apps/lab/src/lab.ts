// `sstt-lab up` and `down`: the lab built from its topology (network.ts: the namespaces, the
// bridge, the links; ipsec.ts: the tunnel between cliente and servidor; services.ts: the
// processes each host runs and the wait until their sockets listen), recorded step by step in
// the state file; and the teardown from that file.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { initPki } from '@sstt/pki';
import { loadScenario, readDkimPublicKey, type Scenario, withDkimPublicKeys } from '@sstt/scenario';
import { ipCmd, netnsList, netnsPids, requireTool } from '@sstt/host';
import { hostOf } from './host.ts';
import { installIpsec, type IpsecVariant, startIpsec, stopIpsec } from './ipsec.ts';
import { buildNetwork } from './network.ts';
import { readState, starttimeOf, LabRecord, type LabState } from './state.ts';
import { processReady, type Running, startProcess } from './services.ts';
import { labDir, labEnv, labTopology, type Topology } from './topology.ts';
import { LabError, until } from './wait.ts';

export const LAB_TIMEOUTS = { stopMs: 8_000, reachMs: 45_000 };

export interface LabContext {
  base: Scenario;
  s: Scenario;
  topo: Topology;
  env: NodeJS.ProcessEnv;
}

/** The scenario of the lab: the user's ID and settings, the lab profile, everything under var/lab/<ID>. */
export function labContext(flags: Record<string, unknown> = {}, opts: { reference?: boolean } = {}): LabContext {
  const base = loadScenario({ flags });
  const dir = labDir(base);
  const env: NodeJS.ProcessEnv = { ...process.env, ...labEnv(base, dir) };
  for (const k of Object.keys(env)) if (k.startsWith('SSTT_') && k.endsWith('_PORT')) delete env[k];
  // The lab's processes read the configuration the lab was given, so they open the sockets the
  // topology declares for them.
  if (typeof flags.config === 'string') env.SSTT_CONFIG = path.resolve(flags.config);
  const s = loadScenario({ env, flags });
  return { base, s, topo: labTopology(s, { dir, reference: opts.reference ?? false }), env };
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new LabError('lab mode needs root for network namespaces: run sudo npm run lab');
}

/** What a lab that is up or died left: its state file, or namespaces under its prefix. */
export async function leftovers(topo: Topology): Promise<string[]> {
  const found: string[] = [];
  if (fs.existsSync(topo.stateFile)) found.push(topo.stateFile);
  for (const ns of (await netnsList()).sort()) if (ns.startsWith(`${topo.prefix}-`)) found.push(`namespace ${ns}`);
  return found;
}

export interface UpOptions {
  ipsec: boolean;
  variant: IpsecVariant;
  log: (line: string) => void;
}

export interface RunningLab {
  ctx: LabContext;
  state: LabState;
  stop(): Promise<void>;
}

export async function up(ctx: LabContext, opts: UpOptions): Promise<RunningLab> {
  requireRoot();
  let { topo } = ctx;
  const left = await leftovers(topo);
  if (left.length > 0) throw new LabError(`a lab is already up, or one that died left ${left.join(', ')}: run npx sstt-lab down first`);
  fs.mkdirSync(topo.dir, { recursive: true });
  const record = new LabRecord(topo.stateFile, {
    prefix: topo.prefix,
    startedAt: new Date().toISOString(),
    namespaces: [],
    etcDirs: [],
    processes: [],
    ipsec: 'off',
    variant: opts.variant,
    reference: topo.reference,
  });
  // Every process `up` starts, stopped gracefully by `stop()` (down() kills what is left).
  const children: Array<{ what: string; child: ChildProcess }> = [];
  const track = (what: string, child: ChildProcess) => {
    children.push({ what, child });
    record.process(child.pid, what);
  };
  const running: Running[] = [];

  try {
    // Certificates of the lab profile, and each peer's strongSwan files installed by its own install.sh.
    opts.log(`certificates (lab profile) in ${path.relative(process.cwd(), path.join(topo.dir, 'certs'))}`);
    await initPki(ctx.s);
    // DKIM keys the pki has just minted: the topology's files (the reference's BIND zone) publish
    // them as our DNS does, which reads them when it starts.
    if (ctx.s.mail.auth.dkim.some((k) => k.publicKey === undefined)) {
      ctx.s = withDkimPublicKeys(ctx.s, readDkimPublicKey);
      ctx.topo = labTopology(ctx.s, { dir: topo.dir, reference: topo.reference });
      topo = ctx.topo;
    }
    const { s } = ctx;
    if (opts.ipsec) await installIpsec(s, topo);

    await buildNetwork(topo, record);

    // The processes in order, the capture first (ready at once, so it sees every packet after);
    // the services get ready while the tunnel comes up, and are waited for after it.
    for (const p of topo.processes) {
      const r = await startProcess(topo, p, ctx.env);
      running.push(r);
      track(p.name, r.child);
      if (p.writes) await processReady(r);
    }

    if (opts.ipsec) await startIpsec(topo, opts.variant, record, track);

    for (const r of running) if (!r.process.writes) await processReady(r);

    // Ready when the domain answers the client by name, through the server's DNS (and the tunnel).
    const www = `www.${s.domain}`;
    await until(
      `cliente to resolve ${www} through servidor's DNS`,
      async () => {
        const dig = await hostOf(topo, 'cliente').exec([requireTool('dig'), '+short', '+time=1', '+tries=1', www]);
        return dig.stdout.trim() === s.network.server;
      },
      LAB_TIMEOUTS.reachMs,
      250,
    );
  } catch (err) {
    await teardown(ctx, children).catch(() => undefined);
    throw err;
  }

  return { ctx, state: record.state, stop: () => teardown(ctx, children) };
}

/** Graceful stop of what `up` started (the domain closes its servers), then `down`. */
async function teardown(ctx: LabContext, children: Array<{ child: ChildProcess }>): Promise<void> {
  const state = readState(ctx.topo.stateFile);
  if (state && state.ipsec !== 'off') await stopIpsec(ctx.topo, state.variant);
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), LAB_TIMEOUTS.stopMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await down(ctx);
}

/**
 * Removes what the state file says a lab created: every process in its namespaces (TERM, then
 * KILL), the recorded processes still alive with the same start time, the namespaces, the
 * /etc/netns directories, the state file. Leaves the capture, the logs and the Maildir. Idempotent.
 */
export async function down(ctx: LabContext, log: (line: string) => void = () => {}): Promise<boolean> {
  requireRoot();
  const state = readState(ctx.topo.stateFile);
  if (!state) return false;
  const victims = new Set<number>();
  for (const ns of state.namespaces) for (const pid of await netnsPids(ns)) victims.add(pid);
  for (const p of state.processes) if (starttimeOf(p.pid) === p.starttime) victims.add(p.pid);
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of victims) {
      try {
        process.kill(pid, sig);
      } catch {
        victims.delete(pid);
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 3_000;
  while (victims.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    signal(0 as unknown as NodeJS.Signals);
  }
  if (victims.size > 0) signal('SIGKILL');
  const present = new Set(await netnsList());
  for (const ns of state.namespaces) {
    if (!present.has(ns)) continue;
    await ipCmd('netns', 'del', ns);
    log(`removed namespace ${ns}`);
  }
  for (const dir of state.etcDirs)
    if (dir.startsWith('/etc/netns/') && path.basename(dir).startsWith(`${state.prefix}-`)) fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(ctx.topo.stateFile, { force: true });
  return true;
}
