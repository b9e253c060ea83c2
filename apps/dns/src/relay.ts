// Forwarded records back on the wire, compressed like the rest of our replies (RFC 1035 §4.1.4):
// without compression a relayed answer that BIND fits in 512 bytes would be cut much earlier.
import dnsPacket from 'dns-packet';
import type { Answer } from './answer.ts';
import type { Prepared, RRsetMark } from './prepared.ts';
import { CLASS_IN, HEADER_LENGTH, nameWireLength, SectionWriter, u16, u32, type RdataPart, type WireRecord } from './wire.ts';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dnsTypes = require('dns-packet/types.js') as { toType(s: string): number };
const dnsClasses = require('dns-packet/classes.js') as { toClass(s: string): number };

const strip = (n: string) => (n.endsWith('.') ? n.slice(0, -1) : n);

/** One decoded record as a WireRecord; names in NS, CNAME, PTR, MX and SOA data stay compressible. */
export function toWire(r: dnsPacket.Answer): WireRecord | undefined {
  const rec = r as { name: string; type: string; class?: string; ttl?: number; data?: unknown };
  const type = dnsTypes.toType(rec.type);
  const klass = dnsClasses.toClass(rec.class ?? 'IN') || CLASS_IN;
  let rdata: RdataPart[];
  if (rec.type === 'CNAME' || rec.type === 'NS' || rec.type === 'PTR') rdata = [{ name: strip(String(rec.data)), compress: true }];
  else if (rec.type === 'MX') {
    const d = rec.data as dnsPacket.MxData;
    rdata = [u16(d.preference ?? 0), { name: strip(d.exchange), compress: true }];
  } else if (rec.type === 'SOA') {
    const d = rec.data as dnsPacket.SoaData;
    rdata = [
      { name: strip(d.mname), compress: true },
      { name: strip(d.rname), compress: true },
      ...[d.serial, d.refresh, d.retry, d.expire, d.minimum].map((v) => u32(v ?? 0)),
    ];
  } else {
    // Anything else: dns-packet's own RDATA encoding, taken out of a one-record message.
    let bytes: Buffer;
    try {
      bytes = dnsPacket.encode({ type: 'response', id: 0, flags: 0, answers: [r] });
    } catch {
      return undefined;
    }
    const at = HEADER_LENGTH + nameWireLength(strip(rec.name)) + 10;
    rdata = [Buffer.from(bytes.subarray(at))];
  }
  return { name: strip(rec.name), type, klass, ttl: rec.ttl ?? 0, rdata };
}

/**
 * Our CNAME chain (if any) followed by the upstream's sections, encoded for the question, with a
 * mark per record for truncation.
 */
export function prepareRelay(
  head: Answer | undefined,
  up: { rcode: number; answers: dnsPacket.Answer[]; authorities: dnsPacket.Answer[]; additionals: dnsPacket.Answer[] },
  qnameWireLength: number,
  questionName: string | undefined,
): Prepared {
  const w = new SectionWriter(HEADER_LENGTH + qnameWireLength + 4);
  if (questionName !== undefined) w.seed(questionName, HEADER_LENGTH);
  const marks: RRsetMark[] = [];
  const counts = [0, 0, 0];
  const put = (rr: WireRecord, section: 0 | 1 | 2) => {
    w.record(rr);
    counts[section]!++;
    marks.push({ end: w.length, section, count: 1, last: true });
  };
  for (const set of head?.answer ?? []) {
    for (const r of set.records) put({ name: set.name, type: set.type, klass: CLASS_IN, ttl: set.ttl, rdata: r.rdata }, 0);
  }
  [up.answers, up.authorities, up.additionals].forEach((records, section) => {
    for (const r of records) {
      const rr = toWire(r);
      if (rr) put(rr, section as 0 | 1 | 2);
    }
  });
  const rcode = head && head.rcode !== 0 ? head.rcode : up.rcode;
  return { rcode, aa: head?.aa ?? false, tail: w.bytes(), an: counts[0]!, ns: counts[1]!, ar: counts[2]!, marks };
}
