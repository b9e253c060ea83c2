import { describe, expect, it } from 'vitest';
import { baseOf, compareNames, curName, flagsOf, hasFlag, nameHost, nameTime, sizeOf, sortFlags, sortNames, uniqueName, withFlags, withSizes } from './name.ts';

// Names dovecot itself writes and documents (doc.dovecot.org, "Maildir Mailbox Format").
const DOVECOT = {
  uidlist: '1276528487.M364837P9451.kurkku,S=1355,W=1394:2,',
  flagged: '1276533073.M242911P3632.kurkku:2,F',
  keyword: '1234567890.M20046P2137.mailserver,S=4542,W=4642:2,Sb',
  courier: '1035478339.27041_118.foo.org,S=1000,W=1030:2,S',
  long: '1491941793.M41850P8566V0000000000000015I0000000004F3030E_0.mx1.example.com,S=10956:2,STln',
};

describe("dovecot's own names", () => {
  it('base, flags and sizes', () => {
    expect(
      [DOVECOT.uidlist, DOVECOT.flagged, DOVECOT.keyword, DOVECOT.courier, DOVECOT.long].map((n) => [baseOf(n), flagsOf(n), sizeOf(n, 'S'), sizeOf(n, 'W')]),
    ).toEqual([
      ['1276528487.M364837P9451.kurkku,S=1355,W=1394', '', 1355, 1394],
      ['1276533073.M242911P3632.kurkku', 'F', undefined, undefined],
      ['1234567890.M20046P2137.mailserver,S=4542,W=4642', 'Sb', 4542, 4642],
      ['1035478339.27041_118.foo.org,S=1000,W=1030', 'S', 1000, 1030],
      ['1491941793.M41850P8566V0000000000000015I0000000004F3030E_0.mx1.example.com,S=10956', 'STln', 10956, undefined],
    ]);
    // Not a size: no digits, a digit run cut by another character, one only after the ':'.
    expect(
      ['a.b.c,S=:2,', 'a.b.c,S=12x:2,', 'a.b.c,S=12,W=:2,', 'a.b.c:2,S=12', 'a.b.c,S=1234567890123456'].map((n) => [sizeOf(n, 'S'), sizeOf(n, 'W')]),
    ).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [12, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    expect(hasFlag(DOVECOT.long, 'S')).toBe(true);
    expect(hasFlag(DOVECOT.uidlist, 'S')).toBe(false);
  });

  it('delivery time: seconds, and the microseconds of the M field (0 without one)', () => {
    expect(nameTime(DOVECOT.uidlist)).toEqual({ secs: 1276528487, usecs: 364837 });
    expect(nameTime(DOVECOT.courier)).toEqual({ secs: 1035478339, usecs: 0 });
    expect(nameTime('1700000000.H123P45.exim-host')).toEqual({ secs: 1700000000, usecs: 0 });
  });
});

describe('flags', () => {
  it('withFlags writes them sorted, once each, system flags before keywords (ASCII order)', () => {
    expect(withFlags('1700000000.M1P1.h,S=5,W=5', 'TSbFaD')).toBe('1700000000.M1P1.h,S=5,W=5:2,DFSTab');
    expect(withFlags('1700000000.M1P1.h:2,S', 'SSRP')).toBe('1700000000.M1P1.h:2,PRS');
    expect(withFlags('1700000000.M1P1.h:2,FS', '')).toBe('1700000000.M1P1.h:2,');
  });

  it('round trip: the flags read back are the flags written, the base unchanged', () => {
    for (const name of Object.values(DOVECOT)) {
      for (const flags of ['', 'S', 'DFPRST', 'Sab', 'z']) {
        const set = withFlags(name, flags);
        expect(flagsOf(set)).toBe(sortFlags(flags));
        expect(baseOf(set)).toBe(baseOf(name));
        expect(sizeOf(set, 'S')).toBe(sizeOf(name, 'S'));
      }
    }
  });

  it("keeps what follows another ',' in a 2, info, as dovecot does; drops another info", () => {
    expect(flagsOf('a.b.c:2,SF,xyz')).toBe('SF');
    expect(withFlags('a.b.c:2,SF,xyz', 'R')).toBe('a.b.c:2,R,xyz');
    expect(flagsOf('a.b.c:1,experimental')).toBe('');
    expect(withFlags('a.b.c:1,experimental', 'S')).toBe('a.b.c:2,S');
  });

  it('reads the flags after the last ":" and the base before the first, as dovecot', () => {
    expect(flagsOf('a:b:2,S')).toBe('S');
    expect(baseOf('a:b:2,S')).toBe('a');
    expect(withFlags('a:b:2,S', 'T')).toBe('a:b:2,T');
    expect(flagsOf('a:2,S:x')).toBe('');
    expect(flagsOf('a.b.c')).toBe('');
    expect(flagsOf('a.b.c:2')).toBe('');
    expect(flagsOf('a.b.c:2,')).toBe('');
  });

  it('refuses a letter that would change what the name means', () => {
    expect(() => withFlags('a', 'S,')).toThrow('not a Maildir flag letter: ","');
    expect(() => withFlags('a', ':')).toThrow('not a Maildir flag letter: ":"');
    expect(() => sortFlags('S/')).toThrow('not a Maildir flag letter: "/"');
    expect(() => sortFlags('1')).toThrow('not a Maildir flag letter: "1"');
  });

  it('curName: ":2," for a name from new/, unchanged when it has an info', () => {
    expect(curName('1700000000.M1P1.h,S=5,W=5')).toBe('1700000000.M1P1.h,S=5,W=5:2,');
    expect(curName('1700000000.M1P1.h:2,S')).toBe('1700000000.M1P1.h:2,S');
    expect(curName('1700000000.M1P1.h:1,x')).toBe('1700000000.M1P1.h:1,x');
  });
});

describe('sizes', () => {
  it('round trip through withSizes', () => {
    const name = withSizes('1700000000.M1P1Q1.h', 120, 125);
    expect(name).toBe('1700000000.M1P1Q1.h,S=120,W=125');
    expect([sizeOf(name, 'S'), sizeOf(name, 'W'), sizeOf(`${name}:2,S`, 'W')]).toEqual([120, 125, 125]);
  });

  it('malformed fields are no size: no digits, a tail, too many digits; only the first field counts', () => {
    expect(sizeOf('a.b.c,S=', 'S')).toBeUndefined();
    expect(sizeOf('a.b.c,S=12abc', 'S')).toBeUndefined();
    expect(sizeOf('a.b.c,S=12abc,S=7', 'S')).toBeUndefined();
    expect(sizeOf('a.b.c,S=1234567890123456', 'S')).toBeUndefined();
    expect(sizeOf('a.b.c,S=123456789012345', 'S')).toBe(123456789012345);
    expect(sizeOf('a.b.c,S=7,S=9', 'S')).toBe(7);
    expect(sizeOf('a.b.c,S=0', 'S')).toBe(0);
    expect(sizeOf('a.b.cS=5', 'S')).toBeUndefined();
    // a size in the info is not the message's
    expect(sizeOf('a.b.c:2,S,S=5', 'S')).toBeUndefined();
    expect(sizeOf('a.b.c,W=5', 'S')).toBeUndefined();
  });
});

describe('unique names', () => {
  it('<secs>.M<usecs>P<pid>Q<counter>.<host>, each one new', () => {
    const a = uniqueName(1_700_000_000_123.5, 'h');
    const b = uniqueName(1_700_000_000_123.5, 'h');
    expect(a).toMatch(new RegExp(`^1700000000\\.M123500P${process.pid}Q\\d+\\.h$`));
    expect(b).not.toBe(a);
    expect(nameTime(a)).toEqual({ secs: 1700000000, usecs: 123500 });
  });

  it('escapes "/" and ":" in the host as the spec says', () => {
    expect(nameHost('a/b:c')).toBe('a\\057b\\072c');
    const name = uniqueName(1000, nameHost('x:y'));
    expect(baseOf(`${name}:2,S`)).toBe(name);
    expect(flagsOf(name)).toBe('');
  });

  it('a name that does not start "<digits>." has no time', () => {
    expect(nameTime('x.M1P1.h')).toBeUndefined();
    expect(nameTime('1700000000')).toBeUndefined();
    expect(nameTime('1700000000x.M1')).toBeUndefined();
    expect(nameTime('1700000000.P1M.h')).toEqual({ secs: 1700000000, usecs: 0 });
  });
});

describe("dovecot's order of new files", () => {
  it('by seconds, then microseconds, then the rest of the name', () => {
    const names = ['1700000001.M2P1.h', '1600000000.M9P1.h', '1700000001.M10P1.h', '1700000001.M10P1.a'];
    expect([...names].sort(compareNames)).toEqual(['1600000000.M9P1.h', '1700000001.M2P1.h', '1700000001.M10P1.a', '1700000001.M10P1.h']);
  });

  it('as maildir_filename_sort_cmp: M only inside the uniqueness part, no seconds is 0, the info ignored', () => {
    // ".H5" has no M field: the rest of the name decides ("H" < "M").
    expect(compareNames('1700000000.H5P1.h', '1700000000.M1P1.h')).toBeLessThan(0);
    // An M in the host part is no microseconds field.
    expect(compareNames('1700000000.P9.M1', '1700000000.P1.M9')).toBeGreaterThan(0);
    expect(compareNames('x', '1')).toBeLessThan(0);
    expect(compareNames('1700000000.M1P1.h:2,S', '1700000000.M1P1.h')).toBe(0);
    // dovecot compares the characters: ":" (58) after "," (44)
    expect(compareNames('1700000000.M1P1.h:2,S', '1700000000.M1P1.h,S=5')).toBeGreaterThan(0);
  });

  it('sortNames gives the order of compareNames', () => {
    const parts = ['1700000001', '1700000002', '17', 'x', ''];
    const ms = ['.M1P1', '.M01P1', '.M10P2', '.P3', ''];
    const hosts = ['.a', '.b,S=5', ''];
    const names: string[] = [];
    for (const p of parts) for (const m of ms) for (const h of hosts) names.push(p + m + h);
    // a fixed shuffle, so that the input order is not already sorted
    const shuffled = names
      .map((n, i) => [((i * 7919) % 101) + i / 1000, n] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, n]) => n);
    expect(sortNames(shuffled)).toEqual([...shuffled].sort(compareNames));
  });
});
