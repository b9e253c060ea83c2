// The mailbox a session has selected (RFC 9051 §3 SELECTED state): its messages in order
// (message sequence number = index + 1), what the client was last told of each (its file name,
// so its flags), and the one way changes made elsewhere (delivery, POP3, dovecot, another IMAP
// session) reach the client: refresh(), which sends EXPUNGE, EXISTS and FETCH FLAGS in the order
// RFC 9051 §7 allows. fs.watch on new/ and cur/ tells an IDLE client at once (inotify on Linux).
import fs from 'node:fs';
import path from 'node:path';
import { flagsOfName, readKeywords, SYSTEM_FLAGS, syncFolder, type FolderCache, type FolderState, type StoredMessage } from '@sstt/maildir';

export interface Selected {
  name: string;
  dir: string;
  readOnly: boolean;
  validity: number;
  nextUid: number;
  messages: StoredMessage[];
  keywords: Array<string | undefined>;
  /** RFC 7162 HIGHESTMODSEQ at the last sync; undefined when the folder is NOMODSEQ. */
  highestModSeq: number | undefined;
  /** Whether this client was told the HIGHESTMODSEQ (or NOMODSEQ) of the mailbox. */
  modSeqTold: boolean;
  /** The server's cache of what each folder's last sync read. */
  cache: FolderCache;
  /** The sync `messages` were last brought in line with: the same result again means nothing changed on disk since. */
  synced: FolderState | undefined;
}

export async function openSelected(name: string, dir: string, readOnly: boolean, cache: FolderCache): Promise<Selected> {
  const st = await syncFolder(dir, [], cache);
  return {
    name,
    dir,
    readOnly,
    validity: st.validity,
    nextUid: st.nextUid,
    // The session's own copies: it renames and expunges them as its client acts (the sync's are shared).
    messages: st.messages.map((m) => ({ ...m })),
    synced: st,
    keywords: await readKeywords(dir),
    highestModSeq: st.highestModSeq,
    modSeqTold: false,
    cache,
  };
}

/** The SELECT response that tells a CONDSTORE client the mailbox's HIGHESTMODSEQ, or that it has none (RFC 7162 §3.1.2.1, §3.1.2.2). */
export function modSeqLine(sel: Selected): string {
  sel.modSeqTold = true;
  return sel.highestModSeq === undefined ? '* OK [NOMODSEQ] No permanent modsequences' : `* OK [HIGHESTMODSEQ ${sel.highestModSeq}] Highest`;
}

/**
 * Syncs the folder after the session changed it (STORE, a FETCH that set \Seen), so that the
 * change gets its mod-sequence now: each message the client knows as it is on disk takes the
 * mod-sequence found there (one whose file was changed by someone else keeps its old one until
 * refresh() tells the client).
 */
export async function commitChanges(sel: Selected): Promise<void> {
  const st = await syncFolder(sel.dir, [], sel.cache);
  const now = new Map(st.messages.map((m) => [m.uid, m]));
  for (const m of sel.messages) {
    const fresh = now.get(m.uid);
    if (fresh && fresh.name === m.name) m.modseq = fresh.modseq;
  }
  sel.highestModSeq = st.highestModSeq;
}

/**
 * An unsolicited FETCH of a message's flags: with CONDSTORE on, with its MODSEQ (RFC 7162 §3.1),
 * in dovecot's order (UID, MODSEQ, FLAGS); like dovecot, the UID only for a UID command (RFC 7162
 * asks for it always only once QRESYNC is on, which we do not offer).
 */
export function flagsFetch(sel: Selected, seq: number, m: StoredMessage, opts: { uid: boolean; condstore: boolean; silent?: boolean }): string {
  const items: string[] = [];
  if (opts.uid) items.push(`UID ${m.uid}`);
  if (opts.condstore && sel.highestModSeq !== undefined) items.push(`MODSEQ (${m.modseq})`);
  if (!opts.silent) items.push(`FLAGS ${flagList(sel, m)}`);
  return `* ${seq} FETCH (${items.join(' ')})`;
}

