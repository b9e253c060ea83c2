import type { ShedReason, TcpConnection } from '@sstt/runtime';
import type { User } from '@sstt/scenario';
import type { FolderCache } from '@sstt/maildir';
import type { MailContext } from '../mail-listener.ts';
import { MailSession } from '../mail-session.ts';
import { capabilities, dispatch, literalRefusal } from './commands.ts';
import { CommandReader, type Framed } from './framing.ts';
import type { ImapLimits } from './limits.ts';
import type { Selected } from './selected.ts';

/** Invalid commands before login that end the connection (dovecot's imap-login). */
const MAX_INVALID_BEFORE_LOGIN = 3;

export type State = 'NOT_AUTHENTICATED' | 'AUTHENTICATED' | 'SELECTED' | 'LOGOUT';

/** What every session of one server shares. */
export interface ServerContext extends MailContext {
  limits: ImapLimits;
  /** RFC 7889 APPENDLIMIT: the largest message APPEND takes (scenario mail.maxSize). */
  appendLimit: number;
  /** What each folder's last sync read (the server's own). */
  folderCache: FolderCache;
}

export class ImapSession extends MailSession<Framed, ServerContext> {
  state: State = 'NOT_AUTHENTICATED';
  user: User | undefined;
  maildir = '';
  selected: Selected | undefined;
  /** RFC 9051 §6.3.1: ENABLE IMAP4rev2 switches the responses that differ from IMAP4rev1. */
  rev2 = false;
  /**
   * RFC 7162 §3.1: CONDSTORE is on once the client used it (ENABLE CONDSTORE, SELECT (CONDSTORE),
   * STATUS HIGHESTMODSEQ, MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE): from then on every untagged
   * FETCH carries UID and MODSEQ.
   */
  condstore = false;
  /** A command waiting for the client's next line (AUTHENTICATE's response, IDLE's DONE). */
  continuation: ((line: string) => Promise<void> | void) | undefined;
  /** Stops watching the selected folder (IDLE). */
  stopWatching: (() => void) | undefined;
  /** The last sendUpdates() of this session: each waits for the one before (commands.ts). */
  updates: Promise<void> = Promise.resolve();
  errors = 0;
  /** Commands that could not be run before login (dovecot's imap-login counts them apart: 3 and out). */
  invalidBeforeLogin = 0;
  authFailures = 0;
  /** The command being run, as the gate named it ("FETCH", "UID FETCH"): BAD replies about its arguments say it. */
  command = '';

  private readonly reader: CommandReader;
  protected override readonly pauseOnFullWrite = true;

  constructor(conn: TcpConnection, ctx: ServerContext, secure: boolean) {
    super(conn, ctx, secure, 'imap');
    this.reader = new CommandReader({ maxLineOctets: ctx.limits.maxLineOctets, maxLiteralOctets: ctx.limits.maxLiteralOctets, appendLimit: ctx.appendLimit });
  }

  protected get ended(): boolean {
    return this.state === 'LOGOUT';
  }

  protected end(): void {
    this.state = 'LOGOUT';
  }

  /** RFC 9051 §7.1.1: the greeting may carry the capabilities (dovecot's does). */
  protected greeting(): string {
    return `* OK [CAPABILITY ${capabilities(this)}] ${this.ctx.greeting}`;
  }

  /**
   * Reading goes on after an overflow: what follows is discarded once the BYE is sent (a socket
   * closed with unread data would reset the connection, and the client could lose the BYE).
   */
  protected frame(chunk: Buffer): { items: Framed[]; stop: boolean } {
    return { items: this.reader.push(chunk), stop: false };
  }

  protected get framePartial(): boolean {
    return this.reader.hasPartial;
  }

  protected resetFraming(): void {
    this.reader.reset();
  }

  /** RFC 9051 §5.4: at least 30 minutes once authenticated; a shorter one before. */
  protected idlePeriodMs(): number {
    return this.state === 'NOT_AUTHENTICATED' ? this.ctx.limits.loginTimeoutMs : this.ctx.limits.idleTimeoutMs;
  }

