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
    [/^\S+ ESMTP /, (c, data) => `${data} ${rfc5322Date()}`],
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

export class EximConnection extends SMTPConnection {
  /** The verb of the command being answered (MAIL and RCPT both get "Accepted" from smtp-server). */
  lastCommand = '';
  policy: ConnectionPolicy | undefined;
  /** The console's journal of this session (packages/events); set by the server at connect. */
  tap: SessionTap = NOOP_TAP;
  private lastCode = 0;
  private tlsTapped = false;

  override _onCommand(command: Buffer, callback?: () => void): void {
    this.lastCommand = command.toString('latin1', 0, Math.min(command.length, 8)).split(/[\s:]/)[0]!.toUpperCase();
    // STARTTLS took effect since the last command: the handshake is an event of the dialogue.
    if (this.secure && !this.tlsTapped) {
      this.tlsTapped = true;
      this.tap.tls(this._socket as tls.TLSSocket);
    }
    // AUTH data (an initial response, or any line answering a 334 challenge) is a secret.
    this.tap.client(command, this.lastCode === 334 || /^AUTH\s+\S+\s+\S/i.test(command.toString('latin1', 0, 64)));
    super._onCommand(command, callback);
  }

  override _onClose(): void {
    this.tap.close();
    super._onClose();
  }

  /** AUTH exists on a plaintext connection only where the policy allows it (RFC 4954 §4). */
  override _isSupported(command: string): boolean {
    if (command.toString().trim().toUpperCase() === 'AUTH' && !this.secure && this.policy && !this.policy.plainAuthAllowed(this.remoteAddress)) {
      return false;
    }
    return super._isSupported(command);
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
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
    super.send(code, data, context);
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
