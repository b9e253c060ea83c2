// Regressions found by the line-reader fuzz campaign (fuzz/pop3.fuzz.ts): the verdict on a
// line must not depend on where the stream was split into reads.
import { describe, expect, it } from 'vitest';
import { LineReader } from './line-reader.ts';

describe('LineReader', () => {
  it('takes a line of exactly the cap whose CR and LF arrive in different reads', () => {
    // Found as [0a 20 20 20 20 20 0d 0d 0a] with a cap of 6, cut after the first CR.
    const r = new LineReader(6);
    expect(r.push(Buffer.from('\n     \r\r'))).toEqual({ lines: [''], overflow: false });
    expect(r.push(Buffer.from('\n'))).toEqual({ lines: ['     \r'], overflow: false });
  });

  it('takes a command of exactly the cap cut between CR and LF', () => {
    const r = new LineReader(8);
    expect(r.push(Buffer.from('USER abc\r'))).toEqual({ lines: [], overflow: false });
    expect(r.push(Buffer.from('\n'))).toEqual({ lines: ['USER abc'], overflow: false });
  });

  it('still refuses a partial line one octet over the cap', () => {
    const r = new LineReader(8);
    expect(r.push(Buffer.from('USER abcd'))).toEqual({ lines: [], overflow: true });
  });

  it('refuses a partial line over the cap even when it ends in CR', () => {
    const r = new LineReader(8);
    expect(r.push(Buffer.from('USER abcd\r'))).toEqual({ lines: [], overflow: true });
  });
});
