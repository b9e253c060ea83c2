// What a POP3 and an IMAP session share (STYLE §2, §5, §6): the connection and, after STLS or
// STARTTLS, the TLS layer over it; one send(); the commands queued as they are framed and run one
// at a time in order (a command that has to wait holds the queue); pausing a client that sends
// faster than it is answered; the half-close; the autologout tick; the connection limiter's view
// (phase, shed); the journal's tap; the end. Each protocol's session says how bytes become
// commands, what a command does, and its own words for goodbye.
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger, Phase, PhaseReport, ShedReason, TcpConnection } from '@sstt/runtime';
import type { EventProtocol } from '@sstt/scenario';
import { tapSession, type Journal, type SessionTap } from '@sstt/events';
import { startTlsTunnel } from './starttls.ts';

const CRLF = '\r\n';

/** What the shared part needs of a server's context. */
export interface SessionContext {
  log: Logger;
  closing: boolean;
  journal: Journal | undefined;
  limits: { maxPipelined: number };
}

export abstract class MailSession<Item, C extends SessionContext> {
  secure: boolean;
  /** Set while a login penalty holds this session's answer. */
  penaltySince: number | undefined;
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  /** The console's journal of this session (packages/events). */
  readonly tap: SessionTap;

  /** What the session reads commands from and writes replies to (after STLS/STARTTLS: the TLS layer). */
  protected conn: TcpConnection;
  /** The accepted connection itself; after STLS/STARTTLS it carries the TLS records through `tunnel`. */
  private readonly transport: TcpConnection;
  private tunnel: Duplex | undefined;
  /** The client sent FIN: finish the queued commands, then close. */
  private peerEnded = false;
  protected readonly queue: Item[] = [];
  protected busy = false;
  protected upgrading = false;
  protected paused = false;
  /** Bumped by every chunk received and every write: the autologout tick looks at it. */
  protected activity = 0;
  /** When something last moved (for the connection limiter: how long it has been idle). */
  protected lastActivityAt = Date.now();
  /** When the command now arriving began (while the reader holds part of it). */
  private lineStartAt = 0;
  /** A command of the client's came in whole and was run (the connection limiter keeps such a session longer). */
  private answered = false;
  private upgradeAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private terminated = false;
  private resolveClosed!: () => void;
  protected readonly onError = (err: Error) => this.ctx.log.debug({ err: err.message, client: this.remoteAddress }, `${this.protocol} socket error`);

