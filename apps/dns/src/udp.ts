// The UDP endpoint of the server. What separates a Node server from BIND's QPS is the cost per
// datagram below the DNS logic (bench/RESULTS.md), so three transports, fastest first:
// - batch: @sstt/udp-batch, a native addon taking up to 32 datagrams per recvmmsg and sending
//   the replies with one sendmmsg, one JS call per batch (as BIND reads with recvmmsg);
// - wrap: Node's own udp_wrap binding, the layer node:dgram is written on: one callback per
//   datagram and one synchronous sendto per reply, without dgram's EventEmitter and lookup;
// - dgram: node:dgram itself.
// Each falls back to the next when it is not available; the server's `udpTransport` option (which
// main.ts takes from SSTT_DNS_UDP=batch|wrap|dgram) forces one.
import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import { available as batchAvailable, bindBatch, errnoError } from '@sstt/udp-batch';

export interface UdpEndpoint {
  address(): AddressInfo;
  send(buf: Buffer, port: number, address: string): void;
  close(): Promise<void>;
}

/**
 * One query in, its reply out (or null). `msg` may be a view of a receive buffer that is reused
 * once the call returns: a handler that answers later must copy it, and send with `send()`.
 */
export type OnDatagram = (msg: Buffer, address: string, port: number) => Buffer | null;

export type UdpTransport = 'batch' | 'wrap' | 'dgram';

/** The transport a text names (main.ts reads SSTT_DNS_UDP), or undefined for anything else. */
export function parseUdpTransport(text: string | undefined): UdpTransport | undefined {
  return text === 'batch' || text === 'wrap' || text === 'dgram' ? text : undefined;
}

/** The transport bindUdp will use: the one asked for when it is available, else the fastest available. */
export function udpTransport(forced?: UdpTransport): UdpTransport {
  if (forced === 'dgram') return 'dgram';
  if (forced !== 'wrap' && batchAvailable()) return 'batch';
  return binding() ? 'wrap' : 'dgram';
}

interface RawUdpHandle {
  bind(ip: string, port: number, flags: number): number;
  bind6(ip: string, port: number, flags: number): number;
  recvStart(): number;
  getsockname(out: Record<string, unknown>): number;
  send(req: object, list: Buffer[], count: number, port: number, ip: string, hasCallback: boolean): number;
  close(cb?: () => void): void;
  onmessage: (nread: number, handle: unknown, buf: Buffer, rinfo: { address: string; port: number }) => void;
}

interface UdpBinding {
  UDP: new () => RawUdpHandle;
  SendWrap: new () => object;
}

function binding(): UdpBinding | undefined {
  try {
    const b = (process as unknown as { binding(name: string): UdpBinding }).binding('udp_wrap');
    return typeof b?.UDP === 'function' && typeof b.SendWrap === 'function' ? b : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Binds a UDP endpoint on `forced` (when available) or the fastest transport; rejects with an
 * ErrnoException (EADDRINUSE, EACCES...) like dgram.
 */
export async function bindUdp(host: string, port: number, onDatagram: OnDatagram, onError: (err: Error) => void, forced?: UdpTransport): Promise<UdpEndpoint> {
  const transport = udpTransport(forced);
  if (transport === 'batch') return bindBatch(host, port, onDatagram, (err) => onError(err as Error));
  const b = transport === 'wrap' ? binding() : undefined;
  if (!b) return bindDgram(host, port, onDatagram, onError);
  const handle = new b.UDP();
  const v6 = net.isIPv6(host);
  const err = v6 ? handle.bind6(host, port, 0) : handle.bind(host, port, 0);
  if (err) {
    handle.close();
    throw errnoError(err, 'bind', host, port);
  }
  const SendWrap = b.SendWrap;
  handle.onmessage = (nread, _h, buf, rinfo) => {
    if (nread < 0) {
      onError(errnoError(nread, 'recvmsg', host, port));
      return;
    }
    const reply = onDatagram(buf, rinfo.address, rinfo.port);
    if (reply) send(reply, rinfo.port, rinfo.address);
  };
  const r = handle.recvStart();
  if (r) {
    handle.close();
    throw errnoError(r, 'recvStart', host, port);
  }
  const name: Record<string, unknown> = {};
  handle.getsockname(name);
  const list: Buffer[] = [Buffer.alloc(0)];
  let req: { buf?: Buffer } = new SendWrap();
  let closed = false;
  function send(buf: Buffer, toPort: number, toAddress: string): void {
    if (closed) return;
    list[0] = buf;
    // The request keeps the buffer alive if libuv has to queue the send (node:dgram keeps
    // `req.list` for the same reason); the list itself is read at once.
    req.buf = buf;
    // Returns length + 1 when sent at once, 0 when queued, a negative errno on failure (a
    // client that vanished: nothing to do for a datagram). A request object is tied to a
    // native send only when the send is queued (or failed): only then does the next send need
    // a new one (node/src/udp_wrap.cc, UDPWrap::DoSend).
    if (handle.send(req, list, 1, toPort, toAddress, false) <= 0) req = new SendWrap();
  }
  return {
    address: () => name as unknown as AddressInfo,
    send,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        handle.close(() => resolve());
      }),
  };
}

function bindDgram(host: string, port: number, onDatagram: OnDatagram, onError: (err: Error) => void): Promise<UdpEndpoint> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup });
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      sock.on('error', onError);
      let closed = false;
      sock.on('message', (msg, rinfo) => {
        const reply = onDatagram(msg, rinfo.address, rinfo.port);
        if (reply && !closed) sock.send(reply, rinfo.port, rinfo.address);
      });
      resolve({
        address: () => sock.address(),
        send: (buf, toPort, toAddress) => {
          if (!closed) sock.send(buf, toPort, toAddress);
        },
        close: () =>
          new Promise<void>((r) => {
            if (closed) return r();
            closed = true;
            sock.close(() => r());
          }),
      });
    });
  });
}

/**
 * Replies go to the address a datagram came from, always an IP literal: answering the lookup at
 * once spares dns.lookup's extra tick per reply.
 */
function literalLookup(address: string, _options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = net.isIP(address);
  if (family) callback(null, address, family);
  else callback(errnoError(-22, 'lookup', address, 0), address, 4);
}
