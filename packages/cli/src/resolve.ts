// `sstt resolve` and `sstt resolve --undo`: the machine resolves the domain's names (and the LAN's
// reverse zone) to where the dev servers listen. Through the DNS app's host view (ports.hostdns,
// every name at the dev servers' address) where the machine's resolver can route one domain to one
// server without taking its other lookups:
//   - systemd-resolved 258+: a dns-delegate file (systemd.dns-delegate(5));
//   - NetworkManager running dnsmasq: a server=/domain/ line in its dnsmasq.d;
//   - macOS: /etc/resolver/<domain> (resolver(5)).
// Otherwise a marked block in /etc/hosts with every address name of the zone, which glibc, every
// systemd-resolved (ReadEtcHosts=) and dnsmasq read. Older systemd-resolved has no per-domain route
// for a server on this machine: a DNS= in resolved.conf.d is a global server, and resolved sends
// every other lookup to global servers too (they are always a default route), and per-link DNS
// on `lo` is ignored (resolved skips loopback links), so it gets the hosts block.
import fs from 'node:fs';
import path from 'node:path';
import { findTool, run } from '@sstt/host';
import { hostView, type Scenario, scenarioZones } from '@sstt/scenario';
import type { StepContext } from './context.ts';
import { HostError } from './errors.ts';
import { fileSha256, mkdirs, rewriteFile, sha256 } from './files.ts';
import { HOST_PATHS, type HostPaths } from './paths.ts';
import { type Change, HostStateFile, type ResolveMethod, shown } from './state.ts';
import { type HostCommandOptions, ownerOf } from './trust.ts';

export const RESOLVE_METHODS: readonly ResolveMethod[] = ['delegate', 'dnsmasq', 'macos', 'hosts'];

/** systemd-resolved reads dns-delegate files from this version on. */
export const RESOLVED_DELEGATE_VERSION = 258;

/** What decides the method: gathered from the machine by `resolverFacts`, a plain value for the tests. */
export interface ResolverFacts {
  platform: NodeJS.Platform;
  /** /etc/resolv.conf's text and, when it is a symlink, its target. */
  resolvConf: string;
  resolvConfTarget?: string;
  /** systemd-resolved's runtime directory exists. */
  resolvedRuntime: boolean;
  /** systemd's version (`resolvectl --version`), when known. */
  systemdVersion?: number;
  /** NetworkManager's runtime directory exists. */
  nmRuntime: boolean;
  /** NetworkManager's dns= (its configuration files, the last one that sets it). */
  nmDns?: string;
}

/** The [main] dns= of NetworkManager's configuration texts, in the order NM reads them (the last one wins). */
export function networkManagerDns(texts: string[]): string | undefined {
  let dns: string | undefined;
  for (const text of texts) {
    let main = false;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('[')) main = line === '[main]';
      else if (main) {
        const m = /^dns\s*=\s*(\S+)/.exec(line);
        if (m) dns = m[1];
      }
    }
  }
  return dns;
}

export async function resolverFacts(paths: HostPaths, env: NodeJS.ProcessEnv): Promise<ResolverFacts> {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  };
  let target: string | undefined;
  try {
    target = fs.readlinkSync(paths.resolvConf);
  } catch {
    target = undefined;
  }
  let systemdVersion: number | undefined;
  const tool = findTool('resolvectl') ?? findTool('systemctl');
  if (tool) {
    const r = await run(tool, ['--version'], { env });
    const m = /^systemd (\d+)/m.exec(r.stdout);
    if (m) systemdVersion = Number(m[1]);
  }
  let confD: string[] = [];
  try {
    confD = fs
      .readdirSync(paths.nmConfD)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => path.join(paths.nmConfD, f));
  } catch {
    confD = [];
  }
  const nmDns = networkManagerDns([paths.nmConf, ...confD].map(read).filter((t): t is string => t !== undefined));
  return {
    platform: process.platform,
    resolvConf: read(paths.resolvConf) ?? '',
    ...(target !== undefined ? { resolvConfTarget: target } : {}),
    resolvedRuntime: fs.existsSync(paths.resolvedRun),
    ...(systemdVersion !== undefined ? { systemdVersion } : {}),
    nmRuntime: fs.existsSync(paths.nmRun),
    ...(nmDns !== undefined ? { nmDns } : {}),
  };
}

