// The POP3 commands as one typed table (RFC 1939 §4-7, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034
// AUTH) and the one gate every command passes: SASL continuation, server closing, unknown verb,
// wrong state, plaintext login policy. Replies are worded as dovecot's (the lab's reference),
// without echoing client input.
import { ensureMaildir } from '@sstt/maildir';
import { maildirOf, type User } from '@sstt/scenario';
import { decodeBase64, parsePlain, sameSecret } from '../sasl.ts';
import { lockMailbox } from './lock.ts';
import { expunge, openMailbox, type Message } from './mailbox.ts';
import type { Pop3Session, State } from './session.ts';
import { multiLine } from './wire.ts';

export type Verb = 'USER' | 'PASS' | 'AUTH' | 'CAPA' | 'STLS' | 'STAT' | 'LIST' | 'UIDL' | 'RETR' | 'TOP' | 'DELE' | 'RSET' | 'NOOP' | 'QUIT';

interface Command {
  states: readonly State[];
  /** A login command: refused on a clear connection when plaintext logins are off (RFC 2595 §2). */
  login?: boolean;
  handle(s: Pop3Session, args: string): Promise<void> | void;
}

const AUTHORIZATION = ['AUTHORIZATION'] as const;
const TRANSACTION = ['TRANSACTION'] as const;
const ANY = ['AUTHORIZATION', 'TRANSACTION'] as const;

export const REPLIES = {
  unknown: '-ERR Unknown command.',
  privacy: '-ERR [PRIVACY] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
  authFailed: '-ERR [AUTH] Authentication failed.',
  inUse: '-ERR [IN-USE] Mailbox is locked by another POP3 session.',
  loggedIn: '+OK Logged in.',
  shuttingDown: '-ERR [SYS/TEMP] Server shutting down.',
} as const;

/**
 * The one gate (STYLE §3): everything a command needs checked, before its handler runs. Returns
 * the handler's promise when it has to wait (the session holds later commands until then).
 */
export function dispatch(s: Pop3Session, line: string): Promise<void> | void {
  if (s.continuation) {
    const next = s.continuation;
    s.continuation = undefined;
    return next(line);
  }
  if (s.ctx.closing) return s.reply(REPLIES.shuttingDown, { close: true });
  const sp = line.indexOf(' ');
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  const args = sp < 0 ? '' : line.slice(sp + 1);
  const cmd = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb as Verb] : undefined;
  if (cmd === undefined || !cmd.states.includes(s.state)) return s.error(REPLIES.unknown);
  if (cmd.login && !s.secure && !s.ctx.plaintextAuth) return s.error(REPLIES.privacy);
  return cmd.handle(s, args);
}

/** A message-number argument (RFC 1939 §5: may not refer to a message marked as deleted). */
function messageArg(s: Pop3Session, arg: string | undefined): Message | undefined {
  if (arg === undefined || !/^\d{1,10}$/.test(arg)) {
    s.error('-ERR Invalid message number.');
    return undefined;
  }
  const n = Number(arg);
  const msg = s.messages[n - 1];
  if (!msg) s.error(`-ERR There's no message ${n}.`);
  else if (msg.deleted) s.error('-ERR Message is deleted.');
  else return msg;
  return undefined;
}

/** Splits arguments; undefined (after an -ERR) when there are more than `max`. */
function splitArgs(s: Pop3Session, args: string, max: number): string[] | undefined {
  const parts = args.indexOf(' ') < 0 ? (args === '' ? [] : [args]) : args.split(' ').filter((p) => p !== '');
  if (parts.length > max) {
    s.error(max === 1 ? '-ERR Noise after message number.' : '-ERR Too many arguments.');
    return undefined;
  }
  return parts;
}

/**
 * LIST and UIDL (RFC 1939 §5, §7): with a message number, one line for it; without, a
 * multi-line listing of the messages not marked as deleted.
 */
function listing(s: Pop3Session, args: string, value: (m: Message) => string | number, header: (count: number) => string): void {
  const parts = splitArgs(s, args, 1);
  if (!parts) return;
  if (parts.length === 1) {
    const m = messageArg(s, parts[0]);
    if (m) s.reply(`+OK ${m.number} ${value(m)}`);
    return;
  }
  const live = s.messages.filter((m) => !m.deleted);
  s.send(
    multiLine(
      header(live.length),
      live.map((m) => `${m.number} ${value(m)}`),
    ),
  );
}

