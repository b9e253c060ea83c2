// The commands on mailboxes as wholes (RFC 9051 §6.3): SELECT/EXAMINE, LIST (with RFC 5258
// LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE) and LSUB, STATUS (RFC 8438
// STATUS=SIZE), CREATE, DELETE, RENAME, SUBSCRIBE, APPEND (RFC 4315 APPENDUID). Folders are
// Maildir++ directories (store.ts), so a mailbox name is its folder name: "." separates levels.
import fs from 'node:fs';
import path from 'node:path';
import { enableCondstore, sendUpdates } from './commands.ts';
import { flagsLine, modSeqLine, openSelected } from './selected.ts';
import type { ImapSession } from './session.ts';
import {
  createFolder,
  INBOX,
  flagsOfName,
  folderExists,
  keywordLetters,
  lettersOf,
  listFolders,
  mailboxDir,
  readKeywords,
  readSubscriptions,
  storeMessage,
  syncFolder,
  updateSubscriptions,
  type FolderInfo,
  keywordsError,
} from '@sstt/maildir';
import { messageSize } from './store.ts';
import { astring, astringOut, isAtom, isModifiedUtf7, parseDateTime, type Token } from './syntax.ts';

const NONEXISTENT = "NO [NONEXISTENT] Mailbox doesn't exist.";

/** A mailbox argument: its name (INBOX in any case is INBOX) and directory, or undefined if it cannot be one. */
function mailboxArg(s: ImapSession, t: Token | undefined): { name: string; dir: string } | undefined {
  const raw = astring(t);
  if (raw === undefined) return undefined;
  const name = raw.toUpperCase() === INBOX ? INBOX : raw.replace(/\.$/, '');
  if (!isModifiedUtf7(name)) return undefined;
  const dir = mailboxDir(s.maildir, name);
  return dir ? { name, dir } : undefined;
}

export async function select(s: ImapSession, tag: string, args: Token[], readOnly: boolean): Promise<void> {
  const mb = mailboxArg(s, args[0]);
  if (astring(args[0]) === undefined || args.length > 2) return s.badArgs(tag, 'Invalid arguments.');
  // RFC 7162 §3.1.8: SELECT/EXAMINE mailbox (CONDSTORE); QRESYNC's parameter is not offered.
  const params = args[1];
  if (params !== undefined && (params.kind !== 'list' || !params.items.every((p) => isAtom(p, 'CONDSTORE')))) return s.badArgs(tag, 'Invalid arguments.');
  if (params?.kind === 'list' && params.items.length > 0) s.condstore = true;
  const wasSelected = s.selected !== undefined;
  // RFC 9051 §6.3.2: a SELECT that fails leaves no mailbox selected.
  s.selected = undefined;
  s.state = 'AUTHENTICATED';
  // RFC 7162 §3.2.11 / RFC 9051 §7.1: [CLOSED] tells where the old mailbox's responses end; dovecot
  // sends it once CONDSTORE is on too.
  if (wasSelected && (s.rev2 || s.condstore)) s.reply('* OK [CLOSED] Previous mailbox closed.');
  if (!mb || !folderExists(mb.dir)) return s.reply(`${tag} ${NONEXISTENT}`);
  const sel = await openSelected(mb.name, mb.dir, readOnly, s.ctx.folderCache);
  const lines = [`* FLAGS (${flagsLine(sel)})`];
  lines.push(readOnly ? '* OK [PERMANENTFLAGS ()] Read-only mailbox.' : `* OK [PERMANENTFLAGS (${flagsLine(sel)} \\*)] Flags permitted.`);
  lines.push(`* ${sel.messages.length} EXISTS`);
  if (!s.rev2) {
    lines.push('* 0 RECENT');
    const unseen = sel.messages.findIndex((m) => !flagsOfName(m.name, sel.keywords).includes('\\Seen'));
    if (unseen >= 0) lines.push(`* OK [UNSEEN ${unseen + 1}] First unseen.`);
  }
  lines.push(`* OK [UIDVALIDITY ${sel.validity}] UIDs valid`, `* OK [UIDNEXT ${sel.nextUid}] Predicted next UID`);
  if (s.condstore) lines.push(modSeqLine(sel));
  if (s.rev2) lines.push(`* LIST () "." ${astringOut(mb.name)}`);
  s.send(`${lines.join('\r\n')}\r\n`);
  s.selected = sel;
  s.state = 'SELECTED';
  s.reply(`${tag} OK [${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'Examine' : 'Select'} completed.`);
}

/** A LIST pattern (RFC 9051 §6.3.9): "*" matches anything, "%" anything but the separator. */
function patternRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/%/g, '[^.]*');
  return new RegExp(`^${body}$`);
}

const STATUS_ITEMS = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'RECENT', 'SIZE', 'DELETED', 'HIGHESTMODSEQ'] as const;
type StatusItem = (typeof STATUS_ITEMS)[number];

