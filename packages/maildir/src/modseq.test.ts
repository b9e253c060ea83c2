import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderCache, syncFolder } from './folders.ts';
import { advanceModSeqs, MODSEQ_FILE, parseModSeqs, serializeModSeqs } from './modseq.ts';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function folder(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-modseq-'));
  dirs.push(d);
  for (const s of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(d, s));
  return d;
}

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

describe('syncFolder and mod-sequences', () => {
  it('keeps them in sstt-modseq beside the uidlist; a rename or an unlink by someone else raises them at the next sync', async () => {
    const d = folder();
    fs.writeFileSync(path.join(d, 'new', '1700000001.M1P1.h'), 'Subject: x\r\n\r\nx\r\n');
    fs.writeFileSync(path.join(d, 'new', '1700000002.M2P1.h'), 'Subject: y\r\n\r\ny\r\n');
    const cache = new FolderCache();
    const st = await syncFolder(d, [], cache);
    expect([st.highestModSeq, st.messages.map((m) => m.modseq)]).toEqual([2, [2, 2]]);
    expect(fs.readFileSync(path.join(d, MODSEQ_FILE), 'utf8')).toBe('sstt-modseq 1 V' + st.validity + ' H2\n1 2 \n2 2 \n');
    expect((await syncFolder(d, [], cache)).highestModSeq).toBe(2);
    fs.renameSync(path.join(d, 'cur', st.messages[0]!.name), path.join(d, 'cur', '1700000001.M1P1.h:2,S'));
    const flagged = await syncFolder(d, [], cache);
    expect([flagged.highestModSeq, flagged.messages.map((m) => m.modseq)]).toEqual([3, [3, 2]]);
    fs.unlinkSync(path.join(d, 'cur', flagged.messages[1]!.name));
    // Another server (its own cache) sees the same file.
    const gone = await syncFolder(d, [], new FolderCache());
    expect([gone.highestModSeq, gone.messages.map((m) => [m.uid, m.modseq])]).toEqual([4, [[1, 3]]]);
  });

  it('a folder whose file cannot be kept has no mod-sequences (NOMODSEQ), and its sync still works', async () => {
    const d = folder();
    fs.writeFileSync(path.join(d, 'new', '1700000001.M1P1.h'), 'x');
    fs.mkdirSync(path.join(d, MODSEQ_FILE));
    const st = await syncFolder(d);
    expect([st.highestModSeq, st.messages.map((m) => [m.uid, m.modseq])]).toEqual([undefined, [[1, 0]]]);
  });
});
