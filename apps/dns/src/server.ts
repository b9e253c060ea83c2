// The DNS server: one UDP socket and one TCP listener on the same address and port, both
// handing messages to one responder. TCP carries 2-byte length framing (RFC 1035 §4.2.2,
// RFC 7766 §8), several pipelined queries per connection answered as they are ready (§6.2.1.1),
// an idle timeout and a cap on queries per connection (miekg's maxTCPQueries, BIND's
// tcp-idle-timeout), and fair caps on connections, in total (BIND's tcp-clients) and per client
// address, where the idle connections are closed first to make room (RFC 7766 §6.2.3).
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { ConnectionLimiter, ListenError, silentLogger, type Logger, type Slot } from '@sstt/runtime';
import { ConfigError, hostView, type Endpoint, type Scenario, type Service } from '@sstt/scenario';
import { createAcl } from './acl.ts';
import { createForwarder, type Forwarder } from './forward.ts';
import { createResponder, type Outcome, type Responder } from './responder.ts';
import { scenarioZoneStore } from './scenario-zones.ts';
import { bindUdp, udpTransport, type UdpEndpoint, type UdpTransport } from './udp.ts';
import type { Journal } from '@sstt/events';
import { ZoneFileError } from './zone/master-file.ts';
import { createZoneStore, type ZoneStore } from './zone/store.ts';

/** A TCP connection with no complete query for this long is closed (BIND: tcp-idle-timeout 30 s). */
export const TCP_IDLE_TIMEOUT_MS = 30_000;
/**
 * Queries answered on one TCP connection before it is closed (miekg/dns maxTCPQueries is 128,
 * PowerDNS has no cap by default). Whatever the cap, every query already read when it is reached
 * is answered before the close (RFC 7766 §6.2.1.1: a client pipelines; what it sent and we read
 * is not dropped).
 */
export const MAX_TCP_QUERIES = 10_000;
/**
 * Simultaneous TCP connections (BIND: tcp-clients 150). At the cap a newcomer is not refused:
 * the connection idle longest is closed to make room, else the one slowest to send its query
 * (RFC 7766 §6.2.3: under pressure, close idle connections first).
 */
export const MAX_TCP_CLIENTS = 150;
/**
 * Simultaneous TCP connections from one client address (RFC 7766 §6.2.3: servers MAY limit them
 * per client, more loosely than clients limit themselves). At the cap, that client's own idle
 * connection makes room.
 */
export const MAX_TCP_CLIENTS_PER_ADDRESS = 50;
/** From this many TCP connections on (75 % of the cap), idle ones get the shorter timeout below. */
export const TCP_PRESSURE_PERCENT = 75;
/** The idle timeout under pressure (RFC 7766 §6.2.3: a busy server may close idle connections sooner). */
export const PRESSURE_TCP_IDLE_TIMEOUT_MS = 2000;
/** On close(), how long open TCP connections may finish their answers. */
export const CLOSE_GRACE_MS = 1000;
/** Tries to find a port free for both UDP and TCP when asked for port 0. */
export const PORT_ZERO_ATTEMPTS = 20;