function capabilities(s: Pop3Session): string[] {
  const caps = ['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'];
  if (s.state === 'AUTHORIZATION') {
    if (s.ctx.secureContext && !s.secure) caps.push('STLS');
    if (s.secure || s.ctx.plaintextAuth) caps.push('USER', `SASL ${SASL_MECHANISMS.join(' ')}`);
  }
  return caps;
}

/** A failed login (the penalty has already held the answer): the [AUTH] reply, and the per-connection limit. */
function loginFailed(s: Pop3Session): void {
  s.authFailures++;
  s.ctx.log.info({ client: s.remoteAddress, user: s.pendingUser }, 'pop3 login failed');
  s.pendingUser = undefined;
  s.reply(REPLIES.authFailed, { close: s.authFailures >= s.ctx.limits.maxAuthFailuresPerConnection });
}

/**
 * Checks the credentials after any login penalty (auth-penalty.ts), then locks and opens the
 * mailbox and enters TRANSACTION (RFC 1939 §4). `wellFormed` false: a malformed SASL response,
 * a failure that counts like a wrong password.
 */
async function login(s: Pop3Session, name: string, password: string, wellFormed = true): Promise<void> {
  const known: User | undefined = s.ctx.scenario.users.find((u) => u.name === name);
  s.penaltySince = Date.now();
  const user = await s.ctx.penalty.attempt(s.remoteAddress, known?.name, () =>
    wellFormed && known && sameSecret(password, known.password) ? known : undefined,
  );
  s.penaltySince = undefined;
  if (!user) return loginFailed(s);
  s.pendingUser = undefined;
  const maildir = maildirOf(s.ctx.scenario, user.name);
  let release: (() => Promise<void>) | undefined;
  try {
    await ensureMaildir(maildir);
    release = await lockMailbox(maildir);
    if (!release) return s.reply(REPLIES.inUse);
    const mailbox = await openMailbox(maildir, s.ctx.mailboxCache);
    if (!s.alive) return void (await release());
    s.user = user;
    s.mailbox = mailbox;
    s.releaseMailbox = release;
    release = undefined;
    s.state = 'TRANSACTION';
    s.ctx.log.info({ client: s.remoteAddress, user: user.name, messages: mailbox.messages.length }, 'pop3 login');
    s.reply(REPLIES.loggedIn);
  } catch (err) {
    s.ctx.log.error({ err, user: user.name }, 'pop3: cannot open mailbox');
    s.reply("-ERR [SYS/TEMP] Couldn't open the mailbox.");
  } finally {
    if (release) await release();
  }
}

/** RFC 4616 PLAIN (sasl.ts). */
async function saslPlain(s: Pop3Session, blob: Buffer): Promise<void> {
  const { user, password, wellFormed } = parsePlain(blob);
  if (wellFormed || user !== '') s.pendingUser = user;
  return login(s, user, password, wellFormed);
}

/**
 * The SASL mechanisms of AUTH, as the report's dovecot offers them (`auth_mechanisms = plain
 * login` in its 10-auth.conf): PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login).
 */
const SASL_MECHANISMS = ['PLAIN', 'LOGIN'] as const;

/** LOGIN's two challenges, as dovecot words them: base64 of "Username:" and "Password:". */
const LOGIN_CHALLENGES = { user: `+ ${Buffer.from('Username:').toString('base64')}`, password: `+ ${Buffer.from('Password:').toString('base64')}` };

/** A continued SASL response (RFC 5034 §4): '*' aborts, otherwise strict base64. */
function continued(s: Pop3Session, then: (blob: Buffer) => Promise<void> | void): void {
  s.continuation = async (line) => {
    if (line === '*') return s.error('-ERR Authentication aborted by client.');
    const blob = decodeBase64(line);
    if (!blob) return s.error('-ERR [AUTH] Invalid base64 data in continued response.');
    return then(blob);
  };
}

/** LOGIN: the user name (given already, or asked for), then the password, each a base64 line. */
function saslLogin(s: Pop3Session, user: Buffer | undefined): void {
  if (user === undefined) {
    continued(s, (name) => saslLogin(s, name));
    s.reply(LOGIN_CHALLENGES.user);
    return;
  }
  const name = user.toString('utf8');
  s.pendingUser = name;
  continued(s, (password) => login(s, name, password.toString('utf8')));
  s.reply(LOGIN_CHALLENGES.password);
}

