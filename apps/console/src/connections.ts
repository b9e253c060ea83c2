// The console's connections behind the limits every other listener has (@sstt/runtime
// connection-limits.ts): a cap in total and per client address, and at a cap the connection that
// costs most makes room (an idle keep-alive first, then the one longest sending its request head);
// a newcomer is refused, with a short 503, only when every connection in the way is being
// answered. Node's HTTP server does the HTTP; this gate stands before it on each accepted socket.
// The event streams have a cap per address of their own (EventStreams).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionLimiter, Slot } from '@sstt/runtime';

/** Connections in total. A console has a handful of users; a flood must not exhaust descriptors. */
export const MAX_CONNECTIONS = 256;
/**
 * Connections per client address. A browser opens up to 6 per host over HTTP/1.1, one of them an
 * event stream per tab; a few tabs and a script fit, a flood from one address does not.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 32;
/**
 * Event streams per client address. A stream is a connection being answered, which the limiter
 * never sheds: without this cap one address could hold all its connections as streams.
 */
export const MAX_EVENT_STREAMS_PER_ADDRESS = 8;
/** How long a refused connection may stay half-open while the client reads the 503. */
const REFUSE_LINGER_MS = 5000;

/** The limiter's key: IPv4 clients of a dual-stack socket count as their IPv4 address. */
export const addressOf = (a: string | undefined): string => a?.replace(/^::ffff:/, '') ?? '-';

/**
 * The reply to a connection refused at a cap (RFC 9110 §15.6.4: 503 with Retry-After; a Date is
 * optional on a 5xx, §6.6.1). Written on the raw socket: no request has been read.
 */
const REFUSED_REPLY = (() => {
  const body = `${JSON.stringify({ error: 'too many connections to the console: try again later' })}\n`;
  return (
    'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`
  );
})();

/**
 * Puts `server`'s connections behind `limiter`: Node's own connection handling (its parser,
 * timeouts and connection list) runs only for an admitted socket. A connection's phase follows
 * its requests: head until the first request, busy while one is answered (an event stream until
 * it ends), idle between requests. Returns what close() calls: it ends the refused connections
 * still lingering (Node's HTTP server does not know them; its close would wait for them).
 */
export function limitConnections(server: Server, limiter: ConnectionLimiter): { destroyRefused(): void } {
  // Node's HTTP server handles a socket in its 'connection' listener; admitted sockets are
  // passed on to it (what the documentation offers for injecting connections).
  const nodeHttp = server.listeners('connection') as Array<(this: Server, socket: Socket) => void>;
  server.removeAllListeners('connection');
  const slots = new WeakMap<Socket, Slot>();
  const refused = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    const slot = limiter.admitSlot(addressOf(socket.remoteAddress), 'head', () => socket.destroy());
    if (!slot) {
      refused.add(socket);
      socket.once('close', () => refused.delete(socket));
      return refuse(socket);
    }
    slots.set(socket, slot);
    socket.once('close', () => slot.release());
    for (const listener of nodeHttp) listener.call(server, socket);
  });
  server.prependListener('request', (req, res) => {
    const slot = slots.get(req.socket);
    if (!slot) return;
    slot.set('busy');
    res.once('finish', () => {
      if (!slot.released) slot.set('idle');
    });
  });
  return {
    destroyRefused: () => {
      for (const socket of refused) socket.destroy();
    },
  };
}

function refuse(socket: Socket): void {
  socket.on('error', () => {});
  // Read and drop what the client sends, so that our close is a clean FIN, not a reset that
  // could destroy the reply before the client read it.
  socket.resume();
  socket.setTimeout(REFUSE_LINGER_MS, () => socket.destroy());
  socket.end(REFUSED_REPLY);
}

/** Open event streams per client address, for the cap of each. */
export class EventStreams {
  private readonly byAddress = new Map<string, number>();

  constructor(readonly maxPerAddress: number) {}

  /** Takes a stream for `address`; false when it holds maxPerAddress already. */
  open(address: string): boolean {
    const n = this.byAddress.get(address) ?? 0;
    if (n >= this.maxPerAddress) return false;
    this.byAddress.set(address, n + 1);
    return true;
  }

  /** A stream of `address` ended. */
  close(address: string): void {
    const n = (this.byAddress.get(address) ?? 0) - 1;
    if (n > 0) this.byAddress.set(address, n);
    else this.byAddress.delete(address);
  }

  countOf(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }
}
