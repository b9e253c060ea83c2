import { describe, expect, it } from 'vitest';
import { advanceModSeqs, parseModSeqs, serializeModSeqs } from './modseq.ts';

const msgs = (...m: Array<[number, string]>) => m.map(([uid, name]) => ({ uid, name }));

describe('advanceModSeqs', () => {
  it('a new folder is at 1, its first messages at 2; then one new mod-sequence per change, kept for what did not change', () => {
    const empty = advanceModSeqs(undefined, 7, []);
    expect(empty).toEqual({ next: { validity: 7, highest: 1, byUid: new Map() }, changed: true });
    const first = advanceModSeqs(undefined, 7, msgs([1, 'a:2,'], [2, 'b:2,S']));
    expect(first.next.highest).toBe(2);
    expect([...first.next.byUid]).toEqual([
      [1, { modseq: 2, letters: '' }],
      [2, { modseq: 2, letters: 'S' }],
    ]);
    // Nothing moved: the same value back, nothing to write.
    const same = advanceModSeqs(first.next, 7, msgs([1, 'a:2,'], [2, 'b:2,S']));
    expect(same).toEqual({ next: first.next, changed: false });
    // A flag on 1, a new 3: both at 3; 2 keeps 2.
    const second = advanceModSeqs(first.next, 7, msgs([1, 'a:2,F'], [2, 'b:2,S'], [3, 'c:2,']));
    expect(second.changed).toBe(true);
    expect(second.next.highest).toBe(3);
    expect([...second.next.byUid].map(([u, e]) => [u, e.modseq])).toEqual([
      [1, 3],
      [2, 2],
      [3, 3],
    ]);
    // An expunge alone raises HIGHESTMODSEQ.
    const third = advanceModSeqs(second.next, 7, msgs([1, 'a:2,F'], [3, 'c:2,']));
    expect([third.changed, third.next.highest, [...third.next.byUid.keys()]]).toEqual([true, 4, [1, 3]]);
    // A new UIDVALIDITY starts over, above the old values.
    const renewed = advanceModSeqs(third.next, 8, msgs([1, 'a:2,F']));
    expect([renewed.next.validity, renewed.next.highest, renewed.next.byUid.get(1)?.modseq]).toEqual([8, 6, 6]);
  });

  it('round-trips through its file format; a damaged file is not one', () => {
    const { next } = advanceModSeqs(undefined, 42, msgs([3, 'a:2,RS'], [9, 'b:2,']));
    const text = serializeModSeqs(next);
    expect(text).toBe('sstt-modseq 1 V42 H2\n3 2 RS\n9 2 \n');
    expect(parseModSeqs(text)).toEqual(next);
    expect(parseModSeqs('3 V1 N2\n')).toBeUndefined();
    expect(parseModSeqs('sstt-modseq 1 V42 H2\n3 x RS\n')).toBeUndefined();
    expect(parseModSeqs('sstt-modseq 1 V42 H2\n3 0 RS\n')).toBeUndefined();
  });
});
