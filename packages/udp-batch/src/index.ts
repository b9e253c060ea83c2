// UDP in batches (src/udp_batch.c): datagrams arrive up to BATCH at a time through one JS call,
// and the replies the handler returns go out together in one sendmmsg. The addon is built by
// `npm install` (node-gyp, Linux); when it is missing, `available()` says why and callers use
// another transport.
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import util from 'node:util';

/** Datagrams taken per recvmmsg (the addon's limit is 64). */
export const BATCH = 32;
/** Room per datagram: the largest UDP payload, so nothing is cut short. */
export const SLOT = 65536;

/**
 * Called once per datagram, in arrival order. `msg` is a view of the shared receive buffer,
 * valid only during the call: copy it to keep it. The returned buffer (or null for no reply)
 * is sent to the sender with the rest of the batch.
 */
export type BatchHandler = (msg: Buffer, address: string, port: number) => Buffer | null;

export interface BatchSocket {
  address(): AddressInfo;
  /** A reply outside a batch (an answer that had to wait); a failed send is dropped and counted. */
  send(buf: Buffer, port: number, address: string): void;
  /** Replies the kernel refused (full send buffer, unreachable peer): dropped as datagrams are. */
  dropped(): number;
  close(): Promise<void>;
}

interface State {
  data: Buffer;
  lens: Int32Array;
  ports: Int32Array;
  addrs: string[];
  replies: (Buffer | null)[];
}

type External = object;

interface Addon {
  open(host: string, port: number, state: State, onBatch: (this: State, count: number) => void): External | number;
  send(s: External, buf: Buffer, port: number, address: string): number;
  address(s: External): AddressInfo;
  dropped(s: External): number;
  close(s: External, cb: () => void): void;
}

let addon: Addon | undefined;
let loadError: string | undefined;

function load(): Addon | undefined {
  if (addon || loadError) return addon;
  try {
    // Found through the package's own name, so the path holds from this source file and from an
    // app's bundle (apps/dns/dist/) alike.
    const require = createRequire(import.meta.url);
    const root = path.dirname(require.resolve('@sstt/udp-batch/package.json'));
    addon = require(path.join(root, 'build/Release/udp_batch.node')) as Addon;
  } catch (err) {
    loadError = `the native addon did not load (${(err as Error).message.split('\n')[0]}); run npm install`;
  }
  return addon;
}

/** True when the addon is built and loads; otherwise the reason is in `unavailableReason()`. */
export function available(): boolean {
  return load() !== undefined;
}

export function unavailableReason(): string | undefined {
  load();
  return loadError;
}

/** An ErrnoException shaped as node:dgram's (code, errno, syscall) from a negative errno. */
export function errnoError(code: number, syscall: string, host: string, port: number): NodeJS.ErrnoException {
  const name = util.getSystemErrorName(code);
  const err = new Error(`${syscall} ${name} ${host}:${port}`) as NodeJS.ErrnoException;
  err.code = name;
  err.errno = code;
  err.syscall = syscall;
  return err;
}

function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

/**
 * Binds host:port (an IP literal) and answers through `handler`. Throws an ErrnoException
 * (EADDRINUSE, EACCES, EADDRNOTAVAIL...) as node:dgram would, or an Error when the addon is
 * missing. A handler that throws gets no reply for that datagram; the error goes to `onError`
 * (by default it is rethrown, as an uncaught exception, once the batch is sent).
 */
export function bindBatch(host: string, port: number, handler: BatchHandler, onError: (err: unknown) => void = rethrowLater): BatchSocket {
  const a = load();
  if (!a) throw new Error(loadError);
  const state: State = {
    data: Buffer.allocUnsafeSlow(BATCH * SLOT),
    lens: new Int32Array(BATCH),
    ports: new Int32Array(BATCH),
    addrs: new Array<string>(BATCH).fill(''),
    replies: new Array<Buffer | null>(BATCH).fill(null),
  };
  const { data, lens, ports, addrs, replies } = state;
  function onBatch(count: number): void {
    for (let i = 0; i < count; i++) {
      const len = lens[i]!;
      // A datagram larger than a slot cannot be a DNS query we answer; -1 marks it.
      try {
        replies[i] = len < 0 ? null : handler(data.subarray(i * SLOT, i * SLOT + len), addrs[i]!, ports[i]!);
      } catch (err) {
        // One datagram's failure costs its own reply, not the rest of the batch's.
        replies[i] = null;
        onError(err);
      }
    }
  }
  const s = a.open(host, port, state, onBatch);
  if (typeof s === 'number') throw errnoError(s, 'bind', host, port);
  let closed: Promise<void> | undefined;
  return {
    address: () => a.address(s),
    send(buf, toPort, toAddress) {
      if (!closed) a.send(s, buf, toPort, toAddress);
    },
    dropped: () => a.dropped(s),
    close() {
      closed ??= new Promise<void>((resolve) => a.close(s, resolve));
      return closed;
    },
  };
}
