// The UDP endpoint of the server. node:dgram costs several microseconds per datagram on top of
// the kernel (an EventEmitter emit, a dns.lookup tick and list conversions for every send), which
// is most of what separates a Node server from BIND's QPS (bench/RESULTS.md). Node's own
// udp_wrap binding, the layer node:dgram is written on, receives and sends without that layer:
// one callback per datagram and one synchronous sendto for the reply. node:dgram stays the
// fallback when the binding is not available (SSTT_DNS_UDP=dgram forces it).
import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import util from 'node:util';

export interface UdpEndpoint {
  address(): AddressInfo;
  send(buf: Buffer, port: number, address: string): void;
  close(): Promise<void>;
}

export type OnDatagram = (msg: Buffer, address: string, port: number) => void;

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
  if (process.env.SSTT_DNS_UDP === 'dgram') return undefined;
  try {
    const b = (process as unknown as { binding(name: string): UdpBinding }).binding('udp_wrap');
    return typeof b?.UDP === 'function' && typeof b.SendWrap === 'function' ? b : undefined;
  } catch {
    return undefined;
  }
}

function errnoError(code: number, syscall: string, host: string, port: number): NodeJS.ErrnoException {
  const name = util.getSystemErrorName(code);
  const err = new Error(`${syscall} ${name} ${host}:${port}`) as NodeJS.ErrnoException;
  err.code = name;
  err.errno = code;
  err.syscall = syscall;
  return err;
}

/** Binds a UDP endpoint; rejects with an ErrnoException (EADDRINUSE, EACCES...) like dgram. */
export async function bindUdp(host: string, port: number, onDatagram: OnDatagram, onError: (err: Error) => void): Promise<UdpEndpoint> {
  const b = binding();
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
    onDatagram(buf, rinfo.address, rinfo.port);
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
  return {
    address: () => name as unknown as AddressInfo,
    send(buf, toPort, toAddress) {
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
    },
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
      sock.on('message', (msg, rinfo) => onDatagram(msg, rinfo.address, rinfo.port));
      let closed = false;
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
function literalLookup(
  address: string,
  _options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = net.isIP(address);
  if (family) callback(null, address, family);
  else callback(errnoError(-22, 'lookup', address, 0), address, 4);
}
