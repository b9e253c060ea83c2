// The commands on messages of the selected mailbox (RFC 9051 §6.4): FETCH, STORE, COPY, MOVE
// (RFC 6851), EXPUNGE and UID EXPUNGE (RFC 4315), with their UID forms, and the message sets
// they take (sequence numbers or UIDs, "*" the last).
import fs from 'node:fs';
import path from 'node:path';
import { enableCondstore, sendUpdates } from './commands.ts';
import { bodyStructure, envelope, parsePart, parseSection, sectionBytes, toCrlf, type Part, type Section } from './message.ts';
import { commitChanges, flagList, flagsFetch, flagsLine, type Selected } from './selected.ts';
import type { ImapSession } from './session.ts';
import { SMALL_MESSAGE_OCTETS } from '../pop3/mailbox.ts';
import {
  copyMessages,
  flagsOf,
  flagsOfName,
  folderExists,
  keywordLetter,
  keywordLetters,
  lettersOf,
  mailboxDir,
  otherLetters,
  readKeywords,
  setLetters,
  sizeOf,
  syncFolder,
  type StoredMessage,
  keywordsError,
} from '@sstt/maildir';
import { astring, formatSeqSet, imapDateTime, inSeqSet, isAtom, parseSeqSet, type Token } from './syntax.ts';

/**
 * The messages a sequence set (or with `uid` a UID set) names, with their sequence numbers;
 * undefined when it is malformed or names a sequence number past the last message, unless
 * `pastEnd` (SEARCH: such a number matches nothing, as in dovecot).
 */
export function messagesOf(sel: Selected, set: string, uid: boolean, pastEnd = false): Array<{ seq: number; msg: StoredMessage }> | undefined {
  const msgs = sel.messages;
  if (uid) {
    const last = msgs.length === 0 ? 0 : msgs[msgs.length - 1]!.uid;
    // "*" in a UID set is the highest UID in the mailbox (RFC 9051 §9 seq-number); none: nothing matches.
    const parsed = parseSeqSet(set, Math.max(last, 1));
    if (!parsed) return undefined;
    return pick(msgs, (msg) => inSeqSet(parsed, msg.uid));
  }
  const parsed = parseSeqSet(set, msgs.length);
  if (!parsed || parsed.some(([a, b]) => a < 1 || (b > msgs.length && !pastEnd))) return undefined;
  return pick(msgs, (_, seq) => inSeqSet(parsed, seq));
}

/** The messages `wanted` keeps, with their sequence numbers (one array, one entry per kept message). */
function pick(msgs: readonly StoredMessage[], wanted: (msg: StoredMessage, seq: number) => boolean): Array<{ seq: number; msg: StoredMessage }> {
  const out: Array<{ seq: number; msg: StoredMessage }> = [];
  for (let i = 0; i < msgs.length; i++) if (wanted(msgs[i]!, i + 1)) out.push({ seq: i + 1, msg: msgs[i]! });
  return out;
}

