// connection-limits.ts on fake connections and a fake clock: who makes room at each cap (the
// longest idle, then the oldest head, the young last and among them the answered ones, never a busy one; the heaviest address
// first), the per-address cap sheds that address's own connections only, a newcomer is refused
// only when everything in the way is busy, the pressure signal and the shrinking timeouts, the
// sweep, and one log line per interval with the counts; the per-address connection rate (token
// buckets refilled exactly on the fake clock).
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../src/logger.ts';
import {
  CONNECTION_BURST,
  CONNECTION_RATE_PER_SECOND,
  ConnectionLimiter,
  ConnectionRate,
  SHED_GRACE_MS,
  type ConnectionLimiterOptions,
  type LimitedConnection,
  type Phase,
  type ShedReason,
  type Slot,
} from '../src/connection-limits.ts';

/** A logger that keeps the warn lines (the only level the limiter logs at). */
function recordingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const noop = () => {};
  const log = { warn: (obj: Record<string, unknown>, msg: string) => lines.push({ ...obj, msg }), info: noop, debug: noop, error: noop } as unknown as Logger;
  return { log, lines };
}

class Fake implements LimitedConnection {
  shedWhy: ShedReason | undefined;
  constructor(
    readonly address: string,
    public state: Phase,
    public since: number,
  ) {}
  phase() {
    return { phase: this.state, since: this.since };
  }
  shed(why: ShedReason) {
    this.shedWhy = why;
  }
}

