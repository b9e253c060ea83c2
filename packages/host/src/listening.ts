// Readiness by the kernel's socket tables: a server is up once its sockets are in
// /proc/<pid>/net/{tcp,tcp6,udp,udp6} of a process in its network namespace (TCP in LISTEN, UDP
// bound). This needs nothing from the server (no log line to match), covers UDP, which has no
// handshake to probe (a DNS server rightly stays silent to a datagram it cannot parse), and reads
// another namespace (a lab host, an `unshare -n`) without entering it.
import fs from 'node:fs';
import os from 'node:os';

export interface ListeningSocket {
  transport: 'tcp' | 'udp';
  address: string;
  port: number;
}

/** A socket a program says it opens, with the name of the service it is for (named in errors). */
export interface DeclaredSocket extends ListeningSocket {
  service: string;
}

// include/net/tcp_states.h: a listening TCP socket is TCP_LISTEN; a bound, unconnected UDP
// socket shows TCP_CLOSE (a connected one TCP_ESTABLISHED, which is a client, not a server).
const STATE = { tcp: '0A', udp: '07' } as const;

/** The network namespace of a process as the kernel names it ("net:[4026531840]"), or undefined when it is gone. */
export function netnsOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/**
 * `pid` once it is in another network namespace than this process, else undefined: `ip netns
 * exec` and `unshare -n` move their process only after it starts, and until then its tables are
 * this namespace's.
 */
export function inOtherNetns(pid: number): number | undefined {
  const ns = netnsOf(pid);
  return ns !== undefined && ns !== netnsOf(process.pid) ? pid : undefined;
}

/**
 * The /proc/net tables print each 32-bit word of an address as the number it is in memory
 * (%08X of a network-order word): on a little-endian machine the bytes come out reversed.
 */
function addressOf(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(os.endianness() === 'LE' ? word.reverse() : word));
  }
  if (bytes.length === 4) return bytes.join('.');
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is that IPv4 address.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonical(groups.join(':'));
}

/** One spelling per IPv6 address (the URL parser's compressed form, RFC 5952), IPv4 as is. */
function canonical(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/** The sockets listening in the network namespace of process `pid`; undefined when the process is gone. */
export function listeningSockets(pid: number): ListeningSocket[] | undefined {
  const found: ListeningSocket[] = [];
  for (const transport of ['tcp', 'udp'] as const) {
    for (const file of [transport, `${transport}6`]) {
      let table: string;
      try {
        table = fs.readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
      } catch {
        // No IPv6 in this kernel: no tcp6/udp6 table. The process gone: no table at all.
        if (file.endsWith('6') && fs.existsSync(`/proc/${pid}`)) continue;
        return undefined;
      }
      for (const line of table.split('\n').slice(1)) {
        // "  sl  local_address rem_address   st ...": "0: 0100007F:0035 00000000:0000 0A ..."
        const [, local, , st] = line.trim().split(/\s+/);
        if (!local || st !== STATE[transport]) continue;
        const [hex, port] = local.split(':');
        found.push({ transport, address: addressOf(hex!), port: Number.parseInt(port!, 16) });
      }
    }
  }
  return found;
}

/** Whether `open` serves `wanted`: the same port and transport, on its address or on a wildcard one. */
function serves(open: ListeningSocket, wanted: ListeningSocket): boolean {
  if (open.transport !== wanted.transport || open.port !== wanted.port) return false;
  return open.address === '0.0.0.0' || open.address === '::' || open.address === canonical(wanted.address);
}

/** The declared sockets nothing listens on among `open`. */
export function notListening<T extends ListeningSocket>(declared: readonly T[], open: readonly ListeningSocket[]): T[] {
  return declared.filter((d) => !open.some((o) => serves(o, d)));
}

export interface WaitForSocketsOptions {
  /** Who opens them, for the error ("servidor: the domain (lab profile)"). */
  what: string;
  /**
   * A process in the network namespace the sockets are opened in, or undefined while there is
   * none yet; `ip netns exec` and `unshare -n` enter the namespace only after their process starts,
   * so the caller names a process it knows is inside.
   */
  pidIn: () => number | undefined | Promise<number | undefined>;
  timeoutMs: number;
  everyMs?: number;
  /** Why waiting longer is pointless (the program ended), or undefined: checked before each look. */
  gone?: () => string | undefined;
}

/** `a (tcp 127.0.0.1:25), b (udp ...)`: the services of some sockets, for a message. */
export function describeSockets(sockets: readonly DeclaredSocket[]): string {
  return sockets.map((d) => `${d.service} (${d.transport} ${d.address}:${d.port})`).join(', ');
}

/**
 * Resolves once every declared socket listens; rejects after `timeoutMs` naming the services
 * that never came up, or at once when `gone` says the program ended.
 */
export async function waitForSockets(declared: readonly DeclaredSocket[], opts: WaitForSocketsOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let missing: readonly DeclaredSocket[] = declared;
  for (;;) {
    const ended = opts.gone?.();
    if (ended) throw new Error(`${opts.what}: ${ended} before listening on ${describeSockets(missing)}`);
    const pid = await opts.pidIn();
    const open = pid === undefined ? undefined : listeningSockets(pid);
    if (open) missing = notListening(declared, open);
    if (open && missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${opts.what}: nothing listens on ${describeSockets(missing)} after ${opts.timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}
