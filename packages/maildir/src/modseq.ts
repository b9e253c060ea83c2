// CONDSTORE's mod-sequences (RFC 7162 §3.1) for a Maildir folder: dovecot keeps them in its
// index, which we do not read or write, so we keep our own beside dovecot's files, one small file
// per folder (`sstt-modseq`), never one of dovecot's. It holds the folder's HIGHESTMODSEQ and,
// for each UID, the mod-sequence of its last change and the flag letters it had then. Every
// folder sync (under dovecot's uidlist lock, the same lock every writer of this file holds)
// compares what was there with what is there now: a new UID, changed letters or a UID gone is a
// change, whoever made it (our IMAP, dovecot, POP3 DELE, a delivery, the console), and all the
// changes one sync finds share one new mod-sequence (RFC 7162 §3.1 only asks that it be higher
// than every one before; dovecot too gives one per transaction).
//
// Format: `sstt-modseq 1 V<uidvalidity> H<highestmodseq>`, then `<uid> <modseq> <letters>` per
// message in UID order (letters may be empty). A UIDVALIDITY that is not the uidlist's starts
// the folder over, above the old HIGHESTMODSEQ so that values never go back.
import fs from 'node:fs';
import path from 'node:path';
import { flagsOf } from './name.ts';

export const MODSEQ_FILE = 'sstt-modseq';
const MAGIC = 'sstt-modseq 1';

export interface ModSeqEntry {
  modseq: number;
  /** The Maildir flag letters the message had at that mod-sequence. */
  letters: string;
}

export interface ModSeqs {
  validity: number;
  highest: number;
  byUid: ReadonlyMap<number, ModSeqEntry>;
}

export function parseModSeqs(text: string): ModSeqs | undefined {
  const lines = text.split('\n');
  const m = /^sstt-modseq 1 V(\d{1,10}) H(\d{1,15})$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const byUid = new Map<number, ModSeqEntry>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    if (a <= 0 || b <= a + 1) return undefined;
    const uid = Number(line.slice(0, a));
    const modseq = Number(line.slice(a + 1, b));
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(modseq) || modseq < 1) return undefined;
    byUid.set(uid, { modseq, letters: line.slice(b + 1) });
  }
  return { validity: Number(m[1]), highest: Number(m[2]), byUid };
}

export function serializeModSeqs(m: ModSeqs): string {
  let text = `${MAGIC} V${m.validity} H${m.highest}\n`;
  for (const [uid, e] of m.byUid) text += `${uid} ${e.modseq} ${e.letters}\n`;
  return text;
}

/**
 * The folder's mod-sequences after comparing `prev` with the messages there now (UID order):
 * `changed` when anything moved (then the caller writes `next`).
 */
export function advanceModSeqs(
  prev: ModSeqs | undefined,
  validity: number,
  messages: ReadonlyArray<{ uid: number; name: string }>,
): { next: ModSeqs; changed: boolean } {
  // A new folder (or a new UIDVALIDITY) starts empty at HIGHESTMODSEQ 1 (above the old one), and
  // the messages found in it are its first change: dovecot's values for the same folder.
  const fresh = !prev || prev.validity !== validity;
  if (fresh) prev = { validity, highest: prev ? prev.highest + 1 : 1, byUid: new Map() };
  // Compare first without allocating: a folder that did not change (most syncs) costs one pass.
  let changed = fresh || messages.length !== prev!.byUid.size;
  for (let i = 0; !changed && i < messages.length; i++) {
    const m = messages[i]!;
    changed = prev!.byUid.get(m.uid)?.letters !== flagsOf(m.name);
  }
  if (!changed) return { next: prev!, changed: false };
  const highest = messages.length === 0 && fresh ? prev!.highest : prev!.highest + 1;
  const byUid = new Map<number, ModSeqEntry>();
  for (const m of messages) {
    const letters = flagsOf(m.name);
    const was = prev!.byUid.get(m.uid);
    byUid.set(m.uid, was && was.letters === letters ? was : { modseq: highest, letters });
  }
  return { next: { validity, highest, byUid }, changed: true };
}

/** Reads a folder's file: undefined when there is none yet, an error when it cannot be read (NOMODSEQ). */
export async function readModSeqs(dir: string): Promise<ModSeqs | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(path.join(dir, MODSEQ_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // A damaged file is started over as a new one would be (above nothing we know: from 1).
  return parseModSeqs(text);
}

/**
 * Writes the folder's next file aside (fsynced: a mod-sequence must never go back after a crash)
 * and returns its path, for the caller to rename over MODSEQ_FILE.
 */
export async function writeModSeqsAside(dir: string, m: ModSeqs): Promise<string> {
  const tmp = path.join(dir, `${MODSEQ_FILE}.tmp`);
  const fh = await fs.promises.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(serializeModSeqs(m));
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}
