// Forwarding names outside our zones (BIND's `forward only`): each upstream query goes out with
// a random ID from a fresh socket on a random port (RFC 5452 §4, §9.2); a reply counts only when
// it comes from the forwarder's address and port with our ID and our question (§9.1). No reply
// in time: the next forwarder; none left: SERVFAIL. A truncated reply is asked again over TCP
// (RFC 7766 §5). Answers are cached for their TTL, negative ones for the SOA's negative TTL
// (RFC 2308 §5), in a bounded LRU; identical questions in flight share one upstream query.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from '@sstt/runtime';
import type { Endpoint } from '@sstt/scenario';
import { createRequire } from 'node:module';
import { RCODE, typeName } from './wire.ts';

// dns-packet's own name <-> number tables (UNKNOWN_n for types it has no name for).
const require = createRequire(import.meta.url);
const dnsTypes = require('dns-packet/types.js') as { toString(n: number): string; toType(s: string): number };
const dnsClasses = require('dns-packet/classes.js') as { toString(n: number): string; toClass(s: string): number };

/** Wait for one forwarder before trying the next (BIND tries a forwarder for about 800 ms-2 s). */
export const FORWARD_TIMEOUT_MS = 1500;
/** Most cached answers (positive and negative together). */
export const CACHE_MAX_ENTRIES = 10_000;
/** BIND's max-cache-ttl and max-ncache-ttl defaults. */
export const MAX_CACHE_TTL = 604_800;
export const MAX_NCACHE_TTL = 10_800;
/** Our EDNS buffer size in queries to forwarders (RFC 6891 §6.2.5; the 2020 DNS flag day value). */
export const UPSTREAM_UDP_SIZE = 1232;

type Record_ = dnsPacket.Answer;

export interface Upstream {
  rcode: number;
  answers: Record_[];
  authorities: Record_[];
  additionals: Record_[];
}

export interface ForwarderOptions {
  forwarders: Endpoint[];
  timeoutMs?: number;
  cacheEntries?: number;
  log?: Logger;
  /** The clock of the cache's TTLs (ms); Date.now by default (tests count TTLs down without waiting). */
  now?: () => number;
}

export interface Forwarder {
  /** The answer for a question, from the cache or the forwarders; SERVFAIL when none answers. */
  resolve(qname: string, qtype: number, qclass: number): Promise<Upstream>;
  /** The cached answer, if any (for queries without RD). */
  peek(qname: string, qtype: number, qclass: number): Upstream | undefined;
  /**
   * The closest delegation the upstream replies have shown for `qname` (NS RRset + addresses of
   * the name servers), as a referral (RFC 1034 §4.3.2 step 4); undefined when none is known.
   */
  referral(qname: string): Upstream | undefined;
  /** How many upstream queries were sent (for tests and logs). */
  readonly sent: number;
  close(): void;
}

interface CacheEntry {
  value: Upstream;
  storedAt: number;
  ttl: number;
}

const SERVFAIL: Upstream = { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] };

