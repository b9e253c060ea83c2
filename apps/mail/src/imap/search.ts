// SEARCH and UID SEARCH (RFC 9051 §6.4.4) with RFC 4731 ESEARCH's RETURN (MIN MAX COUNT ALL),
// the only result form once IMAP4rev2 is enabled (RFC 9051 §7.3.4). Strings (US-ASCII and UTF-8
// charsets) match as case-insensitive substrings of the decoded text (search-text.ts).
import fs from 'node:fs';
import path from 'node:path';
import { enableCondstore, sendUpdates } from './commands.ts';
import { messagesOf, modSeqArg, NOMODSEQ_BAD } from './fetch.ts';
import { headerValues, parsePart, toCrlf, type Part } from './message.ts';
import { addressText, allHeaderTexts, bodyTexts, fold, headerText, octetsText } from './search-text.ts';
import type { Selected } from './selected.ts';
import type { ImapSession } from './session.ts';
import { flagsOfName, type StoredMessage } from '@sstt/maildir';
import { astring, formatSeqSet, isAtom, parseDate, quote, type Token } from './syntax.ts';

interface Ctx {
  seq: number;
  msg: StoredMessage;
  flags: string[];
  mtime: number;
  whole: Buffer;
  root: Part;
  /** Folded texts, made once per message by the first key that needs them. */
  bodies?: string[];
  headers?: string[];
}

const bodiesOf = (c: Ctx): string[] => (c.bodies ??= bodyTexts(c.root).map(fold));
const headersOf = (c: Ctx): string[] => (c.headers ??= allHeaderTexts(c.root).map(fold));
/** Whether a header of the message itself named `name` has `v` (folded) in its text. */
const headerHas = (c: Ctx, name: string, v: string): boolean => headerValues(c.root, name).some((h) => fold(headerText(h)).includes(v));
/** The same for an address header, in dovecot's rewritten form (search-text.ts addressText). */
const addressHas = (c: Ctx, name: string, v: string): boolean => headerValues(c.root, name).some((h) => fold(addressText(h)).includes(v));

type Pred = (c: Ctx) => boolean;

/** What the keys read of each message: its file's date (BEFORE, ON, SINCE), its octets (the rest). */
interface Needs {
  body: boolean;
  mtime: boolean;
  /** RFC 7162 §3.1.5, §3.1.6: a MODSEQ key makes the result carry the highest mod-sequence found. */
  modseq: boolean;
}

/** The octets of a message whose file the keys do not read. */
const NO_OCTETS = Buffer.alloc(0);

/** A search key that cannot be parsed; `message` the BAD's text when it is more than the usual one (dovecot's wording). */
class BadSearch extends Error {}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
  // Without \Recent (dovecot's Maildir keeps it in its index, we have none): NEW and RECENT match nothing, OLD everything.
  OLD: ['', true],
};

const DAY = 86_400_000;

/** The Date field as ms at its day's UTC midnight (SENT*), NaN when there is none. */
function sentDay(root: Part): number {
  const v = headerValues(root, 'date')[0];
  const t = v ? Date.parse(v) : Number.NaN;
  return Math.floor(t / DAY) * DAY;
}