export interface DnsServerOptions {
  scenario: Scenario;
  /**
   * Which view of the scenario's zones this server answers with. 'zone' (the default): the zone as
   * the lab has it (192.168.56.x, as the report's traces show), on ports.dns. 'host': the zone as
   * this machine's own resolver should see it (`hostView`: every name at the address the dev servers
   * listen on), on ports.hostdns, authoritative only: `npx sstt resolve` routes only the domain's
   * zones here, so it never needs to forward, and forwarding could only loop back into the host's
   * resolver.
   */
  view?: 'zone' | 'host';
  /** Default scenario.listen.address. */
  host?: string;
  /** Default the view's port (scenario.listen.ports.dns or .hostdns); 0 picks a port free for both UDP and TCP. */
  port?: number;
  /** Master files to serve (reloaded when they change) instead of the scenario's zones (packages/scenario zone.ts). */
  zoneFiles?: Array<{ origin: string; file: string }>;
  /** Default scenario.dns.forwarders. */
  forwarders?: Endpoint[];
  /** Default scenario.dns.allowQuery. */
  allowQuery?: string[];
  log?: Logger;
  /** The session journal each exchange is published to (the console's timeline); none: nothing is recorded. */
  journal?: Journal;
  /** The UDP transport to use when it is available (main.ts: SSTT_DNS_UDP); default the fastest (udp.ts). */
  udpTransport?: UdpTransport;
  tcpIdleTimeoutMs?: number;
  maxTcpQueries?: number;
  maxTcpClients?: number;
  maxTcpClientsPerAddress?: number;
  tcpPressurePercent?: number;
  pressureTcpIdleTimeoutMs?: number;
  forwardTimeoutMs?: number;
  cacheEntries?: number;
  closeGraceMs?: number;
  reloadDebounceMs?: number;
}

export interface DnsServer {
  listen(): Promise<AddressInfo[]>;
  close(): Promise<void>;
}