export const COMMANDS: Record<Verb, Command> = {
  // RFC 2449 §5
  CAPA: {
    states: ANY,
    handle: (s) => s.send(multiLine('+OK', capabilities(s))),
  },
  // RFC 2595 §4
  STLS: {
    states: AUTHORIZATION,
    handle(s) {
      if (!s.ctx.secureContext) return s.error("-ERR TLS support isn't enabled.");
      if (s.secure) return s.error('-ERR TLS is already active.');
      s.startTls();
    },
  },
  // RFC 1939 §7 (USER/PASS)
  USER: {
    states: AUTHORIZATION,
    login: true,
    handle(s, args) {
      if (args === '') return s.error('-ERR No username given.');
      s.pendingUser = args;
      s.reply('+OK');
    },
  },
  PASS: {
    states: AUTHORIZATION,
    login: true,
    async handle(s, args) {
      // The password is the rest of the line: it may hold spaces (RFC 1939 §7).
      if (s.pendingUser === undefined) return s.error('-ERR No username given.');
      return login(s, s.pendingUser, args);
    },
  },
  // RFC 5034
  AUTH: {
    states: AUTHORIZATION,
    login: true,
    async handle(s, args) {
      if (args === '') return s.send(multiLine('+OK', [...SASL_MECHANISMS]));
      const [mech, initial, extra] = args.split(' ');
      const mechanism = mech!.toUpperCase();
      if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism) || extra !== undefined) {
        return s.error('-ERR [AUTH] Unsupported authentication mechanism.');
      }
      const blob = initial === undefined ? undefined : decodeBase64(initial);
      if (initial !== undefined && !blob) return s.error('-ERR [AUTH] Invalid base64 data in initial response.');
      if (mechanism === 'LOGIN') return saslLogin(s, blob);
      if (blob) return saslPlain(s, blob);
      // No initial response: an empty challenge, then the client's line (RFC 5034 §4).
      continued(s, (b) => saslPlain(s, b));
      s.reply('+ ');
    },
  },
  // RFC 1939 §5
  STAT: {
    states: TRANSACTION,
    handle(s) {
      let count = 0;
      let octets = 0;
      for (const m of s.messages) {
        if (m.deleted) continue;
        count++;
        octets += m.size;
      }
      s.reply(`+OK ${count} ${octets}`);
    },
  },
  LIST: {
    states: TRANSACTION,
    handle: (s, args) =>
      listing(
        s,
        args,
        (m) => m.size,
        (count) => `+OK ${count} messages:`,
      ),
  },
  // RFC 1939 §7
  UIDL: {
    states: TRANSACTION,
    handle: (s, args) =>
      listing(
        s,
        args,
        (m) => m.uidl,
        () => '+OK',
      ),
  },
  RETR: {
    states: TRANSACTION,
    handle(s, args) {
      const parts = splitArgs(s, args, 1);
      if (!parts) return;
      const m = messageArg(s, parts[0]);
      if (m) return s.sendMessage(m, `+OK ${m.size} octets`);
    },
  },
  TOP: {
    states: TRANSACTION,
    handle(s, args) {
      const parts = splitArgs(s, args, 2);
      if (!parts) return;
      const m = messageArg(s, parts[0]);
      if (!m) return;
      if (parts[1] === undefined || !/^\d{1,10}$/.test(parts[1])) return s.error('-ERR Invalid number of lines.');
      return s.sendMessage(m, '+OK', Number(parts[1]));
    },
  },
  DELE: {
    states: TRANSACTION,
    handle(s, args) {
      const parts = splitArgs(s, args, 1);
      if (!parts) return;
      const m = messageArg(s, parts[0]);
      if (!m) return;
      m.deleted = true;
      s.reply('+OK Marked to be deleted.');
    },
  },
  RSET: {
    states: TRANSACTION,
    handle(s) {
      for (const m of s.messages) m.deleted = false;
      s.reply('+OK');
    },
  },
  NOOP: {
    states: TRANSACTION,
    handle: (s) => s.reply('+OK'),
  },
  // RFC 1939 §6: QUIT in TRANSACTION enters UPDATE, the only place messages are removed.
  QUIT: {
    states: ANY,
    async handle(s) {
      if (s.state === 'AUTHORIZATION') return s.reply('+OK Logging out.', { close: true });
      s.state = 'UPDATE';
      const marked = s.messages.filter((m) => m.deleted).length;
      const failed = marked > 0 ? await expunge(s.messages) : 0;
      const release = s.releaseMailbox;
      s.releaseMailbox = undefined;
      if (release) await release();
      if (marked > 0) s.ctx.log.info({ user: s.user?.name, deleted: marked - failed, failed }, 'pop3 update');
      if (failed > 0) s.reply('-ERR [SYS/TEMP] Some deleted messages were not removed.', { close: true });
      else s.reply(marked > 0 ? '+OK Logging out, messages deleted.' : '+OK Logging out.', { close: true });
    },
  },
};
