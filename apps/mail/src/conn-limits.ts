// Fair connection limits for one listener (SMTP, submission, POP3, POP3S): a cap per client
// address beside the global one, and at either cap the newcomer is not refused: the connection
// that costs most and gives least is closed to make room, as RFC 7766 §6.2 asks of DNS servers
// ("close idle connections first") and nginx does with limit_conn + reset_timedout_connection.
// Refused is only a newcomer for whom nothing can be closed (every connection is waiting for the
// server). Timeouts shrink as the listener fills (postfix's stress-adaptive smtpd_timeout), and
// one log line per interval counts what was shed, refused and timed out.
//
// Which connection goes first (the "victim"):
//   1. idle (the client owes the next command and has sent none of it) or held by a login
//      penalty, for at least SHED_GRACE_MS: the longest idle first;
//   2. slow (a command line, a TLS handshake, a message or the reading of our reply in
//      progress), for at least SHED_GRACE_MS: the oldest first;
//   3. anything idle or slow for less than that, the oldest first: a working client is idle
//      or sending only for a round trip at a time, and loses this race to connections that
//      have been holding their slot longer;
//   never: a connection the server owes an answer (a command being handled).
// Within a class, connections of the address holding most connections go first.
import type { Logger } from '@sstt/runtime';
import type { MailLimits } from '@sstt/scenario';

/** What a connection is doing, seen from its cost to the server. */
export type Phase = 'idle' | 'penalty' | 'slow' | 'busy';

export interface LimitedConnection {
  readonly address: string;
  /** What it is doing now and since when (ms, the limiter's clock). */
  phase(): { phase: Phase; since: number };
  /** Sends the protocol's goodbye for `why` and closes at once; the limiter has already let it go. */
  shed(why: ShedReason): void;
}

/** 'room': closed to make room for a newcomer; 'idle'/'slow': its (shrunk) timeout passed. */
export type ShedReason = 'room' | 'idle' | 'slow';

/** A connection idle or slow for less than this is still in a round trip of a working client. */
export const SHED_GRACE_MS = 1000;
/** From this fill ratio on, the idle and command timeouts shrink towards pressureTimeoutMs. */
export const PRESSURE_FROM = 0.5;

export type LimiterOptions = Pick<
  MailLimits,
  'maxConnections' | 'maxConnectionsPerAddress' | 'commandTimeoutMs' | 'pressureTimeoutMs' | 'shedLogIntervalMs'
> & {
  /** The protocol's idle timeout (smtpIdleTimeoutMs or pop3IdleTimeoutMs). */
  idleTimeoutMs: number;
  service: string;
  log: Logger;
  now?: () => number;
};

interface Counts {
  shed: number;
  refused: number;
  timedOut: number;
  /** Why: which cap a newcomer met, what the connections closed were doing. */
  why: Record<string, number>;
  byAddress: Map<string, number>;
}

const noCounts = (): Counts => ({ shed: 0, refused: 0, timedOut: 0, why: {}, byAddress: new Map() });

