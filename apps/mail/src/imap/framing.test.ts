import { describe, expect, it } from 'vitest';
import { CommandReader, type Framed } from './framing.ts';

const limits = { maxLineOctets: 100, maxLiteralOctets: 50, appendLimit: 1000 };
const text = (f: Framed[]) => f.map((x) => (x.kind === 'command' ? { text: x.command.text, literals: x.command.literals.map((l) => l.toString()) } : x.kind));

describe('CommandReader', () => {
  it('frames lines, whatever the chunks', () => {
    const r = new CommandReader(limits);
    expect(text(r.push(Buffer.from('a NOOP\r\nb CAPA')))).toEqual([{ text: ['a NOOP'], literals: [] }]);
    expect(r.hasPartial).toBe(true);
    expect(text(r.push(Buffer.from('BILITY\nc')))).toEqual([{ text: ['b CAPABILITY'], literals: [] }]);
  });

  it('synchronising literals ask to continue; literal+ does not; both are read by count, across chunks', () => {
    const r = new CommandReader(limits);
    const out = r.push(Buffer.from('a LOGIN {3}\r\nbob {5+}\r\nse'));
    expect(out.map((f) => f.kind)).toEqual(['continue']);
    expect(text(r.push(Buffer.from('c\r\nt\r\n')))).toEqual([{ text: ['a LOGIN ', ' ', 't'], literals: ['bob', 'sec\r\n'] }]);
  });

  it('a literal may hold CRLF and "{1}": only its count ends it', () => {
    const r = new CommandReader(limits);
    expect(text(r.push(Buffer.from('a X {6+}\r\n{1}\r\n\r\n')))).toEqual([{ text: ['a X ', ''], literals: ['{1}\r\n\r'] }]);
  });

  it('a literal over the cap: refused, a synchronising one before it comes, a literal+ skipped', () => {
    const r = new CommandReader(limits);
    expect(r.push(Buffer.from('a LOGIN {51}\r\n'))).toEqual([{ kind: 'too-big', tag: 'a', sync: true }]);
    expect(r.push(Buffer.from(`b LOGIN {51+}\r\n${'x'.repeat(51)} {2+}\r\nyy\r\nc NOOP\r\n`)).map((f) => (f.kind === 'command' ? f.command.text : f))).toEqual([
      { kind: 'too-big', tag: 'b', sync: false },
      ['c NOOP'],
    ]);
    // APPEND's cap is the APPENDLIMIT; LITERAL- is at most 4096.
    expect(r.push(Buffer.from('d APPEND x {1000}\r\n')).map((f) => f.kind)).toEqual(['continue']);
    r.reset();
    expect(r.push(Buffer.from('e UID APPEND x {1001}\r\n'))).toEqual([{ kind: 'too-big', tag: 'e', sync: true }]);
  });

  it('a line over the cap is an overflow, never buffered past it (10 MB in 64 KiB chunks)', () => {
    const r = new CommandReader(limits);
    const chunk = Buffer.alloc(65536, 0x61);
    let pushes = 0;
    let out: Framed[] = [];
    while (out.length === 0 && pushes < 160) {
      out = r.push(chunk);
      pushes++;
    }
    expect(out).toEqual([{ kind: 'overflow' }]);
    expect(pushes).toBe(1);
    expect(r.hasPartial).toBe(false);
  });

  it('abandon() drops a refused synchronising literal that has not begun', () => {
    const r = new CommandReader(limits);
    const [cont] = r.push(Buffer.from('a APPEND Nope {5}\r\n'));
    expect(cont!.kind).toBe('continue');
    expect(r.abandon((cont as { id: number }).id)).toBe(true);
    expect(text(r.push(Buffer.from('b NOOP\r\n')))).toEqual([{ text: ['b NOOP'], literals: [] }]);
    const [cont2] = r.push(Buffer.from('c APPEND Nope {5}\r\nhe'));
    expect(r.abandon((cont2 as { id: number }).id)).toBe(false);
  });
});
