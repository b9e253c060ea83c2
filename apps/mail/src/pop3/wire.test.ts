// The wire encoder and the uidlist codec: whatever the chunk boundaries, the bytes sent are the
// same; the virtual size matches what is sent; a uidlist survives a round trip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUidList, serializeUidList, uidl } from '@sstt/maildir';
import { readPreparedBody, STATUS_HEADROOM, VirtualSizeCounter, WireEncoder, withStatus } from './wire.ts';

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

describe('readPreparedBody + withStatus (small messages in one buffer)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-wire-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const crlfSize = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1').length;
  let n = 0;
  const file = (text: string) => {
    const f = path.join(dir, `m${n++}`);
    fs.writeFileSync(f, Buffer.from(text, 'latin1'));
    return f;
  };

  it('gives the reference bytes after the status line, for RETR and TOP', () => {
    for (const text of [...SAMPLES, '', 'Subject: z\r\n\r\n' + 'line\r\n'.repeat(500)]) {
      const f = file(text);
      const size = crlfSize(text);
      expect(withStatus('+OK 1 octets', readPreparedBody(f, size)!).toString('latin1')).toBe('+OK 1 octets\r\n' + reference(text));
      for (const lines of [0, 1, 2, 10])
        expect(withStatus('+OK', readPreparedBody(f, size, lines)!).toString('latin1')).toBe('+OK\r\n' + reference(text, lines));
    }
  });

  it('sends the whole file even when the recorded size is wrong (smaller or larger)', () => {
    const text = 'Subject: w\r\n\r\n.dot\nbare\r\nend\r\n';
    const f = file(text);
    for (const size of [0, 5, crlfSize(text) - 1, crlfSize(text) + 1, 10_000]) {
      expect(withStatus('+OK', readPreparedBody(f, size)!).toString('latin1')).toBe('+OK\r\n' + reference(text));
    }
  });

  it('reuses a scratch buffer when it is large enough, leaving nothing of its old contents', () => {
    const big = 'Subject: big\r\n\r\n' + 'B'.repeat(3000) + '\r\n';
    const small = 'Subject: s\r\n\r\n.dot\r\nend';
    const first = readPreparedBody(file(big), big.length)!;
    const scratch = first.buf;
    const again = readPreparedBody(file(small), crlfSize(small), Infinity, scratch)!;
    expect(withStatus('+OK', again).toString('latin1')).toBe('+OK\r\n' + reference(small));
    const clean = 'Subject: c\r\n\r\nclean\r\n';
    const inPlace = readPreparedBody(file(clean), clean.length, Infinity, scratch)!;
    expect(inPlace.buf).toBe(scratch);
    expect(withStatus('+OK 21 octets', inPlace).toString('latin1')).toBe(`+OK 21 octets\r\n${clean}.\r\n`);
    // Too small a scratch buffer is not used.
    const tiny = Buffer.alloc(8);
    expect(readPreparedBody(file(clean), clean.length, Infinity, tiny)!.buf).not.toBe(tiny);
  });

  it('reads a clean CRLF file straight into the reply buffer, and null for a missing file', () => {
    const text = 'Subject: c\r\n\r\nclean\r\n';
    const body = readPreparedBody(file(text), text.length)!;
    expect(body.buf.subarray(STATUS_HEADROOM, body.end).toString('latin1')).toBe(text + '.\r\n');
    expect(readPreparedBody(path.join(dir, 'missing'), 10)).toBeNull();
    // A status line longer than the headroom still comes out right.
    const long = '+OK ' + 'x'.repeat(STATUS_HEADROOM);
    expect(withStatus(long, readPreparedBody(file(text), text.length)!).toString('latin1')).toBe(`${long}\r\n${text}.\r\n`);
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
    const text =
      '3 V1795652359 N6 Ge3021310077b076b4a2f000083ecc375\n1 W15 :1600000000.M4P1.host\n2 :1700000000.M4P1.host,S=14,W=17\n5 W17 :1700000003.M3P1.host,S=14\n';
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

  it("formats the UIDL as %08Xu%08Xv in dovecot's lower-case hex", () => {
    expect(uidl(1, 0x6b077b07)).toBe('000000016b077b07');
    expect(uidl(255, 1)).toBe('000000ff00000001');
  });
});