export function createDnsServer(options: DnsServerOptions): DnsServer {
  const view = options.view ?? 'zone';
  const s = view === 'host' ? hostView(options.scenario) : options.scenario;
  const service: Service = view === 'host' ? 'hostdns' : 'dns';
  const forwarders = options.forwarders ?? (view === 'host' ? [] : s.dns.forwarders);
  const log = options.log ?? silentLogger();
  const journal = options.journal;
  const host = options.host ?? s.listen.address;
  const wantedPort = options.port ?? s.listen.ports[service];
  const limits = s.dns.limits ?? {};
  const idleMs = options.tcpIdleTimeoutMs ?? limits.tcpIdleTimeoutMs ?? TCP_IDLE_TIMEOUT_MS;
  const maxQueries = options.maxTcpQueries ?? limits.maxTcpQueries ?? MAX_TCP_QUERIES;
  const maxClients = options.maxTcpClients ?? limits.maxTcpClients ?? MAX_TCP_CLIENTS;
  const limiter = new ConnectionLimiter({
    service: 'dns/tcp',
    maxConnections: maxClients,
    maxConnectionsPerAddress: options.maxTcpClientsPerAddress ?? limits.maxTcpClientsPerAddress ?? MAX_TCP_CLIENTS_PER_ADDRESS,
    pressurePercent: options.tcpPressurePercent ?? limits.pressurePercent ?? TCP_PRESSURE_PERCENT,
    connectionRatePerSecond: limits.connectionRatePerSecond,
    connectionBurst: limits.connectionBurst,
    log,
  });
  const pressureIdleMs = options.pressureTcpIdleTimeoutMs ?? limits.pressureTcpIdleTimeoutMs ?? PRESSURE_TCP_IDLE_TIMEOUT_MS;
  const idleTimeout = () => (limiter.underPressure ? Math.min(idleMs, pressureIdleMs) : idleMs);
  let store: ZoneStore | undefined;
  let responder: Responder | undefined;
  let forwarder: Forwarder | undefined;
  let udp: UdpEndpoint | undefined;
  let tcp: net.Server | undefined;
  const sessions = new Set<TcpSession>();
  let closing = false;

  function setup(): void {
    try {
      store = options.zoneFiles
        ? createZoneStore({
            sources: options.zoneFiles.map((z) => ({ origin: z.origin, file: path.resolve(z.file) })),
            log,
            onChange: () => responder?.clear(),
            ...(options.reloadDebounceMs !== undefined ? { debounceMs: options.reloadDebounceMs } : {}),
          })
        : scenarioZoneStore(s);
    } catch (err) {
      if (err instanceof ZoneFileError) throw new ConfigError(`${err.file}:${err.line}`, 'zone', 'a valid RFC 1035 master file', err.why);
      if ((err as NodeJS.ErrnoException).code) {
        const e = err as NodeJS.ErrnoException;
        throw new ConfigError(e.path ?? 'zone file', 'zoneFiles', 'a readable master file', e.code!);
      }
      throw err;
    }
    forwarder = createForwarder({
      forwarders,
      log,
      ...(options.forwardTimeoutMs !== undefined ? { timeoutMs: options.forwardTimeoutMs } : {}),
      ...(options.cacheEntries !== undefined ? { cacheEntries: options.cacheEntries } : {}),
    });
    const zoneStore = store;
    responder = createResponder({
      zones: () => zoneStore.zones(),
      acl: createAcl(options.allowQuery ?? s.dns.allowQuery),
      forwarder,
      recursion: forwarders.length > 0,
    });
    for (const z of zoneStore.zones().zones) log.info({ zone: z.origin, serial: z.serial, file: z.file }, 'zone loaded');
  }

  function onDatagram(msg: Buffer, address: string, port: number): Buffer | null {
    const out: Outcome = responder!.respond(msg, 'udp', address);
    if (!(out instanceof Promise)) {
      if (out) journal?.dns('udp', address, port, out);
      return out;
    }
    out.then(
      (b) => {
        if (!b || closing) return;
        journal?.dns('udp', address, port, b);
        udp?.send(b, port, address);
      },
      (err) => log.error({ err: String(err) }, 'answering a query failed'),
    );
    return null;
  }

  const bindUdpHere = (port: number) => bindUdp(host, port, onDatagram, (err) => log.warn({ err: String(err) }, 'udp socket error'), options.udpTransport);

  function bindTcp(port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (socket) => {
        if (closing) {
          socket.destroy();
          return;
        }
        const address = socket.remoteAddress?.replace(/^::ffff:/, '') ?? '-';
        // Over its address's connection rate: closed as it is accepted.
        if (limiter.overRate(address)) return void socket.destroy();
        // A new connection has no query outstanding: idle (RFC 7766 §6.2.3) until bytes come.
        const slot = limiter.admitSlot(address, 'idle', () => socket.destroy());
        if (!slot) {
          // Every connection in the way has a query being answered: refuse (BIND resets too).
          socket.destroy();
          return;
        }
        const session = new TcpSession(socket, responder!, slot, {
          idleMs: idleTimeout,
          maxQueries,
          log,
          journal,
          onClose: () => sessions.delete(session),
        });
        sessions.add(session);
      });
      srv.once('error', reject);
      srv.listen({ port, host, exclusive: true }, () => {
        srv.off('error', reject);
        resolve(srv);
      });
    });
  }

  return {
    async listen() {
      setup();
      try {
        if (wantedPort !== 0) {
          udp = await bindUdpHere(wantedPort);
          tcp = await bindTcp(wantedPort);
        } else {
          // Port 0: let UDP pick a port, then take the same one for TCP; start over if taken.
          for (let attempt = 0; ; attempt++) {
            udp = await bindUdpHere(0);
            try {
              tcp = await bindTcp(udp.address().port);
              break;
            } catch (err) {
              await udp.close();
              udp = undefined;
              if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt + 1 >= PORT_ZERO_ATTEMPTS) throw err;
            }
          }
        }
      } catch (err) {
        await udp?.close();
        tcp?.close();
        store?.close();
        forwarder?.close();
        throw new ListenError(service, host, wantedPort, err as NodeJS.ErrnoException);
      }
      store!.watch();
      const addresses = [udp.address(), tcp.address() as AddressInfo];
      log.info({ view, udp: addresses[0], tcp: addresses[1], udpTransport: udpTransport(options.udpTransport) }, 'dns listening');
      return addresses;
    },
    async close() {
      if (closing) return;
      closing = true;
      store?.close();
      forwarder?.close();
      const udpClosed = udp ? udp.close() : Promise.resolve();
      const tcpClosed = tcp ? new Promise<void>((r) => tcp!.close(() => r())) : Promise.resolve();
      for (const session of sessions) session.shutdown();
      const grace = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, options.closeGraceMs ?? CLOSE_GRACE_MS);
      grace.unref();
      await Promise.all([udpClosed, tcpClosed]);
      clearTimeout(grace);
      limiter.close();
    },
  };
}