export function flagList(sel: Selected, m: StoredMessage): string {
  return `(${flagsOfName(m.name, sel.keywords).join(' ')})`;
}

/**
 * Reads the folder again and returns the untagged lines that tell the client what changed:
 * `* n EXPUNGE` (from the highest number down, so each number is still right when it is read),
 * `* n FETCH (FLAGS ...)` for flags changed by someone else, `* n EXISTS` for new mail.
 * `expunges` false (during FETCH, STORE, SEARCH by number: RFC 9051 §7.5.1 forbids EXPUNGE
 * then): nothing is read.
 */
export async function refresh(sel: Selected, opts: { expunges: boolean; uid: boolean; condstore: boolean }): Promise<string[]> {
  if (!opts.expunges) return [];
  const st = await syncFolder(sel.dir, [], sel.cache);
  const keywords = await readKeywords(sel.dir);
  const keywordsChanged = keywords.join('\0') !== sel.keywords.join('\0');
  sel.keywords = keywords;
  // The sync this session last saw again (the folder's files, uidlist and mod-sequences as they
  // were): only the keywords can have moved.
  if (st === sel.synced) return keywordsChanged ? [`* FLAGS (${flagsLine(sel)})`] : [];
  // Both lists are in ascending UID order (a uidlist with UIDs out of order is not read, and new
  // UIDs go at its end): each of the session's messages is found in the sync's by walking the two
  // together (no map of the folder made for every refresh).
  const now = st.messages;
  const found: Array<StoredMessage | undefined> = [];
  const out: string[] = [];
  for (let i = 0, j = 0; i < sel.messages.length; i++) {
    const uid = sel.messages[i]!.uid;
    while (j < now.length && now[j]!.uid < uid) j++;
    found.push(now[j]?.uid === uid ? now[j] : undefined);
  }
  for (let i = sel.messages.length - 1; i >= 0; i--) {
    if (found[i] === undefined) {
      out.push(`* ${i + 1} EXPUNGE`);
      sel.messages.splice(i, 1);
      found.splice(i, 1);
    }
  }
  for (let i = 0; i < sel.messages.length; i++) {
    const m = sel.messages[i]!;
    const fresh = found[i]!;
    // A CONDSTORE client is also told a new mod-sequence with the same flags (changed and back).
    if (fresh.name !== m.name || (opts.condstore && fresh.modseq !== m.modseq)) {
      m.name = fresh.name;
      m.modseq = fresh.modseq;
      out.push(flagsFetch(sel, i + 1, m, opts));
    } else m.modseq = fresh.modseq;
  }
  if (keywordsChanged) out.unshift(`* FLAGS (${flagsLine(sel)})`);
  const known = sel.messages.length === 0 ? 0 : sel.messages[sel.messages.length - 1]!.uid;
  const added = st.messages.filter((m) => m.uid > known).map((m) => ({ ...m }));
  if (added.length > 0) {
    sel.messages.push(...added);
    out.push(`* ${sel.messages.length} EXISTS`);
  }
  sel.nextUid = st.nextUid;
  sel.highestModSeq = st.highestModSeq;
  sel.synced = st;
  return out;
}

/** The FLAGS response's list: the system flags, then the folder's keywords. */
export function flagsLine(sel: Selected): string {
  return [...SYSTEM_FLAGS.map(([f]) => f), ...sel.keywords.filter((k): k is string => k !== undefined)].join(' ');
}

/** Calls `changed` (coalesced: at most one call in flight) when something moves in new/ or cur/. */
export function watchFolder(dir: string, changed: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const fire = () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void changed().finally(() => {
      running = false;
      if (again) {
        again = false;
        fire();
      }
    });
  };
  const watchers: fs.FSWatcher[] = [];
  for (const sub of ['new', 'cur']) {
    try {
      const w = fs.watch(path.join(dir, sub), { persistent: false }, fire);
      w.on('error', () => {});
      watchers.push(w);
    } catch {
      // The folder went away: nothing to watch.
    }
  }
  return () => {
    for (const w of watchers) w.close();
  };
}