/** Reads one search key (and its arguments) from `toks` at `at`; returns the predicate and the next position. */
function parseKey(sel: Selected, toks: Token[], at: number, needs: Needs): [Pred, number] {
  const t = toks[at];
  if (!t) throw new BadSearch();
  if (t.kind === 'list') {
    const preds = parseKeys(sel, t.items, needs);
    return [(c) => preds.every((p) => p(c)), at + 1];
  }
  if (t.kind !== 'atom') throw new BadSearch();
  const key = t.value.toUpperCase();
  const str = (i: number) => {
    const v = astring(toks[i]);
    if (v === undefined) throw new BadSearch();
    return v;
  };
  /** A string to find in text: its octets as UTF-8, folded. */
  const text = (i: number) => fold(octetsText(str(i)));
  const num = (i: number) => {
    const v = isAtom(toks[i]) ? (toks[i] as { value: string }).value : '';
    if (!/^\d{1,10}$/.test(v)) throw new BadSearch();
    return Number(v);
  };
  const date = (i: number) => {
    const d = parseDate(str(i));
    if (d === undefined) throw new BadSearch();
    return d;
  };
  if (key === 'ALL') return [() => true, at + 1];
  if (key === 'NEW' || key === 'RECENT') return [() => false, at + 1];
  const flagKey = FLAG_KEYS[key];
  if (flagKey) {
    const [flag, want] = flagKey;
    return [(c) => flag === '' || c.flags.includes(flag) === want, at + 1];
  }
  if (key === 'KEYWORD' || key === 'UNKEYWORD') {
    const k = str(at + 1).toLowerCase();
    const want = key === 'KEYWORD';
    return [(c) => c.flags.some((f) => f.toLowerCase() === k) === want, at + 2];
  }
  if (key === 'NOT') {
    const [p, next] = parseKey(sel, toks, at + 1, needs);
    return [(c) => !p(c), next];
  }
  if (key === 'OR') {
    const [a, mid] = parseKey(sel, toks, at + 1, needs);
    const [b, next] = parseKey(sel, toks, mid, needs);
    return [(c) => a(c) || b(c), next];
  }
  if (key === 'LARGER' || key === 'SMALLER') {
    const n = num(at + 1);
    needs.body = true;
    return [(c) => (key === 'LARGER' ? c.whole.length > n : c.whole.length < n), at + 2];
  }
  if (key === 'BEFORE' || key === 'ON' || key === 'SINCE') {
    const d = date(at + 1);
    needs.mtime = true;
    return [
      (c) => {
        const day = Math.floor(c.mtime / DAY) * DAY;
        return key === 'BEFORE' ? day < d : key === 'ON' ? day === d : day >= d;
      },
      at + 2,
    ];
  }
  if (key === 'SENTBEFORE' || key === 'SENTON' || key === 'SENTSINCE') {
    const d = date(at + 1);
    needs.body = true;
    return [
      (c) => {
        const day = sentDay(c.root);
        return key === 'SENTBEFORE' ? day < d : key === 'SENTON' ? day === d : day >= d;
      },
      at + 2,
    ];
  }
  if (['FROM', 'TO', 'CC', 'BCC', 'SUBJECT'].includes(key)) {
    const v = text(at + 1);
    const name = key.toLowerCase();
    needs.body = true;
    return [(c) => (key === 'SUBJECT' ? headerHas(c, name, v) : addressHas(c, name, v)), at + 2];
  }
  if (key === 'HEADER') {
    const name = str(at + 1).toLowerCase();
    const v = text(at + 2);
    needs.body = true;
    // an empty string: every message with the field (RFC 9051 §6.4.4)
    return [(c) => (v === '' ? headerValues(c.root, name).length > 0 : headerHas(c, name, v)), at + 3];
  }
  if (key === 'BODY' || key === 'TEXT') {
    const v = text(at + 1);
    needs.body = true;
    return [(c) => bodiesOf(c).some((b) => b.includes(v)) || (key === 'TEXT' && headersOf(c).some((h) => h.includes(v))), at + 2];
  }
  if (key === 'MODSEQ') {
    // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer. Flags have no
    // mod-sequences of their own here (the message's is the only one), so the entry is ignored.
    let i = at + 1;
    if (toks[i]?.kind === 'string') {
      if (!isAtom(toks[i + 1]) || !['PRIV', 'SHARED', 'ALL'].includes((toks[i + 1] as { value: string }).value.toUpperCase())) throw new BadSearch();
      i += 2;
    }
    const n = modSeqArg(toks[i]);
    if (n === undefined) throw new BadSearch('Invalid MODSEQ value.');
    needs.modseq = true;
    return [(c) => c.msg.modseq >= n, i + 1];
  }
  if (key === 'UID') {
    const v = isAtom(toks[at + 1]) ? (toks[at + 1] as { value: string }).value : '';
    const set = messagesOf(sel, v, true);
    if (!set) throw new BadSearch('Invalid UID messageset.');
    const uids = new Set(set.map((x) => x.msg.uid));
    return [(c) => uids.has(c.msg.uid), at + 2];
  }
  const set = messagesOf(sel, t.value, false, true);
  if (!set) throw new BadSearch('Invalid messageset.');
  const seqs = new Set(set.map((x) => x.seq));
  return [(c) => seqs.has(c.seq), at + 1];
}

