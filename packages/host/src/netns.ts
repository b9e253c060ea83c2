// Network namespaces as hosts: the one copy of the namespace code that the lab (apps/lab) and the
// IPsec test of packages/infra share. Everything goes through iproute2's `ip`, so what
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
 * the command's. This runs as root: the host name and the paths are arguments of a fixed script
 * (its positional parameters), never pasted into its text, so a path with a quote or a space
 * reaches `mount` as it is.
 */
export function nsExecArgv(ns: string, cmd: string[], opts: NsExecOptions = {}): string[] {
  const steps = inNamespaceSteps(opts);
  if (!steps) return ['netns', 'exec', ns, ...cmd];
  const unshare = ['unshare', ...(opts.hostname ? ['--uts'] : []), ...(opts.binds?.length ? ['-m'] : [])];
  return ['netns', 'exec', ns, ...unshare, ...steps, ...cmd];
}

/**
 * `sh -c SCRIPT in-ns VALUES...` (to be followed by the command's argv): a script that sets the
 * host name and makes the bind mounts from its positional parameters, shifts them away and execs
 * the rest; undefined when there is nothing to do first.
 */
export function inNamespaceSteps(opts: NsExecOptions): string[] | undefined {
  const values: string[] = [];
  /** "$n" for the next value: the script names its arguments, it never contains them. */
  const arg = (v: string) => {
    values.push(v);
    return `"\${${values.length}}"`;
  };
  const steps = [
    ...(opts.hostname ? [`hostname ${arg(opts.hostname)}`] : []),
    ...(opts.binds ?? []).map(([from, to]) => `mount --bind ${arg(from)} ${arg(to)}`),
  ];
  if (steps.length === 0) return undefined;
  return ['sh', '-c', `${steps.join(' && ')} && shift ${values.length} && exec "$@"`, 'in-ns', ...values];
}

/** The path of `ip`, for callers that spawn `nsExecArgv` themselves. */
export function ipBinary(): string {
  return ipTool();
}