function statusItems(t: Token | undefined): StatusItem[] | undefined {
  if (t?.kind !== 'list' || t.items.length === 0) return undefined;
  const out: StatusItem[] = [];
  for (const i of t.items) {
    const v = isAtom(i) ? i.value.toUpperCase() : '';
    if (!(STATUS_ITEMS as readonly string[]).includes(v)) return undefined;
    out.push(v as StatusItem);
  }
  return out;
}

async function statusLine(s: ImapSession, name: string, dir: string, items: StatusItem[]): Promise<string> {
  const st = await syncFolder(dir, [], s.ctx.folderCache);
  const keywords = await readKeywords(dir);
  const values: string[] = [];
  for (const item of items) {
    let v = 0;
    if (item === 'MESSAGES') v = st.messages.length;
    else if (item === 'UIDNEXT') v = st.nextUid;
    else if (item === 'UIDVALIDITY') v = st.validity;
    else if (item === 'UNSEEN') v = st.messages.filter((m) => !flagsOfName(m.name, keywords).includes('\\Seen')).length;
    else if (item === 'DELETED') v = st.messages.filter((m) => flagsOfName(m.name, keywords).includes('\\Deleted')).length;
    else if (item === 'SIZE') for (const m of st.messages) v += await messageSize(dir, m.name);
    // RFC 7162 §3.1.7 (STATUS HIGHESTMODSEQ): 0 for a mailbox without persistent mod-sequences.
    else if (item === 'HIGHESTMODSEQ') v = st.highestModSeq ?? 0;
    values.push(`${item} ${v}`);
  }
  return `* STATUS ${astringOut(name)} (${values.join(' ')})`;
}

export async function status(s: ImapSession, tag: string, args: Token[]): Promise<void> {
  const mb = mailboxArg(s, args[0]);
  const items = statusItems(args[1]);
  if (astring(args[0]) === undefined || args.length !== 2) return s.badArgs(tag, 'Invalid arguments.');
  if (!items) return s.badArgs(tag, 'Invalid status item.');
  if (!mb || !folderExists(mb.dir)) return s.reply(`${tag} ${NONEXISTENT}`);
  if (items.includes('HIGHESTMODSEQ')) enableCondstore(s);
  s.reply(await statusLine(s, mb.name, mb.dir, items));
  s.reply(`${tag} OK Status completed.`);
}