function parseKeys(sel: Selected, toks: Token[], needs: Needs): Pred[] {
  const preds: Pred[] = [];
  for (let at = 0; at < toks.length; ) {
    const [p, next] = parseKey(sel, toks, at, needs);
    preds.push(p);
    at = next;
  }
  if (preds.length === 0) throw new BadSearch();
  return preds;
}

const RETURN_OPTS = ['MIN', 'MAX', 'COUNT', 'ALL'];

export async function search(s: ImapSession, tag: string, args: Token[], uid: boolean): Promise<void> {
  const sel = s.selected!;
  let at = 0;
  let returns: string[] | undefined;
  if (isAtom(args[0], 'RETURN')) {
    const opts = args[1];
    if (opts?.kind !== 'list' || !opts.items.every((o) => isAtom(o) && RETURN_OPTS.includes(o.value.toUpperCase())))
      return s.badArgs(tag, 'Invalid arguments.');
    returns = opts.items.map((o) => (o as { value: string }).value.toUpperCase());
    if (returns.length === 0) returns = ['ALL'];
    at = 2;
  }
  if (isAtom(args[at], 'CHARSET')) {
    const cs = astring(args[at + 1])?.toUpperCase();
    if (cs !== 'UTF-8' && cs !== 'US-ASCII') return s.reply(`${tag} NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.`);
    at += 2;
  }
  const needs: Needs = { body: false, mtime: false, modseq: false };
  let preds: Pred[];
  try {
    preds = parseKeys(sel, args.slice(at), needs);
  } catch (err) {
    if (err instanceof BadSearch) return s.badArgs(tag, err.message || 'Invalid search arguments.');
    throw err;
  }
  if (needs.modseq) {
    if (sel.highestModSeq === undefined) return s.badArgs(tag, NOMODSEQ_BAD);
    enableCondstore(s);
  }
  const hits: number[] = [];
  let highest = 0;
  const cur = path.join(sel.dir, 'cur');
  for (let i = 0; i < sel.messages.length; i++) {
    const msg = sel.messages[i]!;
    let whole: Buffer = NO_OCTETS;
    let mtime = 0;
    try {
      // Only what the keys need (no path, no buffer otherwise: a 100,000-message search by flags
      // spent most of its time making them); flags and UIDs are in the name and the uidlist.
      if (needs.mtime) mtime = fs.statSync(path.join(cur, msg.name)).mtimeMs;
      if (needs.body) whole = toCrlf(fs.readFileSync(path.join(cur, msg.name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      continue;
    }
    const c: Ctx = {
      seq: i + 1,
      msg,
      flags: flagsOfName(msg.name, sel.keywords),
      mtime,
      whole,
      root: needs.body ? parsePart(whole) : (undefined as unknown as Part),
    };
    if (preds.every((p) => p(c))) {
      hits.push(uid ? msg.uid : i + 1);
      if (msg.modseq > highest) highest = msg.modseq;
    }
  }
  // RFC 7162 §3.1.6: "(MODSEQ n)" after the numbers, the highest of the messages found (none: nothing).
  const modseqOut = needs.modseq && hits.length > 0;
  if (returns === undefined && !s.rev2) s.reply(`* SEARCH${hits.map((h) => ` ${h}`).join('')}${modseqOut ? ` (MODSEQ ${highest})` : ''}`);
  else {
    const want = returns ?? ['ALL'];
    let line = `* ESEARCH (TAG ${quote(tag)})${uid ? ' UID' : ''}`;
    if (hits.length > 0) {
      if (want.includes('MIN')) line += ` MIN ${Math.min(...hits)}`;
      if (want.includes('MAX')) line += ` MAX ${Math.max(...hits)}`;
    }
    if (want.includes('COUNT')) line += ` COUNT ${hits.length}`;
    if (want.includes('ALL') && hits.length > 0) line += ` ALL ${formatSeqSet(hits)}`;
    if (modseqOut) line += ` MODSEQ ${highest}`;
    s.reply(line);
  }
  if (uid) await sendUpdates(s, true);
  s.reply(`${tag} OK Search completed.`);
}