/** The method for this machine, and why (one line the command prints). */
export function chooseMethod(f: ResolverFacts): { method: ResolveMethod; why: string } {
  if (f.platform === 'darwin') return { method: 'macos', why: 'macOS: a file in /etc/resolver' };
  const stub = /^\s*nameserver\s+127\.0\.0\.53\b/m.test(f.resolvConf) || (f.resolvConfTarget ?? '').includes('/systemd/resolve/');
  if (stub && f.resolvedRuntime) {
    if ((f.systemdVersion ?? 0) >= RESOLVED_DELEGATE_VERSION) return { method: 'delegate', why: `systemd-resolved ${f.systemdVersion}: a dns-delegate file` };
    return {
      method: 'hosts',
      why: `systemd-resolved ${f.systemdVersion ?? '(version unknown)'} cannot route one domain to a server on this machine without sending it every other lookup (dns-delegate needs ${RESOLVED_DELEGATE_VERSION}): /etc/hosts, which it reads`,
    };
  }
  if (f.nmRuntime && f.nmDns === 'dnsmasq') return { method: 'dnsmasq', why: "NetworkManager's dnsmasq: a server= line in its dnsmasq.d" };
  return { method: 'hosts', why: 'no resolver here routes one domain to one server: /etc/hosts' };
}

/** The domain's zones and the host view's endpoint: where a routed resolver sends the queries. */
function hostDns(s: Scenario): { zones: string[]; address: string; port: number } {
  const view = hostView(s);
  return {
    zones: scenarioZones(view).map((z) => z.origin),
    address: view.listen.address === '0.0.0.0' ? '127.0.0.1' : view.listen.address,
    port: view.listen.ports.hostdns,
  };
}

/** Every name of the forward zone with an address (A records, and aliases through their target), in zone order. */
export function addressNames(s: Scenario): Array<{ name: string; address: string }> {
  const [forward] = scenarioZones(hostView(s));
  const records = forward!.records;
  const a = new Map<string, string>();
  for (const r of records) if (r.type === 'A' && !a.has(r.name)) a.set(r.name, r.address);
  const out: Array<{ name: string; address: string }> = [];
  for (const r of records) {
    if (r.type === 'A' && out.every((o) => o.name !== r.name)) out.push({ name: r.name, address: r.address });
    if (r.type === 'CNAME' && a.has(r.target)) out.push({ name: r.name, address: a.get(r.target)! });
  }
  return out;
}

/** The marked hosts block: its first and last lines carry the domain, so two IDs' blocks never mix. */
export function hostsBlock(s: Scenario): string {
  const lines = addressNames(s).map((n) => `${n.address}\t${n.name}`);
  return [`# BEGIN ${s.domain}: added by npx sstt resolve, removed by npx sstt resolve --undo`, ...lines, `# END ${s.domain}`, ''].join('\n');
}

export interface ResolvePlan {
  method: ResolveMethod;
  /** Files to write whole. */
  files: Array<{ file: string; content: string }>;
  /** The block to add to the hosts file. */
  hosts?: { file: string; block: string };
}

