// Starting one of our servers on 127.0.0.1 port 0 and getting back where it listens.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/** The handle every server factory of the project returns (STYLE.md §1). */
export interface ServerHandle {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

export interface Started {
  /** The first listener's port. */
  port: number;
  /** Every listener's address (e.g. UDP and TCP, plain and TLS). */
  addresses: AddressInfo[];
  close(): Promise<void>;
}

/** Listens a server handle and returns `{ port, addresses, close }`. */
export async function startServer(handle: ServerHandle): Promise<Started> {
  const addresses = await handle.listen();
  if (addresses.length === 0) throw new Error('server listened on nothing');
  return { port: addresses[0]!.port, addresses, close: () => handle.close() };
}

/** The kernel's ephemeral range (ip_local_port_range): where listen(0) and connect() take ports. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi) return [lo, hi];
  } catch {
    // not Linux: the IANA dynamic range
  }
  return [49152, 65535];
}

function bindsTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function bindsUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    sock.unref();
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago (TCP and UDP), for a program started with a port number
 * (named, apache2, dovecot, `npm run dev`) rather than port 0. It is drawn outside the kernel's
 * ephemeral range: a port from there (what listen(0) returns) is handed out again to the next
 * listen(0) or connect() of any test running beside, which then takes it before the program
 * binds it. Our own servers in tests use port 0 instead.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [lo, hi] = ephemeralRange();
  for (let tries = 0; tries < 500; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (65_536 - 10_000));
    if (port >= lo && port <= hi) continue;
    if ((await bindsTcp(port, host)) && (await bindsUdp(port, host))) return port;
  }
  throw new Error(`no free port outside the ephemeral range ${lo}-${hi} on ${host}`);
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'sstt-'): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
