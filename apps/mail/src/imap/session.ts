// One IMAP connection: the socket, the framing (framing.ts), the state (RFC 9051 §3:
// NOT AUTHENTICATED → AUTHENTICATED ⇄ SELECTED → LOGOUT) and the only way to answer, send().
// The meaning of each command lives in commands.ts behind one gate.
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger, Phase, ShedReason, TcpConnection } from '@sstt/runtime';
import type { Scenario, User } from '@sstt/scenario';
import { tapSession, type Journal, type SessionTap } from '@sstt/events';
import type { AuthPenalty } from '../auth-penalty.ts';
import { startTlsTunnel } from '../starttls.ts';
import { capabilities, dispatch, literalRefusal } from './commands.ts';
import { CommandReader, type Framed } from './framing.ts';
import type { ImapLimits } from './limits.ts';
import type { Selected } from './selected.ts';

export type State = 'NOT_AUTHENTICATED' | 'AUTHENTICATED' | 'SELECTED' | 'LOGOUT';

/** What every session of one server shares. */
export interface ServerContext {
  scenario: Scenario;
  limits: ImapLimits;
  /** RFC 7889 APPENDLIMIT: the largest message APPEND takes (scenario mail.maxSize). */
  appendLimit: number;
  log: Logger;
  greeting: string;
  /** Set when TLS is configured: STARTTLS is offered on plain connections. */
  secureContext?: tls.SecureContext;
  plaintextAuth: boolean;
  closing: boolean;
  penalty: AuthPenalty;
  journal: Journal | undefined;
}

const CRLF = '\r\n';

export class ImapSession {
  state: State = 'NOT_AUTHENTICATED';
  secure: boolean;
  user: User | undefined;
  maildir = '';
  selected: Selected | undefined;
  /** RFC 9051 §6.3.1: ENABLE IMAP4rev2 switches the responses that differ from IMAP4rev1. */
  rev2 = false;
  /** A command waiting for the client's next line (AUTHENTICATE's response, IDLE's DONE). */
  continuation: ((line: string) => Promise<void> | void) | undefined;
  /** Stops watching the selected folder (IDLE). */
  stopWatching: (() => void) | undefined;
  errors = 0;
  authFailures = 0;
  /** Set while a login penalty holds this session's answer. */
  penaltySince: number | undefined;
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  readonly tap: SessionTap;

  private conn: TcpConnection;
  private readonly transport: TcpConnection;
  private tunnel: Duplex | undefined;
  private peerEnded = false;
  private readonly reader: CommandReader;
  private readonly queue: Framed[] = [];
  private busy = false;
  private upgrading = false;
  private paused = false;
  private activity = 0;
  private lastActivityAt = Date.now();
  private lineStartAt = 0;
  private upgradeAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private terminated = false;
  private resolveClosed!: () => void;
  private readonly onError = (err: Error) => this.ctx.log.debug({ err: err.message, client: this.remoteAddress }, 'imap socket error');

