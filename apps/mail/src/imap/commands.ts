// The IMAP commands as one typed table (RFC 9051 §6 and RFC 3501 §6, with the extensions the
// capability list names) and the one gate every command passes: continuation, tag, server
// closing, unknown verb, UID prefix, wrong state, plaintext login policy, argument syntax.
// Replies are worded as dovecot's (the lab's reference), without echoing client input.
import { maildirOf, type User } from '@sstt/scenario';
import { decodeBase64, parsePlain, sameSecret } from '../sasl.ts';
import { copyOrMove, expungeDeleted, fetch, store } from './fetch.ts';
import type { RawCommand } from './framing.ts';
import { append, appendTarget, create, deleteMailbox, list, rename, select, status, subscribe } from './mailboxes.ts';
import { search } from './search.ts';
import { modSeqLine, refresh, watchFolder } from './selected.ts';
import type { ImapSession, State } from './session.ts';
import { ensureSpecialFolders, keywordsError } from '@sstt/maildir';
import { astring, isAtom, quote, ImapSyntaxError, tokenize, type Token } from './syntax.ts';

export type Verb =
  | 'CAPABILITY'
  | 'NOOP'
  | 'LOGOUT'
  | 'STARTTLS'
  | 'LOGIN'
  | 'AUTHENTICATE'
  | 'ENABLE'
  | 'ID'
  | 'NAMESPACE'
  | 'SELECT'
  | 'EXAMINE'
  | 'LIST'
  | 'LSUB'
  | 'STATUS'
  | 'CREATE'
  | 'DELETE'
  | 'RENAME'
  | 'SUBSCRIBE'
  | 'UNSUBSCRIBE'
  | 'APPEND'
  | 'CHECK'
  | 'CLOSE'
  | 'UNSELECT'
  | 'EXPUNGE'
  | 'FETCH'
  | 'STORE'
  | 'SEARCH'
  | 'COPY'
  | 'MOVE'
  | 'IDLE';

export interface Command {
  states: readonly State[];
  /** A login command: refused on a clear connection when plaintext logins are off (RFC 9051 §6.2.3). */
  login?: boolean;
  /** May follow UID (RFC 9051 §6.4.9; UID EXPUNGE is RFC 4315's). */
  uid?: boolean;
  handle(s: ImapSession, tag: string, args: Token[], uid: boolean): Promise<void> | void;
}

const ANY = ['NOT_AUTHENTICATED', 'AUTHENTICATED', 'SELECTED'] as const;
const NOT_AUTH = ['NOT_AUTHENTICATED'] as const;
const AUTH = ['AUTHENTICATED', 'SELECTED'] as const;
const SELECTED = ['SELECTED'] as const;

export const REPLIES = {
  /** dovecot's answer to a line without a usable tag or verb. */
  error: 'Error in IMAP command received by server.',
  /** dovecot names the unknown verb here; we do not echo client input (STYLE §8). */
  unknown: 'Error in IMAP command: Unknown command.',
  args: 'Invalid arguments.',
  notSelected: 'No mailbox selected.',
  loggedIn: 'Already logged in.',
  privacy: '[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
  authFailed: '[AUTHENTICATIONFAILED] Authentication failed.',
  shuttingDown: '* BYE [UNAVAILABLE] Server shutting down.',
} as const;

/** RFC 9051 §9 tag: astring characters but "+". */
const TAG = /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c\x7e]+$/;

/** The one gate (STYLE §3); returns the handler's promise when it has to wait. */
export function dispatch(s: ImapSession, raw: RawCommand): Promise<void> | void {
  if (s.continuation) {
    const next = s.continuation;
    s.continuation = undefined;
    return next(raw.text.join(''));
  }
  const first = raw.text[0]!;
  const sp = first.indexOf(' ');
  const tag = sp < 0 ? first : first.slice(0, sp);
  if (!TAG.test(tag)) return s.bad('*', REPLIES.error);
  if (s.ctx.closing) return s.reply(REPLIES.shuttingDown, { close: true });
  let at = sp < 0 ? first.length : sp + 1;
  const word = () => {
    const end = first.indexOf(' ', at);
    const w = first.slice(at, end < 0 ? first.length : end).toUpperCase();
    at = end < 0 ? first.length : end + 1;
    return w;
  };
  let verb = word();
  if (verb === '') return s.bad(tag, REPLIES.error);
  const uid = verb === 'UID';
  if (uid) verb = word();
  const cmd = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb as Verb] : undefined;
  // Before login dovecot's imap-login knows only its own commands: anything else is one invalid command.
  const usable = cmd && (!uid || cmd.uid) && cmd.states.includes(s.state as (typeof ANY)[number]);
  if (!usable && s.state === 'NOT_AUTHENTICATED') return s.invalidCommand(tag);
  if (!cmd || (uid && !cmd.uid)) return s.bad(tag, REPLIES.unknown);
  s.command = uid ? `UID ${verb}` : verb;
  if (!cmd.states.includes(s.state as (typeof ANY)[number])) {
    if (cmd.states === NOT_AUTH) return s.bad(tag, REPLIES.loggedIn);
    return s.bad(tag, REPLIES.notSelected);
  }
  if (cmd.login && !s.secure && !s.ctx.plaintextAuth) return s.reply(`${tag} NO ${REPLIES.privacy}`);
  let args: Token[];
  try {
    args = tokenize(raw, at);
  } catch (err) {
    // Before login dovecot's imap-login gives the parser's words alone (no command, no period).
    if (err instanceof ImapSyntaxError) return s.state === 'NOT_AUTHENTICATED' ? s.bad(tag, err.message) : s.badArgs(tag, `${err.message}.`);
    throw err;
  }
  return cmd.handle(s, tag, args, uid);
}

