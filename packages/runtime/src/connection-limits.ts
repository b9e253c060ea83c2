// Fair connection limits for a TCP service: a cap per client address beside the global one, and
// at either cap room is made by closing the connection that costs most and gives least instead
// of refusing the newcomer (RFC 7766 §6.2.3 for DNS over TCP; nginx's `limit_conn` with
// `reset_timedout_connection` for HTTP). Every connection holds one Slot that says what it is
// doing:
//
//   idle  waiting for the client (a keep-alive between requests, an idle DNS connection, a
//         finished connection waiting for the peer's FIN): closing it loses nothing (RFC 9112
//         §9.5, RFC 7766 §6.2.3), so these go first, the longest idle first;
//   head  the client is still sending its request head / command / query (or has sent nothing
//         yet): these go next, the one that started longest ago first (a slowloris);
//   busy  the server is answering: never shed. When every slot in the way is busy the newcomer
//         is refused after all.
//
// What was shed or refused is counted and logged at most once per interval (one line with the
// counts), so an attack does not turn into a log flood.
import type { Logger } from './logger.ts';

export type SlotKind = 'idle' | 'head' | 'busy';
export type ShedReason = 'global' | 'per-client';

/** At most one log line per this interval says what was shed or refused. */
export const SHED_LOG_INTERVAL_MS = 10_000;

export interface ConnectionLimiterOptions {
  /** The service, for the log line ("http", "dns/tcp"). */
  name: string;
  /** Connections in total. */
  max: number;
  /** Connections per client address. */
  maxPerClient: number;
  /** From this many connections on, the service is under pressure (shorter timeouts). Default: never. */
  pressureAt?: number;
  log: Logger;
  logIntervalMs?: number;
}

export class Slot {
  kind: SlotKind;
  /** When the slot entered its kind (performance.now() ms). */
  since: number;
  released = false;

  constructor(
    private readonly limiter: ConnectionLimiter,
    readonly address: string,
    kind: SlotKind,
    /** Closes the connection at once; the limiter has released the slot already. */
    readonly shed: () => void,
  ) {
    this.kind = kind;
    this.since = performance.now();
  }

  /** The connection now does this; entering the same kind again keeps its start time. */
  set(kind: SlotKind): void {
    if (this.released || kind === this.kind) return;
    this.limiter.move(this, kind);
  }

  /** The connection did something worth keeping it for: it enters its kind again, as of now. */
  restart(): void {
    if (!this.released) this.limiter.move(this, this.kind);
  }

  /** The connection is gone (idempotent). */
  release(): void {
    if (this.released) return;
    this.limiter.remove(this);
  }
}

interface Counts {
  shedIdle: number;
  shedHead: number;
  refused: number;
}

export class ConnectionLimiter {
  private readonly all = new Set<Slot>();
  /** Ordered by the time each slot entered the kind (a Set keeps insertion order). */
  private readonly idle = new Set<Slot>();
  private readonly head = new Set<Slot>();
  private readonly byAddress = new Map<string, Set<Slot>>();
  private counts: Record<ShedReason, Counts> = { global: zero(), 'per-client': zero() };
  private logTimer: NodeJS.Timeout | undefined;

  constructor(readonly opts: ConnectionLimiterOptions) {}

  get size(): number {
    return this.all.size;
  }

  /** Whether timeouts should be short now. */
  get underPressure(): boolean {
    return this.opts.pressureAt !== undefined && this.all.size >= this.opts.pressureAt;
  }

  /** Open connections of one address. */
  countOf(address: string): number {
    return this.byAddress.get(address)?.size ?? 0;
  }

  /**
   * A new connection from `address`: makes room if a cap is reached (shedding the costliest
   * connection, of that address first for the per-client cap), or returns undefined when every
   * connection in the way is busy (refuse it).
   */
  admit(address: string, kind: SlotKind, shed: () => void): Slot | undefined {
    const mine = this.byAddress.get(address);
    if (mine && mine.size >= this.opts.maxPerClient && !this.makeRoom(oldestOf(mine), 'per-client')) return undefined;
    if (this.all.size >= this.opts.max && !this.makeRoom(first(this.idle) ?? first(this.head), 'global')) return undefined;
    const slot = new Slot(this, address, kind, shed);
    this.all.add(slot);
    this.setOf(kind)?.add(slot);
    let set = this.byAddress.get(address);
    if (!set) this.byAddress.set(address, (set = new Set()));
    set.add(slot);
    return slot;
  }

  private makeRoom(victim: Slot | undefined, why: ShedReason): boolean {
    const c = this.counts[why];
    if (!victim) {
      c.refused++;
      this.scheduleLog();
      return false;
    }
    if (victim.kind === 'idle') c.shedIdle++;
    else c.shedHead++;
    this.remove(victim);
    victim.shed();
    this.scheduleLog();
    return true;
  }

  /** @internal (Slot.set) */
  move(slot: Slot, kind: SlotKind): void {
    this.setOf(slot.kind)?.delete(slot);
    slot.kind = kind;
    slot.since = performance.now();
    this.setOf(kind)?.add(slot);
  }

  /** @internal (Slot.release) */
  remove(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    this.all.delete(slot);
    this.setOf(slot.kind)?.delete(slot);
    const set = this.byAddress.get(slot.address);
    if (set) {
      set.delete(slot);
      if (set.size === 0) this.byAddress.delete(slot.address);
    }
  }

  private setOf(kind: SlotKind): Set<Slot> | undefined {
    return kind === 'idle' ? this.idle : kind === 'head' ? this.head : undefined;
  }

  private scheduleLog(): void {
    if (this.logTimer) return;
    this.logTimer = setTimeout(() => this.flushLog(), this.opts.logIntervalMs ?? SHED_LOG_INTERVAL_MS);
    this.logTimer.unref();
  }

  /** Writes the pending counts now (also on close), one line. */
  flushLog(): void {
    clearTimeout(this.logTimer);
    this.logTimer = undefined;
    const { global, 'per-client': perClient } = this.counts;
    if (total(global) + total(perClient) === 0) return;
    this.opts.log.warn(
      {
        service: this.opts.name,
        connections: this.all.size,
        max: this.opts.max,
        maxPerClient: this.opts.maxPerClient,
        // At the global cap: idle connections closed, slow heads closed, newcomers refused.
        global,
        perClient,
      },
      `${this.opts.name}: connection limit reached, connections shed (idle first, then the slowest to send a request)`,
    );
    this.counts = { global: zero(), 'per-client': zero() };
  }
}

function zero(): Counts {
  return { shedIdle: 0, shedHead: 0, refused: 0 };
}

function total(c: Counts): number {
  return c.shedIdle + c.shedHead + c.refused;
}

function first(set: Set<Slot>): Slot | undefined {
  for (const s of set) return s;
  return undefined;
}

/** The costliest of one address's slots: the longest idle, else the oldest head. */
function oldestOf(set: Set<Slot>): Slot | undefined {
  let idle: Slot | undefined;
  let head: Slot | undefined;
  for (const s of set) {
    if (s.kind === 'idle') {
      if (!idle || s.since < idle.since) idle = s;
    } else if (s.kind === 'head' && (!head || s.since < head.since)) head = s;
  }
  return idle ?? head;
}