describe('Slots (the owner says each change of phase)', () => {
  let t = 1_000_000;
  function setup(maxConnections: number, maxConnectionsPerAddress: number, shedLogIntervalMs = 50) {
    const { log, lines } = recordingLogger();
    const limiter = new ConnectionLimiter({ service: 'test', maxConnections, maxConnectionsPerAddress, log, shedLogIntervalMs, now: () => t });
    const shed: string[] = [];
    const admit = (id: string, address: string, phase: Phase): Slot | undefined => limiter.admitSlot(address, phase, () => shed.push(id));
    /** `n` newcomers, each busy at once (the server answers it): what each of them made room by shedding. */
    const newcomers = (n: number): string[] => {
      for (let i = 0; i < n; i++) expect(admit(`new${i}`, `10.0.1.${i}`, 'busy')).toBeDefined();
      return shed;
    };
    return { limiter, admit, newcomers, shed, lines };
  }
  /** Time passes beyond the grace: what happened before is no longer a round trip. */
  const later = () => (t += SHED_GRACE_MS + 1);

  it('at the global cap the longest idle goes first, then the oldest head; busy connections never', () => {
    const { limiter, admit, newcomers } = setup(3, 10);
    const a = admit('a', '10.0.0.1', 'head')!;
    const b = admit('b', '10.0.0.2', 'head')!;
    const c = admit('c', '10.0.0.3', 'head')!;
    t += 10;
    b.set('idle');
    t += 10;
    a.set('idle'); // a idle after b: b has been idle longest
    later();
    // then c, head since first, the only one left that is not busy
    expect(newcomers(3)).toEqual(['b', 'a', 'c']);
    expect(c.released).toBe(true);
    expect(limiter.size).toBe(3);
  });

  it('a head keeps its start time when set to head again; restart() makes an idle one the youngest', () => {
    const { admit, shed } = setup(2, 10);
    const a = admit('a', '10.0.0.1', 'head')!;
    t += 10;
    admit('b', '10.0.0.2', 'head');
    later();
    a.set('head'); // more bytes of the same head: still the oldest
    admit('c', '10.0.0.3', 'busy');
    expect(shed).toEqual(['a']);

    const idle = setup(2, 10);
    const x = idle.admit('x', '10.0.0.1', 'idle')!;
    t += 10;
    idle.admit('y', '10.0.0.2', 'idle');
    later();
    x.restart(); // x answered a query: y is now idle longest
    idle.admit('z', '10.0.0.3', 'head');
    expect(idle.shed).toEqual(['y']);
  });

  it('when every connection is busy the newcomer is refused, and released slots make room again', () => {
    const { limiter, admit, shed } = setup(2, 10);
    const a = admit('a', '10.0.0.1', 'busy')!;
    admit('b', '10.0.0.2', 'busy');
    later();
    expect(admit('c', '10.0.0.3', 'head')).toBeUndefined();
    expect(shed).toEqual([]);
    a.release();
    a.release();
    expect(a.released).toBe(true);
    expect(limiter.size).toBe(1);
    expect(admit('c', '10.0.0.3', 'head')).toBeDefined();
  });

  it('the per-address cap sheds that address’s own costliest connection, never another address’s', () => {
    const { limiter, admit, shed } = setup(100, 2);
    const other = admit('other', '10.0.0.9', 'idle')!;
    admit('x1', '10.0.0.1', 'head');
    const x2 = admit('x2', '10.0.0.1', 'head')!;
    x2.set('idle');
    later();
    expect(admit('x3', '10.0.0.1', 'busy')).toBeDefined();
    expect(shed).toEqual(['x2']);
    expect(admit('x4', '10.0.0.1', 'head')).toBeDefined();
    expect(shed).toEqual(['x2', 'x1']);
    expect(other.released).toBe(false);
    expect(limiter.countOf('10.0.0.1')).toBe(2);
  });

  it('a connection idle or sending for less than the grace goes after the older ones, the oldest of them first', () => {
    const { admit, newcomers } = setup(3, 10);
    admit('head-old', '10.0.0.1', 'head');
    later();
    // idle for a round trip only (a working client between two commands): it goes after the
    // slowloris head, though idle connections go first once past the grace
    admit('idle-young', '10.0.0.2', 'idle');
    t += 10;
    admit('head-young', '10.0.0.3', 'head');
    t += 10;
    // then both young ones, the oldest first, whatever it does
    expect(newcomers(3)).toEqual(['head-old', 'idle-young', 'head-young']);
  });

  it('among the young, one that has had an answer goes after those that never finished a request, however old', () => {
    const { admit, newcomers } = setup(4, 10);
    // a client at work: it was answered, and is between two requests
    const client = admit('client', '10.0.0.1', 'head')!;
    client.set('busy');
    client.set('idle');
    t += 50;
    // a flood's newcomers, younger, never sending a whole request
    admit('flood1', '10.0.0.1', 'idle');
    t += 10;
    admit('flood2', '10.0.0.1', 'head');
    t += 10;
    admit('flood3', '10.0.0.1', 'head');
    expect(newcomers(4)).toEqual(['flood1', 'flood2', 'flood3', 'client']);
  });

  it('an answered connection idle past the grace is still shed before a young one (idle loses nothing)', () => {
    const { admit, newcomers } = setup(2, 10);
    const client = admit('client', '10.0.0.1', 'busy')!;
    client.set('idle');
    later();
    admit('young', '10.0.0.2', 'head');
    expect(newcomers(2)).toEqual(['client', 'young']);
  });

  it('under pressure from pressurePercent of the cap on (50 by default)', () => {
    const { log } = recordingLogger();
    const limiter = new ConnectionLimiter({ service: 'test', maxConnections: 4, maxConnectionsPerAddress: 10, log });
    limiter.admitSlot('10.0.0.1', 'head', () => {});
    expect(limiter.underPressure).toBe(false);
    const b = limiter.admitSlot('10.0.0.2', 'head', () => {})!;
    expect(limiter.underPressure).toBe(true);
    b.release();
    expect(limiter.underPressure).toBe(false);
    const at75 = new ConnectionLimiter({ service: 'test', maxConnections: 4, maxConnectionsPerAddress: 10, pressurePercent: 75, log });
    for (let i = 0; i < 2; i++) at75.admitSlot('10.0.0.1', 'head', () => {});
    expect(at75.underPressure).toBe(false);
    at75.admitSlot('10.0.0.1', 'head', () => {});
    expect(at75.underPressure).toBe(true);
  });

  it('logs what was shed and refused once per interval with the counts per cap, not one line per connection', async () => {
    const { limiter, admit, lines } = setup(1, 1, 50);
    admit('a', '10.0.0.1', 'idle');
    later();
    admit('b', '10.0.0.1', 'head'); // per-address: a (idle) shed
    later();
    admit('c', '10.0.0.2', 'busy'); // global: b (head) shed
    admit('d', '10.0.0.3', 'head'); // global: c busy, refused
    // per-address: c busy, refused, twenty times: still one line, with the count
    for (let i = 0; i < 20; i++) expect(admit('e', '10.0.0.2', 'head')).toBeUndefined();
    expect(lines).toEqual([]);
    await vi.waitFor(() => expect(lines.length).toBe(1), { timeout: 2000, interval: 10 });
    expect(lines[0]).toEqual({
      msg: 'test: connection limit reached, connections shed (idle first, then the slowest to send a request)',
      service: 'test',
      intervalMs: 50,
      shed: 2,
      refused: 21,
      timedOut: 0,
      overRate: 0,
      global: { shedIdle: 0, shedHead: 1, refused: 1 },
      perClient: { shedIdle: 1, shedHead: 0, refused: 20 },
      open: 1,
      max: 1,
      perAddress: 1,
      ratePerSecond: CONNECTION_RATE_PER_SECOND,
      burst: CONNECTION_BURST,
      underPressure: true,
      // whose connections were shed (a, b) or refused (d, e)
      addresses: { '10.0.0.2': 20, '10.0.0.1': 2, '10.0.0.3': 1 },
    });
    limiter.flushLog();
    expect(lines.length).toBe(1);
  });
});

