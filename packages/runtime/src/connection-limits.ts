// Fair connection limits for one TCP listener (HTTP, HTTPS, DNS over TCP, SMTP, submission, POP3,
// POP3S): a cap per client address beside the global one, and at either cap the newcomer is not
// refused: the connection that costs most and gives least is closed to make room, as RFC 7766
// §6.2.3 asks of DNS servers ("close idle connections first") and nginx does with `limit_conn` +
// `reset_timedout_connection`. A newcomer is refused only when nothing in the way can be closed
// (every connection is being answered). Timeouts shrink as the listener fills (postfix's
// stress-adaptive smtpd_timeout), and one log line per interval counts what was shed, refused
// and timed out, and why.
//
// Each connection says what it costs through its phase:
//   idle     waiting for the client to start its next request / command / query (a keep-alive,
//            an idle DNS connection): closing it loses nothing (RFC 9112 §9.5, RFC 7766 §6.2.3);
//   penalty  its failed login's answer is held back (dovecot's auth penalty): as idle;
//   head     the client is in the middle of something it has to finish (its request head,
//            command line, query, message, TLS handshake) or is slow to take our reply;
//   busy     the server owes it an answer: never shed.
//
// Which connection goes first (the "victim"):
//   1. idle or penalty for at least graceMs: the longest idle first;
//   2. head for at least graceMs: the oldest first (a slowloris);
//   3. anything idle or head for less than that, the oldest first: a working client is idle or
//      sending only for a round trip at a time, and loses this race to connections that have
//      been holding their slot longer;
//   4. the same, for connections that have had an answer (a command, request or query came in
//      whole and was answered): such a connection has shown it is a client at work, while one
//      that never finished a command may be one of a flood of connections that never will. A
//      reconnecting flood from the client's own address otherwise outruns a round trip: each of
//      its newcomers sheds the oldest, and a logged-in client between two commands is the oldest
//      after a few dozen of them (a dovecot login process at its limit likewise drops a client
//      that has not finished logging in, never a logged-in session);
//   never: busy.
// Within a class, connections of the address holding most connections go first. At the
// per-address cap only that address's own connections are candidates.
//
// A connection is either an object that reports its phase when asked (LimitedConnection: the
// SMTP and POP3 sessions, whose phase is read off their parser) or a Slot that its owner moves
// from phase to phase (HTTP and DNS, whose code knows each transition).
//
// Before all that, each address has a connection rate: a token bucket per address (burst
// CONNECTION_BURST, refilled at CONNECTION_RATE_PER_SECOND), taken at accept (`overRate`). The
// caps hold a reconnecting attacker to its share of slots, but each of its reconnections still
// cost a TLS handshake, a banner, a session and a shed; a connection over the rate is closed as
// it is accepted, before any TLS handshake or protocol byte (postfix's anvil
// smtpd_client_connection_rate_limit, HAProxy's `sc_conn_rate` + `tcp-request connection reject`
// do the same). Nothing can be said to it before TLS anyway, and a plain "try later" would cost
// a write per attacking connection: the cheapest answer is none, the same on all seven listeners.
import type { Logger } from './logger.ts';

/** What a connection is doing, seen from its cost to the server. */
export type Phase = 'idle' | 'penalty' | 'head' | 'busy';

/** 'room': closed to make room for a newcomer; 'idle'/'head': its (shrunk) timeout passed (swept timeouts only). */
export type ShedReason = 'room' | 'idle' | 'head';

/** Which cap a newcomer met. */
export type Cap = 'global' | 'perClient';

/** What a connection is doing, since when (ms, the limiter's clock), and whether it has ever had an answer. */
export interface PhaseReport {
  phase: Phase;
  since: number;
  /** A command, request or query of it came in whole and was (or is being) answered. */
  answered?: boolean;
}

export interface LimitedConnection {
  readonly address: string;
  /** What it is doing now. */
  phase(): PhaseReport;
  /** Sends the protocol's goodbye for `why` and closes at once; the limiter has already let it go. */
  shed(why: ShedReason): void;
}

