// Network namespaces as hosts: the one copy of the namespace code that the IPsec test of
// packages/infra and the lab (apps/lab) share. Everything goes through iproute2's `ip`, so what
// is created is what `ip netns list` / `ip -n NS link` show, and `ip netns exec` gives each host
// its /etc/netns/<ns>/ files (resolv.conf, hosts) over /etc.
import { run } from './run.ts';
import { requireTool } from './tools.ts';

let ipPath: string | undefined;
const ipTool = () => (ipPath ??= requireTool('ip'));

/** Runs `ip ARGS`; throws with ip's own message on failure. */
export async function ipCmd(...args: string[]): Promise<string> {
  const r = await run(ipTool(), args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

export async function netnsList(): Promise<string[]> {
  return (await ipCmd('netns', 'list'))
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** The processes whose network namespace is `ns` (empty when the namespace is gone). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run(ipTool(), ['netns', 'pids', ns]);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean).map(Number) : [];
}

/**
 * A veth pair whose ends are created directly inside two namespaces, so nothing ever appears in
 * the machine's own namespace (iproute2 `ip link add NAME netns A type veth peer name N netns B`).
 */
export async function vethBetween(a: { ns: string; name: string }, b: { ns: string; name: string }): Promise<void> {
  await ipCmd('link', 'add', a.name, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns);
}

export interface NsExecOptions {
  /** A host name of its own (a UTS namespace), as `hostname` then answers. */
  hostname?: string;
  /** Files or directories bind-mounted over others, in the command's private mount namespace. */
  binds?: Array<[from: string, to: string]>;
}

/**
 * argv for `ip` that runs `cmd` inside `ns`: ip netns exec (the namespace's /etc/netns files over
 * /etc, in a mount namespace of its own), then unshare for the UTS namespace, the host name and
 * the bind mounts, then exec of the command itself, so the pid that `spawn` returns ends up being
 * the command's.
 */
export function nsExecArgv(ns: string, cmd: string[], opts: NsExecOptions = {}): string[] {
  const steps = [...(opts.hostname ? [`hostname '${opts.hostname}'`] : []), ...(opts.binds ?? []).map(([from, to]) => `mount --bind '${from}' '${to}'`)];
  const unshare = ['unshare', ...(opts.hostname ? ['--uts'] : []), ...(opts.binds?.length ? ['-m'] : [])];
  if (steps.length === 0) return ['netns', 'exec', ns, ...cmd];
  return ['netns', 'exec', ns, ...unshare, 'sh', '-c', `${steps.join(' && ')} && exec "$@"`, 'in-ns', ...cmd];
}

/** The path of `ip`, for callers that spawn `nsExecArgv` themselves. */
export function ipBinary(): string {
  return ipTool();
}
