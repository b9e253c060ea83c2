// `sstt trust [--client <user>]` and `sstt untrust`: the lab CA into every trust store the
// machine's programs read (the system store, Java's, the user's NSS databases), each change recorded
// before it is made; untrust removes exactly what the record holds, newest first.
import fs from 'node:fs';
import { certPaths, type Scenario } from '@sstt/scenario';
import { loadLabCa } from './ca.ts';
import type { StepContext, TrustContext } from './context.ts';
import { HostError } from './errors.ts';
import type { Invoker } from './invoker.ts';
import { trustJava, untrustJava } from './java.ts';
import { trustNss, untrustNss } from './nss.ts';
import { HOST_PATHS, type HostPaths } from './paths.ts';
import { type Change, HostStateFile, type Owner, shown } from './state.ts';
import { systemTool, trustSystem, untrustSystem } from './system-store.ts';

export interface HostCommandOptions {
  inv: Invoker;
  say(line: string): void;
  paths?: HostPaths;
}

/** Under sudo, what sstt creates under the checkout (var/host/) belongs to the invoking user. */
export const ownerOf = (inv: Invoker): Owner | undefined => (inv.root && inv.uid !== 0 ? { uid: inv.uid, gid: inv.gid } : undefined);

/** The bundle of the whole system store, for programs that take one file (Python's requests). */
function systemBundle(paths: HostPaths): string | undefined {
  const t = systemTool();
  if (!t) return undefined;
  return t.flavor === 'debian' ? `${paths.etcCerts}/ca-certificates.crt` : paths.fedoraBundle;
}

export async function trust(s: Scenario, opts: HostCommandOptions & { client?: string }): Promise<void> {
  const ca = loadLabCa(s);
  const { client } = opts;
  if (client !== undefined) {
    if (!s.users.some((u) => u.name === client)) {
      throw new HostError(`--client ${client}: not a user of ${s.domain} (${s.users.map((u) => u.name).join(', ')})`);
    }
    const p12 = certPaths(s).client(client).p12;
    if (!fs.existsSync(p12)) throw new HostError(`--client ${client}: no PKCS#12 bundle at ${shown(s, p12)}; run npx sstt-pki init first`);
  }
  const paths = opts.paths ?? HOST_PATHS;
  const state = HostStateFile.open(s, ownerOf(opts.inv));
  state.begin('trust', client !== undefined ? { client } : {});
  const c = ca.constraints;
  opts.say(`sstt trust: the lab CA ${ca.name} (it can only vouch for ${[...c.dns, ...c.ip].join(', ')}), for ${opts.inv.user}`);
  const ctx: TrustContext = { s, inv: opts.inv, state, paths, say: (l) => opts.say(`  ${l}`), ca };
  // The system store first: on Debian its hook brings the CA into Java's keystore too.
  await trustSystem(ctx);
  await trustJava(ctx);
  await trustNss(ctx, client);
  const bundle = systemBundle(paths);
  opts.say('Not reached by a store sstt can write; point them at the CA yourself:');
  opts.say(`  Node.js: NODE_EXTRA_CA_CERTS=${ca.file} (or node --use-system-ca, which reads the system store)`);
  opts.say(`  Python requests (certifi): REQUESTS_CA_BUNDLE=${bundle ?? ca.file}`);
  opts.say(`Recorded in ${shown(s, state.file)}; npx sstt untrust removes exactly this. A running Firefox or Thunderbird sees it after a restart.`);
}

/** Undoes one recorded change of `trust`; false when it must stay recorded. */
async function undoTrust(ctx: StepContext, change: Change): Promise<boolean> {
  switch (change.kind) {
    case 'system-anchor':
      return untrustSystem(ctx, change);
    case 'java-cert':
      return untrustJava(ctx, change);
    case 'nss-cert':
    case 'nss-db':
      return untrustNss(ctx, change);
    default:
      ctx.say(`a ${change.kind} change is not one trust makes: left in the record`);
      return false;
  }
}

/** Returns false when something could not be undone (it stays recorded; the reason was said). */
export async function untrust(s: Scenario, opts: HostCommandOptions): Promise<boolean> {
  const state = HostStateFile.open(s, ownerOf(opts.inv));
  const rec = state.section('trust');
  if (!rec) {
    opts.say(`sstt untrust: nothing recorded for ${s.domain} in ${shown(s, state.file)}: nothing to undo`);
    return true;
  }
  opts.say(`sstt untrust: removing what sstt trust did for ${s.domain}`);
  const ctx: StepContext = { s, inv: opts.inv, state, paths: opts.paths ?? HOST_PATHS, say: (l) => opts.say(`  ${l}`) };
  for (const change of [...rec.changes].reverse()) {
    let done: boolean;
    try {
      done = await undoTrust(ctx, change);
    } catch (err) {
      ctx.say(`failed: ${(err as Error).message}`);
      done = false;
    }
    if (done) state.forget('trust', change);
  }
  const left = state.section('trust')!.changes.length;
  if (left > 0) {
    opts.say(`${left} change(s) stay in ${shown(s, state.file)}: fix what is said above, then run npx sstt untrust again`);
    return false;
  }
  state.end('trust');
  return true;
}
