// Answers kept in wire form. An authoritative answer depends only on (name, type) and the zone
// data, so its answer/authority/additional sections are encoded once, with compression pointers
// laid out for a question of that name's length, and every later query copies them behind its
// own header and question (whose case is thereby echoed, RFC 1035 §7.3 / RFC 4343 §4).
import type { Answer } from './answer.ts';
import { CLASS_IN, HEADER_LENGTH, nameWireLength, SectionWriter } from './wire.ts';
import type { RRset } from './zone/zone.ts';

/** Where one RRset ends in the tail, for truncation on RRset boundaries. */
export interface RRsetMark {
  end: number;
  section: 0 | 1 | 2;
  count: number;
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
}

/** Encodes the sections of an answer to follow a question whose name has `qnameWireLength` octets. */
export function prepare(answer: Answer, qnameWireLength: number): Prepared {
  const w = new SectionWriter(HEADER_LENGTH + qnameWireLength + 4);
  const marks: RRsetMark[] = [];
  const counts = [0, 0, 0];
  const sections: RRset[][] = [answer.answer, answer.authority, answer.additional];
  sections.forEach((sets, section) => {
    for (const set of sets) {
      for (const r of set.records) w.record({ name: set.name, type: set.type, klass: CLASS_IN, ttl: set.ttl, rdata: r.rdata });
      counts[section]! += set.records.length;
      marks.push({ end: w.length, section: section as 0 | 1 | 2, count: set.records.length });
    }
  });
  return { rcode: answer.rcode, aa: answer.aa, tail: w.bytes(), an: counts[0]!, ns: counts[1]!, ar: counts[2]!, marks };
}

/**
 * The largest prefix of whole RRsets that fits in `room` bytes, as BIND renders a reply that is
 * too big: an answer or authority RRset that does not fit sets TC and ends the message; a
 * missing additional RRset does not (RFC 2181 §9).
 */
export function truncate(p: Prepared, room: number): { length: number; an: number; ns: number; ar: number; tc: boolean } {
  const counts = [0, 0, 0];
  let length = 0;
  for (const m of p.marks) {
    if (m.end > room) return { length, an: counts[0]!, ns: counts[1]!, ar: counts[2]!, tc: m.section !== 2 };
    length = m.end;
    counts[m.section]! += m.count;
  }
  return { length, an: counts[0]!, ns: counts[1]!, ar: counts[2]!, tc: false };
}

export { nameWireLength };
