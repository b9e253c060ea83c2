// Forwarding to a local upstream stub (never a real resolver): relay, cache, negative cache,
// coalescing, failover, SERVFAIL, TCP retry after TC, anti-spoofing, a CNAME leaving our zone.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { createForwarder, type Upstream } from '../src/forward.ts';
import { ask, flags, rcode, rrs, startDns, startSilent, startStub, testScenario, type StubAnswer, type Transport } from './helpers.ts';

const s = testScenario();

const A = (name: string, data: string, ttl = 300) => ({ type: 'A' as const, name, ttl, class: 'IN' as const, data });
const SOA_EXAMPLE = {
  type: 'SOA' as const,
  name: 'example.test',
  ttl: 900,
  class: 'IN' as const,
  data: { mname: 'ns.example.test', rname: 'admin.example.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 120 },
};

const table = (name: string, type: string): StubAnswer | undefined => {
  if (name === 'www.example.test' && type === 'A') {
    return { answers: [{ type: 'CNAME', name: 'www.example.test', ttl: 300, class: 'IN', data: 'web.example.test' }, A('web.example.test', '10.9.9.9')] };
  }
  if (name === 'nope.example.test') return { rcode: 3, authorities: [SOA_EXAMPLE] };
  if (name === 'slow.example.test') return { answers: [A(name, '10.9.9.8')], delayMs: 200 };
  if (name === 'big.example.test') return { answers: [A(name, '10.9.9.7')], truncateUdp: true };
  if (name === 'spoof.example.test') return { answers: [A(name, '10.9.9.6')], spoofFirst: true };
  if (name === 'short.example.test') return { answers: [A(name, '10.9.9.5', 1)] };
  if (name === 'deleg.example.test') {
    return {
      answers: [A(name, '10.9.9.4')],
      authorities: [{ type: 'NS', name: 'example.test', ttl: 600, class: 'IN', data: 'ns.example.test' }],
      additionals: [A('ns.example.test', '10.9.9.53', 600)],
    };
  }
  if (name.endsWith('example.test')) return { answers: [A(name, '10.9.9.1')] };
  return undefined;
};

let stub: Awaited<ReturnType<typeof startStub>>;
let dead: Awaited<ReturnType<typeof startSilent>>;
let port = 0;
let failoverPort = 0;
let deadPort = 0;
let outPort = 0;
const closers: Array<() => unknown> = [];
const zdir = tempDir('sstt-dns-out-');

beforeAll(async () => {
  stub = await startStub(table);
  dead = await startSilent();
  const main = await startDns({ scenario: s, forwarders: [stub.endpoint] });
  port = main.port;
  const failover = await startDns({ scenario: s, forwarders: [dead.endpoint, stub.endpoint], forwardTimeoutMs: 300 });
  failoverPort = failover.port;
  const none = await startDns({ scenario: s, forwarders: [dead.endpoint], forwardTimeoutMs: 200 });
  deadPort = none.port;
  const file = path.join(zdir.dir, 'db.lab.test');
  fs.writeFileSync(file, '$TTL 60\n@ SOA ns admin 1 60 60 60 60\n@ NS ns\nns A 10.1.1.1\nalias CNAME www.example.test.\n');
  const out = await startDns({ scenario: s, forwarders: [stub.endpoint], zoneFiles: [{ origin: 'lab.test', file }] });
  outPort = out.port;
  closers.push(main.close, failover.close, none.close, out.close, stub.close, dead.close, zdir.remove);
});

afterAll(async () => {
  for (const c of closers) await c();
});

const upstreamCount = (name: string) => stub.seen.filter((q) => q.name.toLowerCase() === name).length;

describe.each<Transport>(['udp', 'tcp'])('forwarding over %s', (t) => {
  it('relays the upstream answer with its CNAME chain: no aa, ra, RD sent upstream', async () => {
    const name = `www.example.test`;
    const r = await ask(t, port, { name });
    expect(rcode(r)).toBe('NOERROR');
    expect(flags(r)).toBe('qr rd ra');
    expect(rrs(r.answers).map((x) => x.replace(/ \d+ /, ' '))).toEqual(['www.example.test CNAME web.example.test', 'web.example.test A 10.9.9.9']);
    expect(stub.seen.find((q) => q.name === name)!.rd).toBe(true);
  });

  it('keeps the question case of the client', async () => {
    const r = await ask(t, port, { name: 'MiXeD.Example.TEST' });
    expect(r.questions![0]!.name).toBe('MiXeD.Example.TEST');
    expect(rrs(r.answers)).toEqual([expect.stringMatching(/^mixed\.example\.test \d+ A 10\.9\.9\.1$/i)]);
  });

  it('NXDOMAIN relayed with the SOA, then served from the negative cache', async () => {
    const before = upstreamCount('nope.example.test');
    const r = await ask(t, port, { name: 'nope.example.test' });
    expect(rcode(r)).toBe('NXDOMAIN');
    expect(rrs(r.authorities)[0]).toMatch(/^example\.test \d+ SOA ns\.example\.test admin\.example\.test 1 3600 600 86400 120$/);
    const again = await ask(t, port, { name: 'nope.example.test' });
    expect(rcode(again)).toBe('NXDOMAIN');
    expect(upstreamCount('nope.example.test')).toBeLessThanOrEqual(before + 1);
  });

  it('a truncated upstream answer is asked again over TCP', async () => {
    const r = await ask(t, port, { name: 'big.example.test' });
    expect(rrs(r.answers)).toEqual([expect.stringMatching(/^big\.example\.test \d+ A 10\.9\.9\.7$/)]);
    expect(stub.seen.filter((q) => q.name === 'big.example.test').map((q) => q.transport)).toContain('tcp');
  });

  it('a reply with the wrong ID is ignored; the right one is taken', async () => {
    const r = await ask(t, port, { name: 'spoof.example.test' });
    expect(rrs(r.answers)).toEqual([expect.stringMatching(/ A 10\.9\.9\.6$/)]);
  });

  it('a silent forwarder: the next one answers', async () => {
    const before = dead.received();
    const r = await ask(t, failoverPort, { name: `f-${t}.example.test` });
    expect(rrs(r.answers)).toEqual([expect.stringMatching(/ A 10\.9\.9\.1$/)]);
    expect(dead.received()).toBe(before + 1);
  });

  it('no forwarder answers: SERVFAIL', async () => {
    const r = await ask(t, deadPort, { name: `gone-${t}.example.test` });
    expect(rcode(r)).toBe('SERVFAIL');
    expect(flags(r)).toBe('qr rd ra');
  });

  it('a CNAME of our zone pointing outside: our CNAME, then the forwarded answer', async () => {
    const r = await ask(t, outPort, { name: 'alias.lab.test' });
    expect(rcode(r)).toBe('NOERROR');
    expect(rrs(r.answers).map((x) => x.replace(/ \d+ /, ' '))).toEqual([
      'alias.lab.test CNAME www.example.test',
      'www.example.test CNAME web.example.test',
      'web.example.test A 10.9.9.9',
    ]);
  });
});

describe('forwarding details', () => {
  it('random IDs and source ports for upstream queries', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `rnd${i}.example.test`);
    for (const name of names) await ask('udp', port, { name });
    const qs = stub.seen.filter((q) => names.includes(q.name));
    expect(new Set(qs.map((q) => q.id)).size).toBeGreaterThan(4);
    expect(new Set(qs.map((q) => q.port)).size).toBeGreaterThan(4);
  });

  it('a burst of identical questions sends one upstream query', async () => {
    const before = upstreamCount('slow.example.test');
    const replies = await Promise.all(Array.from({ length: 20 }, () => ask('udp', port, { name: 'slow.example.test' })));
    expect(replies.every((r) => rrs(r.answers).length === 1)).toBe(true);
    expect(upstreamCount('slow.example.test')).toBe(before + 1);
  });

  it('the cache honours the TTL and counts it down, in whole seconds as BIND (the forwarder on a fake clock)', async () => {
    // Time is the subject: the forwarder's cache runs on a clock the test moves, against the same
    // stub upstream over real sockets.
    let t = 1_700_000_000_000; // a whole second
    const f = createForwarder({ forwarders: [stub.endpoint], now: () => t });
    try {
      const ttlOf = (u: Upstream | undefined) => u?.answers.map((r) => (r as { ttl?: number }).ttl);
      expect(ttlOf(await f.resolve('cached.example.test', 1, 1))).toEqual([300]);
      expect(f.sent).toBe(1);
      t += 100_999; // 100.999 s later: 100 whole seconds have passed
      expect(ttlOf(await f.resolve('cached.example.test', 1, 1))).toEqual([200]);
      expect(f.sent).toBe(1);
      t += 199_000; // 299.999 s: one second left
      expect(ttlOf(f.peek('cached.example.test', 1, 1))).toEqual([1]);
      t += 1; // 300 s: expired; the next query goes upstream again
      expect(f.peek('cached.example.test', 1, 1)).toBeUndefined();
      expect(ttlOf(await f.resolve('cached.example.test', 1, 1))).toEqual([300]);
      expect(f.sent).toBe(2);
      // A 1-second TTL lives until the clock's next whole second.
      expect(ttlOf(await f.resolve('short.example.test', 1, 1))).toEqual([1]);
      t += 999;
      expect(ttlOf(f.peek('short.example.test', 1, 1))).toEqual([1]);
      t += 1;
      expect(f.peek('short.example.test', 1, 1)).toBeUndefined();
      await f.resolve('short.example.test', 1, 1);
      expect(f.sent).toBe(4);
    } finally {
      f.close();
    }
  });

  it('through the server, a cached answer is not asked upstream again', async () => {
    const first = await ask('udp', port, { name: 'kept.example.test' });
    expect(rrs(first.answers)).toEqual(['kept.example.test 300 A 10.9.9.1']);
    const n = upstreamCount('kept.example.test');
    await ask('udp', port, { name: 'kept.example.test' });
    expect(upstreamCount('kept.example.test')).toBe(n);
  });

  it('a bounded cache', async () => {
    const small = await startDns({ scenario: s, forwarders: [stub.endpoint], cacheEntries: 2 });
    try {
      for (const name of ['c1.example.test', 'c2.example.test', 'c3.example.test']) await ask('udp', small.port, { name });
      const n = upstreamCount('c1.example.test');
      await ask('udp', small.port, { name: 'c1.example.test' });
      expect(upstreamCount('c1.example.test')).toBe(n + 1);
    } finally {
      await small.close();
    }
  });

  it('without RD, a name below a delegation seen upstream gets that referral (as BIND)', async () => {
    await ask('udp', port, { name: 'deleg.example.test' });
    const r = await ask('udp', port, { name: 'other.example.test', rd: false });
    expect(flags(r)).toBe('qr ra');
    expect(rrs(r.answers)).toEqual([]);
    expect(rrs(r.authorities)).toEqual([expect.stringMatching(/^example\.test \d+ NS ns\.example\.test$/)]);
    expect(rrs(r.additionals)).toEqual([expect.stringMatching(/^ns\.example\.test \d+ A 10\.9\.9\.53$/)]);
  });

  it('without RD, an outside name that is not cached gets the root referral (as BIND); a cached one is answered', async () => {
    const r = await ask('udp', port, { name: 'never.other.test', rd: false });
    expect(rcode(r)).toBe('NOERROR');
    expect(flags(r)).toBe('qr ra');
    expect(rrs(r.authorities).length).toBe(13);
    expect(rrs(r.authorities)[0]).toBe('. 518400 NS A.ROOT-SERVERS.NET');
    await ask('udp', port, { name: 'cached.example.test' });
    const c = await ask('udp', port, { name: 'cached.example.test', rd: false });
    expect(rrs(c.answers)).toEqual([expect.stringMatching(/ A 10\.9\.9\.1$/)]);
  });
});