  constructor(
    conn: TcpConnection,
    readonly ctx: ServerContext,
    secure: boolean,
  ) {
    this.conn = conn;
    this.transport = conn;
    this.secure = secure;
    this.remoteAddress = conn.remoteAddress ?? 'unknown';
    this.tap = tapSession(ctx.journal, secure ? 'imaps' : 'imap', conn);
    const tlsSocket = (conn as { socket?: unknown }).socket;
    if (tlsSocket instanceof tls.TLSSocket) this.tap.tls(tlsSocket);
    this.reader = new CommandReader({ maxLineOctets: ctx.limits.maxLineOctets, maxLiteralOctets: ctx.limits.maxLiteralOctets, appendLimit: ctx.appendLimit });
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  start(): void {
    this.transport.setHandlers({
      data: (chunk) => {
        if (!this.tunnel) this.receive(chunk);
        else if (!this.tunnel.push(chunk)) this.transport.pause();
      },
      end: () => (this.tunnel ? this.tunnel.push(null) : this.onPeerEnd()),
      error: this.onError,
      close: () => {
        this.tunnel?.destroy();
        this.terminate();
      },
    });
    this.startIdleTimer();
    // RFC 9051 §7.1.1: the greeting may carry the capabilities (dovecot's does).
    this.reply(`* OK [CAPABILITY ${capabilities(this)}] ${this.ctx.greeting}`);
  }

  get address(): string {
    return this.remoteAddress;
  }

  get alive(): boolean {
    return this.state !== 'LOGOUT' && !this.conn.destroyed;
  }

  /** What the connection costs now (@sstt/runtime connection-limits.ts). */
  phase(): { phase: Phase; since: number } {
    if (this.upgrading) return { phase: 'head', since: this.upgradeAt };
    if (this.penaltySince !== undefined) return { phase: 'penalty', since: this.penaltySince };
    if (this.busy || this.queue.length > 0) return { phase: 'busy', since: this.lastActivityAt };
    if (this.reader.hasPartial) return { phase: 'head', since: this.lineStartAt };
    if (this.conn.writableLength > 0) return { phase: 'head', since: this.lastActivityAt };
    return { phase: 'idle', since: this.lastActivityAt };
  }

  /** Closed by the connection limiter: a goodbye (RFC 9051 §7.1.5 BYE), then the connection goes at once. */
  shed(why: ShedReason): void {
    this.reply(
      why === 'room'
        ? '* BYE [UNAVAILABLE] Too many connections, closing this one.'
        : why === 'idle'
          ? '* BYE Disconnected for inactivity.'
          : '* BYE Disconnected: too slow.',
    );
    this.conn.destroy();
  }

  /** Writes protocol text or octets; does nothing on a dead socket; `close` ends the connection after it. */
  send(data: string | Buffer, opts: { close?: boolean } = {}): void {
    if (!this.alive) return;
    this.activity++;
    this.lastActivityAt = Date.now();
    if (typeof data === 'string') this.tap.server(data);
    const ok = this.conn.write(data);
    if (!ok && !this.paused) {
      // A client that does not read: stop reading its commands until it has taken our replies.
      this.conn.pause();
      this.paused = true;
      this.conn.onDrain(() => this.resumeIfDrained());
    }
    if (opts.close) {
      this.conn.end();
      this.state = 'LOGOUT';
    }
  }

  /** Resolves once what was written has been taken by the kernel (a large FETCH waits here). */
  drained(): Promise<void> {
    if (this.conn.writableLength === 0 || !this.alive) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.conn.onDrain(resolve);
      void this.closed.then(resolve);
    });
  }

  reply(line: string, opts: { close?: boolean } = {}): void {
    this.send(line + CRLF, opts);
  }

  /** The command being run, as the gate named it ("FETCH", "UID FETCH"): BAD replies about its arguments say it. */
  command = '';

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

  shutdown(): void {
    if (!this.busy) this.reply('* BYE [UNAVAILABLE] Server shutting down.', { close: true });
  }

  destroy(): void {
    this.conn.destroy();
  }

  /** STARTTLS (RFC 9051 §6.2.1): after the tagged OK, TLS starts; anything sent in clear is discarded. */
  startTls(tag: string): void {
    const transport = this.transport;
    this.queue.length = 0;
    this.reader.reset();
    this.upgrading = true;
    this.upgradeAt = Date.now();
    const ok = `${tag} OK Begin TLS negotiation now.`;
    this.tap.server(ok);
    transport.write(ok + CRLF);
    this.activity++;
    this.tunnel = startTlsTunnel({
      transport,
      secureContext: this.ctx.secureContext!,
      handshakeTimeoutMs: this.ctx.scenario.mail.limits.commandTimeoutMs,
      onError: this.onError,
      onClosedEarly: () => this.terminate(),
      onSecure: (conn, socket) => {
        this.conn = conn;
        this.conn.setHandlers({
          data: (chunk) => this.receive(chunk),
          end: () => this.onPeerEnd(),
          error: this.onError,
          close: () => this.terminate(),
        });
        this.secure = true;
        this.tap.tls(socket);
        this.upgrading = false;
        this.busy = false;
        this.lastActivityAt = Date.now();
      },
    });
  }

  /**
   * RFC 9051 §5.4 autologout: at least 30 minutes once authenticated, shorter before. A coarse
   * tick checks whether anything moved; after a whole period of quiet ticks the session ends.
   */
  private startIdleTimer(): void {
    const TICKS = 4;
    let seen = this.activity;
    let quiet = 0;
    const tick = Math.max(1, Math.ceil(Math.min(this.ctx.limits.idleTimeoutMs, this.ctx.limits.loginTimeoutMs) / TICKS));
    this.idleTimer = setInterval(() => {
      const period = this.state === 'NOT_AUTHENTICATED' ? this.ctx.limits.loginTimeoutMs : this.ctx.limits.idleTimeoutMs;
      if (this.activity !== seen || this.upgrading) {
        seen = this.activity;
        quiet = 0;
      } else if (this.state === 'LOGOUT') this.conn.destroy();
      else if (++quiet * tick >= period) this.reply('* BYE Disconnected for inactivity.', { close: true });
    }, tick);
    this.idleTimer.unref();
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (!this.busy && this.queue.length === 0) this.closeAfterPeerEnd();
  }

  private closeAfterPeerEnd(): void {
    if (this.state === 'LOGOUT' || this.conn.destroyed) return;
    this.state = 'LOGOUT';
    this.conn.end();
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'LOGOUT') return;
    this.activity++;
    this.lastActivityAt = Date.now();
    if (!this.reader.hasPartial) this.lineStartAt = this.lastActivityAt;
    for (const item of this.reader.push(chunk)) this.queue.push(item);
    if (this.queue.length > this.ctx.limits.maxPipelined && !this.paused) {
      this.conn.pause();
      this.paused = true;
    }
    this.pump();
  }

  /** Runs queued commands one at a time, in order; one that has to wait holds the queue. */
  private pump(): void {
    if (this.busy) return;
    while (this.queue.length > 0 && this.alive && !this.upgrading) {
      const item = this.queue.shift()!;
      let pending: Promise<void> | void;
      try {
        pending = this.handle(item);
      } catch (err) {
        this.failed(err);
        return;
      }
      if (pending) {
        this.busy = true;
        pending.then(
          () => {
            this.busy = this.upgrading;
            this.resumeIfDrained();
            this.pump();
          },
          (err: unknown) => {
            this.busy = false;
            this.failed(err);
          },
        );
        return;
      }
    }
    this.resumeIfDrained();
    if (this.upgrading) this.busy = true;
    else if (this.ctx.closing && this.alive) this.shutdown();
    else if (this.peerEnded && this.queue.length === 0) this.closeAfterPeerEnd();
  }

  private handle(item: Framed): Promise<void> | void {
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

  private resumeIfDrained(): void {
    if (this.paused && this.queue.length < this.ctx.limits.maxPipelined / 2 && this.alive && this.conn.writableLength === 0) {
      this.paused = false;
      this.conn.resume();
    }
  }

  private failed(err: unknown): void {
    this.ctx.log.error({ err, client: this.remoteAddress }, 'imap command failed');
    this.reply('* BYE Internal error occurred. Refer to server log for more information.', { close: true });
  }

  private terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.tap.close();
    clearInterval(this.idleTimer);
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.state = 'LOGOUT';
    this.queue.length = 0;
    this.resolveClosed();
  }
}
