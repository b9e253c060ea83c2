// Answers kept in wire form. An authoritative answer depends only on (name, type) and the zone
// data, so its answer/authority/additional sections are encoded once, with compression pointers
// laid out for a question of that name's length, and every later query copies them behind its
// own header and question (whose case is thereby echoed, RFC 1035 §7.3 / RFC 4343 §4).
import type { Answer } from './answer.ts';
import { CLASS_IN, HEADER_LENGTH, nameWireLength, SectionWriter } from './wire.ts';
import type { RRset } from './zone/zone.ts';

/** Where one record ends in the tail, for truncation on record or RRset boundaries. */
export interface RRsetMark {
  end: number;
  section: 0 | 1 | 2;
  /** Records up to here (1, or the RRset's size for a mark that closes several). */
  count: number;
  /** The last record of its RRset. */
  last: boolean;
}

export interface Prepared {
  rcode: number;
  aa: boolean;
  /** Answer, authority and additional records, encoded for the question's length. */
  tail: Buffer;
  an: number;
  ns: number;
  ar: number;
  marks: RRsetMark[];
  /** EDNS options for the reply's OPT (an Extended DNS Error, RFC 8914), if any. */
  ednsOptions?: Buffer;
  /** A minimal reply keeps every section (negative answers, referrals); unset for relayed answers. */
  needsAuthority?: boolean;
}

/**
 * Encodes the sections of an answer to follow a question whose name has `qnameWireLength`
 * octets. With `questionName` (the question exactly as it will be on the wire), names point into
 * the question where they match it byte for byte, as BIND's case-sensitive compression does.
 */
export function prepare(answer: Answer, qnameWireLength: number, questionName?: string): Prepared {
  const w = new SectionWriter(HEADER_LENGTH + qnameWireLength + 4);
  if (questionName !== undefined) w.seed(questionName, HEADER_LENGTH);
  const marks: RRsetMark[] = [];
  const counts = [0, 0, 0];
  const sections: RRset[][] = [answer.answer, answer.authority, answer.additional];
  sections.forEach((sets, section) => {
    for (const set of sets) {
      set.records.forEach((r, i) => {
        w.record({ name: set.name, type: set.type, klass: CLASS_IN, ttl: set.ttl, rdata: r.rdata });
        marks.push({ end: w.length, section: section as 0 | 1 | 2, count: 1, last: i === set.records.length - 1 });
      });
      counts[section]! += set.records.length;
    }
  });
  return {
    rcode: answer.rcode,
    aa: answer.aa,
    tail: w.bytes(),
    an: counts[0]!,
    ns: counts[1]!,
    ar: counts[2]!,
    marks,
    needsAuthority: answer.needsAuthority === true,
    ...(answer.ednsOptions ? { ednsOptions: answer.ednsOptions } : {}),
  };
}

export interface Cut {
  length: number;
  an: number;
  ns: number;
  ar: number;
  tc: boolean;
}

/**
 * What fits in `room` bytes, as BIND 9 renders a reply that is too big (RFC 2181 §9):
 * - additional RRsets that do not fit are left out, without TC;
 * - an answer or authority RRset that does not fit sets TC; with EDNS the reply then carries
 *   no records at all, without EDNS it keeps the answer and authority records that fit, one by one.
 */
export function truncate(p: Prepared, room: number, edns: boolean): Cut {
  const counts = [0, 0, 0];
  let length = 0;
  let setStart = { length: 0, counts: [0, 0, 0] };
  for (const m of p.marks) {
    if (m.end > room) {
      if (m.section === 2) {
        // Whole RRsets only: back to where this RRset started.
        return { length: setStart.length, an: setStart.counts[0]!, ns: setStart.counts[1]!, ar: setStart.counts[2]!, tc: false };
      }
      if (edns) return { length: 0, an: 0, ns: 0, ar: 0, tc: true };
      // Without EDNS BIND keeps every answer and authority record that fits, one by one, even
      // part of an NS RRset: a resolver ignores a TC reply's records or retries over TCP.
      return { length, an: counts[0]!, ns: counts[1]!, ar: 0, tc: true };
    }
    length = m.end;
    counts[m.section]! += m.count;
    if (m.last) setStart = { length, counts: [...counts] };
  }
  return { length, an: counts[0]!, ns: counts[1]!, ar: counts[2]!, tc: false };
}

/**
 * BIND's reply to an EDNS client whose buffer is 512 bytes or less, as with `minimal-responses
 * yes`: a positive answer loses its authority and additional sections; a negative answer keeps
 * its SOA (RFC 2308 §3) and a referral its NS and glue (RFC 1034 §4.3.2), after a CNAME too.
 */
export function answerOnly(p: Prepared): Prepared {
  if (p.needsAuthority) return p;
  // A relayed answer (no verdict of ours) keeps the authority of a negative reply only.
  const keepAuthority = p.needsAuthority === undefined && p.an === 0;
  let end = 0;
  for (const m of p.marks) if (m.section === 0 || (keepAuthority && m.section === 1)) end = m.end;
  return {
    ...p,
    tail: p.tail.subarray(0, end),
    ns: keepAuthority ? p.ns : 0,
    ar: 0,
    marks: p.marks.filter((m) => m.section === 0 || (keepAuthority && m.section === 1)),
  };
}

export { nameWireLength };
