// The wire encoder and the uidlist codec: whatever the chunk boundaries, the bytes sent are the
// same; the virtual size matches what is sent; a uidlist survives a round trip.
import { describe, expect, it } from 'vitest';
import { compareMaildirNames, parseUidList, serializeUidList, uidl } from './uidlist.ts';
import { VirtualSizeCounter, WireEncoder } from './wire.ts';

function encodeAll(data: Buffer, cuts: number[], bodyLines = Infinity): Buffer {
  const enc = new WireEncoder(bodyLines);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, data.length]) {
    out.push(enc.encode(data.subarray(at, c)));
    at = c;
  }
  out.push(enc.finish());
  return Buffer.concat(out);
}

/** The reference: a plain string transformation of the whole message. */
function reference(text: string, bodyLines = Infinity): string {
  let lines = text.replace(/\r?\n/g, '\n').split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  if (bodyLines !== Infinity) {
    const blank = lines.indexOf('');
    if (blank >= 0) {
      const keep = blank + 1 + bodyLines;
      if (keep < lines.length) lines = lines.slice(0, keep);
    }
  }
  return lines.map((l) => (l.startsWith('.') ? `.${l}` : l) + '\r\n').join('') + '.\r\n';
}

const SAMPLES = [
  'Subject: a\r\n\r\nbody\r\n',
  'Subject: b\n\n.dot\n..two\nend',
  '.starts with dot\r\n\r\n.\r\n',
  'H: 1\r\nH: 2\r\n\r\nl1\nl2\r\n.l3\nl4\n',
  'no blank line at all\r\nstill header\r\n',
  'x',
];

describe('WireEncoder', () => {
  it('gives the same bytes for every way of cutting the file into chunks', () => {
    for (const text of SAMPLES) {
      const data = Buffer.from(text, 'latin1');
      const expected = reference(text);
      expect(encodeAll(data, []).toString('latin1')).toBe(expected);
      for (let a = 0; a <= data.length; a++) {
        for (let b = a; b <= data.length; b++) expect(encodeAll(data, [a, b]).toString('latin1')).toBe(expected);
      }
    }
  });

  it('TOP n stops after n body lines whatever the chunks', () => {
    for (const text of SAMPLES) {
      const data = Buffer.from(text, 'latin1');
      for (const n of [0, 1, 2, 10]) {
        const expected = reference(text, n);
        for (let a = 0; a <= data.length; a++) expect(encodeAll(data, [a], n).toString('latin1')).toBe(expected);
      }
    }
  });

  it('returns the input itself when nothing needs changing (the common CRLF case)', () => {
    const data = Buffer.from('Subject: x\r\n\r\nplain\r\n');
    expect(new WireEncoder().encode(data)).toBe(data);
  });
});

describe('VirtualSizeCounter', () => {
  it('counts CRLF octets, across chunk boundaries', () => {
    for (const text of SAMPLES) {
      const data = Buffer.from(text, 'latin1');
      const crlf = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1').length;
      for (let a = 0; a <= data.length; a++) {
        const c = new VirtualSizeCounter();
        c.add(data.subarray(0, a));
        c.add(data.subarray(a));
        expect(c.size).toBe(crlf);
      }
    }
  });
});

describe('dovecot-uidlist', () => {
  it('parses and writes version 3 as dovecot does', () => {
    const text = '3 V1795652359 N6 Ge3021310077b076b4a2f000083ecc375\n1 W15 :1600000000.M4P1.host\n2 :1700000000.M4P1.host,S=14,W=17\n5 W17 :1700000003.M3P1.host,S=14\n';
    const list = parseUidList(text)!;
    expect(list.validity).toBe(1795652359);
    expect(list.nextUid).toBe(6);
    expect(list.records.map((r) => [r.uid, r.base])).toEqual([
      [1, '1600000000.M4P1.host'],
      [2, '1700000000.M4P1.host,S=14,W=17'],
      [5, '1700000003.M3P1.host,S=14'],
    ]);
    expect(serializeUidList(list)).toBe(text);
  });

  it('reads version 1 (Courier) and refuses garbage', () => {
    const v1 = parseUidList('1 1234567 3\n1 a.b.c:2,S\n2 d.e.f\n')!;
    expect(v1.records.map((r) => r.base)).toEqual(['a.b.c', 'd.e.f']);
    expect(parseUidList('hello')).toBeUndefined();
    expect(parseUidList('3 V0 N1\n')).toBeUndefined();
    expect(parseUidList('3 V5 N3\n2 :a\n1 :b\n')).toBeUndefined();
  });

  it('formats the UIDL as %08Xu%08Xv in dovecot\'s lower-case hex', () => {
    expect(uidl(1, 0x6b077b07)).toBe('000000016b077b07');
    expect(uidl(255, 1)).toBe('000000ff00000001');
  });

  it('orders new files by time stamp, then microseconds, then name', () => {
    const names = ['1700000001.M2P1.h', '1600000000.M9P1.h', '1700000001.M10P1.h', '1700000001.M10P1.a'];
    expect([...names].sort(compareMaildirNames)).toEqual(['1600000000.M9P1.h', '1700000001.M2P1.h', '1700000001.M10P1.a', '1700000001.M10P1.h']);
  });
});