/** A connection idle or sending for less than this is still in a round trip of a working client. */
export const SHED_GRACE_MS = 1000;
/** Default percentage of the global cap from which the listener is under pressure. */
export const PRESSURE_PERCENT = 50;
/** Default interval of the shedding log line (at most one line per interval). */
export const SHED_LOG_INTERVAL_MS = 10_000;
/**
 * Default bucket of new connections per client address, per listener: so many at once. A browser
 * opens 6 to 10 to one server, a mail client 1 or 2, a test suite on the loopback reconnects for
 * each case; a whole lab class behind one NAT address is the largest legitimate burst.
 */
export const CONNECTION_BURST = 1000;
/**
 * Default refill of that bucket: new connections per second and address, sustained. A developer's
 * load test on the loopback is legitimate and must pass: `wrk -c50` against a server that closes
 * after 100 requests (nginx's old keepalive_requests, browsers' habit) sets up 300-600 connections
 * a second at 30-60k requests a second (200 a second cut it to 0.72x nginx, with socket errors).
 * A reconnecting attacker opens 3,500-20,000 a second: all but this many are closed at accept.
 */
export const CONNECTION_RATE_PER_SECOND = 1000;
/** Addresses whose buckets are remembered at most (the full ones are forgotten first: a full bucket is a fresh one). */
export const CONNECTION_RATE_MAX_ADDRESSES = 10_000;

export interface ConnectionLimiterOptions {
  /** The listener, for the log line ("http", "dns/tcp", "smtp", "pop3s"). */
  service: string;
  /** Connections in total. */
  maxConnections: number;
  /** Connections per client address. */
  maxConnectionsPerAddress: number;
  /** From this percentage of maxConnections on, the listener is under pressure (default PRESSURE_PERCENT). */
  pressurePercent?: number;
  /**
   * Timeouts the limiter enforces itself with a coarse sweep (the mail listeners): an idle
   * connection is closed after idleTimeoutMs, a head after commandTimeoutMs, both shrinking
   * linearly to pressureTimeoutMs between the pressure threshold and the cap. Without
   * idleTimeoutMs and commandTimeoutMs there is no sweep: the owner times its connections out,
   * shortening them while `underPressure` (HTTP, DNS).
   */
  idleTimeoutMs?: number;
  commandTimeoutMs?: number;
  pressureTimeoutMs?: number;
  /** At most one log line per this interval (default SHED_LOG_INTERVAL_MS). */
  shedLogIntervalMs?: number;
  /** Default SHED_GRACE_MS. */
  graceMs?: number;
  /** New connections per second per address, sustained (default CONNECTION_RATE_PER_SECOND); 0: no rate limit. */
  connectionRatePerSecond?: number;
  /** New connections per address at once (default CONNECTION_BURST). */
  connectionBurst?: number;
  log: Logger;
  /** The clock of `since` (ms); Date.now by default. */
  now?: () => number;
}

/** A connection whose owner tells the limiter each change of phase (HTTP, DNS over TCP). */
export class Slot implements LimitedConnection {
  private current: Phase;
  private at: number;
  private answeredOnce: boolean;

  constructor(
    private readonly limiter: ConnectionLimiter,
    readonly address: string,
    phase: Phase,
    /** Closes the connection at once; the limiter has let the slot go already. */
    private readonly onShed: (why: ShedReason) => void,
  ) {
    this.current = phase;
    this.at = limiter.now();
    this.answeredOnce = phase === 'busy';
  }

  get kind(): Phase {
    return this.current;
  }

  get since(): number {
    return this.at;
  }

  /** Whether it has been busy once (the server owed it an answer). */
  get answered(): boolean {
    return this.answeredOnce;
  }

  /** Whether the slot is gone (released, or shed by the limiter). */
  get released(): boolean {
    return !this.limiter.has(this);
  }

  phase(): PhaseReport {
    return { phase: this.current, since: this.at, answered: this.answeredOnce };
  }

  shed(why: ShedReason): void {
    this.onShed(why);
  }

  /** The connection now does this; entering the same phase again keeps its start time. */
  set(phase: Phase): void {
    if (phase === this.current) return;
    if (phase === 'busy') this.answeredOnce = true;
    this.current = phase;
    this.at = this.limiter.now();
  }

  /** The connection did something worth keeping it for: it enters its phase again, as of now. */
  restart(): void {
    this.at = this.limiter.now();
  }