type Item =
  | { kind: 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' | 'MODSEQ' }
  | { kind: 'section'; section: Section; peek: boolean; partial: [number, number] | undefined; label: string };

const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
/** The items dovecot writes at once (its buffered fetch handlers): they come before the others. */
const BUFFERED_KINDS = new Set<Item['kind']>(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ']);

/**
 * The items in the order dovecot answers them (imap-fetch.c imap_fetch_add_handler): those it
 * writes at once first, then the others, each group in the order asked (a UID FETCH's UID ahead
 * of all); an item other than a section asked twice is given once.
 */
function inDovecotOrder(items: Item[]): Item[] {
  const seen = new Set<Item['kind']>();
  const once = items.filter((i) => i.kind === 'section' || (!seen.has(i.kind) && seen.add(i.kind)));
  return [...once.filter((i) => BUFFERED_KINDS.has(i.kind)), ...once.filter((i) => !BUFFERED_KINDS.has(i.kind))];
}
const SIMPLE = new Set([
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
  'MODSEQ',
]);

function parseItem(atom: string): Item | undefined {
  const up = atom.toUpperCase();
  if (SIMPLE.has(up)) return { kind: up as 'UID' };
  // <start.octets>, or <start> to the end and <start.0> for nothing, which dovecot allows too
  const m = /^BODY(\.PEEK)?\[([^\]]*)\](?:<(\d{1,10})(?:\.(\d{1,10}))?>)?$/i.exec(atom);
  if (!m) return undefined;
  const section = parseSection(m[2]!);
  if (!section) return undefined;
  const partial: [number, number] | undefined = m[3] !== undefined ? [Number(m[3]), m[4] !== undefined ? Number(m[4]) : Number.POSITIVE_INFINITY] : undefined;
  return { kind: 'section', section, peek: m[1] !== undefined, partial, label: `BODY[${m[2]!.toUpperCase()}]${partial ? `<${partial[0]}>` : ''}` };
}

/** The items of a FETCH, or the BAD's text (dovecot's words for an unclosed section or partial). */
function parseItems(t: Token | undefined): Item[] | string {
  if (isAtom(t) && MACROS[t.value.toUpperCase()]) return MACROS[t.value.toUpperCase()]!.map((a) => parseItem(a)!);
  const atoms = t?.kind === 'list' ? t.items : t ? [t] : [];
  if (atoms.length === 0) return 'Invalid arguments.';
  const out: Item[] = [];
  for (const a of atoms) {
    const item = isAtom(a) ? parseItem(a.value) : undefined;
    if (!item) return isAtom(a) ? unclosed(a.value) : 'Invalid arguments.';
    out.push(item);
  }
  return out;
}

/** Why a BODY[...] attribute could not be read, in dovecot's words (imap-fetch-body.c body_parse_partial). */
function unclosed(atom: string): string {
  const m = /^BODY(?:\.PEEK)?\[(.*)$/i.exec(atom);
  if (!m) return 'Invalid arguments.';
  const close = m[1]!.indexOf(']');
  const why = (text: string) => `Invalid BODY[..] parameter: ${text}.`;
  if (close < 0) return why("Missing ']'");
  const rest = m[1]!.slice(close + 1);
  if (rest === '') return 'Invalid arguments.';
  if (!rest.startsWith('<')) return why("Unexpected data after ']'");
  // <start[.end]> then nothing: an empty number is "too big" to dovecot (read_uoff_t fails)
  const p = /^<(\d*)(?:\.(\d*))?(.?)(.*)$/.exec(rest)!;
  if (p[1] === '') return why('Too big partial start');
  if (p[2] === '') return why('Too big partial end');
  if (p[3] !== '>') return why("Missing '>' in partial");
  if (p[4] !== '') return why("Unexpected data after '>'");
  return 'Invalid arguments.';
}

/** Replies this large are sent before the next message is read (a client that does not read holds the FETCH). */
const FLUSH_OCTETS = 256 * 1024;

/** The reply buffer's first size: a FETCH of flags fits, a large one doubles it up to FLUSH_OCTETS and more. */
const REPLY_START_OCTETS = 16 * 1024;

/**
 * A FETCH's responses built in one buffer: each message's lines and literals are copied in as they
 * are made (so the buffer a message was read into serves the next one), and what is built is
 * taken whole for one socket write every FLUSH_OCTETS.
 */
class ReplyBuffer {
  private buf = Buffer.allocUnsafe(REPLY_START_OCTETS);
  length = 0;
  /** Whether the next item of a FETCH response is its first (no space before it). */
  private first = true;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  text(t: string): void {
    this.room(t.length);
    this.length += this.buf.write(t, this.length, 'latin1');
  }
  /** A non-negative integer in decimal, written digit by digit (no string is made for it). */
  num(n: number): void {
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.room(digits);
    for (let i = this.length + digits - 1; i >= this.length; i--) {
      this.buf[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.length += digits;
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    this.length += b.copy(this.buf, this.length);
  }
  /** An item that is a literal (`BODY[] {n}` and its octets), after the space between items. */
  literal(label: string, bytes: Buffer): void {
    this.item();
    this.text(label);
    this.text(' {');
    this.num(bytes.length);
    this.text('}\r\n');
    this.bytes(bytes);
  }
  /** A FETCH response's start (`* 7 FETCH (`): its first item comes next. */
  response(seq: number): void {
    this.text('* ');
    this.num(seq);
    this.text(' FETCH (');
    this.first = true;
  }
  /** The space between a FETCH response's items. */
  private item(): void {
    if (this.first) this.first = false;
    else this.text(' ');
  }
  /** An item that is text (`FLAGS (...)`), after the space between items. */
  add(t: string): void {
    this.item();
    this.text(t);
  }
  /** An item that is a number (`UID 7`), written without a string for it. */
  addNumber(name: string, n: number): void {
    this.item();
    this.text(name);
    this.text(' ');
    this.num(n);
  }
  /**
   * What is built, for one socket write. The same memory is written again next: the caller lets
   * the socket take it (drained) before it adds more (a fresh buffer per write cost a page fault
   * per 4 KiB touched, as much as the copying itself here).
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.length = 0;
    return out;
  }
  get capacity(): number {
    return this.buf.length;
  }
}

/** A reply buffer up to this size is kept for the next FETCH (one for the whole process). */
const SPARE_REPLY_OCTETS = 1024 * 1024;
/**
 * The reply buffer the last FETCH left, once its socket took the last write. Kept for two reasons:
 * its memory is not grown again from 16 KiB by the next FETCH, and V8 keeps the shape of an object
 * only while some object has it: with no ReplyBuffer alive between two FETCHes, a full garbage
 * collection dropped the shape and with it the optimised code of the FETCH loop and of these
 * methods ("weak objects" in --trace-deopt), compiled again in the next FETCH (34 ms of compiler
 * time for `fetch` alone), which ran meanwhile at a fraction of its speed.
 */
let spareReply: ReplyBuffer | undefined;

function takeReplyBuffer(): ReplyBuffer {
  const b = spareReply ?? new ReplyBuffer();
  spareReply = undefined;
  return b;
}

/** Kept for the next FETCH once nothing reads its memory any more (the socket has taken every write). */
function keepReplyBuffer(s: ImapSession, b: ReplyBuffer): void {
  if (b.capacity > SPARE_REPLY_OCTETS) return;
  void s.drained().then(() => {
    // A connection that ended may still have had writes in flight: its buffer is left alone.
    if (s.alive && !s.writesPending) spareReply = b;
  });
}

/**
 * A small message's octets, read into `into` when its name gives its size (",S=", written by our
 * delivery and dovecot's): one open, one read of a byte more than that and one close, no fstat
 * and no allocation (a third of readFileSync's time for a 2 KiB message here). A file not of the
 * size its name says is read whole. The result may be `into`'s memory:
 * used before the next message is read.
 */
function readSmall(file: string, size: number, into: Buffer): Buffer {
  if (size >= into.length) return fs.readFileSync(file);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, into, 0, size + 1, 0);
  } finally {
    fs.closeSync(fd);
  }
  return n === size ? into.subarray(0, n) : fs.readFileSync(file);
}

/** The value of a mod-sequence argument (RFC 7162 §7 mod-sequence-valzer: 0 and up, 63 bits), or undefined. */
export function modSeqArg(t: Token | undefined): number | undefined {
  if (!isAtom(t) || !/^\d{1,19}$/.test(t.value)) return undefined;
  const n = Number(t.value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Why a CONDSTORE command is refused in a NOMODSEQ mailbox (RFC 7162 §3.1.2.2: tagged BAD). */
export const NOMODSEQ_BAD = 'Mailbox does not support mod-sequences (NOMODSEQ).';

function fetchModifier(t: Token | undefined): Token | undefined {
  return t?.kind === 'list' ? t.items[0] : undefined;
}

/** The FETCH modifiers (RFC 4466 §2.4): RFC 7162 §3.1.4 CHANGEDSINCE; undefined when malformed or unknown (QRESYNC's VANISHED is not offered). */
function fetchModifiers(t: Token | undefined): { changedSince?: number } | undefined {
  if (t === undefined) return {};
  if (t.kind !== 'list' || t.items.length !== 2 || !isAtom(t.items[0], 'CHANGEDSINCE')) return undefined;
  const n = modSeqArg(t.items[1]);
  return n === undefined ? undefined : { changedSince: n };
}

export async function fetch(s: ImapSession, tag: string, args: Token[], uid: boolean): Promise<void> {
  const sel = s.selected!;
  const items = parseItems(args[1]);
  const mods = fetchModifiers(args[2]);
  if (typeof items === 'string') return s.badArgs(tag, isAtom(args[0]) ? items : 'Invalid arguments.');
  if (!isAtom(args[0]) || args.length > 3) return s.badArgs(tag, 'Invalid arguments.');
  if (!mods) return s.badArgs(tag, isAtom(fetchModifier(args[2]), 'CHANGEDSINCE') ? 'Invalid CHANGEDSINCE modseq.' : 'Unknown FETCH modifier.');
  const changedSince = mods.changedSince;
  const wantsModSeq = changedSince !== undefined || items.some((i) => i.kind === 'MODSEQ');
  if (wantsModSeq && sel.highestModSeq === undefined) return s.badArgs(tag, NOMODSEQ_BAD);
  let set = messagesOf(sel, args[0].value, uid);
  if (!set) return s.badArgs(tag, uid ? 'Invalid uidset.' : 'Invalid messageset.');
  if (wantsModSeq) enableCondstore(s);
  if (changedSince !== undefined) {
    // RFC 7162 §3.1.4: only the messages changed since, with their MODSEQ.
    set = set.filter(({ msg }) => msg.modseq > changedSince);
    if (!items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });
  }
  if (uid) items.unshift({ kind: 'UID' });
  items.splice(0, items.length, ...inDovecotOrder(items));
  const needsBody = items.some((i) => !['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ'].includes(i.kind));
  const needsOctets = needsBody || items.some((i) => i.kind === 'RFC822.SIZE');
  const needsMtime = items.some((i) => i.kind === 'INTERNALDATE');
  const wantsUid = uid || items.some((i) => i.kind === 'UID');
  const hasFlags = items.some((i) => i.kind === 'FLAGS');
  const hasModSeq = items.some((i) => i.kind === 'MODSEQ');
  const setsSeen = !sel.readOnly && items.some((i) => (i.kind === 'section' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT');
  const out = takeReplyBuffer();
  /** Where each small message is read (readSmall): one buffer for the whole FETCH, made at its first message. */
  let scratch: Buffer | undefined;
  const cur = `${sel.dir}${path.sep}cur${path.sep}`;
  /** The messages this FETCH set \Seen on. */
  const seen: Array<{ seq: number; msg: StoredMessage }> = [];
  // The loop makes no closure, iterator or string per message beyond what a message needs
  // (its path, its FLAGS list): at 2,000 messages a FETCH made 2 MB of garbage before, and the
  // scavenges and the fresh pages they touch were as much as the FETCH's own work.
  for (let at = 0; at < set.length; at++) {
    const seq = set[at]!.seq;
    const msg = set[at]!.msg;
    const file = cur + msg.name;
    let whole: Buffer | undefined;
    let root: Part | undefined;
    let mtime = 0;
    try {
      // A small file is read synchronously (from the page cache, as POP3's RETR does: a thread-pool
      // round trip per message costs more than the read); a large one through the pool.
      if (needsOctets) {
        const size = sizeOf(msg.name, 'S');
        whole = toCrlf(
          size !== undefined && size <= SMALL_MESSAGE_OCTETS
            ? readSmall(file, size, (scratch ??= Buffer.allocUnsafe(SMALL_MESSAGE_OCTETS + 1)))
            : await fs.promises.readFile(file),
        );
      }
      if (needsMtime) mtime = fs.statSync(file).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Expunged by someone else since the client was told: RFC 9051 §7.5.1 forbids EXPUNGE now.
      continue;
    }
    let seenSet = false;
    if (setsSeen && !flagsOfName(msg.name, sel.keywords).includes('\\Seen')) {
      // The file is renamed (its octets are read already; `whole` may be the scratch buffer, which
      // nothing else uses meanwhile: it is this call's own).
      await setLetters(sel.dir, msg, `${flagsOf(msg.name)}S`);
      seenSet = true;
      seen.push({ seq, msg });
    }
    out.response(seq);
    // dovecot puts UID (and MODSEQ), then the FLAGS a body fetch changed, before the other items.
    const flagsFirst = seenSet && !hasFlags;
    if (flagsFirst) {
      if (wantsUid) out.addNumber('UID', msg.uid);
      if (hasModSeq) out.add(`MODSEQ (${msg.modseq})`);
      out.add(`FLAGS ${flagList(sel, msg)}`);
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      switch (item.kind) {
        case 'UID':
          if (!flagsFirst) out.addNumber('UID', msg.uid);
          break;
        case 'FLAGS':
          out.add(`FLAGS ${flagList(sel, msg)}`);
          break;
        case 'MODSEQ':
          if (!flagsFirst) out.add(`MODSEQ (${msg.modseq})`);
          break;
        case 'INTERNALDATE':
          out.add(`INTERNALDATE "${imapDateTime(mtime)}"`);
          break;
        case 'RFC822.SIZE':
          out.addNumber('RFC822.SIZE', whole!.length);
          break;
        case 'ENVELOPE':
          out.add(`ENVELOPE ${envelope((root ??= parsePart(whole!)))}`);
          break;
        case 'BODYSTRUCTURE':
          out.add(`BODYSTRUCTURE ${bodyStructure((root ??= parsePart(whole!)), true)}`);
          break;
        case 'BODY':
          out.add(`BODY ${bodyStructure((root ??= parsePart(whole!)), false)}`);
          break;
        case 'RFC822':
          out.literal('RFC822', whole!);
          break;
        case 'RFC822.HEADER':
          out.literal('RFC822.HEADER', (root ??= parsePart(whole!)).header);
          break;
        case 'RFC822.TEXT':
          out.literal('RFC822.TEXT', (root ??= parsePart(whole!)).body);
          break;
        case 'section': {
          // The MIME tree only when the section needs it (BODY[] alone is the file's octets).
          let bytes =
            (item.section.path.length === 0 && item.section.text === '' ? whole! : sectionBytes(whole!, (root ??= parsePart(whole!)), item.section)) ??
            Buffer.alloc(0);
          if (item.partial) bytes = bytes.subarray(Math.min(item.partial[0], bytes.length), Math.min(item.partial[0] + item.partial[1], bytes.length));
          out.literal(item.label, bytes);
          break;
        }
      }
    }
    out.text(')\r\n');
    if (out.length >= FLUSH_OCTETS) {
      s.send(out.take());
      await s.drained();
      if (!s.alive) return;
    }
  }
  if (out.length > 0) s.send(out.take());
  keepReplyBuffer(s, out);
  if (seen.length > 0 && s.condstore && sel.highestModSeq !== undefined) {
    // RFC 7162 §3.1: a CONDSTORE client is told the new MODSEQ of each message this FETCH set \Seen
    // on. As dovecot: one mod-sequence for the whole command, once every message is sent, each in a
    // FETCH of its own without the UID (a MODSEQ asked for above was the value before).
    await commitChanges(sel);
    s.send(seen.map(({ seq, msg }) => `${flagsFetch(sel, seq, msg, { uid: false, condstore: true, silent: true })}\r\n`).join(''));
  }
  if (uid) await sendUpdates(s, true);
  s.reply(`${tag} OK Fetch completed.`);
}

function knownLetters(sel: Selected, keywords: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keywords) {
    const i = sel.keywords.findIndex((n) => n?.toLowerCase() === k.toLowerCase());
    if (i >= 0) out.set(k.toLowerCase(), keywordLetter(i));
  }
  return out;
}

/**
 * RFC 9051 §6.4.6 STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags; RFC 7162 §3.1.3: a
 * message whose mod-sequence is above n is left as it is and named in the tagged OK's MODIFIED.
 */
export async function store(s: ImapSession, tag: string, args: Token[], uid: boolean): Promise<void> {
  const sel = s.selected!;
  let unchangedSince: number | undefined;
  if (args[1]?.kind === 'list') {
    const mods = args[1].items;
    unchangedSince = mods.length === 2 && isAtom(mods[0], 'UNCHANGEDSINCE') ? modSeqArg(mods[1]) : undefined;
    if (unchangedSince === undefined) return s.badArgs(tag, isAtom(mods[0], 'UNCHANGEDSINCE') ? 'Invalid modseq.' : 'Invalid arguments.');
    args = [args[0]!, ...args.slice(2)];
  }
  const what = isAtom(args[1]) ? args[1].value.toUpperCase() : '';
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(what);
  const flagToks = args[2]?.kind === 'list' ? args[2].items : args.slice(2);
  if (!isAtom(args[0]) || !m || (args[2]?.kind === 'list' && args.length !== 3) || !flagToks.every((f) => isAtom(f)))
    return s.badArgs(tag, 'Invalid arguments.');
  if (unchangedSince !== undefined) {
    if (sel.highestModSeq === undefined) return s.badArgs(tag, NOMODSEQ_BAD);
    enableCondstore(s);
  }
  // dovecot answers OK and changes nothing (RFC 9051 §6.4.6 leaves it open).
  if (sel.readOnly) return s.reply(`${tag} OK Store ignored with read-only mailbox.`);
  const set = messagesOf(sel, args[0].value, uid);
  if (!set) return s.badArgs(tag, uid ? 'Invalid uidset.' : 'Invalid messageset.');
  const flags = flagToks.map((f) => (f as { value: string }).value);
  if (flags.some((f) => f.toLowerCase() === '\\recent')) return s.badArgs(tag, 'Invalid system flag \\Recent.');
  const keywords = flags.filter((f) => !f.startsWith('\\'));
  const invalid = keywordsError(keywords, sel.keywords);
  if (invalid) return s.reply(`${tag} NO [CANNOT] ${invalid}`);
  // Removing a keyword the folder does not know removes nothing: no letter is made for it.
  const letterMap = m[1] === '-' ? knownLetters(sel, keywords) : await keywordLetters(sel.dir, keywords);
  if (!letterMap) return s.reply(`${tag} NO Too many keywords.`);
  if (m[1] !== '-') {
    // A keyword new to the folder: the client is told the new flag lists first (RFC 9051 §7.3.5, as dovecot).
    const before = sel.keywords.filter((k) => k !== undefined).length;
    sel.keywords = await readKeywords(sel.dir);
    if (sel.keywords.filter((k) => k !== undefined).length !== before)
      s.send(`* FLAGS (${flagsLine(sel)})\r\n* OK [PERMANENTFLAGS (${flagsLine(sel)} \\*)] Flags permitted.\r\n`);
  }
  const given = lettersOf(
    flags.filter((f) => f.startsWith('\\') || letterMap.has(f.toLowerCase())),
    letterMap,
  );
  if (given === undefined) return s.badArgs(tag, 'Invalid system flag.');
  // The mod-sequences as they are on disk now (a change by someone else since the client was told counts).
  let current: Map<number, number> | undefined;
  if (unchangedSince !== undefined) {
    current = new Map();
    for (const x of (await syncFolder(sel.dir, [], sel.cache)).messages) current.set(x.uid, x.modseq);
  }
  const modified: number[] = [];
  const changed: Array<{ seq: number; msg: StoredMessage }> = [];
  for (const x of set) {
    const { msg } = x;
    if (current && (current.get(msg.uid) ?? 0) > unchangedSince!) {
      modified.push(uid ? msg.uid : x.seq);
      continue;
    }
    const have = flagsOf(msg.name);
    const next = m[1] === '+' ? have + given : m[1] === '-' ? [...have].filter((l) => !given.includes(l)).join('') : otherLetters(msg.name) + given;
    if ((await setLetters(sel.dir, msg, next)) === undefined) continue;
    changed.push(x);
  }
  // With CONDSTORE on, the changes get their mod-sequence now, for the FETCH responses (RFC 7162 §3.1.3).
  const condstore = s.condstore && sel.highestModSeq !== undefined;
  if (condstore) await commitChanges(sel);
  const lines: string[] = [];
  for (const { seq, msg } of changed) {
    // .SILENT: no FLAGS, but a CONDSTORE client is still told the new MODSEQ (RFC 7162 §3.1.3's example).
    if (!m[2] || condstore) lines.push(flagsFetch(sel, seq, msg, { uid, condstore: s.condstore, silent: m[2] !== undefined }));
  }
  if (lines.length > 0) s.send(`${lines.join('\r\n')}\r\n`);
  if (uid) await sendUpdates(s, true);
  if (modified.length > 0) return s.reply(`${tag} OK [MODIFIED ${formatSeqSet(modified)}] Conditional store failed.`);
  s.reply(`${tag} OK Store completed.`);
}

/** Deletes the messages flagged \Deleted (those whose UID is in `uidSet` when given); false when the set is malformed. */
export async function expungeDeleted(s: ImapSession, sel: Selected, uidSet: string | undefined, silent: boolean): Promise<boolean> {
  const only = uidSet === undefined ? undefined : messagesOf(sel, uidSet, true);
  if (uidSet !== undefined && !only) return false;
  const allowed = only ? new Set(only.map((o) => o.msg.uid)) : undefined;
  const lines: string[] = [];
  for (let i = sel.messages.length - 1; i >= 0; i--) {
    const msg = sel.messages[i]!;
    if (!flagsOfName(msg.name, sel.keywords).includes('\\Deleted') || (allowed && !allowed.has(msg.uid))) continue;
    await fs.promises.unlink(path.join(sel.dir, 'cur', msg.name)).catch(() => {});
    sel.messages.splice(i, 1);
    lines.push(`* ${i + 1} EXPUNGE`);
  }
  if (!silent && lines.length > 0) s.send(`${lines.join('\r\n')}\r\n`);
  return true;
}

/** COPY and MOVE (RFC 6851) with RFC 4315 COPYUID: the source's flags and keywords go with each message. */
export async function copyOrMove(s: ImapSession, tag: string, args: Token[], uid: boolean, move: boolean): Promise<void> {
  const sel = s.selected!;
  const name = astring(args[1]);
  if (!isAtom(args[0]) || name === undefined || args.length !== 2) return s.badArgs(tag, 'Invalid arguments.');
  const set = messagesOf(sel, args[0].value, uid);
  if (!set) return s.badArgs(tag, uid ? 'Invalid uidset.' : 'Invalid messageset.');
  if (move && sel.readOnly) return s.reply(`${tag} NO [READ-ONLY] Mailbox is read-only.`);
  const dir = mailboxDir(s.maildir, name.toUpperCase() === 'INBOX' ? 'INBOX' : name);
  if (!dir || !folderExists(dir)) return s.reply(`${tag} NO [TRYCREATE] Mailbox doesn't exist.`);
  const verb = move ? 'Move' : 'Copy';
  if (set.length === 0) return s.reply(`${tag} OK ${verb} completed.`);
  const {
    validity,
    copied: sources,
    uids,
  } = await copyMessages(
    sel.dir,
    set.map((x) => x.msg),
    sel.keywords,
    dir,
  );
  const copyuid = `[COPYUID ${validity} ${formatSeqSet(sources.map((m) => m.uid))} ${formatSeqSet(uids)}]`;
  if (!move) {
    if (dir === sel.dir || uid) await sendUpdates(s, uid);
    return s.reply(`${tag} OK ${copyuid} Copy completed.`);
  }
  // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs.
  s.reply(`* OK ${copyuid} Moved UIDs.`);
  const gone = new Set(sources.map((m) => m.uid));
  const lines: string[] = [];
  for (let i = sel.messages.length - 1; i >= 0; i--) {
    const msg = sel.messages[i]!;
    if (!gone.has(msg.uid)) continue;
    await fs.promises.unlink(path.join(sel.dir, 'cur', msg.name)).catch(() => {});
    sel.messages.splice(i, 1);
    lines.push(`* ${i + 1} EXPUNGE`);
  }
  if (lines.length > 0) s.send(`${lines.join('\r\n')}\r\n`);
  if (dir === sel.dir) await sendUpdates(s, uid);
  s.reply(`${tag} OK ${verb} completed.`);
}
