// The reply texts of exim 4.86, the MTA of the seed, where they differ from smtp-server's.
// smtp-server (nodemailer) builds every reply through SMTPConnection.send(); EximConnection
// overrides that one method and rewrites the replies it knows, so the dialogue a student sees
// in Wireshark reads like the seed's:
//   220 server ESMTP ...          250-server Hello client [127.0.0.1]
//   250 OK (MAIL)                 250 Accepted (RCPT)
//   354 Enter message, ending with "." on a line by itself
//   250 OK id=...                 221 server closing connection
import type tls from 'node:tls';
import { NOOP_TAP, type SessionTap } from '@sstt/events';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { LimitedConnection, PhaseReport, ShedReason } from '@sstt/runtime';
import { rfc5322Date } from './smtp-date.ts';

/** Exim's EHLO keywords, in exim's order (RFC 5321 §4.1.1.1 leaves the order free). */
const EHLO_ORDER = ['SIZE', '8BITMIME', 'PIPELINING', 'AUTH', 'STARTTLS', 'HELP'];

/** Per-connection policy the server decides (see smtp.ts). */
export interface ConnectionPolicy {
  /** May this (not yet TLS) connection use AUTH? Always true once TLS is up. */
  plainAuthAllowed(remoteAddress: string): boolean;
}

/** Commands exim lists in its HELP reply. */
const HELP_COMMANDS = 'AUTH STARTTLS HELO EHLO MAIL RCPT DATA NOOP QUIT RSET HELP';

type Rewrite = (conn: EximConnection, data: string) => string | string[] | undefined;

/** code -> smtp-server's text (or a predicate) -> exim's text. */
const REWRITES: Record<number, Array<[RegExp, Rewrite]>> = {
  214: [[/^See /, () => ['Commands supported:', HELP_COMMANDS]]],
  // exim's greeting carries the time of the connection: "220 server ESMTP Exim 4.86_2 <date>"
  220: [
    [/^\S+ ESMTP /, (_c, data) => `${data} ${rfc5322Date()}`],
    [/^Ready to start TLS$/, () => 'TLS go ahead'],
  ],
  221: [[/^Bye$/, (c) => `${c.name} closing connection`]],
  235: [[/^Authentication successful$/, () => 'Authentication succeeded']],
  250: [
    [/^Accepted$/, (c) => (c.lastCommand === 'MAIL' ? 'OK' : 'Accepted')],
    [/^Flushed$/, () => 'Reset OK'],
    [/ Nice to meet you, /, (c) => (c.lastCommand === 'HELO' ? c.helloLine() : undefined)],
  ],
  354: [[/^End data with/, () => 'Enter message, ending with "." on a line by itself']],
  500: [[/^Error: command not recognized$/, () => 'unrecognized command']],
  501: [[/^Error: Bad sender address syntax$/, () => 'sender address syntax error']],
  503: [
    [/^Error: need RCPT command$/, () => 'valid RCPT command must precede DATA'],
    [/^Error: need MAIL command$/, () => 'sender not yet given'],
    [/^Error: send HELO\/EHLO first$/, () => 'EHLO or HELO first'],
    [/^Error: nested MAIL command$/, () => 'sender already given'],
  ],
  530: [[/^Error: authentication Required$/, () => 'Authentication required']],
  535: [[/^Error: Authentication credentials invalid$/, () => 'Incorrect authentication data']],
  552: [[/^Error: message exceeds fixed maximum message size/, () => 'Message size exceeds maximum permitted']],
};

/** Sessions whose AUTH answer a login penalty is holding, and since when (set by smtp.ts's onAuth). */
export const penaltyHeld = new WeakMap<object, number>();