function rcodeOf(p: dnsPacket.DecodedPacket): number {
  return (p.flags ?? 0) & 0x0f;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const timeoutMs = opts.timeoutMs ?? FORWARD_TIMEOUT_MS;
  const maxEntries = opts.cacheEntries ?? CACHE_MAX_ENTRIES;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<Upstream>>();
  /** NS RRsets and addresses seen in upstream replies, by lower-case owner (bounded like the cache). */
  const delegations = new Map<string, { records: Record_[]; expires: number }>();
  const addresses = new Map<string, { records: Record_[]; expires: number }>();
  const open = new Set<{ close(): void }>();
  let sent = 0;
  let closed = false;

  const keyOf = (qname: string, qtype: number, qclass: number) => `${qname.toLowerCase()}|${qtype}|${qclass}`;

  function peek(qname: string, qtype: number, qclass: number): Upstream | undefined {
    const key = keyOf(qname, qtype, qclass);
    const e = cache.get(key);
    if (!e) return undefined;
    // Whole seconds of the clock, as BIND counts them: TTLs agree with a BIND that fetched in
    // the same second.
    const age = Math.floor(now() / 1000) - Math.floor(e.storedAt / 1000);
    if (age >= e.ttl) {
      cache.delete(key);
      return undefined;
    }
    // LRU: a hit moves the entry to the young end.
    cache.delete(key);
    cache.set(key, e);
    const dec = (r: Record_): Record_ =>
      (r as { type: string }).type === 'OPT' ? r : ({ ...r, ttl: Math.max(0, ((r as { ttl?: number }).ttl ?? 0) - age) } as Record_);
    return { rcode: e.value.rcode, answers: e.value.answers.map(dec), authorities: e.value.authorities.map(dec), additionals: e.value.additionals.map(dec) };
  }

  function store(key: string, value: Upstream): void {
    let ttl: number | undefined;
    const ttls = (rs: Record_[]) => rs.map((r) => (r as { ttl?: number }).ttl ?? 0);
    if (value.rcode === RCODE.NOERROR && value.answers.length) {
      ttl = Math.min(MAX_CACHE_TTL, ...ttls(value.answers));
    } else if (value.rcode === RCODE.NOERROR || value.rcode === RCODE.NXDOMAIN) {
      // RFC 2308 §5: a negative answer without a SOA is not cached.
      const soa = value.authorities.find((r) => r.type === 'SOA') as (dnsPacket.StringAnswer & { data: { minimum: number }; ttl?: number }) | undefined;
      if (soa) ttl = Math.min(MAX_NCACHE_TTL, soa.ttl ?? 0, soa.data.minimum);
    }
    learn(value);
    if (!ttl) return;
    cache.delete(key);
    cache.set(key, { value, storedAt: now(), ttl });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  }

  /** Remembers the NS RRsets and name-server addresses an upstream reply carried. */
  function learn(value: Upstream): void {
    const sec = Math.floor(now() / 1000);
    const group = (records: Record_[], types: string[], into: typeof delegations) => {
      const by = new Map<string, Record_[]>();
      for (const r of records)
        if (types.includes(r.type)) by.set(`${r.name.toLowerCase()}|${r.type}`, [...(by.get(`${r.name.toLowerCase()}|${r.type}`) ?? []), r]);
      for (const [k, rs] of by) {
        const ttl = Math.min(MAX_CACHE_TTL, ...rs.map((r) => (r as { ttl?: number }).ttl ?? 0));
        if (!ttl) continue;
        into.delete(k);
        into.set(k, { records: rs, expires: sec + ttl });
        while (into.size > maxEntries) into.delete(into.keys().next().value!);
      }
    };
    group([...value.answers, ...value.authorities], ['NS'], delegations);
    group([...value.answers, ...value.additionals], ['A', 'AAAA'], addresses);
  }

  function referral(qname: string): Upstream | undefined {
    const sec = Math.floor(now() / 1000);
    const live = (e: { records: Record_[]; expires: number } | undefined) =>
      e && e.expires > sec ? e.records.map((r) => ({ ...r, ttl: e.expires - sec }) as Record_) : undefined;
    let name = qname.toLowerCase();
    for (;;) {
      const ns = live(delegations.get(`${name}|NS`));
      if (ns) {
        const additionals: Record_[] = [];
        for (const r of ns) {
          const target = String((r as { data: string }).data).toLowerCase();
          for (const t of ['A', 'AAAA']) additionals.push(...(live(addresses.get(`${target}|${t}`)) ?? []));
        }
        return { rcode: RCODE.NOERROR, answers: [], authorities: ns, additionals };
      }
      const i = name.indexOf('.');
      if (i < 0) return undefined;
      name = name.slice(i + 1);
    }
  }

  function matches(reply: dnsPacket.DecodedPacket, id: number, qname: string, qtype: number, qclass: number): boolean {
    if (reply.id !== id || reply.type !== 'response') return false;
    const q = reply.questions?.[0];
    if (!q || reply.questions!.length !== 1) return false;
    return q.name.toLowerCase() === qname.toLowerCase() && dnsTypes.toType(q.type) === qtype && dnsClasses.toClass(q.class ?? 'IN') === qclass;
  }

  function query(qname: string, qtype: number, qclass: number, id: number): Buffer {
    return dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: qname, type: dnsTypes.toString(qtype) as dnsPacket.RecordType, class: dnsClasses.toString(qclass) as dnsPacket.RecordClass }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UPSTREAM_UDP_SIZE, flags: 0, options: [] } as unknown as dnsPacket.Answer],
    });
  }

  /**
   * The life of one upstream exchange: it is open (close() ends it) until the first of a
   * matching reply, an error or the timeout. `start` wires a socket to `finish` and returns how to
   * close that socket.
   */
  function exchange(start: (finish: (reply: dnsPacket.DecodedPacket | undefined) => void) => () => void): Promise<dnsPacket.DecodedPacket | undefined> {
    return new Promise((resolve) => {
      let done = false;
      let closeSocket: (() => void) | undefined;
      const handle = { close: () => finish(undefined) };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      timer.unref();
      function finish(reply: dnsPacket.DecodedPacket | undefined): void {
        if (done) return;
        done = true;
        clearTimeout(timer);
        open.delete(handle);
        closeSocket?.();
        resolve(reply);
      }
      open.add(handle);
      closeSocket = start(finish);
      if (done) closeSocket();
    });
  }

  /** One UDP exchange with one forwarder, from a fresh socket; undefined on timeout or error. */
  function askUdp(fw: Endpoint, qname: string, qtype: number, qclass: number): Promise<dnsPacket.DecodedPacket | undefined> {
    const id = randomInt(0x10000);
    return exchange((finish) => {
      const sock = dgram.createSocket(net.isIPv6(fw.host) ? 'udp6' : 'udp4');
      sock.on('error', () => finish(undefined));
      sock.on('message', (msg, rinfo) => {
        // Anti-spoofing (RFC 5452 §9.1): source address and port, ID, question.
        if (rinfo.port !== fw.port || !sameAddress(rinfo.address, fw.host)) return;
        let reply: dnsPacket.DecodedPacket;
        try {
          reply = dnsPacket.decode(msg);
        } catch {
          return;
        }
        if (matches(reply, id, qname, qtype, qclass)) finish(reply);
      });
      // Port 0: the kernel picks a random ephemeral port for every query.
      sock.bind(0, () => {
        sent++;
        sock.send(query(qname, qtype, qclass, id), fw.port, fw.host, (err) => err && finish(undefined));
      });
      return () => {
        try {
          sock.close();
        } catch {
          // already closed
        }
      };
    });
  }

  /** One TCP exchange (RFC 7766 §8 framing). */
  function askTcp(fw: Endpoint, qname: string, qtype: number, qclass: number): Promise<dnsPacket.DecodedPacket | undefined> {
    const id = randomInt(0x10000);
    return exchange((finish) => {
      const sock = net.connect({ host: fw.host, port: fw.port });
      let buf = Buffer.alloc(0);
      sock.on('error', () => finish(undefined));
      sock.on('close', () => finish(undefined));
      sock.on('connect', () => {
        sent++;
        const q = query(qname, qtype, qclass, id);
        const framed = Buffer.alloc(q.length + 2);
        framed.writeUInt16BE(q.length);
        q.copy(framed, 2);
        sock.write(framed);
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          try {
            const reply = dnsPacket.decode(msg);
            if (matches(reply, id, qname, qtype, qclass)) return finish(reply);
          } catch {
            return finish(undefined);
          }
        }
      });
      return () => sock.destroy();
    });
  }

  async function fetchUpstream(qname: string, qtype: number, qclass: number): Promise<Upstream> {
    for (const fw of opts.forwarders) {
      if (closed) break;
      let reply = await askUdp(fw, qname, qtype, qclass);
      if (reply && reply.flags !== undefined && reply.flags & dnsPacket.TRUNCATED_RESPONSE) reply = await askTcp(fw, qname, qtype, qclass);
      if (!reply) {
        opts.log?.debug({ forwarder: `${fw.host}:${fw.port}`, qname, qtype: typeName(qtype) }, 'forwarder did not answer');
        continue;
      }
      const rcode = rcodeOf(reply);
      // A forwarder that fails or refuses is as good as silent: try the next one.
      if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED || rcode === RCODE.NOTIMP || rcode === RCODE.FORMERR) continue;
      return {
        rcode,
        answers: reply.answers ?? [],
        authorities: reply.authorities ?? [],
        additionals: (reply.additionals ?? []).filter((r) => r.type !== 'OPT'),
      };
    }
    return SERVFAIL;
  }

  /** One question: the cache, else the question already in flight, else the forwarders. */
  function resolveOne(qname: string, qtype: number, qclass: number): Promise<Upstream> {
    const hit = peek(qname, qtype, qclass);
    if (hit) return Promise.resolve(hit);
    const key = keyOf(qname, qtype, qclass);
    const pending = inflight.get(key);
    if (pending) return pending;
    const p = fetchUpstream(qname, qtype, qclass).then((v) => {
      inflight.delete(key);
      store(key, v);
      return v;
    });
    inflight.set(key, p);
    return p;
  }

  /**
   * RFC 1034 §5.3.3: when the upstream's answer ends in a CNAME whose target it did not answer
   * (an authoritative upstream stops at its zone's edge), ask again for the target, as BIND does.
   */
  async function resolveChain(qname: string, qtype: number, qclass: number): Promise<Upstream> {
    let up = await resolveOne(qname, qtype, qclass);
    if (qtype === TYPE_CNAME || qtype === TYPE_ANY) return up;
    const answers = [...up.answers];
    const asked = new Set([qname.toLowerCase()]);
    for (let hop = 0; hop < MAX_CHASE && up.rcode === RCODE.NOERROR; hop++) {
      const end = chainEnd(answers, qname);
      if (asked.has(end)) break;
      if (answers.some((r) => r.name.toLowerCase() === end && dnsTypes.toType(r.type) === qtype)) break;
      asked.add(end);
      const next = await resolveOne(end, qtype, qclass);
      if (next.rcode === RCODE.SERVFAIL) break;
      for (const r of next.answers) if (!answers.some((a) => sameRecord(a, r))) answers.push(r);
      up = { rcode: next.rcode, answers, authorities: next.authorities, additionals: next.additionals };
    }
    return { ...up, answers };
  }

  return {
    get sent() {
      return sent;
    },
    peek,
    referral,
    resolve: resolveChain,
    close() {
      closed = true;
      for (const h of [...open]) h.close();
    },
  };
}

const TYPE_CNAME = 5;
const TYPE_ANY = 255;
/** CNAME targets asked again after the first answer (BIND restarts a query up to 16 times). */
export const MAX_CHASE = 8;

/** Where a CNAME chain starting at `qname` ends inside these records (lower case). */
function chainEnd(records: Record_[], qname: string): string {
  let name = qname.toLowerCase();
  for (let i = 0; i < 16; i++) {
    const c = records.find((r) => r.type === 'CNAME' && r.name.toLowerCase() === name);
    if (!c) break;
    name = String((c as { data: string }).data).toLowerCase();
  }
  return name;
}

function sameRecord(a: Record_, b: Record_): boolean {
  return (
    a.type === b.type &&
    a.name.toLowerCase() === b.name.toLowerCase() &&
    JSON.stringify((a as { data?: unknown }).data) === JSON.stringify((b as { data?: unknown }).data)
  );
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (x: string) => x.replace(/^::ffff:/i, '');
  return strip(a) === strip(b);
}
