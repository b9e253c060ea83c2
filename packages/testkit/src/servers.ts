// Starting one of our servers on 127.0.0.1 port 0 and getting back where it listens.
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

/**
 * A port that was free a moment ago, for starting a reference program (named, apache2,
 * dovecot) that cannot be told to use port 0. Our own servers use port 0 instead.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'sstt-'): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