/** The folders with the parents Maildir++ implies ("a.b" without "a": "a" is \Noselect). */
function withParents(folders: FolderInfo[]): Array<FolderInfo & { exists: boolean }> {
  const all = new Map<string, FolderInfo & { exists: boolean }>();
  for (const f of folders) all.set(f.name, { ...f, exists: true });
  for (const f of folders) {
    const levels = f.name.split('.');
    for (let i = 1; i < levels.length; i++) {
      const parent = levels.slice(0, i).join('.');
      if (!all.has(parent)) all.set(parent, { name: parent, dir: '', specialUse: undefined, exists: false });
    }
  }
  return [...all.values()].sort((a, b) => (a.name === INBOX ? -1 : b.name === INBOX ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * LIST and LSUB. LIST-EXTENDED (RFC 5258 §3): `LIST (selection) ref (patterns) RETURN (options)`;
 * the selection SUBSCRIBED, SPECIAL-USE and RECURSIVEMATCH, the returns SUBSCRIBED, CHILDREN,
 * SPECIAL-USE and STATUS (RFC 5819). Children are always shown (RFC 3348 CHILDREN).
 */
export async function list(s: ImapSession, tag: string, args: Token[], lsub: boolean): Promise<void> {
  let i = 0;
  const selection = new Set<string>();
  if (!lsub && args[0]?.kind === 'list') {
    for (const o of args[0].items) if (isAtom(o)) selection.add(o.value.toUpperCase());
    i = 1;
  }
  const ref = astring(args[i]);
  const patTok = args[i + 1];
  const patterns = patTok?.kind === 'list' ? patTok.items.map(astring) : [astring(patTok)];
  if (ref === undefined || patterns.length === 0 || patterns.some((p) => p === undefined)) return s.badArgs(tag, 'Invalid pattern.');
  const returns = new Set<string>();
  let statusWanted: StatusItem[] | undefined;
  if (args[i + 2] !== undefined) {
    if (lsub || !isAtom(args[i + 2], 'RETURN') || args[i + 3]?.kind !== 'list' || args.length !== i + 4) return s.badArgs(tag, 'Invalid arguments.');
    const opts = (args[i + 3] as { items: Token[] }).items;
    for (let k = 0; k < opts.length; k++) {
      const o = opts[k]!;
      if (!isAtom(o)) return s.badArgs(tag, 'Invalid arguments.');
      const v = o.value.toUpperCase();
      if (v === 'STATUS') {
        statusWanted = statusItems(opts[++k]);
        if (!statusWanted) return s.badArgs(tag, 'Invalid arguments.');
        if (statusWanted.includes('HIGHESTMODSEQ')) enableCondstore(s);
      } else returns.add(v);
    }
  }
  const verb = lsub ? 'LSUB' : 'LIST';
  const extended = selection.size > 0 || args[0]?.kind === 'list' || args[i + 2] !== undefined;
  if (patterns.length === 1 && patterns[0] === '') {
    // RFC 9051 §6.3.9: an empty pattern asks for the hierarchy separator and the root.
    s.reply(`* ${verb} (\\Noselect) "." ""`);
    return s.reply(`${tag} OK ${lsub ? 'Lsub' : 'List'} completed.`);
  }
  const res = (patterns as string[]).map((p) => patternRegex(p.toUpperCase().startsWith(INBOX) && ref === '' ? INBOX + p.slice(5) : ref + p));
  const subscribed = new Set(await readSubscriptions(s.maildir));
  const folders = withParents(await listFolders(s.maildir));
  const onlySubscribed = lsub || selection.has('SUBSCRIBED');
  const lines: string[] = [];
  const names = new Set(folders.map((f) => f.name));
  const entries: Array<{ name: string; exists: boolean; specialUse?: string | undefined; dir: string }> = [...folders];
  if (onlySubscribed) for (const n of subscribed) if (!names.has(n)) entries.push({ name: n, exists: false, dir: '' });
  for (const f of entries) {
    if (!res.some((re) => re.test(f.name))) continue;
    if (onlySubscribed && !subscribed.has(f.name)) continue;
    if (selection.has('SPECIAL-USE') && !f.specialUse) continue;
    // What each form shows, as dovecot: a plain LIST the children and special-use attributes
    // (RFC 3348, RFC 6154 §2), LSUB the special use, the extended form (RFC 5258 §3) only what
    // its selection and RETURN options ask for.
    // In dovecot's order (imap-list.c): \Subscribed, \Noselect or \NonExistent, the children, the special use.
    const attrs: string[] = [];
    const children = f.name !== INBOX && folders.some((o) => o.name.startsWith(`${f.name}.`));
    if (!lsub && (returns.has('SUBSCRIBED') || selection.has('SUBSCRIBED')) && subscribed.has(f.name)) attrs.push('\\Subscribed');
    // a subscribed name with no folder: \NonExistent is RFC 5258's, LSUB shows it with none (as dovecot)
    if (!f.exists && !names.has(f.name) && onlySubscribed) {
      if (!lsub) attrs.push('\\NonExistent');
    } else if (!f.exists) attrs.push('\\Noselect');
    if (!lsub && (!extended || returns.has('CHILDREN'))) attrs.push(children ? '\\HasChildren' : '\\HasNoChildren');
    if (f.specialUse && (lsub || !extended || returns.has('SPECIAL-USE') || selection.has('SPECIAL-USE'))) attrs.push(f.specialUse);
    lines.push(`* ${verb} (${attrs.join(' ')}) "." ${astringOut(f.name)}`);
    if (statusWanted && f.exists) lines.push(await statusLine(s, f.name, f.dir, statusWanted));
  }
  if (lines.length > 0) s.send(`${lines.join('\r\n')}\r\n`);
  s.reply(`${tag} OK ${lsub ? 'Lsub' : 'List'} completed.`);
}

export async function create(s: ImapSession, tag: string, args: Token[]): Promise<void> {
  if (astring(args[0]) === undefined || args.length > 2) return s.badArgs(tag, 'Invalid arguments.');
  const mb = mailboxArg(s, args[0]);
  if (mb?.name === INBOX || (mb && folderExists(mb.dir))) return s.reply(`${tag} NO [ALREADYEXISTS] Mailbox already exists.`);
  if (!mb) return s.reply(`${tag} NO [CANNOT] Invalid mailbox name.`);
  await createFolder(s.maildir, mb.name);
  s.reply(`${tag} OK Create completed.`);
}

export async function deleteMailbox(s: ImapSession, tag: string, args: Token[]): Promise<void> {
  if (astring(args[0]) === undefined || args.length !== 1) return s.badArgs(tag, 'Invalid arguments.');
  const mb = mailboxArg(s, args[0]);
  if (mb?.name === INBOX) return s.reply(`${tag} NO [CANNOT] INBOX can't be deleted.`);
  if (!mb || !folderExists(mb.dir)) return s.reply(`${tag} ${NONEXISTENT}`);
  const folders = await listFolders(s.maildir);
  if (folders.some((f) => f.name.startsWith(`${mb.name}.`))) return s.reply(`${tag} NO [INUSE] Mailbox has children, delete them first.`);
  if (s.selected?.dir === mb.dir) {
    s.selected = undefined;
    s.state = 'AUTHENTICATED';
  }
  await fs.promises.rm(mb.dir, { recursive: true, force: true });
  s.reply(`${tag} OK Delete completed.`);
}

export async function rename(s: ImapSession, tag: string, args: Token[]): Promise<void> {
  if (astring(args[0]) === undefined || astring(args[1]) === undefined || args.length !== 2) return s.badArgs(tag, 'Invalid arguments.');
  const from = mailboxArg(s, args[0]);
  const to = mailboxArg(s, args[1]);
  if (from?.name === INBOX) return s.reply(`${tag} NO [CANNOT] Renaming INBOX isn't supported.`);
  if (!from || !folderExists(from.dir)) return s.reply(`${tag} ${NONEXISTENT}`);
  if (to?.name === INBOX || (to && folderExists(to.dir))) return s.reply(`${tag} NO [ALREADYEXISTS] Mailbox already exists.`);
  if (!to) return s.reply(`${tag} NO [CANNOT] Invalid mailbox name.`);
  // The folder and every folder below it (".a.b" becomes ".c.b"), as dovecot's Maildir++ rename.
  const folders = await listFolders(s.maildir);
  for (const f of folders) {
    if (f.name !== from.name && !f.name.startsWith(`${from.name}.`)) continue;
    await fs.promises.rename(f.dir, path.join(s.maildir, `.${to.name}${f.name.slice(from.name.length)}`));
  }
  s.reply(`${tag} OK Rename completed.`);
}

export async function subscribe(s: ImapSession, tag: string, args: Token[], on: boolean): Promise<void> {
  const raw = astring(args[0]);
  if (raw === undefined || args.length !== 1) return s.badArgs(tag, 'Invalid arguments.');
  const name = raw.toUpperCase() === INBOX ? INBOX : raw;
  // The same list back when there is nothing to change: the file is not written.
  await updateSubscriptions(s.maildir, (names) => (names.includes(name) === on ? names : on ? [...names, name] : names.filter((n) => n !== name)));
  s.reply(`${tag} OK ${on ? 'Subscribe' : 'Unsubscribe'} completed.`);
}

/** Whether APPEND's mailbox argument names a mailbox that exists. */
export function appendTarget(s: ImapSession, t: Token | undefined): boolean {
  const mb = mailboxArg(s, t);
  return mb !== undefined && folderExists(mb.dir);
}

/** RFC 9051 §6.3.12 APPEND mailbox [flags] [date-time] literal; RFC 4315 APPENDUID. */
export async function append(s: ImapSession, tag: string, args: Token[]): Promise<void> {
  const mb = mailboxArg(s, args[0]);
  let i = 1;
  let flags: string[] = [];
  if (args[i]?.kind === 'list') {
    const items = (args[i++] as { items: Token[] }).items;
    if (!items.every((f) => isAtom(f))) return s.badArgs(tag, 'Invalid arguments.');
    flags = items.map((f) => (f as { value: string }).value);
  }
  let mtimeMs: number | undefined;
  const maybeDate = args[i];
  if (maybeDate?.kind === 'string' && !maybeDate.bytes) {
    mtimeMs = parseDateTime(maybeDate.value);
    if (mtimeMs === undefined) return s.badArgs(tag, 'Invalid date-time.');
    i++;
  }
  const lit = args[i];
  if (astring(args[0]) === undefined || lit?.kind !== 'string' || !lit.bytes || args.length !== i + 1) return s.badArgs(tag, 'Invalid arguments.');
  if (!mb || !folderExists(mb.dir)) return s.reply(`${tag} NO [TRYCREATE] Mailbox doesn't exist.`);
  if (lit.bytes.length === 0) return s.reply(`${tag} NO Can't save a zero byte message.`);
  if (flags.some((f) => f.toLowerCase() === '\\recent')) return s.badArgs(tag, 'Invalid system flag \\Recent.');
  const invalid = keywordsError(flags);
  if (invalid) return s.reply(`${tag} NO [CANNOT] ${invalid}`);
  const letters = lettersOf(
    flags,
    (await keywordLetters(
      mb.dir,
      flags.filter((f) => !f.startsWith('\\')),
    )) ?? new Map(),
  );
  if (letters === undefined) return s.badArgs(tag, 'Invalid flags.');
  const base = await storeMessage(mb.dir, letters, { content: lit.bytes, ...(mtimeMs !== undefined ? { mtimeMs } : {}) });
  const st = await syncFolder(mb.dir, [base]);
  const uid = st.messages.find((m) => m.base === base)?.uid;
  if (s.selected?.dir === mb.dir) await sendUpdates(s, false);
  s.reply(`${tag} OK [APPENDUID ${st.validity} ${uid}] Append completed.`);
}
