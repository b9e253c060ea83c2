// TLS started inside a plain connection (POP3 STLS, RFC 2595 §4; IMAP STARTTLS, RFC 9051
// §6.2.1), shared by the POP3 and IMAP sessions: the TLS layer runs over a small Duplex on the
// accepted connection (raw or node:net), and once the handshake is done the session talks to the
// TLS socket through the same TcpConnection interface. The caller's data handler must push what
// the transport reads into the returned tunnel from now on.
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { wrapSocket, type TcpConnection } from '@sstt/runtime';

export interface StartTlsOptions {
  transport: TcpConnection;
  secureContext: tls.SecureContext;
  /** A client that asks for TLS and then sends no handshake is dropped after this. */
  handshakeTimeoutMs: number;
  onError(err: Error): void;
  /** The handshake is done: the session's connection from now on. */
  onSecure(conn: TcpConnection, socket: tls.TLSSocket): void;
  /** The connection closed before the handshake was done. */
  onClosedEarly(): void;
}

export function startTlsTunnel(o: StartTlsOptions): Duplex {
  const { transport } = o;
  const tunnel = new Duplex({
    read: () => transport.resume(),
    write: (chunk: Buffer, _enc, cb) => void transport.write(chunk, (err) => cb(err ?? undefined)),
    final: (cb) => {
      transport.end();
      cb();
    },
    destroy: (err, cb) => {
      transport.destroy();
      cb(err);
    },
  });
  const secure = new tls.TLSSocket(tunnel as unknown as net.Socket, { isServer: true, secureContext: o.secureContext });
  secure.on('error', o.onError);
  const handshakeTimeout = () => secure.destroy();
  secure.setTimeout(o.handshakeTimeoutMs);
  secure.once('timeout', handshakeTimeout);
  secure.once('close', o.onClosedEarly);
  secure.once('secure', () => {
    secure.off('timeout', handshakeTimeout);
    secure.setTimeout(0); // from now on the session's own autologout timer watches it
    secure.off('close', o.onClosedEarly);
    secure.off('error', o.onError);
    o.onSecure(wrapSocket(secure), secure);
  });
  return tunnel;
}
