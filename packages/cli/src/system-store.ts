// The system's trust store, which curl, openssl, wget, git, Python's ssl (not certifi) and most
// programs read. Debian/Ubuntu: a .crt in /usr/local/share/ca-certificates, then
// update-ca-certificates (links in /etc/ssl/certs, the bundle ca-certificates.crt, and its hooks:
// Java's keystore through ca-certificates-java). Fedora/RHEL: an anchor, then `update-ca-trust extract`.
//
// Undo on Debian must do by hand what update-ca-certificates does not: it never notices that a local
// .crt is gone (its "removed" are only the `!` lines of ca-certificates.conf), so it would keep the
// link and the hash link and never tell its hooks. sstt removes the two links it can prove are its
// own, rebuilds the bundle with update-ca-certificates, and tells each hook "-<link>" on stdin, as
// update-ca-certificates tells them when a certificate is deselected.
import fs from 'node:fs';
import path from 'node:path';
import { findTool, run } from '@sstt/host';
import type { Change, SystemFlavor } from './state.ts';
import { recorded, recordThenDo, type StepContext, type TrustContext } from './context.ts';
import { fileSha256, rewriteFile, sha256 } from './files.ts';
import { anchorFile, type HostPaths } from './paths.ts';

export interface SystemTool {
  flavor: SystemFlavor;
  tool: string;
}

/** Which system store this machine has, by its update tool. */
export function systemTool(find: (name: string) => string | undefined = findTool): SystemTool | undefined {
  const debian = find('update-ca-certificates');
  if (debian) return { flavor: 'debian', tool: debian };
  const fedora = find('update-ca-trust');
  if (fedora) return { flavor: 'fedora', tool: fedora };
  return undefined;
}

/** The argv that makes the store take in (or drop) the anchors. */
export function refreshArgv(t: SystemTool): string[] {
  return t.flavor === 'debian' ? [t.tool] : [t.tool, 'extract'];
}

async function refresh(t: SystemTool, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const [cmd, ...args] = refreshArgv(t);
  const r = await run(cmd!, args, { env, timeoutMs: 120_000 });
  return r.code === 0 ? undefined : `${path.basename(cmd!)} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`;
}

const LABEL = 'system store';

export async function trustSystem(ctx: TrustContext): Promise<void> {
  const t = systemTool();
  if (!t) {
    ctx.say(`${LABEL}: neither update-ca-certificates nor update-ca-trust is here; nothing done`);
    return;
  }
  const file = anchorFile(ctx.s, t.flavor, ctx.paths);
  const mine = recorded(ctx, 'trust', 'system-anchor', (c) => c.file === file);
  const digest = sha256(ctx.ca.pem);
  const have = fileSha256(file);
  if (!mine && have !== undefined) {
    ctx.say(`${LABEL}: ${file} is already there, ${have === digest ? 'this CA' : 'with another certificate'} (not put there by sstt, so it is left alone)`);
    return;
  }
  if (!ctx.inv.root) {
    ctx.say(`${LABEL}: needs root: run sudo npx sstt trust`);
    return;
  }
  if (have !== digest) {
    // A CA minted again since the last trust: the new file is recorded before it replaces the old one.
    await recordThenDo(ctx, 'trust', { kind: 'system-anchor', flavor: t.flavor, file, sha256: digest }, () => rewriteFile(file, ctx.ca.pem, 0o644));
    if (mine) ctx.state.forget('trust', mine);
  }
  // Run even when the file was there: a crash may have come between the file and the update.
  const failed = await refresh(t, ctx.inv.env);
  ctx.say(
    failed ? `${LABEL}: ${file} written, but ${failed}` : `${LABEL} (${path.basename(t.tool)}): ${mine && have === digest ? 'already has' : 'added'} ${file}`,
  );
}

/** The links update-ca-certificates made for our anchor: <name>.pem -> anchor, and openssl rehash's <hash>.N -> <name>.pem. */
function debianLinks(anchor: string, paths: HostPaths): string[] {
  const pem = path.join(paths.etcCerts, `${path.basename(anchor, '.crt')}.pem`);
  const links: string[] = [];
  const target = (p: string) => {
    try {
      return fs.readlinkSync(p);
    } catch {
      return undefined;
    }
  };
  if (target(pem) === anchor) links.push(pem);
  else return links;
  for (const name of fs.readdirSync(paths.etcCerts)) {
    if (/^[0-9a-f]{8}\.\d+$/.test(name) && target(path.join(paths.etcCerts, name)) === path.basename(pem)) links.push(path.join(paths.etcCerts, name));
  }
  return links;
}

/** The hooks update-ca-certificates runs (run-parts' own list of what is executable there). */
async function debianHooks(paths: HostPaths, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (!fs.existsSync(paths.caHooks)) return [];
  const r = await run('run-parts', ['--test', '--', paths.caHooks], { env });
  return r.stdout.split('\n').filter(Boolean);
}

/** Undoes a recorded system-store change; false when it could not be (kept in the record). */
export async function untrustSystem(ctx: StepContext, change: Extract<Change, { kind: 'system-anchor' }>): Promise<boolean> {
  if (change.file !== anchorFile(ctx.s, change.flavor, ctx.paths)) {
    ctx.say(`${LABEL}: the record names ${change.file}, which is not where sstt writes: left alone`);
    return true;
  }
  if (!ctx.inv.root) {
    ctx.say(`${LABEL}: needs root to remove ${change.file}: run sudo npx sstt untrust`);
    return false;
  }
  const have = fileSha256(change.file);
  if (have !== undefined && have !== change.sha256) {
    ctx.say(`${LABEL}: ${change.file} changed since sstt wrote it: left as it is`);
    return true;
  }
  const t = systemTool();
  const links = change.flavor === 'debian' ? debianLinks(change.file, ctx.paths) : [];
  fs.rmSync(change.file, { force: true });
  for (const l of links) fs.rmSync(l, { force: true });
  if (!t || t.flavor !== change.flavor) {
    ctx.say(`${LABEL}: removed ${change.file}; no ${change.flavor === 'debian' ? 'update-ca-certificates' : 'update-ca-trust'} to refresh the store`);
    return true;
  }
  const failed = await refresh(t, ctx.inv.env);
  if (links.length > 0) {
    for (const hook of await debianHooks(ctx.paths, ctx.inv.env)) {
      const r = await run(hook, [], { input: `-${links[0]}\n`, env: ctx.inv.env, timeoutMs: 120_000 });
      if (r.code !== 0) ctx.say(`${LABEL}: hook ${hook} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
    }
  }
  ctx.say(failed ? `${LABEL}: removed ${change.file}, but ${failed}` : `${LABEL}: removed ${change.file}`);
  return true;
}
