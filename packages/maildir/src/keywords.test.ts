import { describe, expect, it } from 'vitest';
import { keywordIndex, keywordLetter, keywordsError, parseKeywords, serializeKeywords } from './keywords.ts';
import { flagsOf, withFlags } from './name.ts';

describe('dovecot-keywords', () => {
  it("reads dovecot's example and writes it back byte for byte", () => {
    const text = '0 $Junk\n1 $NonJunk\n';
    const names = parseKeywords(text);
    expect(names).toEqual(['$Junk', '$NonJunk']);
    expect(serializeKeywords(names)).toBe(text);
    // dovecot's example: "...:2,Sb" is flagged $NonJunk
    const letters = flagsOf('1234567890.M20046P2137.mailserver,S=4542,W=4642:2,Sb').replace(/[A-Z]/g, '');
    expect([...letters].map((l) => names[keywordIndex(l)!])).toEqual(['$NonJunk']);
  });

  it('round trip with gaps: a sparse list keeps its indexes', () => {
    const names: Array<string | undefined> = [];
    names[3] = '$Label1';
    names[25] = 'Last';
    const text = serializeKeywords(names);
    expect(text).toBe('3 $Label1\n25 Last\n');
    expect(parseKeywords(text)).toEqual(names);
  });

  it('skips the lines dovecot skips, and reads the index with atoi as dovecot does', () => {
    expect(parseKeywords('nospace\n26 TooFar\n-1 Negative\n2 \n\n4 Four')).toEqual([undefined, undefined, undefined, undefined, 'Four']);
    // atoi("x") is 0, atoi("3abc") is 3; a later line for an index wins
    expect(parseKeywords('x Zero\n3abc Three\n3 Again\n')).toEqual(['Zero', undefined, undefined, 'Again']);
    expect(parseKeywords('1 two words\n')).toEqual([undefined, 'two words']);
  });

  it('refuses to write what dovecot could not read back', () => {
    expect(() => serializeKeywords(['a\nb'])).toThrow('not a keyword: "a\\nb"');
    expect(() => serializeKeywords([''])).toThrow('not a keyword: ""');
    expect(() => serializeKeywords(Array.from({ length: 27 }, (_, i) => `k${i}`))).toThrow('more than 26 keywords');
  });

  it('letters a..z are indexes 0..25, and only they', () => {
    expect([keywordLetter(0), keywordLetter(25)]).toEqual(['a', 'z']);
    expect([keywordIndex('a'), keywordIndex('z'), keywordIndex('A'), keywordIndex('ab'), keywordIndex('{')]).toEqual([0, 25, undefined, undefined, undefined]);
    expect(() => keywordLetter(26)).toThrow('no Maildir letter for keyword 26');
    expect(() => keywordLetter(1.5)).toThrow('no Maildir letter for keyword 1.5');
    expect(flagsOf(withFlags('1.M1P1.h', `S${keywordLetter(12)}${keywordLetter(13)}T`))).toBe('STmn');
  });
});

describe('keywordsError', () => {
  it("refuses IMAP's atom-specials and 8-bit octets in a new keyword, in dovecot's words; system flags and keywords the folder has pass", () => {
    expect(keywordsError(['$Work', 'Done', '\\Seen'])).toBeUndefined();
    for (const bad of ['a%b', 'a]b', 'a*', 'a\\b', 'a(b', 'a"b', 'a b', 'a\u007fb'])
      expect(keywordsError(['ok', bad]), bad).toBe('Invalid characters in keyword.');
    expect(keywordsError(['caf\u00e9'])).toBe('8bit characters in keyword.');
    expect(keywordsError([''])).toBe('Empty keywords not allowed.');
    // one the folder already has is fine whatever it holds (dovecot skips the checks)
    expect(keywordsError(['A%B'], [undefined, 'a%b'])).toBeUndefined();
  });
});
