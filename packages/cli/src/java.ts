// Java's trust store: the `cacerts` keystore of the JRE whose keytool is on PATH. On Debian it is
// /etc/ssl/certs/java/cacerts, which ca-certificates-java keeps in step with the system store (the
// hook of update-ca-certificates): there the CA is already in after the system step, and nothing
// is recorded for Java. Elsewhere (a JDK under /opt, Fedora without the hook) keytool imports it
// under the CA's nickname, and untrust deletes that alias after checking its fingerprint.
import fs from 'node:fs';
import path from 'node:path';
import { findTool, run } from '@sstt/host';
import { recorded, recordThenDo, type StepContext, type TrustContext } from './context.ts';
import type { Change } from './state.ts';
import { caNickname } from './paths.ts';

/** The store password every JRE ships cacerts with. */
export const CACERTS_PASSWORD = 'changeit';

/** The cacerts keystore beside a keytool (JDK 9+: lib/security; JDK 8: jre/lib/security), through symlinks. */
export function cacertsOf(keytool: string): string | undefined {
  const home = path.dirname(path.dirname(fs.realpathSync(keytool)));
  for (const rel of ['lib/security/cacerts', 'jre/lib/security/cacerts']) {
    const p = path.join(home, rel);
    if (fs.existsSync(p)) return fs.realpathSync(p);
  }
  return undefined;
}

export const keytoolArgv = {
  list: (keystore: string, alias?: string) => ['-list', '-keystore', keystore, '-storepass', CACERTS_PASSWORD, ...(alias ? ['-alias', alias] : [])],
  importCert: (keystore: string, alias: string, file: string) => [
    '-importcert',
    '-noprompt',
    '-trustcacerts',
    '-alias',
    alias,
    '-file',
    file,
    '-keystore',
    keystore,
    '-storepass',
    CACERTS_PASSWORD,
  ],
  delete: (keystore: string, alias: string) => ['-delete', '-alias', alias, '-keystore', keystore, '-storepass', CACERTS_PASSWORD],
};

/** The SHA-256 fingerprints `keytool -list` prints ("Certificate fingerprint (SHA-256): AB:CD:..."), as lower-case hex. */
export function keytoolFingerprints(listing: string): string[] {
  return [...listing.matchAll(/\(SHA-256\):\s*([0-9A-F:]+)/gi)].map((m) => m[1]!.replace(/:/g, '').toLowerCase());
}

const LABEL = 'Java';

export async function trustJava(ctx: TrustContext): Promise<void> {
  const keytool = findTool('keytool');
  const keystore = keytool && cacertsOf(keytool);
  if (!keytool || !keystore) {
    if (keytool) ctx.say(`${LABEL}: no cacerts beside ${keytool}; nothing done`);
    return;
  }
  const alias = caNickname(ctx.s);
  const list = await run(keytool, keytoolArgv.list(keystore), { env: ctx.inv.env, timeoutMs: 120_000 });
  if (list.code !== 0) {
    ctx.say(`${LABEL}: keytool cannot read ${keystore}: ${list.stdout.trim().split('\n').at(-1)}`);
    return;
  }
  const mine = recorded(ctx, 'trust', 'java-cert', (c) => c.keystore === keystore);
  if (keytoolFingerprints(list.stdout).includes(ctx.ca.sha256)) {
    const why = mine
      ? 'already has it'
      : recorded(ctx, 'trust', 'system-anchor', () => true)
        ? 'has it through the system store (its update hook)'
        : 'already has it (not put there by sstt, so it is left alone)';
    ctx.say(`${LABEL} (${keystore}): ${why}`);
    return;
  }
  try {
    fs.accessSync(keystore, fs.constants.W_OK);
  } catch {
    ctx.say(`${LABEL} (${keystore}): needs root: run sudo npx sstt trust`);
    return;
  }
  // The alias still holding a CA minted before this one goes first.
  if (mine && (await untrustJava(ctx, mine))) ctx.state.forget('trust', mine);
  const change: Change = { kind: 'java-cert', keystore, alias, sha256: ctx.ca.sha256 };
  const r = await recordThenDo(ctx, 'trust', change, async () => {
    const out = await run(keytool, keytoolArgv.importCert(keystore, alias, ctx.ca.file), { env: ctx.inv.env, timeoutMs: 120_000 });
    if (out.code !== 0) throw new Error(out.stdout.trim().split('\n').at(-1) ?? `exit ${out.code}`);
    return out;
  }).catch((err: Error) => err);
  if (r instanceof Error) ctx.say(`${LABEL} (${keystore}): keytool could not import it: ${r.message}`);
  else ctx.say(`${LABEL} (${keystore}): added as ${alias}`);
}

export async function untrustJava(ctx: StepContext, change: Extract<Change, { kind: 'java-cert' }>): Promise<boolean> {
  const keytool = findTool('keytool');
  if (change.alias !== caNickname(ctx.s)) {
    ctx.say(`${LABEL}: the record names the alias ${change.alias}, which sstt does not use: left alone`);
    return true;
  }
  if (!keytool) {
    ctx.say(`${LABEL} (${change.keystore}): keytool is gone; remove the alias ${change.alias} yourself if the keystore is still used`);
    return true;
  }
  const one = await run(keytool, keytoolArgv.list(change.keystore, change.alias), { env: ctx.inv.env, timeoutMs: 120_000 });
  if (one.code !== 0) {
    ctx.say(`${LABEL} (${change.keystore}): ${change.alias} is not there any more`);
    return true;
  }
  if (!keytoolFingerprints(one.stdout).includes(change.sha256)) {
    ctx.say(`${LABEL} (${change.keystore}): ${change.alias} is another certificate now: left as it is`);
    return true;
  }
  const del = await run(keytool, keytoolArgv.delete(change.keystore, change.alias), { env: ctx.inv.env, timeoutMs: 120_000 });
  if (del.code !== 0) {
    ctx.say(`${LABEL} (${change.keystore}): keytool could not delete ${change.alias}: ${del.stdout.trim().split('\n').at(-1)}`);
    return false;
  }
  ctx.say(`${LABEL} (${change.keystore}): removed ${change.alias}`);
  return true;
}