type SessionState = 'open' | 'draining' | 'closed';

/**
 * One TCP connection: the 2-byte framing (a message may arrive in pieces or several at once),
 * the queries in flight, the idle timer, the per-connection query cap, and its slot in the
 * connection limits: 'idle' with nothing outstanding, 'head' while a query is half-received,
 * 'busy' while an answer is being made (only idle and half-received connections are shed).
 */
class TcpSession {
  private state: SessionState = 'open';
  private buf: Buffer = Buffer.alloc(0);
  private inFlight = 0;
  private answered = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly responder: Responder,
    private readonly slot: Slot,
    private readonly opts: { idleMs: () => number; maxQueries: number; log: Logger; journal: Journal | undefined; onClose: () => void },
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    // A client that goes away is not an error worth more than a debug line.
    socket.on('error', (err) => opts.log.debug({ err: String(err) }, 'tcp client error'));
    socket.on('end', () => this.drain());
    socket.on('close', () => {
      this.state = 'closed';
      clearTimeout(this.idle);
      slot.release();
      opts.onClose();
    });
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.drain(), this.opts.idleMs());
    this.idle.unref();
  }

  /** What the connection costs and gives now, for shedding at the caps. */
  private account(): void {
    if (this.inFlight > 0) this.slot.set('busy');
    else if (this.state === 'open' && this.buf.length > 0) this.slot.set('head');
    else if (this.slot.kind === 'idle')
      this.slot.restart(); // idle since this answer: the longest idle goes first
    else this.slot.set('idle');
  }

  private onData(d: Buffer): void {
    if (this.state !== 'open') return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let read = 0;
    // Every complete query read is answered, also past the query cap: the client pipelined it
    // and we have it (RFC 7766 §6.2.1.1); the cap closes the connection after this read.
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      const msg = this.buf.subarray(2, 2 + len);
      this.buf = this.buf.subarray(2 + len);
      read++;
      this.answered++;
      this.handle(msg);
    }
    if (read > 0) this.touch();
    if (this.answered >= this.opts.maxQueries) this.drain();
    else this.account();
  }

  private handle(msg: Buffer): void {
    const out = this.responder.respond(msg, 'tcp', this.socket.remoteAddress ?? '');
    if (out === null) return;
    if (out instanceof Promise) {
      this.inFlight++;
      out.then(
        (b) => {
          this.inFlight--;
          if (b) this.write(b);
          if (this.state === 'draining' && this.inFlight === 0) this.socket.end();
          if (this.inFlight === 0 && this.state !== 'closed') this.account();
        },
        (err) => {
          this.inFlight--;
          this.opts.log.error({ err: String(err) }, 'answering a query failed');
          if (this.state === 'draining' && this.inFlight === 0) this.socket.end();
          if (this.inFlight === 0 && this.state !== 'closed') this.account();
        },
      );
      return;
    }
    this.write(out);
  }

  private write(b: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed || !this.socket.writable) return;
    this.opts.journal?.dns('tcp', this.socket.remoteAddress, this.socket.remotePort, b.subarray(2));
    this.socket.write(b);
  }

  /** No more queries: answer what is in flight, then close (idle, cap reached, server closing). */
  private drain(): void {
    if (this.state !== 'open') return;
    this.state = 'draining';
    clearTimeout(this.idle);
    this.account();
    if (this.inFlight === 0) this.socket.end();
    // A client that never closes its side does not keep the connection.
    this.idle = setTimeout(() => this.socket.destroy(), this.opts.idleMs());
    this.idle.unref();
  }

  shutdown(): void {
    this.drain();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