export class ConnectionLimiter {
  private readonly all = new Set<LimitedConnection>();
  private readonly byAddress = new Map<string, Set<LimitedConnection>>();
  private readonly now: () => number;
  private counts: Counts = noCounts();
  private logTimer: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly opts: LimiterOptions) {
    this.now = opts.now ?? Date.now;
    // Timeouts are checked by a coarse sweep, not a timer per connection.
    const tick = Math.min(1000, Math.max(10, Math.min(opts.commandTimeoutMs, opts.pressureTimeoutMs) / 4));
    this.sweepTimer = setInterval(() => this.sweep(), tick);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.all.size;
  }

  countOf(address: string): number {
    return this.byAddress.get(address)?.size ?? 0;
  }

  /**
   * Before a new connection from `address` is accepted: true when there is room, made if needed
   * by shedding; false when the newcomer has to be refused (counted; the caller says goodbye).
   */
  admit(address: string): boolean {
    const mine = this.byAddress.get(address);
    if (mine && mine.size >= this.opts.maxConnectionsPerAddress && !this.shedOne(mine, 'addressCap')) return this.refused(address, 'addressCap');
    if (this.all.size >= this.opts.maxConnections && !this.shedOne(this.all, 'listenerCap')) return this.refused(address, 'listenerCap');
    return true;
  }

  add(c: LimitedConnection): void {
    this.all.add(c);
    let set = this.byAddress.get(c.address);
    if (!set) this.byAddress.set(c.address, (set = new Set()));
    set.add(c);
  }

  delete(c: LimitedConnection): void {
    if (!this.all.delete(c)) return;
    const set = this.byAddress.get(c.address);
    set?.delete(c);
    if (set?.size === 0) this.byAddress.delete(c.address);
  }

  /** The idle and command timeouts now: the configured ones, shrinking linearly from half full to full. */
  timeouts(): { idleMs: number; commandMs: number } {
    const load = this.all.size / this.opts.maxConnections;
    const shrink = (base: number) => {
      const floor = Math.min(base, this.opts.pressureTimeoutMs);
      if (load <= PRESSURE_FROM) return base;
      const f = Math.min(1, (load - PRESSURE_FROM) / (1 - PRESSURE_FROM));
      return base - (base - floor) * f;
    };
    return { idleMs: shrink(this.opts.idleTimeoutMs), commandMs: shrink(this.opts.commandTimeoutMs) };
  }

  close(): void {
    clearInterval(this.sweepTimer);
    if (this.logTimer) {
      clearTimeout(this.logTimer);
      this.flushLog();
    }
  }

  /** Closes the costliest connection of `pool`; false when every one is waiting for the server. */
  private shedOne(pool: Set<LimitedConnection>, cap: 'addressCap' | 'listenerCap'): boolean {
    const now = this.now();
    let best: LimitedConnection | undefined;
    let bestKey: [number, number, number] | undefined;
    let bestWhat = '';
    for (const c of pool) {
      const { phase, since } = c.phase();
      if (phase === 'busy') continue;
      const age = now - since;
      const cls = age < SHED_GRACE_MS ? 2 : phase === 'slow' ? 1 : 0;
      // smaller is shed first: class, then the heavier address, then the older
      const key: [number, number, number] = [cls, -this.countOf(c.address), -age];
      if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = c;
        bestKey = key;
        bestWhat = cls === 2 ? `${phase} < ${SHED_GRACE_MS} ms` : phase;
      }
    }
    if (!best) return false;
    this.delete(best);
    this.count('shed', best.address, [cap, `shed ${bestWhat}`]);
    best.shed('room');
    return true;
  }

  private refused(address: string, cap: 'addressCap' | 'listenerCap'): false {
    this.count('refused', address, [cap, 'refused (all busy)']);
    return false;
  }

  /** Closes the connections whose (shrunk) idle or command timeout has passed. */
  private sweep(): void {
    if (this.all.size === 0) return;
    const { idleMs, commandMs } = this.timeouts();
    const now = this.now();
    for (const c of [...this.all]) {
      const { phase, since } = c.phase();
      const why: ShedReason | undefined = phase === 'idle' && now - since > idleMs ? 'idle' : phase === 'slow' && now - since > commandMs ? 'slow' : undefined;
      if (!why) continue;
      this.delete(c);
      this.count('timedOut', c.address, [`timed out ${why}`]);
      c.shed(why);
    }
  }

  /** Counts an event; the first one of a quiet period starts the interval that ends with one log line. */
  private count(what: 'shed' | 'refused' | 'timedOut', address: string, why: string[]): void {
    this.counts[what]++;
    for (const w of why) this.counts.why[w] = (this.counts.why[w] ?? 0) + 1;
    this.counts.byAddress.set(address, (this.counts.byAddress.get(address) ?? 0) + 1);
    if (!this.logTimer) {
      this.logTimer = setTimeout(() => this.flushLog(), this.opts.shedLogIntervalMs);
      this.logTimer.unref();
    }
  }

  private flushLog(): void {
    this.logTimer = undefined;
    const { shed, refused, timedOut, why, byAddress } = this.counts;
    this.counts = noCounts();
    if (shed + refused + timedOut === 0) return;
    const top = [...byAddress.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const { idleMs, commandMs } = this.timeouts();
    this.opts.log.warn(
      {
        service: this.opts.service,
        intervalMs: this.opts.shedLogIntervalMs,
        shed,
        refused,
        timedOut,
        why,
        open: this.all.size,
        max: this.opts.maxConnections,
        perAddress: this.opts.maxConnectionsPerAddress,
        idleTimeoutMs: Math.round(idleMs),
        commandTimeoutMs: Math.round(commandMs),
        addresses: Object.fromEntries(top),
      },
      // shed: closed to make room; refused: nothing could be closed; timedOut: idle or slow past the (shrunk) timeout
      'connections shed under load',
    );
  }
}