  /** The connection is gone (idempotent). */
  release(): void {
    this.limiter.delete(this);
  }
}

interface CapCounts {
  shedIdle: number;
  shedHead: number;
  refused: number;
}

interface Counts {
  global: CapCounts;
  perClient: CapCounts;
  timedOut: { idle: number; head: number };
  /** Closed at accept: over their address's connection rate. */
  overRate: number;
  byAddress: Map<string, number>;
}

const noCaps = (): CapCounts => ({ shedIdle: 0, shedHead: 0, refused: 0 });
const noCounts = (): Counts => ({ global: noCaps(), perClient: noCaps(), timedOut: { idle: 0, head: 0 }, overRate: 0, byAddress: new Map() });

/**
 * Token buckets of new connections, one per address. Tokens are counted in thousandths, so that a
 * refill of `perSecond` tokens a second is `perSecond` thousandths a millisecond: with a whole
 * rate, whole numbers, exact on a millisecond clock (a fractional rate, 0.5 a second, works too).
 */
export class ConnectionRate {
  private readonly buckets = new Map<string, { milli: number; at: number }>();
  private readonly fullMilli: number;

  constructor(
    private readonly perSecond: number,
    burst: number,
    private readonly now: () => number,
    private readonly maxAddresses = CONNECTION_RATE_MAX_ADDRESSES,
  ) {
    this.fullMilli = Math.max(1, burst) * 1000;
  }

  /** Addresses remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for a new connection from `address`; false: none left, the connection is over the rate. */
  take(address: string): boolean {
    const now = this.now();
    let b = this.buckets.get(address);
    if (!b) {
      if (this.buckets.size >= this.maxAddresses) this.forget(now);
      b = { milli: this.fullMilli, at: now };
      this.buckets.set(address, b);
    } else this.refill(b, now);
    if (b.milli < 1000) return false;
    b.milli -= 1000;
    return true;
  }

  /** Whole tokens `address` has now (the burst for an address not seen). */
  tokens(address: string): number {
    const b = this.buckets.get(address);
    if (!b) return this.fullMilli / 1000;
    this.refill(b, this.now());
    return Math.floor(b.milli / 1000);
  }

  private refill(b: { milli: number; at: number }, now: number): void {
    if (now > b.at) b.milli = Math.min(this.fullMilli, b.milli + (now - b.at) * this.perSecond);
    b.at = now;
  }