/** What `resolve` writes for a method: pure, so the tests read every file's text. */
export function resolvePlan(s: Scenario, method: ResolveMethod, paths: HostPaths = HOST_PATHS): ResolvePlan {
  const { zones, address, port } = hostDns(s);
  const head = `# ${s.domain} through the DNS app's host view (npx sstt resolve; npx sstt resolve --undo removes this file)\n`;
  switch (method) {
    case 'delegate':
      // systemd.dns-delegate(5): "~" marks routing-only domains (not search domains); DefaultRoute= is off by default.
      return {
        method,
        files: [
          {
            file: path.join(paths.dnsDelegates, `${s.domain}.dns-delegate`),
            content: `${head}[Delegate]\nDNS=${address}:${port}\nDomains=${zones.map((z) => `~${z}`).join(' ')}\n`,
          },
        ],
      };
    case 'dnsmasq':
      // dnsmasq(8) --server=/<domain>/<ip>#<port>: that domain (and below) to that server only.
      return {
        method,
        files: [
          { file: path.join(paths.nmDnsmasqD, `${s.domain}.conf`), content: `${head}${zones.map((z) => `server=/${z}/${address}#${port}`).join('\n')}\n` },
        ],
      };
    case 'macos':
      // resolver(5): one file per domain, named after it.
      return { method, files: zones.map((z) => ({ file: path.join(paths.macResolver, z), content: `${head}nameserver ${address}\nport ${port}\n` })) };
    case 'hosts':
      return { method, files: [], hosts: { file: paths.hosts, block: hostsBlock(s) } };
  }
}

/** Every file and directory any method may write for this ID: what undo accepts from the record. */
function writablePlaces(s: Scenario, paths: HostPaths): { files: Set<string>; dirs: Set<string> } {
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const m of RESOLVE_METHODS) {
    for (const f of resolvePlan(s, m, paths).files) {
      files.add(f.file);
      // The file's directory and the parents mkdir may have made, never the filesystem's top two levels.
      for (let d = path.dirname(f.file); d.split('/').length > 2; d = path.dirname(d)) dirs.add(d);
    }
  }
  return { files, dirs };
}

/** Tells the resolver to read its files again; returns the line to say when that is not possible here. */
export type Reloader = (method: ResolveMethod, env: NodeJS.ProcessEnv) => Promise<string | undefined>;

/** systemctl (systemd-resolved) or nmcli (NetworkManager's dnsmasq); nothing for /etc/hosts and macOS, which are read at once. */
export const reloadResolver: Reloader = async (method, env) => {
  const attempt = async (tool: string, args: string[], manual: string) => {
    const bin = findTool(tool);
    if (!bin) return `${manual} (${tool} is not here)`;
    const r = await run(bin, args, { env, timeoutMs: 60_000 });
    return r.code === 0 ? undefined : `${manual} (${tool}: ${(r.stderr || r.stdout).trim().split('\n').at(-1)})`;
  };
  if (method === 'delegate') return attempt('systemctl', ['reload-or-restart', 'systemd-resolved.service'], 'restart systemd-resolved yourself');
  if (method === 'dnsmasq') return attempt('nmcli', ['general', 'reload', 'dns-full'], 'run nmcli general reload dns-full yourself');
  return undefined;
};

function writeOrRefuse(file: string, content: string): void {
  try {
    rewriteFile(file, content);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new HostError(`cannot write ${file} (${code}): run sudo npx sstt resolve`);
    throw err;
  }
}

export interface ResolveOptions extends HostCommandOptions {
  via?: ResolveMethod;
  /** The machine's facts (default: gathered from `paths`). */
  facts?: ResolverFacts;
  /** How the resolver is told (default: reloadResolver); the unit tests, whose paths are not the machine's, count the calls instead. */
  reload?: Reloader;
}