export class EximConnection extends SMTPConnection implements LimitedConnection {
  /** The verb of the command being answered (MAIL and RCPT both get "Accepted" from smtp-server). */
  lastCommand = '';
  policy: ConnectionPolicy | undefined;
  /** The console's journal of this session (packages/events); set by the server at connect. */
  tap: SessionTap = NOOP_TAP;
  private lastCode = 0;
  private tlsTapped = false;
  /** Called once when the connection is gone (the connection limiter lets it go). */
  onGone: (() => void) | undefined;
  // For the connection limiter (phase()): when the last reply went out, when the command line
  // now arriving began, when DATA and STARTTLS began.
  private lastReplyAt = Date.now();
  private lineStartAt = 0;
  private dataAt = 0;
  private upgradeAt = 0;
  /** A command of the client's came in whole (the connection limiter keeps such a session longer). */
  private answered = false;

  get address(): string {
    return this.remoteAddress;
  }

  /**
   * exim greets at once; smtp-server waits 100 ms first to catch clients that talk before the
   * greeting (RFC 5321 §4.3.1 has them wait). Under a connection flood those 100 ms keep every
   * new connection in a state the server owes an answer, which the connection limiter may not
   * shed: a flood of new connections could then fill a listener with nothing left to close.
   */
  override init(): void {
    this._setListeners(() => this.connectionReady());
  }

  /** Notes when a command line begins (the parser's remainder is the part of a line received). */
  override _createParser(): ReturnType<SMTPConnection['_createParser']> {
    const parser = super._createParser();
    // The client has finished sending (its FIN ended the socket, which ends the parser) and all it
    // sent is parsed: the session ends once what it is owed is answered (closeWhenAnswered).
    parser.once('finish', () => {
      this.inputDone = true;
      this.closeWhenAnswered();
    });
    const write = parser.write.bind(parser) as (...args: unknown[]) => boolean;
    parser.write = ((...args: unknown[]) => {
      if (!parser._remainder) this.lineStartAt = Date.now();
      return write(...args);
    }) as typeof parser.write;
    return parser;
  }

  /**
   * What the connection costs now (@sstt/runtime connection-limits.ts): 'penalty' while a failed login's answer is
   * held, 'busy' while the server owes an answer, 'head' while a command line, the message (DATA), a TLS handshake or the reading of our
   * replies is in progress, 'idle' otherwise.
   */
  phase(): PhaseReport {
    const parser = this._parser;
    const answered = this.answered;
    const penalty = penaltyHeld.get(this.session);
    if (penalty !== undefined) return { phase: 'penalty', since: penalty, answered };
    if (!this._ready || this._handlerPending) return { phase: 'busy', since: this.lastReplyAt, answered };
    if (this._upgrading) return { phase: 'head', since: this.upgradeAt, answered };
    if (parser !== false && parser._dataMode) return { phase: 'head', since: this.dataAt, answered };
    // The message is in and the onData handler is deciding on it.
    if (this._dataStream) return { phase: 'busy', since: this.lastReplyAt, answered };
    if (parser !== false && parser._remainder) return { phase: 'head', since: this.lineStartAt, answered };
    if (this._socket.writableLength > 0) return { phase: 'head', since: this.lastReplyAt, answered };
    return { phase: 'idle', since: this.lastReplyAt, answered };
  }

  /** Closed by the connection limiter: 421 (RFC 5321 §3.8), then the connection goes at once. */
  shed(why: ShedReason): void {
    this.send(421, why === 'room' ? `${this.name} Too many connections, closing connection` : `${this.name} Timeout - closing connection`);
    this._socket.destroy();
  }

  override _onClose(): void {
    this.tap.close();
    const gone = this.onGone;
    this.onGone = undefined;
    gone?.();
    super._onClose();
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    this.answered = true;
    this.lastCommand = command.toString('latin1', 0, Math.min(command.length, 8)).split(/[\s:]/)[0]!.toUpperCase();
    // STARTTLS took effect since the last command: the handshake is an event of the dialogue.
    if (this.secure && !this.tlsTapped) {
      this.tlsTapped = true;
      this.tap.tls(this._socket as tls.TLSSocket);
    }
    // AUTH data (an initial response, or any line answering a 334 challenge) is a secret.
    if (this.tap.id) this.tap.client(command, this.lastCode === 334 || /^AUTH\s+\S+\s+\S/i.test(command.toString('latin1', 0, 64)));
    super._onCommand(command, callback);
  }