  /** Makes room for a new address: drops the full buckets, else the least recently created one. */
  private forget(now: number): void {
    for (const [address, b] of this.buckets) {
      this.refill(b, now);
      if (b.milli >= this.fullMilli) this.buckets.delete(address);
    }
    if (this.buckets.size >= this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

export class ConnectionLimiter {
  readonly now: () => number;
  private readonly all = new Set<LimitedConnection>();
  private readonly byAddress = new Map<string, Set<LimitedConnection>>();
  private readonly pressureAt: number;
  private readonly graceMs: number;
  private readonly logIntervalMs: number;
  private readonly rate: ConnectionRate | undefined;
  private counts: Counts = noCounts();
  private logTimer: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ConnectionLimiterOptions) {
    this.now = opts.now ?? Date.now;
    this.pressureAt = Math.max(1, Math.ceil((opts.maxConnections * (opts.pressurePercent ?? PRESSURE_PERCENT)) / 100));
    this.graceMs = opts.graceMs ?? SHED_GRACE_MS;
    this.logIntervalMs = opts.shedLogIntervalMs ?? SHED_LOG_INTERVAL_MS;
    const perSecond = opts.connectionRatePerSecond ?? CONNECTION_RATE_PER_SECOND;
    if (perSecond > 0) this.rate = new ConnectionRate(perSecond, opts.connectionBurst ?? CONNECTION_BURST, this.now);
    if (opts.idleTimeoutMs !== undefined && opts.commandTimeoutMs !== undefined) {
      // Timeouts are checked by a coarse sweep, not a timer per connection.
      const shortest = Math.min(opts.commandTimeoutMs, opts.pressureTimeoutMs ?? opts.commandTimeoutMs);
      this.sweepTimer = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, shortest / 4)));
      this.sweepTimer.unref();
    }
  }

  get size(): number {
    return this.all.size;
  }

  /** Open connections of one address. */
  countOf(address: string): number {
    return this.byAddress.get(address)?.size ?? 0;
  }

  has(c: LimitedConnection): boolean {
    return this.all.has(c);
  }

  /** Whether timeouts should be short now (from pressurePercent of the cap on). */
  get underPressure(): boolean {
    return this.all.size >= this.pressureAt;
  }

  /** How far into pressure the listener is: 0 up to the threshold, 1 at the cap. */
  pressure(): number {
    const { maxConnections } = this.opts;
    if (this.all.size <= this.pressureAt || maxConnections <= this.pressureAt) return this.all.size >= maxConnections ? 1 : 0;
    return Math.min(1, (this.all.size - this.pressureAt) / (maxConnections - this.pressureAt));
  }

  /** `baseMs` shrunk towards `floorMs` as the listener fills (linearly from the pressure threshold to the cap). */
  shrink(baseMs: number, floorMs: number): number {
    const floor = Math.min(baseMs, floorMs);
    return baseMs - (baseMs - floor) * this.pressure();
  }

  /** The swept idle and command timeouts now (only with idleTimeoutMs and commandTimeoutMs). */
  timeouts(): { idleMs: number; commandMs: number } {
    const { idleTimeoutMs = Infinity, commandTimeoutMs = Infinity, pressureTimeoutMs = Infinity } = this.opts;
    // Without a floor (or a timeout) there is nothing to shrink (and Infinity - Infinity is NaN).
    const at = (base: number) => (base === Infinity || pressureTimeoutMs === Infinity ? base : this.shrink(base, pressureTimeoutMs));
    return { idleMs: at(idleTimeoutMs), commandMs: at(commandTimeoutMs) };
  }

  /**
   * First thing at accept, before any TLS handshake or byte: takes one of the address's connection
   * tokens. True: the address is over its connection rate (counted): the caller closes the
   * connection at once, without a word.
   */
  overRate(address: string): boolean {
    if (!this.rate || this.rate.take(address)) return false;
    this.count(address, (c) => c.overRate++);
    return true;
  }

  /**
   * Before a new connection from `address` is accepted: true when there is room, made if needed
   * by shedding; false when the newcomer has to be refused (counted; the caller says goodbye).
   * Then `add()` the connection.
   */
  admit(address: string): boolean {
    const mine = this.byAddress.get(address);
    if (mine && mine.size >= this.opts.maxConnectionsPerAddress && !this.shedOne('perClient', mine)) return this.refuse(address, 'perClient');
    if (this.all.size >= this.opts.maxConnections && !this.shedOne('global')) return this.refuse(address, 'global');
    return true;
  }

  /** admit() and add() in one for a connection whose owner moves it from phase to phase; undefined: refuse it. */
  admitSlot(address: string, phase: Phase, shed: (why: ShedReason) => void): Slot | undefined {
    if (!this.admit(address)) return undefined;
    const slot = new Slot(this, address, phase, shed);
    this.add(slot);
    return slot;
  }

  add(c: LimitedConnection): void {
    this.all.add(c);
    let set = this.byAddress.get(c.address);
    if (!set) this.byAddress.set(c.address, (set = new Set()));
    set.add(c);
  }

  /** The connection is gone (idempotent). */
  delete(c: LimitedConnection): void {
    if (!this.all.delete(c)) return;
    const set = this.byAddress.get(c.address);
    set?.delete(c);
    if (set?.size === 0) this.byAddress.delete(c.address);
  }

  /** Stops the sweep and writes the pending counts. */
  close(): void {
    clearInterval(this.sweepTimer);
    this.flushLog();
  }

  /** Closes the costliest connection in the way (at the per-address cap: of `mine`); false when every one is being answered. */
  private shedOne(cap: Cap, mine?: Set<LimitedConnection>): boolean {
    // One pass over the connections in the way (it runs only at a cap), address by address so
    // that each address's load is looked up once, and without allocating: at HTTP's cap of 1,024
    // this is what an attacker's newcomer costs.
    const now = this.now();
    const grace = this.graceMs;
    let best: LimitedConnection | undefined;
    let bestPhase: Phase = 'busy';
    // smaller is shed first: class, then the heavier address (more connections), then the older
    let bestCls = 4;
    let bestLoad = 0;
    let bestAge = 0;
    const groups = mine ? [mine] : this.byAddress.values();
    for (const group of groups) {
      const load = group.size;
      for (const c of group) {
        let phase: Phase;
        let since: number;
        let answered: boolean | undefined;
        if (c instanceof Slot) {
          phase = c.kind;
          since = c.since;
          answered = c.answered;
        } else ({ phase, since, answered } = c.phase());
        if (phase === 'busy') continue;
        const age = now - since;
        const cls = age < grace ? (answered ? 3 : 2) : phase === 'head' ? 1 : 0;
        if (cls > bestCls || (cls === bestCls && (load < bestLoad || (load === bestLoad && age <= bestAge)))) continue;
        best = c;
        bestPhase = phase;
        bestCls = cls;
        bestLoad = load;
        bestAge = age;
      }
    }
    if (!best) return false;
    this.delete(best);
    this.count(best.address, (c) => c[cap][bestPhase === 'head' ? 'shedHead' : 'shedIdle']++);
    best.shed('room');
    return true;
  }

  private refuse(address: string, cap: Cap): false {
    this.count(address, (c) => c[cap].refused++);
    return false;
  }

  /** Closes the connections whose (shrunk) idle or command timeout has passed. */
  private sweep(): void {
    if (this.all.size === 0) return;
    const { idleMs, commandMs } = this.timeouts();
    const now = this.now();
    for (const c of [...this.all]) {
      const { phase, since } = c.phase();
      const why = phase === 'idle' && now - since > idleMs ? 'idle' : phase === 'head' && now - since > commandMs ? 'head' : undefined;
      if (!why) continue;
      this.delete(c);
      this.count(c.address, (n) => n.timedOut[why]++);
      c.shed(why);
    }
  }

  /** Counts an event; the first one of a quiet period starts the interval that ends with one log line. */
  private count(address: string, bump: (c: Counts) => void): void {
    bump(this.counts);
    this.counts.byAddress.set(address, (this.counts.byAddress.get(address) ?? 0) + 1);
    if (!this.logTimer) {
      this.logTimer = setTimeout(() => this.flushLog(), this.logIntervalMs);
      this.logTimer.unref();
    }
  }

  /** Writes the pending counts now (also on close), one line. */
  flushLog(): void {
    clearTimeout(this.logTimer);
    this.logTimer = undefined;
    const { global, perClient, timedOut, overRate, byAddress } = this.counts;
    this.counts = noCounts();
    const shed = global.shedIdle + global.shedHead + perClient.shedIdle + perClient.shedHead;
    const refused = global.refused + perClient.refused;
    const timedOutTotal = timedOut.idle + timedOut.head;
    if (shed + refused + timedOutTotal + overRate === 0) return;
    const top = [...byAddress.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const swept = this.sweepTimer ? this.timeouts() : undefined;
    this.opts.log.warn(
      {
        service: this.opts.service,
        intervalMs: this.logIntervalMs,
        // shed: closed to make room; refused: nothing could be closed (all being answered);
        // timedOut: idle or head past the (shrunk) timeout
        shed,
        refused,
        timedOut: timedOutTotal,
        // overRate: closed at accept, over their address's connection rate
        overRate,
        // why: which cap a newcomer met and what the connections closed were doing
        global,
        perClient,
        ...(swept ? { timedOutBy: timedOut, idleTimeoutMs: Math.round(swept.idleMs), commandTimeoutMs: Math.round(swept.commandMs) } : {}),
        open: this.all.size,
        max: this.opts.maxConnections,
        perAddress: this.opts.maxConnectionsPerAddress,
        ...(this.rate
          ? { ratePerSecond: this.opts.connectionRatePerSecond ?? CONNECTION_RATE_PER_SECOND, burst: this.opts.connectionBurst ?? CONNECTION_BURST }
          : {}),
        underPressure: this.underPressure,
        addresses: Object.fromEntries(top),
      },
      shed + refused > 0
        ? `${this.opts.service}: connection limit reached, connections shed (idle first, then the slowest to send a request)`
        : overRate > 0
          ? `${this.opts.service}: connections over their address's rate closed at accept`
          : `${this.opts.service}: idle or slow connections timed out`,
    );
  }
}