export async function resolve(s: Scenario, opts: ResolveOptions): Promise<void> {
  const paths = opts.paths ?? HOST_PATHS;
  // Every method writes under /etc: without root nothing could be done, and nothing is begun.
  if (!opts.inv.root && paths === HOST_PATHS) throw new HostError('sstt resolve changes files under /etc: run sudo npx sstt resolve');
  const state = HostStateFile.open(s, ownerOf(opts.inv));
  const before = state.section('resolve');
  let method: ResolveMethod;
  let why: string;
  if (before) {
    if (opts.via && opts.via !== before.method) {
      throw new HostError(`resolve is already set up through ${before.method} for ${s.domain}: run npx sstt resolve --undo first, then --via ${opts.via}`);
    }
    method = before.method;
    why = `as recorded in ${shown(s, state.file)}`;
  } else if (opts.via) {
    method = opts.via;
    why = `--via ${opts.via}`;
  } else {
    ({ method, why } = chooseMethod(opts.facts ?? (await resolverFacts(paths, opts.inv.env))));
  }
  const plan = resolvePlan(s, method, paths);
  const ctx: StepContext = { s, inv: opts.inv, state, paths, say: (l) => opts.say(`  ${l}`) };
  opts.say(`sstt resolve: ${s.domain} and ${s.network.reverseZone} on this machine, through ${method} (${why})`);
  state.begin('resolve', { method });
  let wrote = false;
  try {
    for (const f of plan.files) wrote = (await placeFile(ctx, f.file, f.content)) || wrote;
    if (plan.hosts) await placeHostsBlock(ctx, plan.hosts.file, plan.hosts.block);
  } catch (err) {
    // Refused before anything was done: no record of a resolve that did not happen (the banner reads it).
    if (state.section('resolve')!.changes.length === 0) state.end('resolve');
    throw err;
  }
  const manual = wrote ? await (opts.reload ?? reloadResolver)(method, opts.inv.env) : undefined;
  if (manual) ctx.say(manual);
  const { address, port } = hostDns(s);
  opts.say(
    plan.hosts
      ? `Try: getent hosts www.${s.domain} (${address})`
      : `Names are answered by the DNS app's host view on ${address}:${port}: keep npm run dev running. Try: getent hosts www.${s.domain}`,
  );
  opts.say(`Recorded in ${shown(s, state.file)}; npx sstt resolve --undo removes exactly this.`);
}

/** Writes one drop-in, its directories recorded first; true when the file changed. */
async function placeFile(ctx: StepContext, file: string, content: string): Promise<boolean> {
  const digest = sha256(content);
  const mine = ctx.state.section('resolve')!.changes.find((c) => c.kind === 'file' && c.file === file);
  const have = fileSha256(file);
  if (have === digest) {
    ctx.say(`${file}: ${mine ? 'already written' : 'already there (not written by sstt, so it is left alone)'}`);
    return false;
  }
  if (have !== undefined && !mine) throw new HostError(`${file} exists and was not written by sstt: move it away, then run sstt resolve again`);
  const missing: string[] = [];
  for (let d = path.dirname(file); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const dir of missing) {
    const change: Change = { kind: 'dir', dir };
    ctx.state.record('resolve', change);
    try {
      mkdirs(dir);
    } catch (err) {
      ctx.state.forget('resolve', change);
      throw new HostError(`cannot create ${dir} (${(err as NodeJS.ErrnoException).code}): run sudo npx sstt resolve`);
    }
  }
  const change: Change = { kind: 'file', file, sha256: digest };
  ctx.state.record('resolve', change);
  try {
    writeOrRefuse(file, content);
  } catch (err) {
    ctx.state.forget('resolve', change);
    throw err;
  }
  if (mine) ctx.state.forget('resolve', mine);
  ctx.say(`${file}: written`);
  return true;
}

async function placeHostsBlock(ctx: StepContext, file: string, block: string): Promise<void> {
  let text = fs.readFileSync(file, 'utf8');
  const mine = ctx.state.section('resolve')!.changes.find((c): c is Extract<Change, { kind: 'hosts-block' }> => c.kind === 'hosts-block' && c.file === file);
  // An earlier block of ours that differs (the addresses changed): replaced, not kept beside the new one.
  if (mine && !text.includes(block)) text = withoutBlock(text, mine.inserted) ?? text;
  if (text.includes(block)) {
    ctx.say(`${file}: ${mine ? 'the block is already there' : 'the block is already there (not added by sstt here, so it is left alone)'}`);
    return;
  }
  const begin = block.split('\n')[0]!;
  if (text.includes(begin)) throw new HostError(`${file} has a block "${begin}" that is not the one sstt writes now: remove it, then run sstt resolve again`);
  // A last line without its newline gets one first; undo removes exactly what was inserted.
  const inserted = `${text.length > 0 && !text.endsWith('\n') ? '\n' : ''}${block}`;
  const change: Change = { kind: 'hosts-block', file, inserted };
  ctx.state.record('resolve', change);
  try {
    writeOrRefuse(file, text + inserted);
  } catch (err) {
    ctx.state.forget('resolve', change);
    throw err;
  }
  if (mine) ctx.state.forget('resolve', mine);
  ctx.say(`${file}: added ${block.split('\n').length - 3} names`);
}