  /** `conn`: a raw TCP connection, or a TLS socket wrapped by wrapSocket (implicit TLS, its handshake done). */
  constructor(
    conn: TcpConnection,
    readonly ctx: C,
    secure: boolean,
    private readonly protocol: 'pop3' | 'imap',
  ) {
    this.conn = conn;
    this.transport = conn;
    this.secure = secure;
    this.remoteAddress = conn.remoteAddress ?? 'unknown';
    this.tap = tapSession(ctx.journal, `${protocol}${secure ? 's' : ''}` as EventProtocol, conn);
    const tlsSocket = (conn as { socket?: unknown }).socket;
    if (tlsSocket instanceof tls.TLSSocket) this.tap.tls(tlsSocket);
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  // ---- what each protocol says ----

  /** The session has said goodbye or lost its connection (the protocol's terminal state). */
  protected abstract get ended(): boolean;
  /** Enters the protocol's terminal state. */
  protected abstract end(): void;
  protected abstract greeting(): string;
  /** Frames received bytes into queued items; `stop`: stop reading (a line past its cap). */
  protected abstract frame(chunk: Buffer): { items: Item[]; stop: boolean };
  protected abstract get framePartial(): boolean;
  protected abstract resetFraming(): void;
  /** Runs one item; a promise when it has to wait (the queue waits with it). */
  protected abstract handle(item: Item): Promise<void> | void;
  /** The autologout period now (IMAP's is shorter before login). */
  protected abstract idlePeriodMs(): number;
  protected abstract autologout(): void;
  protected abstract shedLine(why: ShedReason): string;
  /** A command failed inside the server: the goodbye. */
  protected abstract internalError(): string;
  /** The server closes: finish the current command, then say goodbye. */
  abstract shutdown(): void;
  /** Pause reading while the client does not take what was written (IMAP's FETCH replies are built whole). */
  protected readonly pauseOnFullWrite: boolean = false;
  /** What to release when the connection is gone (POP3's mailbox lock). */
  protected onTerminate(): Promise<void> | void {}
  /** A phase of the protocol's own (POP3: a message waiting for the client to read). */
  protected ownPhase(): { phase: Phase; since: number } | undefined {
    return undefined;
  }

  start(): void {
    // One set of handlers for the life of the connection; after STLS/STARTTLS the bytes go to the tunnel.
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
    this.reply(this.greeting());
  }

  /** The client address (the connection limiter's key). */
  get address(): string {
    return this.remoteAddress;
  }

  get alive(): boolean {
    return !this.ended && !this.conn.destroyed;
  }

  /**
   * What the connection costs now (@sstt/runtime connection-limits.ts): 'busy' while a command
   * runs, 'penalty' while a failed login's answer is held, 'head' while a command, a TLS handshake
   * or the reading of our reply is in progress, 'idle' otherwise.
   */
  phase(): PhaseReport {
    const answered = this.answered;
    if (this.upgrading) return { phase: 'head', since: this.upgradeAt, answered };
    if (this.penaltySince !== undefined) return { phase: 'penalty', since: this.penaltySince, answered };
    const own = this.ownPhase();
    if (own) return { ...own, answered };
    if (this.busy || this.queue.length > 0) return { phase: 'busy', since: this.lastActivityAt, answered };
    if (this.framePartial) return { phase: 'head', since: this.lineStartAt, answered };
    if (this.conn.writableLength > 0) return { phase: 'head', since: this.lastActivityAt, answered };
    return { phase: 'idle', since: this.lastActivityAt, answered };
  }

  /** Closed by the connection limiter: a goodbye, then the connection goes at once. */
  shed(why: ShedReason): void {
    this.reply(this.shedLine(why));
    this.conn.destroy();
  }

  /** Writes protocol text or octets; does nothing on a dead socket; `close` ends the connection after it. */
  send(data: string | Buffer, opts: { close?: boolean } = {}): void {
    if (!this.alive) return;
    this.activity++;
    this.lastActivityAt = Date.now();
    if (typeof data === 'string') this.tap.server(data);
    if (!this.conn.write(data) && this.pauseOnFullWrite && !this.paused) {
      this.conn.pause();
      this.paused = true;
      this.conn.onDrain(() => this.resumeIfDrained());
    }
    if (opts.close) {
      this.conn.end();
      this.end();
    }
  }

  /** One reply line (CRLF added). */
  reply(line: string, opts: { close?: boolean } = {}): void {
    this.send(line + CRLF, opts);
  }

  destroy(): void {
    this.conn.destroy();
  }

  /**
   * TLS on this connection (RFC 2595 §4, RFC 9051 §6.2.1): `ok` is sent in clear, then every byte
   * is TLS; what the client sent in clear after the command is dropped. No command runs until the
   * handshake is done.
   */
  protected beginTls(ok: string, secureContext: tls.SecureContext, handshakeTimeoutMs: number): void {
    const transport = this.transport;
    this.queue.length = 0;
    this.resetFraming();
    this.upgrading = true;
    this.upgradeAt = Date.now();
    this.tap.server(ok);
    transport.write(ok + CRLF);
    this.activity++;
    this.tunnel = startTlsTunnel({
      transport,
      secureContext,
      handshakeTimeoutMs,
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
   * Autologout (RFC 1939 §3, RFC 9051 §5.4). Not socket.setTimeout, which re-arms a timer on every
   * read and write: a coarse tick checks whether anything moved, and after a whole period of quiet
   * ticks (between 1 and 1.25 periods of inactivity) the session ends.
   */
  private startIdleTimer(): void {
    const TICKS = 4;
    const tick = Math.max(1, Math.ceil(this.idlePeriodMs() / TICKS));
    let seen = this.activity;
    let quiet = 0;
    this.idleTimer = setInterval(() => {
      if (this.activity !== seen || this.upgrading) {
        seen = this.activity;
        quiet = 0;
      } else if (this.ended) {
        // We said goodbye a whole tick ago and the client still holds the connection open.
        this.conn.destroy();
      } else if (++quiet * tick >= this.idlePeriodMs()) this.autologout();
    }, tick);
    this.idleTimer.unref();
  }

  /** The client half-closed: the commands already received still run, then the connection ends. */
  private onPeerEnd(): void {
    this.peerEnded = true;
    if (!this.busy && this.queue.length === 0) this.closeAfterPeerEnd();
  }

  private closeAfterPeerEnd(): void {
    if (this.ended || this.conn.destroyed) return;
    this.end();
    this.conn.end();
  }

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    this.activity++;
    this.lastActivityAt = Date.now();
    if (!this.framePartial) this.lineStartAt = this.lastActivityAt;
    const { items, stop } = this.frame(chunk);
    for (const item of items) this.queue.push(item);
    if ((stop || this.queue.length > this.ctx.limits.maxPipelined) && !this.paused) {
      this.conn.pause();
      this.paused = true;
    }
    this.pump();
  }

  /**
   * Runs queued commands one at a time, in order (pipelined replies keep the order). A command
   * that answers at once runs synchronously; one that has to wait holds the queue until its
   * promise settles.
   */
  private pump(): void {
    if (this.busy) return;
    while (this.queue.length > 0 && this.alive && !this.upgrading) {
      const item = this.queue.shift()!;
      this.answered = true;
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
            // beginTls() keeps the session busy until the handshake is done.
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
      this.resumeIfDrained();
    }
    if (this.upgrading) this.busy = true;
    else if (this.ctx.closing && this.alive) this.shutdown();
    else if (this.peerEnded && this.queue.length === 0) this.closeAfterPeerEnd();
  }

  protected resumeIfDrained(): void {
    if (!this.paused || this.queue.length >= this.ctx.limits.maxPipelined / 2 || !this.alive) return;
    if (this.pauseOnFullWrite && this.conn.writableLength > 0) return;
    this.paused = false;
    this.conn.resume();
  }

  private failed(err: unknown): void {
    this.ctx.log.error({ err, client: this.remoteAddress }, `${this.protocol} command failed`);
    this.reply(this.internalError(), { close: true });
  }

  protected terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.tap.close();
    clearInterval(this.idleTimer);
    this.end();
    this.queue.length = 0;
    void Promise.resolve(this.onTerminate()).finally(() => this.resolveClosed());
  }
}