/**
 * Whether a synchronising literal is refused before the client sends it (RFC 9051 §7.5: the
 * server may answer the command instead of "+"): an APPEND to a mailbox that does not exist,
 * as dovecot does. The reply, or undefined to go on.
 */
export function literalRefusal(s: ImapSession, partial: RawCommand): string | undefined {
  const first = partial.text[0] ?? '';
  const m = /^(\S+) APPEND /i.exec(first);
  if (!m || partial.literals.length > 0 || s.state === 'NOT_AUTHENTICATED' || !TAG.test(m[1]!)) return undefined;
  let args: Token[];
  try {
    args = tokenize(partial, m[0].length);
  } catch {
    return undefined;
  }
  if (!appendTarget(s, args[0])) return `${m[1]} NO [TRYCREATE] Mailbox doesn't exist.`;
  // A keyword that cannot be made: refused before the message is sent, as dovecot does.
  const flags = args[1]?.kind === 'list' ? args[1].items.filter((f) => isAtom(f)).map((f) => f.value) : [];
  const invalid = keywordsError(flags);
  return invalid ? `${m[1]} NO [CANNOT] ${invalid}` : undefined;
}

/** RFC 9051 §7.2.2 CAPABILITY: what this connection may use now. */
export function capabilities(s: ImapSession): string {
  const caps = ['IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'LITERAL+', 'ID', 'ENABLE', 'IDLE'];
  if (s.state === 'NOT_AUTHENTICATED') {
    if (s.ctx.secureContext && !s.secure) caps.push('STARTTLS');
    if (s.secure || s.ctx.plaintextAuth) caps.push('AUTH=PLAIN');
    else caps.push('LOGINDISABLED');
  } else {
    caps.push(
      'NAMESPACE',
      'UIDPLUS',
      'MOVE',
      'UNSELECT',
      'CHILDREN',
      'SPECIAL-USE',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'ESEARCH',
      'CONDSTORE',
      `APPENDLIMIT=${s.ctx.appendLimit}`,
      'STATUS=SIZE',
    );
  }
  return caps.join(' ');
}

function loginFailed(s: ImapSession, tag: string, user: string | undefined): void {
  s.authFailures++;
  s.ctx.log.info({ client: s.remoteAddress, user }, 'imap login failed');
  s.reply(`${tag} NO ${REPLIES.authFailed}`);
  if (s.authFailures >= s.ctx.limits.maxAuthFailuresPerConnection) s.reply('* BYE Too many invalid authentication attempts.', { close: true });
}

/** Credentials as octets (latin1 strings) to the user's text (UTF-8, RFC 9051 §6.2.3). */
const utf8 = (octets: string) => Buffer.from(octets, 'latin1').toString('utf8');

/** Checks the credentials after any login penalty (auth-penalty.ts), then enters AUTHENTICATED. */
async function login(s: ImapSession, tag: string, name: string, password: string, wellFormed = true): Promise<void> {
  const known: User | undefined = s.ctx.scenario.users.find((u) => u.name === name);
  s.penaltySince = Date.now();
  const user = await s.ctx.penalty.attempt(s.remoteAddress, known?.name, () =>
    wellFormed && known && sameSecret(password, known.password) ? known : undefined,
  );
  s.penaltySince = undefined;
  if (!user) return loginFailed(s, tag, known?.name);
  const maildir = maildirOf(s.ctx.scenario, user.name);
  try {
    await ensureSpecialFolders(maildir);
  } catch (err) {
    s.ctx.log.error({ err, user: user.name }, 'imap: cannot open the Maildir');
    return s.reply(`${tag} NO [UNAVAILABLE] Couldn't open the mailbox.`);
  }
  s.user = user;
  s.maildir = maildir;
  s.state = 'AUTHENTICATED';
  s.ctx.log.info({ client: s.remoteAddress, user: user.name }, 'imap login');
  // RFC 9051 §6.2.3: the tagged OK may carry the capabilities, sparing the client a CAPABILITY.
  s.reply(`${tag} OK [CAPABILITY ${capabilities(s)}] Logged in`);
}

/**
 * A CONDSTORE-enabling command (RFC 7162 §3.1) turns CONDSTORE on for the session; with a mailbox
 * selected whose HIGHESTMODSEQ the client was not told, it is told now (before the command's own
 * responses), as RFC 7162 §3.1 asks of the first enabling command.
 */
export function enableCondstore(s: ImapSession): void {
  s.condstore = true;
  if (s.selected && !s.selected.modSeqTold) s.reply(modSeqLine(s.selected));
}

/**
 * The untagged updates a command may send before its tagged OK (not during FETCH/STORE/SEARCH by
 * number). One at a time per session (IDLE's watcher can fire while the command's own runs): two
 * refreshes in flight could apply an older read of the folder after a newer one, and tell the
 * client that a message just announced was expunged.
 */
export function sendUpdates(s: ImapSession, uid: boolean): Promise<void> {
  const run = s.updates.then(async () => {
    if (!s.selected) return;
    const lines = await refresh(s.selected, { expunges: true, uid, condstore: s.condstore });
    if (lines.length > 0) s.send(`${lines.join('\r\n')}\r\n`);
  });
  s.updates = run.catch(() => {});
  return run;
}

export const COMMANDS: Record<Verb, Command> = {
  CAPABILITY: {
    states: ANY,
    handle(s, tag) {
      s.reply(`* CAPABILITY ${capabilities(s)}`);
      s.reply(`${tag} OK Capability completed.`);
    },
  },
  NOOP: {
    states: ANY,
    async handle(s, tag) {
      await sendUpdates(s, false);
      s.reply(`${tag} OK NOOP completed.`);
    },
  },
  // RFC 3501 §6.4.1 (gone from IMAP4rev2): the same as NOOP here, every change is on disk at once.
  CHECK: {
    states: SELECTED,
    async handle(s, tag) {
      await sendUpdates(s, false);
      s.reply(`${tag} OK Check completed.`);
    },
  },
  LOGOUT: {
    states: ANY,
    handle(s, tag) {
      s.reply('* BYE Logging out');
      s.reply(`${tag} OK Logout completed.`, { close: true });
    },
  },
  STARTTLS: {
    states: NOT_AUTH,
    handle(s, tag) {
      if (!s.ctx.secureContext) return s.bad(tag, "TLS support isn't enabled.");
      if (s.secure) return s.bad(tag, 'TLS is already active.');
      s.startTls(tag);
    },
  },
  LOGIN: {
    states: NOT_AUTH,
    login: true,
    async handle(s, tag, args) {
      const name = astring(args[0]);
      const password = astring(args[1]);
      if (name === undefined || password === undefined || args.length !== 2) return s.invalidCommand(tag);
      return login(s, tag, utf8(name), utf8(password));
    },
  },
  // RFC 9051 §6.2.2, SASL-IR (RFC 4959): PLAIN, with the initial response on the line or after "+ ".
  AUTHENTICATE: {
    states: NOT_AUTH,
    login: true,
    async handle(s, tag, args) {
      if (!isAtom(args[0]) || args.length > 2) return s.invalidCommand(tag);
      if (args[0].value.toUpperCase() !== 'PLAIN') return s.reply(`${tag} NO [ALERT] Unsupported authentication mechanism.`);
      const plain = (blob: Buffer) => {
        const { user, password, wellFormed } = parsePlain(blob);
        return login(s, tag, user, password, wellFormed);
      };
      if (args[1] !== undefined) {
        const blob = isAtom(args[1]) ? decodeBase64(args[1].value) : undefined;
        if (!blob) return s.bad(tag, 'Invalid base64 data in initial response');
        return plain(blob);
      }
      s.continuation = async (line) => {
        if (line === '*') return s.bad(tag, 'Authentication aborted by client.');
        const blob = decodeBase64(line);
        if (!blob) return s.reply(`${tag} NO [ALERT] Invalid base64 in response`);
        return plain(blob);
      };
      s.reply('+ ');
    },
  },
  // RFC 5161; RFC 9051 §6.3.1.
  ENABLE: {
    states: AUTH,
    handle(s, tag, args) {
      if (args.length === 0 || !args.every((a) => isAtom(a))) return s.badArgs(tag, REPLIES.args);
      const enabled: string[] = [];
      for (const a of args) {
        const v = a.kind === 'atom' ? a.value.toUpperCase() : '';
        if (v === 'IMAP4REV2' && !s.rev2) {
          s.rev2 = true;
          enabled.push('IMAP4rev2');
        } else if (v === 'CONDSTORE') {
          // RFC 7162 §3.1 (RFC 5161 ENABLE); named again when already on, as dovecot does.
          enableCondstore(s);
          enabled.push('CONDSTORE');
        }
      }
      // Nothing enabled, no ENABLED response (as dovecot answers).
      if (enabled.length > 0) s.reply(`* ENABLED ${enabled.join(' ')}`);
      s.reply(`${tag} OK Enabled.`);
    },
  },
  // RFC 2971
  ID: {
    states: ANY,
    handle(s, tag) {
      s.reply(`* ID (${quote('name')} ${quote('sstt')})`);
      s.reply(`${tag} OK ID completed.`);
    },
  },
  // RFC 2342; RFC 9051 §6.3.10: one personal namespace, "." between levels (Maildir++).
  NAMESPACE: {
    states: AUTH,
    handle(s, tag) {
      s.reply('* NAMESPACE (("" ".")) NIL NIL');
      s.reply(`${tag} OK Namespace completed.`);
    },
  },
  SELECT: { states: AUTH, handle: (s, tag, args) => select(s, tag, args, false) },
  EXAMINE: { states: AUTH, handle: (s, tag, args) => select(s, tag, args, true) },
  LIST: { states: AUTH, handle: (s, tag, args) => list(s, tag, args, false) },
  // RFC 3501 §6.3.9 (kept for IMAP4rev1 clients).
  LSUB: { states: AUTH, handle: (s, tag, args) => list(s, tag, args, true) },
  STATUS: { states: AUTH, handle: status },
  CREATE: { states: AUTH, handle: create },
  DELETE: { states: AUTH, handle: deleteMailbox },
  RENAME: { states: AUTH, handle: rename },
  SUBSCRIBE: { states: AUTH, handle: (s, tag, args) => subscribe(s, tag, args, true) },
  UNSUBSCRIBE: { states: AUTH, handle: (s, tag, args) => subscribe(s, tag, args, false) },
  APPEND: { states: AUTH, handle: append },
  // RFC 9051 §6.4.1: CLOSE expunges silently (not in a read-only mailbox) and leaves SELECTED.
  CLOSE: {
    states: SELECTED,
    async handle(s, tag) {
      const sel = s.selected!;
      if (!sel.readOnly) await expungeDeleted(s, sel, undefined, true);
      s.selected = undefined;
      s.state = 'AUTHENTICATED';
      s.reply(`${tag} OK Close completed.`);
    },
  },
  // RFC 3691; RFC 9051 §6.4.2.
  UNSELECT: {
    states: SELECTED,
    handle(s, tag) {
      s.selected = undefined;
      s.state = 'AUTHENTICATED';
      s.reply(`${tag} OK Unselect completed.`);
    },
  },
  EXPUNGE: {
    states: SELECTED,
    uid: true,
    async handle(s, tag, args, uid) {
      const sel = s.selected!;
      if (sel.readOnly) return s.reply(`${tag} NO [READ-ONLY] Mailbox is read-only.`);
      if (uid !== (args.length === 1)) return s.badArgs(tag, REPLIES.args);
      let set: string | undefined;
      if (uid) {
        if (!isAtom(args[0])) return s.badArgs(tag, REPLIES.args);
        set = args[0].value;
      }
      if ((await expungeDeleted(s, sel, set, false)) === false) return s.badArgs(tag, 'Invalid uidset.');
      s.reply(`${tag} OK Expunge completed.`);
    },
  },
  FETCH: { states: SELECTED, uid: true, handle: fetch },
  STORE: { states: SELECTED, uid: true, handle: store },
  SEARCH: { states: SELECTED, uid: true, handle: search },
  COPY: { states: SELECTED, uid: true, handle: (s, tag, args, uid) => copyOrMove(s, tag, args, uid, false) },
  MOVE: { states: SELECTED, uid: true, handle: (s, tag, args, uid) => copyOrMove(s, tag, args, uid, true) },
  // RFC 2177; RFC 9051 §6.3.13: "+ idling", then every change as it happens, until DONE.
  IDLE: {
    states: AUTH,
    async handle(s, tag) {
      const sel = s.selected;
      // The folder is watched before it is read and before "+ idling" is sent: a delivery the
      // client makes as soon as it reads the "+" (or any that lands between the read and the
      // watch) would otherwise be told only at the next command. The updates run one at a time
      // (watchFolder); DONE waits for the one in flight.
      let inFlight: Promise<void> = Promise.resolve();
      if (sel) s.stopWatching = watchFolder(sel.dir, () => (inFlight = sendUpdates(s, false)));
      await sendUpdates(s, false);
      s.reply('+ idling');
      s.continuation = async (line) => {
        s.stopWatching?.();
        s.stopWatching = undefined;
        await inFlight;
        if (line.toUpperCase() !== 'DONE') return s.bad(tag, 'Expected DONE.');
        s.reply(`${tag} OK Idle completed.`);
      };
    },
  },
};
