// From a query message to a reply message, transport aside. The hot path reads the header and
// the question by hand (RFC 1035 §4.1.1-4.1.2), hashes the lower-cased name with the type, finds
// the answer kept in wire form and copies it behind the query's own header and question: one
// allocation (the reply) per query. Everything else (first sight of a name, errors, EDNS
// version, truncation, forwarding) takes the slow path.
import { createHmac, randomBytes } from 'node:crypto';
import type { Acl } from './acl.ts';
import { answerFromZones, extendedError, type Answer } from './answer.ts';
import type { Forwarder, Upstream } from './forward.ts';
import { answerOnly, prepare, truncate, type Prepared } from './prepared.ts';
import { prepareRelay } from './relay.ts';
import { CLASS_IN, CLASSIC_UDP_SIZE, escapeLabel, FLAG, HEADER_LENGTH, lower, OPCODE_QUERY, OPT_LENGTH, RCODE, TYPE } from './wire.ts';
import type { ZoneSet } from './zone/zone.ts';

/** The UDP payload size we advertise and cap replies at (BIND 9.18's max-udp-size). */
export const EDNS_UDP_SIZE = 1232;
/** Most answers of names outside the zones' existing names remembered (NXDOMAIN for random names). */
export const NEGATIVE_HOT_ENTRIES = 10_000;
/** Largest DNS message over TCP (RFC 1035 §4.2.2). */
export const TCP_MAX_MESSAGE = 65535;

export type Transport = 'udp' | 'tcp';

/** What a query becomes: a reply, nothing (unreadable header, a response), or a reply later. */
export type Outcome = Buffer | null | Promise<Buffer | null>;

export interface Responder {
  /**
   * Answers one message. `prefix` is 2 for TCP: the reply then starts with its length
   * (RFC 1035 §4.2.2) in the same buffer.
   */
  respond(msg: Buffer, transport: Transport, clientAddress: string): Outcome;
  /** Forget the answers kept in wire form (the zones changed). */
  clear(): void;
}

export interface ResponderOptions {
  zones: () => ZoneSet;
  acl: Acl;
  forwarder?: Forwarder;
  udpSize?: number;
  /**
   * Recursion is available to the clients `acl` allows (BIND: `recursion yes`, forwarders to
   * ask). Without it RA stays clear (RFC 1035 §4.1.1), names outside our zones are REFUSED and a
   * referral is never followed. Default: when there is a forwarder.
   */
  recursion?: boolean;
}

/** A prepared answer filed under its (lower-case wire name, type, recursive). */
interface HotEntry {
  key: Buffer;
  qtype: number;
  /** Made for a client that asked for recursion and may have it (see answerFromZones). */
  recursive: boolean;
  answer: Answer;
  /** Encoded for a question in lower case (compressed against it). */
  prepared: Prepared;
  /** Encoded for a question with capitals (no pointers into it), made when first needed. */
  mixed: Prepared | undefined;
  next: HotEntry | undefined;
}

// biome-ignore lint/suspicious/noConstEnum: module-local, inlined by esbuild and tsx on the answer path
const enum Verdict {
  OK,
  DROP,
  FORMERR,
  NOTIMP,
}

/** The parsed query, reused for every message (no allocation on the hot path). */
interface Query {
  opcode: number;
  /** End of the question section; 0 when the question could not be read. */
  qEnd: number;
  qnameLen: number;
  qtype: number;
  qclass: number;
  hash: number;
  /** The question's name has capital letters. */
  mixedCase: boolean;
  edns: boolean;
  /** The client's UDP size as sent (0-65535). */
  ednsSize: number;
  udpSize: number;
  /** Offset and length of the client's COOKIE option data (RFC 7873 §4), 0 when none. */
  cookieAt: number;
  cookieLen: number;
  version: number;
  dnssecOk: boolean;
  /** The client's address (for the server cookie). */
  client: string;
}

const PROHIBITED = extendedError(18, '');

