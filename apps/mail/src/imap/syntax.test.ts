import { describe, expect, it } from 'vitest';
import { formatSeqSet, imapDateTime, isModifiedUtf7, parseDateTime, parseSeqSet, quote, tokenize, ImapSyntaxError } from './syntax.ts';

const tok = (text: string, literals: string[] = []) => tokenize({ text: text.split('\u0000'), literals: literals.map((l) => Buffer.from(l)) });

describe('tokenize', () => {
  it('atoms, quoted strings with escapes, lists, literals, fetch attributes with sections', () => {
    expect(tok('a "b \\"c\\" \\\\" (d (e)) BODY.PEEK[HEADER.FIELDS (From To)]<0.10> \\Seen')).toEqual([
      { kind: 'atom', value: 'a' },
      { kind: 'string', value: 'b "c" \\' },
      {
        kind: 'list',
        items: [
          { kind: 'atom', value: 'd' },
          { kind: 'list', items: [{ kind: 'atom', value: 'e' }] },
        ],
      },
      { kind: 'atom', value: 'BODY.PEEK[HEADER.FIELDS (From To)]<0.10>' },
      { kind: 'atom', value: '\\Seen' },
    ]);
    expect(tok('x \u0000 y', ['lit'])).toEqual([
      { kind: 'atom', value: 'x' },
      { kind: 'string', value: '', bytes: Buffer.from('lit') },
      { kind: 'atom', value: 'y' },
    ]);
  });

  it("malformed input is a syntax error in dovecot's words", () => {
    const cases: Array<[string, string]> = [
      ['(a', "Missing ')'"],
      ['a)', "Unexpected ')'"],
      [')', "Unexpected ')'"],
      ['"open', "Missing '\"'"],
      ['"ends in a backslash\\', "Missing '\"'"],
      ['"a\rb"', "Missing '\"'"],
      ['x{1}y', 'Invalid characters in atom'],
      ['a"b', 'Invalid characters in atom'],
      ['a(b', 'Invalid characters in atom'],
      ['caf\u00e9', '8bit data in atom'],
      ['"a\u0000b"', 'NULs not allowed in strings'],
    ];
    for (const [bad, why] of cases) {
      const read = () => tokenize({ text: [bad], literals: [] });
      expect(read, bad).toThrow(ImapSyntaxError);
      // an error object: its message must be equal, not only contained
      expect(read, bad).toThrow(new ImapSyntaxError(why));
    }
  });

  it('as dovecot reads them: any escaped character in a quoted string, a backslash inside an atom, an unclosed section left to FETCH', () => {
    expect(tok('"bad \\x escape" a\\b BODY[]<0 BODY[TEXT')).toEqual([
      { kind: 'string', value: 'bad x escape' },
      { kind: 'atom', value: 'a\\b' },
      { kind: 'atom', value: 'BODY[]<0' },
      { kind: 'atom', value: 'BODY[TEXT' },
    ]);
    // a section spans a space only to a header list closed by "]"; otherwise the space ends the atom
    expect(tok('BODY[TEXT BODY[] BODY[1 2] BODY[HEADER.FIELDS (A B)]')).toEqual([
      { kind: 'atom', value: 'BODY[TEXT' },
      { kind: 'atom', value: 'BODY[]' },
      { kind: 'atom', value: 'BODY[1' },
      { kind: 'atom', value: '2]' },
      { kind: 'atom', value: 'BODY[HEADER.FIELDS (A B)]' },
    ]);
  });
});

describe('sequence sets', () => {
  it('parses ranges with * both ways round, refuses 0 and junk', () => {
    expect(parseSeqSet('1:3,7,*', 9)).toEqual([
      [1, 3],
      [7, 7],
      [9, 9],
    ]);
    expect(parseSeqSet('5:2', 9)).toEqual([[2, 5]]);
    for (const bad of ['0', '1:x', '', '1,,2', '1:2:3', '4294967296', '$']) expect(parseSeqSet(bad, 9), bad).toBeUndefined();
    expect(formatSeqSet([7, 1, 2, 3, 9])).toBe('1:3,7,9');
  });
});

describe('strings and dates out', () => {
  it('quotes what it can, a literal otherwise', () => {
    expect(quote('a "b" \\')).toBe('"a \\"b\\" \\\\"');
    expect(quote('two\r\nlines')).toBe('{10}\r\ntwo\r\nlines');
    expect(quote(undefined)).toBe('NIL');
  });

  it('RFC 9051 date-time both ways', () => {
    expect(imapDateTime(Date.UTC(1996, 6, 17, 9, 44, 25))).toBe('17-Jul-1996 09:44:25 +0000');
    expect(parseDateTime('17-Jul-1996 02:44:25 -0700')).toBe(Date.UTC(1996, 6, 17, 9, 44, 25));
    expect(parseDateTime(' 7-Jul-1996 02:44:25 -0700')).toBe(Date.UTC(1996, 6, 7, 9, 44, 25));
    expect(parseDateTime('17-Foo-1996 02:44:25 -0700')).toBeUndefined();
  });

  it('modified UTF-7 mailbox names (RFC 3501 §5.1.3)', () => {
    expect(isModifiedUtf7('Entw&APw-rfe')).toBe(true);
    expect(isModifiedUtf7('a&-b')).toBe(true);
    expect(isModifiedUtf7('a&b')).toBe(false);
    expect(isModifiedUtf7('café')).toBe(false);
  });
});
