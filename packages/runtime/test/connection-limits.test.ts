// connection-limits.ts: who makes room at each cap (the longest idle, then the oldest head, never
// a busy one), the per-client cap sheds that client's own connections only, a newcomer is
// refused only when everything in the way is busy, and the log says so once per interval.
import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../src/logger.ts';
import { ConnectionLimiter, type Slot, type SlotKind } from '../src/connection-limits.ts';

function setup(max: number, maxPerClient: number, logIntervalMs = 50) {
  const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const log = { warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }) } as unknown as Logger;
  const limiter = new ConnectionLimiter({ name: 'test', max, maxPerClient, pressureAt: Math.ceil(max / 2), log, logIntervalMs });
  const shed: string[] = [];
  const admit = (id: string, address: string, kind: SlotKind): Slot | undefined => limiter.admit(address, kind, () => shed.push(id));
  return { limiter, admit, shed, warnings };
}

describe('ConnectionLimiter', () => {
  it('at the global cap the longest idle goes first, then the oldest head; busy connections never', () => {
    const { limiter, admit, shed } = setup(3, 10);
    const a = admit('a', '10.0.0.1', 'head')!;
    const b = admit('b', '10.0.0.2', 'head')!;
    const c = admit('c', '10.0.0.3', 'head')!;
    b.set('idle');
    a.set('idle'); // a idle after b: b has been idle longest
    expect(admit('d', '10.0.0.4', 'head')).toBeDefined();
    expect(shed).toEqual(['b']);
    expect(admit('e', '10.0.0.5', 'head')).toBeDefined();
    expect(shed).toEqual(['b', 'a']);
    // Now c (head since first) is the oldest head.
    expect(admit('f', '10.0.0.6', 'head')).toBeDefined();
    expect(shed).toEqual(['b', 'a', 'c']);
    expect(c.released).toBe(true);
    expect(limiter.size).toBe(3);
  });

  it('a head keeps its start time when set to head again; restart() makes an idle one the youngest', () => {
    const { admit, shed } = setup(2, 10);
    const a = admit('a', '10.0.0.1', 'head')!;
    admit('b', '10.0.0.2', 'head');
    a.set('head'); // more bytes of the same head: still the oldest
    admit('c', '10.0.0.3', 'head');
    expect(shed).toEqual(['a']);

    const idle = setup(2, 10);
    const x = idle.admit('x', '10.0.0.1', 'idle')!;
    idle.admit('y', '10.0.0.2', 'idle');
    x.restart(); // x answered a query: y is now idle longest
    idle.admit('z', '10.0.0.3', 'head');
    expect(idle.shed).toEqual(['y']);
  });

  it('when every connection is busy the newcomer is refused, and released slots make room again', () => {
    const { limiter, admit, shed } = setup(2, 10);
    const a = admit('a', '10.0.0.1', 'busy')!;
    admit('b', '10.0.0.2', 'busy');
    expect(admit('c', '10.0.0.3', 'head')).toBeUndefined();
    expect(shed).toEqual([]);
    a.release();
    a.release();
    expect(limiter.size).toBe(1);
    expect(admit('c', '10.0.0.3', 'head')).toBeDefined();
  });

  it('the per-client cap sheds that client’s own costliest connection, never another client’s', () => {
    const { limiter, admit, shed } = setup(100, 2);
    const other = admit('other', '10.0.0.9', 'idle')!;
    admit('x1', '10.0.0.1', 'head');
    const x2 = admit('x2', '10.0.0.1', 'head')!;
    x2.set('idle');
    expect(admit('x3', '10.0.0.1', 'head')).toBeDefined();
    expect(shed).toEqual(['x2']);
    expect(admit('x4', '10.0.0.1', 'head')).toBeDefined();
    expect(shed).toEqual(['x2', 'x1']);
    expect(other.released).toBe(false);
    expect(limiter.countOf('10.0.0.1')).toBe(2);
  });

  it('under pressure from half the cap on', () => {
    const { limiter, admit } = setup(4, 10);
    admit('a', '10.0.0.1', 'head');
    expect(limiter.underPressure).toBe(false);
    const b = admit('b', '10.0.0.2', 'head')!;
    expect(limiter.underPressure).toBe(true);
    b.release();
    expect(limiter.underPressure).toBe(false);
  });

  it('logs what was shed and refused once per interval, with the counts', async () => {
    const { limiter, admit, warnings } = setup(1, 1, 50);
    admit('a', '10.0.0.1', 'idle');
    admit('b', '10.0.0.1', 'head'); // per-client: a (idle) shed
    admit('c', '10.0.0.2', 'busy'); // global: b (head) shed
    admit('d', '10.0.0.3', 'head'); // global: c busy, refused
    expect(warnings).toEqual([]);
    await vi.waitFor(() => expect(warnings.length).toBe(1), { timeout: 2000, interval: 10 });
    expect(warnings[0]!.msg).toBe('test: connection limit reached, connections shed (idle first, then the slowest to send a request)');
    expect(warnings[0]!.obj).toEqual({
      service: 'test',
      connections: 1,
      max: 1,
      maxPerClient: 1,
      global: { shedIdle: 0, shedHead: 1, refused: 1 },
      perClient: { shedIdle: 1, shedHead: 0, refused: 0 },
    });
    limiter.flushLog();
    expect(warnings.length).toBe(1);
  });
});