describe('LimitedConnections (the limiter asks each its phase)', () => {
  const t = 1_000_000;
  const now = () => t;
  const limits = {
    maxConnections: 6,
    maxConnectionsPerAddress: 3,
    commandTimeoutMs: 60_000,
    pressureTimeoutMs: 10_000,
    shedLogIntervalMs: 10_000,
    idleTimeoutMs: 300_000,
  } satisfies Partial<ConnectionLimiterOptions>;

  function filled(l: ConnectionLimiter, specs: Array<[string, Phase, number]>): Fake[] {
    return specs.map(([a, p, age]) => {
      const f = new Fake(a, p, t - age);
      expect(l.admit(a)).toBe(true);
      l.add(f);
      return f;
    });
  }

  it('at the global cap: idle first (longest idle), then head (oldest), then the young; never a busy one', () => {
    const { log } = recordingLogger();
    const l = new ConnectionLimiter({ ...limits, service: 'test', log, now });
    const [busy, young, headOld, headNew, idleOld, idleNew] = filled(l, [
      ['10.0.0.1', 'busy', 99_000],
      ['10.0.0.2', 'idle', 10],
      ['10.0.0.3', 'head', 50_000],
      ['10.0.0.4', 'head', 5_000],
      ['10.0.0.5', 'penalty', 20_000],
      ['10.0.0.6', 'idle', 3_000],
    ]);
    const order: Fake[] = [];
    for (let i = 0; i < 5; i++) {
      expect(l.admit(`10.0.1.${i}`)).toBe(true);
      // the newcomer takes the slot (and is busy: the server answers it)
      l.add(new Fake(`10.0.1.${i}`, 'busy', t));
      const victim = [busy, young, headOld, headNew, idleOld, idleNew].find((f) => f!.shedWhy && !order.includes(f!))!;
      order.push(victim);
    }
    expect(order).toEqual([idleOld, idleNew, headOld, headNew, young]);
    expect(order.every((f) => f.shedWhy === 'room')).toBe(true);
    // every connection is busy now: the newcomer is refused
    expect(l.size).toBe(6);
    expect(l.admit('10.0.2.1')).toBe(false);
    expect(busy!.shedWhy).toBeUndefined();
    l.close();
  });

  it('at the per-address cap, the newcomer displaces one of its own address; across addresses the heaviest goes first', () => {
    const { log } = recordingLogger();
    const l = new ConnectionLimiter({ ...limits, service: 'test', log, now });
    const [a1, a2, a3, b1] = filled(l, [
      ['10.0.0.1', 'idle', 5_000],
      ['10.0.0.1', 'idle', 6_000],
      ['10.0.0.1', 'head', 7_000],
      ['10.0.0.2', 'idle', 50_000],
    ]);
    expect(l.admit('10.0.0.1')).toBe(true);
    expect(a2!.shedWhy).toBe('room'); // its own longest idle, not 10.0.0.2's older one
    expect(b1!.shedWhy).toBeUndefined();
    l.add(new Fake('10.0.0.1', 'busy', t));
    l.add(new Fake('10.0.0.3', 'busy', t));
    l.add(new Fake('10.0.0.3', 'busy', t));
    expect(l.size).toBe(6);
    // global cap: among the idle, 10.0.0.1 (3 connections) before 10.0.0.2 (1), though younger
    expect(l.admit('10.0.0.4')).toBe(true);
    expect(a1!.shedWhy).toBe('room');
    expect(b1!.shedWhy).toBeUndefined();
    expect(a3!.shedWhy).toBeUndefined();
    l.close();
  });

  it('timeouts: the configured ones up to half full, shrinking linearly to pressureTimeoutMs when full', () => {
    const { log } = recordingLogger();
    const l = new ConnectionLimiter({ ...limits, maxConnections: 100, maxConnectionsPerAddress: 100, service: 'test', log, now });
    const add = (n: number) => {
      for (let i = 0; i < n; i++) l.add(new Fake('10.0.0.1', 'busy', t));
    };
    expect(l.timeouts()).toEqual({ idleMs: 300_000, commandMs: 60_000 });
    add(50);
    expect(l.timeouts()).toEqual({ idleMs: 300_000, commandMs: 60_000 });
    add(25);
    expect(l.timeouts()).toEqual({ idleMs: 155_000, commandMs: 35_000 });
    expect(l.shrink(2000, 1000)).toBe(1500);
    add(25);
    expect(l.timeouts()).toEqual({ idleMs: 10_000, commandMs: 10_000 });
    l.close();
  });

  it('the sweep closes the idle and the heads past their timeouts, never a busy or penalty one, and counts them', async () => {
    const { log, lines } = recordingLogger();
    const l = new ConnectionLimiter({ ...limits, commandTimeoutMs: 40, pressureTimeoutMs: 40, idleTimeoutMs: 80, shedLogIntervalMs: 20, service: 'pop3', log });
    const idle = new Fake('10.0.0.1', 'idle', Date.now() - 100);
    const head = new Fake('10.0.0.1', 'head', Date.now() - 50);
    const busy = new Fake('10.0.0.1', 'busy', Date.now() - 1000);
    const penalty = new Fake('10.0.0.1', 'penalty', Date.now() - 1000);
    const fresh = new Fake('10.0.0.2', 'idle', Date.now() + 60_000);
    for (const f of [idle, head, busy, penalty, fresh]) l.add(f);
    await vi.waitFor(() => expect(lines.length).toBe(1), { timeout: 2000, interval: 10 });
    expect([idle.shedWhy, head.shedWhy, busy.shedWhy, penalty.shedWhy, fresh.shedWhy]).toEqual(['idle', 'head', undefined, undefined, undefined]);
    expect(lines[0]).toMatchObject({
      msg: 'pop3: idle or slow connections timed out',
      service: 'pop3',
      shed: 0,
      refused: 0,
      timedOut: 2,
      timedOutBy: { idle: 1, head: 1 },
      open: 3,
      addresses: { '10.0.0.1': 2 },
    });
    l.close();
  });
});

