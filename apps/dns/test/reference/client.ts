// Sending one query to a server over UDP or TCP (RFC 7766 2-byte framing) with dns-packet, and
// reducing the reply to what the differential test compares.
import { udpExchange } from '@sstt/testkit';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';

export interface Query {
  /** A short label for reports. */
  label: string;
  name: string;
  type: string;
  /** RD bit (default true, as dig sets it). */
  rd?: boolean;
  /** EDNS(0) UDP size; undefined: no OPT record. */
  edns?: number;
  ednsVersion?: number;
  /** DNSSEC OK bit in the OPT TTL flags. */
  dnssecOk?: boolean;
  /** EDNS options (RFC 6891 §6.1.2), e.g. a client COOKIE (RFC 7873, code 10). */
  ednsOptions?: Array<{ code: number; data: Buffer }>;
  tcp?: boolean;
  /** Opcode (RFC 1035 §4.1.1), default 0 (QUERY). */
  opcode?: number;
  /** A hand-made message instead of the one built from the fields above. */
  raw?: (id: number) => Buffer;
  /** Local address to send from (a loopback address outside `allow-query`). */
  source?: string;
  /** How long to wait for a reply (short where silence is the expected answer). */
  timeoutMs?: number;
  /** TTLs may differ by up to this many seconds (forwarded, cached answers). */
  ttlSlack?: number;
}

export interface Server {
  host: string;
  port: number;
}

const TIMEOUT_MS = 4000;

export function buildQuery(q: Query, id: number): Buffer {
  if (q.raw) return q.raw(id);
  let flags = (q.opcode ?? 0) << 11;
  if (q.rd ?? true) flags |= dnsPacket.RECURSION_DESIRED;
  const packet: Packet = {
    type: 'query',
    id,
    flags,
    questions: [{ name: q.name, type: q.type as never, class: 'IN' }],
  };
  if (q.edns !== undefined) {
    packet.additionals = [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: q.edns,
        extendedRcode: 0,
        ednsVersion: q.ednsVersion ?? 0,
        flags: q.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
        options: q.ednsOptions ?? [],
      } as unknown as Answer,
    ];
  }
  return dnsPacket.encode(packet);
}

/** Sends one query; resolves the raw reply, or null when none comes in time. */
export function exchange(server: Server, message: Buffer, tcp: boolean, timeoutMs = TIMEOUT_MS, source?: string): Promise<Buffer | null> {
  return tcp
    ? exchangeTcp(server, message, timeoutMs, source)
    : udpExchange(server.port, message, { host: server.host, timeoutMs, ...(source ? { localAddress: source } : {}) });
}

function exchangeTcp(server: Server, message: Buffer, timeoutMs: number, source?: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port: server.port, host: server.host, ...(source ? { localAddress: source } : {}) });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(message.length);
      sock.write(Buffer.concat([len, message]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/** The parts of a reply the differential test compares. */
export interface Shape {
  rcode: string;
  opcode: number;
  flags: string;
  id: number;
  question: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  opt: string | null;
  /** Reply size in bytes (reported, not compared). */
  size: number;
}

function rdataText(r: Answer): string {
  const d = (r as { data?: unknown }).data;
  if (Buffer.isBuffer(d)) return `\\# ${d.length} ${d.toString('hex')}`;
  if (Array.isArray(d)) return d.map((x) => (Buffer.isBuffer(x) ? JSON.stringify(x.toString('latin1')) : JSON.stringify(x))).join(' ');
  if (d && typeof d === 'object') {
    return Object.entries(d as Record<string, unknown>)
      .map(([k, v]) => `${k}=${Buffer.isBuffer(v) ? v.toString('hex') : String(v)}`)
      .join(' ');
  }
  return String(d);
}

/** One RR as text: owner (exact case, as on the wire) TTL CLASS TYPE RDATA. */
export function rrText(r: Answer, withTtl: boolean): string {
  const ttl = withTtl ? `${(r as { ttl?: number }).ttl ?? 0} ` : '';
  return `${r.name}. ${ttl}${(r as { class?: string }).class ?? 'IN'} ${r.type} ${rdataText(r)}`;
}

/** Decodes a reply into the compared shape; `withTtl` false drops TTLs (compared separately). */
export function shapeOf(raw: Buffer, withTtl = true): Shape {
  const p = dnsPacket.decode(raw) as unknown as Packet & Record<string, unknown>;
  const flags = (['aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd'] as const).filter((f) => p[`flag_${f}`]).join(' ');
  const additionals = p.additionals ?? [];
  const opt = additionals.find((r) => r.type === 'OPT') as
    | (Answer & { udpPayloadSize: number; extendedRcode: number; ednsVersion: number; flag_do: boolean; options: Array<{ code: number; data?: Buffer }> })
    | undefined;
  const rcodeNum = ((opt?.extendedRcode ?? 0) << 4) | (raw.readUInt16BE(2) & 0x0f);
  return {
    rcode: RCODES[rcodeNum] ?? `RCODE${rcodeNum}`,
    opcode: (raw.readUInt16BE(2) >> 11) & 0x0f,
    flags,
    id: p.id ?? -1,
    question: (p.questions ?? []).map((q) => `${q.name}. ${q.class} ${q.type}`),
    answer: (p.answers ?? []).map((r) => rrText(r, withTtl)).sort(),
    authority: (p.authorities ?? []).map((r) => rrText(r, withTtl)).sort(),
    additional: additionals
      .filter((r) => r.type !== 'OPT')
      .map((r) => rrText(r, withTtl))
      .sort(),
    opt: opt
      ? `udp=${opt.udpPayloadSize} version=${opt.ednsVersion} do=${opt.flag_do ? 1 : 0} options=[${(opt.options ?? []).map(optionText).join(',')}]`
      : null,
    size: raw.length,
  };
}

/** An EDNS option by code; Extended DNS Errors (RFC 8914, code 15) with their INFO-CODE. */
function optionText(o: { code: number; data?: Buffer }): string {
  if (o.code === 15 && o.data && o.data.length >= 2) return `15:${o.data.readUInt16BE(0)}`;
  return String(o.code);
}

/** TTL of every RR, keyed by its TTL-less text (for the caching tolerance). */
export function ttlsOf(raw: Buffer): Map<string, number> {
  const p = dnsPacket.decode(raw);
  const out = new Map<string, number>();
  for (const r of [...(p.answers ?? []), ...(p.authorities ?? []), ...(p.additionals ?? [])]) {
    if (r.type === 'OPT') continue;
    out.set(rrText(r, false), (r as { ttl?: number }).ttl ?? 0);
  }
  return out;
}

/** RFC 1035 §4.1.1, RFC 6891 §9 (BADVERS is extended RCODE 16). */
const RCODES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  9: 'NOTAUTH',
  16: 'BADVERS',
};

/**
 * Writes several queries on one TCP connection in one write (pipelining, RFC 7766 §6.2.1.1) and
 * collects the replies by id (a server may answer out of order).
 */
export function exchangeTcpPipelined(server: Server, messages: Buffer[], timeoutMs = TIMEOUT_MS): Promise<Map<number, Buffer>> {
  return new Promise((resolve, reject) => {
    const replies = new Map<number, Buffer>();
    const sock = net.connect(server.port, server.host);
    let buf = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(replies);
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('connect', () => {
      sock.write(
        Buffer.concat(
          messages.flatMap((m) => {
            const len = Buffer.alloc(2);
            len.writeUInt16BE(m.length);
            return [len, m];
          }),
        ),
      );
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        replies.set(msg.readUInt16BE(0), Buffer.from(msg));
      }
      if (replies.size === messages.length) done();
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', done);
  });
}