/** BIND 9's built-in root hints (the 13 root server names, TTL 518400), as a referral. */
const ROOT_REFERRAL: Upstream = {
  rcode: RCODE.NOERROR,
  answers: [],
  authorities: 'ABCDEFGHIJKLM'.split('').map((l) => ({ name: '.', type: 'NS' as const, class: 'IN' as const, ttl: 518400, data: `${l}.ROOT-SERVERS.NET` })),
  additionals: [],
};

/** EDNS option code of a DNS COOKIE (RFC 7873 §4). */
const EDNS_COOKIE = 10;
/** Our server cookie: version, reserved, timestamp, 8 bytes of hash (RFC 9018 §4.2 layout). */
const SERVER_COOKIE_LENGTH = 16;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;

/** Skips a name (compressed or not); returns the offset after it or -1. */
function skipName(msg: Buffer, o: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (o >= msg.length) return -1;
    const l = msg[o]!;
    if (l === 0) return o + 1;
    if ((l & 0xc0) === 0xc0) return o + 2 <= msg.length ? o + 2 : -1;
    if (l & 0xc0) return -1;
    o += l + 1;
  }
  return -1;
}

function parseQuery(msg: Buffer, q: Query): Verdict {
  const len = msg.length;
  q.qEnd = 0;
  q.edns = false;
  q.cookieAt = 0;
  q.cookieLen = 0;
  q.version = 0;
  q.dnssecOk = false;
  // Shorter than a header: nothing to answer to (RFC 1035 §4.1.1; no amplification).
  if (len < HEADER_LENGTH) return Verdict.DROP;
  // A response is never answered (it could start a loop between two servers).
  if (msg[2]! & FLAG.QR) return Verdict.DROP;
  q.opcode = (msg[2]! >> 3) & 0x0f;
  // BIND answers other opcodes from the header alone: NOTIMP, no question (RFC 1035 §4.1.1).
  if (q.opcode !== OPCODE_QUERY) return Verdict.NOTIMP;
  const qd = (msg[4]! << 8) | msg[5]!;
  const an = (msg[6]! << 8) | msg[7]!;
  const ns = (msg[8]! << 8) | msg[9]!;
  const ar = (msg[10]! << 8) | msg[11]!;
  if (qd !== 1) return Verdict.FORMERR;
  let o = HEADER_LENGTH;
  let h = FNV_OFFSET;
  let upper = false;
  for (;;) {
    if (o >= len) return Verdict.FORMERR;
    const l = msg[o]!;
    if (l === 0) {
      o++;
      break;
    }
    // A question name is never compressed (there is nothing before it to point at).
    if (l > 63 || o + 1 + l > len) return Verdict.FORMERR;
    h = Math.imul(h ^ l, FNV_PRIME);
    for (let i = o + 1; i <= o + l; i++) {
      let c = msg[i]!;
      if (c >= 0x41 && c <= 0x5a) {
        c |= 0x20;
        upper = true;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    o += l + 1;
    // RFC 1035 §3.1: 255 octets at most, the root's zero octet still to come included.
    if (o - HEADER_LENGTH > 254) return Verdict.FORMERR;
  }
  if (o + 4 > len) return Verdict.FORMERR;
  q.qnameLen = o - HEADER_LENGTH;
  q.mixedCase = upper;
  q.qtype = (msg[o]! << 8) | msg[o + 1]!;
  q.qclass = (msg[o + 2]! << 8) | msg[o + 3]!;
  o += 4;
  q.qEnd = o;
  q.hash = Math.imul(h ^ q.qtype, FNV_PRIME) >>> 0;
  // Answer and authority records in a query are read past, as BIND does.
  for (let i = 0; i < an + ns; i++) {
    o = skipName(msg, o);
    if (o < 0 || o + 10 > len) return Verdict.FORMERR;
    o += 10 + ((msg[o + 8]! << 8) | msg[o + 9]!);
    if (o > len) return Verdict.FORMERR;
  }
  for (let i = 0; i < ar; i++) {
    const start = o;
    o = skipName(msg, o);
    if (o < 0 || o + 10 > len) return Verdict.FORMERR;
    const type = (msg[o]! << 8) | msg[o + 1]!;
    if (type === TYPE.OPT) {
      // RFC 6891 §6.1.1: one OPT, owned by the root.
      if (q.edns || msg[start] !== 0) return Verdict.FORMERR;
      q.edns = true;
      q.ednsSize = (msg[o + 2]! << 8) | msg[o + 3]!;
      q.udpSize = Math.max(CLASSIC_UDP_SIZE, q.ednsSize);
      q.version = msg[o + 5]!;
      q.dnssecOk = (msg[o + 6]! & 0x80) !== 0;
      const rdEnd = o + 10 + ((msg[o + 8]! << 8) | msg[o + 9]!);
      if (rdEnd > len) return Verdict.FORMERR;
      // Options: code, length, data (RFC 6891 §6.1.2).
      for (let p = o + 10; p < rdEnd; ) {
        if (p + 4 > rdEnd) return Verdict.FORMERR;
        const code = (msg[p]! << 8) | msg[p + 1]!;
        const olen = (msg[p + 2]! << 8) | msg[p + 3]!;
        if (p + 4 + olen > rdEnd) return Verdict.FORMERR;
        if (code === EDNS_COOKIE) {
          // RFC 7873 §5.2.2: 8 bytes of client cookie, optionally 8-32 of server cookie.
          if (olen < 8 || (olen > 8 && olen < 16) || olen > 40) return Verdict.FORMERR;
          q.cookieAt = p + 4;
          q.cookieLen = olen;
        }
        p += 4 + olen;
      }
    }
    o += 10 + ((msg[o + 8]! << 8) | msg[o + 9]!);
    if (o > len) return Verdict.FORMERR;
  }
  // Bytes after the last record are ignored, as BIND does.
  return Verdict.OK;
}

/**
 * Presentation name of the question (slow path), in the stored form of the zones: a dot or a
 * backslash inside a label escaped, ASCII letters folded unless `keepCase` (RFC 4343 §3).
 */
function questionName(msg: Buffer, q: Query, keepCase = false): string {
  const parts: string[] = [];
  let o = HEADER_LENGTH;
  while (msg[o] !== 0) {
    const l = msg[o]!;
    parts.push(escapeLabel(msg.toString('latin1', o + 1, o + 1 + l)));
    o += l + 1;
  }
  const name = parts.join('.');
  void q;
  return keepCase ? name : lower(name);
}

function sameName(key: Buffer, msg: Buffer, len: number): boolean {
  if (key.length !== len) return false;
  for (let i = 0; i < len; i++) {
    let c = msg[HEADER_LENGTH + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== key[i]) return false;
  }
  return true;
}

export function createResponder(opts: ResponderOptions): Responder {
  const udpSize = opts.udpSize ?? EDNS_UDP_SIZE;
  const recursion = opts.recursion ?? opts.forwarder !== undefined;
  /** Who answers names outside our zones: nobody without recursion. */
  const forwarder = recursion ? opts.forwarder : undefined;
  const q: Query = {
    opcode: 0,
    qEnd: 0,
    qnameLen: 0,
    qtype: 0,
    qclass: 0,
    hash: 0,
    mixedCase: false,
    edns: false,
    ednsSize: 0,
    udpSize: 0,
    cookieAt: 0,
    cookieLen: 0,
    version: 0,
    dnssecOk: false,
    client: '',
  };
  const cookieSecret = randomBytes(16);
  /** The answer-only form of a prepared answer, made once. */
  const minimal = new WeakMap<Prepared, Prepared>();

  /** OPT length for this query: fixed part, the answer's options, our COOKIE. */
  function optLength(options: Buffer | undefined): number {
    if (!q.edns) return 0;
    return OPT_LENGTH + (options?.length ?? 0) + (q.cookieAt ? 4 + 8 + SERVER_COOKIE_LENGTH : 0);
  }

  /** OPT pseudo-record (RFC 6891 §6.1.2-6.1.3): our size, extended rcode, version 0, DO echoed, options. */
  function writeOpt(out: Buffer, o: number, msg: Buffer, extRcode: number, options: Buffer | undefined): void {
    out[o] = 0;
    out.writeUInt16BE(TYPE.OPT, o + 1);
    out.writeUInt16BE(udpSize, o + 3);
    out[o + 5] = extRcode & 0xff;
    out[o + 6] = 0;
    out[o + 7] = q.dnssecOk ? 0x80 : 0;
    out[o + 8] = 0;
    let p = o + 11;
    if (options) p += options.copy(out, p);
    if (q.cookieAt) {
      // RFC 7873 §5.2.3: the client cookie back, with a fresh server cookie.
      out.writeUInt16BE(EDNS_COOKIE, p);
      out.writeUInt16BE(8 + SERVER_COOKIE_LENGTH, p + 2);
      msg.copy(out, p + 4, q.cookieAt, q.cookieAt + 8);
      const s = p + 12;
      out[s] = 1;
      out[s + 1] = out[s + 2] = out[s + 3] = 0;
      out.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, s + 4);
      const mac = createHmac('sha256', cookieSecret)
        .update(out.subarray(p + 4, s + 8))
        .update(q.client)
        .digest();
      mac.copy(out, s + 8, 0, 8);
      p = s + SERVER_COOKIE_LENGTH;
    }
    out.writeUInt16BE(p - o - 11, o + 9);
  }
  let hot = new Map<number, HotEntry>();
  let negative = 0;

  function lookup(msg: Buffer, recursive: boolean): Prepared | undefined {
    for (let e = hot.get(q.hash); e; e = e.next) {
      if (e.qtype === q.qtype && e.recursive === recursive && sameName(e.key, msg, q.qnameLen)) {
        if (!q.mixedCase) return e.prepared;
        return (e.mixed ??= prepare(e.answer, q.qnameLen));
      }
    }
    return undefined;
  }

  /** Files an answer under the question's name and type; returns the form for this query. */
  function remember(msg: Buffer, answer: Answer, qname: string, existing: boolean, recursive: boolean): Prepared {
    if (!existing) {
      if (negative >= NEGATIVE_HOT_ENTRIES) {
        // Random names must not grow memory: start over (existing names come back at once).
        hot = new Map();
        negative = 0;
      }
      negative++;
    }
    const key = Buffer.alloc(q.qnameLen);
    for (let i = 0; i < q.qnameLen; i++) {
      let c = msg[HEADER_LENGTH + i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      key[i] = c;
    }
    const prepared = prepare(answer, q.qnameLen, qname);
    const mixed = q.mixedCase ? prepare(answer, q.qnameLen) : undefined;
    hot.set(q.hash, { key, qtype: q.qtype, recursive, answer, prepared, mixed, next: hot.get(q.hash) });
    return mixed ?? prepared;
  }

  /** Largest reply for this query and transport (RFC 1035 §4.2.1, RFC 6891 §6.2.5). */
  function limitFor(transport: Transport): number {
    if (transport === 'tcp') return TCP_MAX_MESSAGE;
    return q.edns ? Math.min(q.udpSize, udpSize) : CLASSIC_UDP_SIZE;
  }

  /**
   * Header + the query's question + the prepared sections (+ OPT). The header keeps the ID,
   * opcode, RD and CD of the query (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
   */
  function assemble(msg: Buffer, transport: Transport, full: Prepared, ra: boolean): Buffer {
    let p = full;
    // BIND answers an EDNS client whose buffer is 512 bytes or less with the answer alone.
    if (transport === 'udp' && q.edns && q.ednsSize > 0 && q.ednsSize <= CLASSIC_UDP_SIZE) {
      let m = minimal.get(full);
      if (!m) minimal.set(full, (m = answerOnly(full)));
      p = m;
    }
    const prefix = transport === 'tcp' ? 2 : 0;
    const optLen = optLength(p.ednsOptions);
    const qEnd = q.qEnd;
    let tailLen = p.tail.length;
    let an = p.an;
    let ns = p.ns;
    let ar = p.ar;
    let tc = false;
    const room = limitFor(transport) - qEnd - optLen;
    if (tailLen > room) {
      const t = truncate(p, room, q.edns);
      tailLen = t.length;
      an = t.an;
      ns = t.ns;
      ar = t.ar;
      tc = t.tc;
    }
    const total = qEnd + tailLen + optLen;
    const out = Buffer.allocUnsafe(prefix + total);
    if (prefix) out.writeUInt16BE(total, 0);
    // Byte loops: for a few dozen bytes they beat a call into Buffer.copy.
    for (let i = 0; i < qEnd; i++) out[prefix + i] = msg[i]!;
    out[prefix + 2] = FLAG.QR | (msg[2]! & 0x79) | (p.aa ? FLAG.AA : 0) | (tc ? FLAG.TC : 0);
    // Never AD: an authoritative server that does not validate vouches for nothing (RFC 6840 §5.8).
    out[prefix + 3] = (ra ? FLAG.RA : 0) | (msg[3]! & FLAG.CD) | (p.rcode & 0x0f);
    out[prefix + 4] = 0;
    out[prefix + 5] = 1;
    out[prefix + 6] = an >> 8;
    out[prefix + 7] = an & 0xff;
    out[prefix + 8] = ns >> 8;
    out[prefix + 9] = ns & 0xff;
    const arTotal = ar + (optLen ? 1 : 0);
    out[prefix + 10] = arTotal >> 8;
    out[prefix + 11] = arTotal & 0xff;
    const tail = p.tail;
    const at = prefix + qEnd;
    if (tailLen > 128) tail.copy(out, at, 0, tailLen);
    else for (let i = 0; i < tailLen; i++) out[at + i] = tail[i]!;
    if (optLen) writeOpt(out, prefix + qEnd + tailLen, msg, p.rcode >> 4, p.ednsOptions);
    return out;
  }

  /** A reply with no records: errors, REFUSED, BADVERS, NOTIMP. */
  function bare(msg: Buffer, transport: Transport, rcode: number, ra: boolean, withQuestion: boolean, options?: Buffer): Buffer {
    const prefix = transport === 'tcp' ? 2 : 0;
    const qEnd = withQuestion && q.qEnd ? q.qEnd : HEADER_LENGTH;
    const optLen = withQuestion ? optLength(options) : 0;
    const total = qEnd + optLen;
    const out = Buffer.alloc(prefix + total);
    if (prefix) out.writeUInt16BE(total, 0);
    msg.copy(out, prefix, 0, qEnd);
    // NOTIMP: BIND echoes the opcode and nothing else of the flags.
    out[prefix + 2] = FLAG.QR | (msg[2]! & (rcode === RCODE.NOTIMP ? 0x78 : 0x79));
    out[prefix + 3] = (ra ? FLAG.RA : 0) | (rcode === RCODE.NOTIMP ? 0 : msg[3]! & FLAG.CD) | (rcode & 0x0f);
    out.writeUInt16BE(qEnd > HEADER_LENGTH ? 1 : 0, prefix + 4);
    out.writeUInt16BE(0, prefix + 6);
    out.writeUInt16BE(0, prefix + 8);
    out.writeUInt16BE(optLen ? 1 : 0, prefix + 10);
    if (optLen) writeOpt(out, prefix + qEnd, msg, rcode >> 4, options);
    return out;
  }

  /** A forwarded answer: its records re-encoded behind our header and the client's question. */
  function relay(msg: Buffer, transport: Transport, head: Answer | undefined, up: Upstream): Buffer {
    const p = prepareRelay(head, up, q.qnameLen, q.mixedCase ? undefined : questionName(msg, q));
    return assemble(msg, transport, p, recursion);
  }

  function forward(msg: Buffer, transport: Transport, target: string, head: Answer | undefined): Outcome {
    const fwd = forwarder;
    const qtype = q.qtype;
    const qclass = q.qclass;
    // The query state is shared; keep what the reply needs.
    const saved = { ...q };
    const rd = (msg[2]! & FLAG.RD) !== 0;
    if (!fwd || !rd) {
      const cached = fwd?.peek(target, qtype, qclass);
      if (cached) return relay(msg, transport, head, cached);
      if (head) return assemble(msg, transport, prepare(head, q.qnameLen), recursion);
      // Nothing cached and no recursion asked: BIND refers the client to the closest delegation
      // it has seen, or to the root servers of its built-in hints.
      if (fwd) return relay(msg, transport, undefined, fwd.referral(target) ?? ROOT_REFERRAL);
      return bare(msg, transport, RCODE.REFUSED, recursion, true);
    }
    // The query may sit in a receive buffer that the next datagram overwrites.
    const own = Buffer.from(msg);
    return fwd.resolve(target, qtype, qclass).then((up) => {
      Object.assign(q, saved);
      if (up.rcode === RCODE.SERVFAIL && head) return assemble(own, transport, prepare({ ...head, rcode: RCODE.SERVFAIL }, q.qnameLen), recursion);
      return relay(own, transport, head, up);
    });
  }

  return {
    clear() {
      hot = new Map();
      negative = 0;
    },
    respond(msg, transport, clientAddress) {
      const verdict = parseQuery(msg, q);
      if (verdict === Verdict.DROP) return null;
      q.client = clientAddress;
      // As BIND: FORMERR echoes RD only; NOTIMP is the bare header.
      if (verdict === Verdict.FORMERR) return bare(msg, transport, RCODE.FORMERR, false, false);
      if (verdict === Verdict.NOTIMP) return bare(msg, transport, RCODE.NOTIMP, false, false);
      const allowed = opts.acl.allows(clientAddress);
      // RFC 6891 §6.1.3: a version we do not speak gets BADVERS (and our version, 0).
      if (q.edns && q.version > 0) return bare(msg, transport, RCODE.BADVERS, false, true);
      // BIND adds an Extended DNS Error 18 "Prohibited" (RFC 8914 §4.19).
      if (!allowed) return bare(msg, transport, RCODE.REFUSED, false, true, PROHIBITED);
      if (q.qclass !== CLASS_IN) return bare(msg, transport, RCODE.REFUSED, recursion, true);
      if (q.qtype === TYPE.OPT) return bare(msg, transport, RCODE.FORMERR, recursion, true);
      if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR) {
        // Zone transfers need TCP (RFC 5936 §4.2) and are not offered to anyone here.
        return bare(msg, transport, transport === 'udp' ? RCODE.FORMERR : RCODE.REFUSED, recursion, true);
      }
      // BIND looks beyond the question's zone (CNAME targets, additional data) only for a client
      // that asks for recursion and may have it: RD=0 and RD=1 get answers of their own.
      const recursive = recursion && (msg[2]! & FLAG.RD) !== 0;
      const hit = lookup(msg, recursive);
      if (hit) return assemble(msg, transport, hit, recursion);

      const qname = questionName(msg, q);
      const answer = answerFromZones(opts.zones(), qname, q.qtype, recursive, q.mixedCase ? questionName(msg, q, true) : qname);
      if (!answer) return forward(msg, transport, questionName(msg, q, true), undefined);
      // Below a delegation: with RD the forwarders answer (BIND recurses), without it the referral.
      if (answer.referral && msg[2]! & FLAG.RD && forwarder) return forward(msg, transport, questionName(msg, q, true), undefined);
      if (answer.outside) {
        // The chain's end is someone else's: the upstream's sections follow our CNAMEs.
        return forward(msg, transport, answer.outside, { ...answer, authority: [], additional: [] });
      }
      // Spelled after the question (a DNAME's CNAME): made for this query alone.
      if (answer.perQuestion) return assemble(msg, transport, prepare(answer, q.qnameLen, questionName(msg, q, true)), recursion);
      const prepared = remember(msg, answer, qname, answer.rcode !== RCODE.NXDOMAIN && !answer.wildcard && !answer.referral, recursive);
      return assemble(msg, transport, prepared, recursion);
    },
  };
}