  protected autologout(): void {
    this.reply('* BYE Disconnected for inactivity.', { close: true });
  }

  /** Closed by the connection limiter: RFC 9051 §7.1.5 BYE. */
  protected shedLine(why: ShedReason): string {
    return why === 'room'
      ? '* BYE [UNAVAILABLE] Too many connections, closing this one.'
      : why === 'idle'
        ? '* BYE Disconnected for inactivity.'
        : '* BYE Disconnected: too slow.';
  }

  protected internalError(): string {
    return '* BYE Internal error occurred. Refer to server log for more information.';
  }

  shutdown(): void {
    if (!this.busy) this.reply('* BYE [UNAVAILABLE] Server shutting down.', { close: true });
  }

  protected override onTerminate(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  /** Whether some of what was written has not been taken by the kernel yet. */
  get writesPending(): boolean {
    return this.conn.writableLength > 0;
  }

  /** Resolves once what was written has been taken by the kernel (a large FETCH waits here). */
  drained(): Promise<void> {
    if (this.conn.writableLength === 0 || !this.alive) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.conn.onDrain(resolve);
      void this.closed.then(resolve);
    });
  }

  /** BAD about the arguments of the current command, worded as dovecot's ("Error in IMAP command FETCH: ..."). */
  badArgs(tag: string, text: string): void {
    this.bad(tag, `Error in IMAP command ${this.command}: ${text}`);
  }

  /** A BAD reply that counts towards the connection's error limit (RFC 9051 §7.1.3). */
  bad(tag: string, text: string): void {
    this.errors++;
    this.reply(`${tag} BAD ${text}`);
    if (this.errors >= this.ctx.limits.maxErrors) this.reply('* BYE Too many invalid IMAP commands.', { close: true });
  }

  /**
   * Before login, a command that cannot be run (unknown, not before login, bad arguments), as
   * dovecot's imap-login answers it: one BAD for all of them, and the third ends the connection
   * instead (CLIENT_MAX_BAD_COMMANDS of login-common; parser errors are not counted).
   */
  invalidCommand(tag: string): void {
    if (++this.invalidBeforeLogin >= MAX_INVALID_BEFORE_LOGIN) this.reply('* BYE Too many invalid IMAP commands.', { close: true });
    else this.reply(`${tag} BAD Error in IMAP command received by server.`);
  }

  /** STARTTLS (RFC 9051 §6.2.1): after the tagged OK, TLS starts; anything sent in clear is discarded. */
  startTls(tag: string): void {
    this.beginTls(`${tag} OK Begin TLS negotiation now.`, this.ctx.secureContext!, this.ctx.scenario.mail.limits.commandTimeoutMs);
  }

  protected handle(item: Framed): Promise<void> | void {
    switch (item.kind) {
      case 'continue': {
        const refusal = this.continuation ? undefined : literalRefusal(this, item.command);
        if (refusal && this.reader.abandon(item.id)) return this.reply(refusal);
        return this.reply('+ OK');
      }
      case 'overflow':
        return this.reply('* BYE Too long argument.', { close: true });
      case 'too-big':
        // RFC 7888 §4 / RFC 7889 §4: a literal over the cap is refused; a synchronising one was never sent.
        return this.bad(item.tag && /^[\x21-\x7e]+$/.test(item.tag) ? item.tag : '*', '[TOOBIG] Literal too large.');
      case 'command': {
        const c = item.command;
        if (this.tap.id) {
          // Passwords and SASL data are secrets the console masks (RFC 9051 §6.2.2, §6.2.3).
          const first = c.text[0] ?? '';
          const secret = this.continuation !== undefined || /^\S+\s+(LOGIN|AUTHENTICATE\s+\S+\s+\S)/i.test(first);
          this.tap.client(c.literals.length > 0 ? `${first} {…}` : first, secret);
        }
        return dispatch(this, c);
      }
    }
  }
}