  /** AUTH exists on a plaintext connection only where the policy allows it (RFC 4954 §4). */
  override _isSupported(command: string): boolean {
    if (command.toString().trim().toUpperCase() === 'AUTH' && !this.secure && this.policy && !this.policy.plainAuthAllowed(this.remoteAddress)) {
      return false;
    }
    return super._isSupported(command);
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    this.lastReplyAt = Date.now();
    if (code === 354) this.dataAt = this.lastReplyAt;
    else if (code === 220 && this.lastCommand === 'STARTTLS') this.upgradeAt = this.lastReplyAt;
    if (Array.isArray(data) && code === 250 && this.lastCommand === 'EHLO') {
      this.reply(code, this.ehloLines(data), context);
      return;
    }
    if (typeof data === 'string') {
      for (const [pattern, rewrite] of REWRITES[code] ?? []) {
        if (!pattern.test(data)) continue;
        const out = rewrite(this, data);
        if (out !== undefined) {
          this.reply(code, out, context);
          return;
        }
      }
    }
    this.reply(code, data, context);
  }

  /** The reply as it goes on the wire (RFC 5321 §4.2.1: "code-" on every line but the last). */
  private reply(code: number, data: string | string[] | null | undefined, context?: string | false): void {
    this.lastCode = code;
    if (this.tap.id) {
      const lines = Array.isArray(data) ? data : [data ?? ''];
      this.tap.server(lines.map((l, i) => `${code}${i < lines.length - 1 ? '-' : ' '}${l}`).join('\n'));
    }
    const socket = this._socket;
    if (socket.readyState === 'writeOnly' && !socket.destroyed) {
      // The client has half-closed (exim sends the message's "." and QUIT together, then its
      // FIN, when PIPELINING is offered) and still reads: smtp-server writes a reply only while
      // the socket says 'open', so the 250 for the message and the 221 were dropped, and the
      // client would send the message again. Said 'open' for this one write.
      Object.defineProperty(socket, 'readyState', { value: 'open', configurable: true });
      try {
        super.send(code, data, context);
      } finally {
        delete (socket as { readyState?: string }).readyState;
      }
    } else super.send(code, data, context);
    if (this.inputDone) setImmediate(() => this.closeWhenAnswered());
  }

  /** Whether the client finished sending (closeWhenAnswered). */
  private inputDone = false;

  /** After the client's FIN: closes our side once no answer is owed (an application handler, the message's 250). */
  private closeWhenAnswered(): void {
    if (this._closing) return;
    // Gone in the middle of the message: nothing to answer; closing aborts the message (its file
    // in tmp/ goes), as when the connection drops.
    const parser = this._parser;
    if (parser !== false && parser._dataMode) return void this._socket.destroy();
    if (this._handlerPending || this._dataStream) return;
    this.close();
  }

  /** "server Hello <helo> [ip]" and the keywords in exim's order, plus HELP. */
  private ehloLines(lines: string[]): string[] {
    const features = lines.slice(1).filter((l) => EHLO_ORDER.includes(l.split(' ')[0]!));
    features.push('HELP');
    features.sort((a, b) => EHLO_ORDER.indexOf(a.split(' ')[0]!) - EHLO_ORDER.indexOf(b.split(' ')[0]!));
    return [this.helloLine(), ...features];
  }

  /** Exim's answer to HELO/EHLO: "server Hello <helo name> [<client address>]". */
  helloLine(): string {
    return `${this.name} Hello ${this.hostNameAppearsAs || this.remoteAddress} [${this.remoteAddress}]`;
  }
}