describe('the connection rate (a token bucket per address, on a fake clock)', () => {
  it('a burst of `burst` connections, then one per 1/rate s, refilled exactly; never above the burst', () => {
    let t = 5_000_000;
    const r = new ConnectionRate(20, 10, () => t); // 20 a second: a token every 50 ms
    for (let i = 0; i < 10; i++) expect(r.take('10.0.0.1')).toBe(true);
    expect(r.take('10.0.0.1')).toBe(false);
    expect(r.tokens('10.0.0.1')).toBe(0);
    t += 49;
    expect(r.take('10.0.0.1')).toBe(false); // 49 ms: 0.98 of a token
    t += 1;
    expect(r.take('10.0.0.1')).toBe(true); // 50 ms: exactly one (the 0.98 counted, and the refusal took nothing)
    expect(r.take('10.0.0.1')).toBe(false);
    t += 125; // 2.5 tokens
    expect(r.take('10.0.0.1')).toBe(true);
    expect(r.take('10.0.0.1')).toBe(true);
    expect(r.take('10.0.0.1')).toBe(false);
    t += 25; // the half left over and this half: one more
    expect(r.take('10.0.0.1')).toBe(true);
    t += 3_600_000;
    expect(r.tokens('10.0.0.1')).toBe(10); // an hour later: full, not more
    // another address has its own bucket
    for (let i = 0; i < 10; i++) expect(r.take('10.0.0.2')).toBe(true);
    expect(r.take('10.0.0.2')).toBe(false);
    expect(r.take('10.0.0.1')).toBe(true);
  });

  it('remembers a bounded number of addresses: full buckets are forgotten first, then the oldest', () => {
    let t = 0;
    const r = new ConnectionRate(1, 2, () => t, 3);
    r.take('a');
    r.take('a');
    r.take('b');
    r.take('c');
    t += 1000; // b and c are full again, a has one token of two
    r.take('d'); // room made: b and c forgotten
    expect(r.size).toBe(2);
    expect(r.tokens('a')).toBe(1); // a kept its state
    r.take('e');
    r.take('a'); // a: 0 left
    r.take('f'); // nothing full (a: 0, d: 1, e: 1 at this instant): the oldest, a, goes
    expect(r.size).toBe(3);
    expect(r.tokens('a')).toBe(2); // forgotten: a fresh bucket
  });

  it('the limiter: over the rate a connection is closed at accept and counted on the log line; 0 turns it off', () => {
    let t = 1_000_000;
    const { log, lines } = recordingLogger();
    const limiter = new ConnectionLimiter({
      service: 'test',
      maxConnections: 100,
      maxConnectionsPerAddress: 100,
      connectionRatePerSecond: 10,
      connectionBurst: 3,
      log,
      now: () => t,
    });
    expect([1, 2, 3, 4, 5].map(() => limiter.overRate('10.0.0.9'))).toEqual([false, false, false, true, true]);
    expect(limiter.overRate('10.0.0.8')).toBe(false);
    t += 100; // one token
    expect([limiter.overRate('10.0.0.9'), limiter.overRate('10.0.0.9')]).toEqual([false, true]);
    limiter.flushLog();
    expect(lines).toEqual([
      expect.objectContaining({
        msg: "test: connections over their address's rate closed at accept",
        overRate: 3,
        shed: 0,
        refused: 0,
        ratePerSecond: 10,
        burst: 3,
        addresses: { '10.0.0.9': 3 },
      }),
    ]);
    const off = new ConnectionLimiter({ service: 'test', maxConnections: 100, maxConnectionsPerAddress: 100, connectionRatePerSecond: 0, log, now: () => t });
    for (let i = 0; i < 1000; i++) expect(off.overRate('10.0.0.9')).toBe(false);
  });

  it('the defaults let a browser, a mail client and a test suite through and hold a reconnecting flood to the rate', () => {
    let t = 0;
    const limiter = new ConnectionLimiter({ service: 'test', maxConnections: 10, maxConnectionsPerAddress: 10, log: recordingLogger().log, now: () => t });
    // a burst of CONNECTION_BURST at once, then CONNECTION_RATE_PER_SECOND a second for ever
    let admitted = 0;
    for (let i = 0; i < CONNECTION_BURST; i++) admitted += limiter.overRate('10.0.0.1') ? 0 : 1;
    expect(admitted).toBe(CONNECTION_BURST);
    admitted = 0;
    for (let ms = 0; ms < 10_000; ms++) {
      t++;
      // a flood: 5 attempts a millisecond (the slowloris of the mail tests reached 3.5 a ms)
      for (let k = 0; k < 5; k++) admitted += limiter.overRate('10.0.0.1') ? 0 : 1;
    }
    expect(admitted).toBe(10 * CONNECTION_RATE_PER_SECOND);
  });
});