/**
 * The text without the block: as it was inserted (with the newline it may have put before the
 * block) while it is still the end of the file, which gives the file back byte for byte; else the
 * bare block, so a line added after it keeps its own line. Undefined when the block is not there.
 * Only a marked block is ever cut.
 */
export function withoutBlock(text: string, inserted: string): string | undefined {
  const bare = inserted.replace(/^\n/, '');
  if (!bare.startsWith('# BEGIN ')) return undefined;
  if (text.endsWith(inserted)) return text.slice(0, text.length - inserted.length);
  const at = text.lastIndexOf(bare);
  return at < 0 ? undefined : text.slice(0, at) + text.slice(at + bare.length);
}

/** Undoes one recorded change of `resolve`; false when it must stay recorded. */
function undoResolve(ctx: StepContext, change: Change, places: { files: Set<string>; dirs: Set<string> }): boolean {
  switch (change.kind) {
    case 'file': {
      if (!places.files.has(change.file)) {
        ctx.say(`${change.file}: not a file sstt resolve writes: left alone`);
        return true;
      }
      const have = fileSha256(change.file);
      if (have === undefined) ctx.say(`${change.file}: already gone`);
      else if (have !== change.sha256) ctx.say(`${change.file}: changed since sstt wrote it: left as it is`);
      else {
        fs.rmSync(change.file);
        ctx.say(`${change.file}: removed`);
      }
      return true;
    }
    case 'dir': {
      if (!places.dirs.has(change.dir)) {
        ctx.say(`${change.dir}: not a directory sstt resolve creates: left alone`);
        return true;
      }
      try {
        fs.rmdirSync(change.dir);
        ctx.say(`${change.dir}: removed (sstt created it)`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') ctx.say(`${change.dir}: sstt created it, but it is not empty now: kept`);
      }
      return true;
    }
    case 'hosts-block': {
      if (change.file !== ctx.paths.hosts) {
        ctx.say(`${change.file}: not the hosts file: left alone`);
        return true;
      }
      const rest = withoutBlock(fs.readFileSync(change.file, 'utf8'), change.inserted);
      if (rest === undefined) {
        ctx.say(`${change.file}: the block is not there any more`);
        return true;
      }
      writeOrRefuse(change.file, rest);
      ctx.say(`${change.file}: removed the block`);
      return true;
    }
    default:
      ctx.say(`a ${change.kind} change is not one resolve makes: left in the record`);
      return false;
  }
}

/** Returns false when something could not be undone (it stays recorded; the reason was said). */
export async function unresolve(s: Scenario, opts: HostCommandOptions & { reload?: Reloader }): Promise<boolean> {
  const paths = opts.paths ?? HOST_PATHS;
  const state = HostStateFile.open(s, ownerOf(opts.inv));
  const rec = state.section('resolve');
  if (!rec) {
    opts.say(`sstt resolve --undo: nothing recorded for ${s.domain} in ${shown(s, state.file)}: nothing to undo`);
    return true;
  }
  opts.say(`sstt resolve --undo: removing what sstt resolve did for ${s.domain} (through ${rec.method})`);
  const ctx: StepContext = { s, inv: opts.inv, state, paths, say: (l) => opts.say(`  ${l}`) };
  const places = writablePlaces(s, paths);
  let removedFile = false;
  for (const change of [...rec.changes].reverse()) {
    let done: boolean;
    try {
      done = undoResolve(ctx, change, places);
    } catch (err) {
      ctx.say(`failed: ${(err as Error).message}`);
      done = false;
    }
    if (done) {
      removedFile ||= change.kind === 'file';
      state.forget('resolve', change);
    }
  }
  const manual = removedFile ? await (opts.reload ?? reloadResolver)(rec.method, opts.inv.env) : undefined;
  if (manual) ctx.say(manual);
  const left = state.section('resolve')!.changes.length;
  if (left > 0) {
    opts.say(`${left} change(s) stay in ${shown(s, state.file)}: fix what is said above, then run npx sstt resolve --undo again`);
    return false;
  }
  state.end('resolve');
  return true;
}
