// One POP3 connection: the socket, the line framing, the state (RFC 1939 §3: AUTHORIZATION →
// TRANSACTION → UPDATE) and the only way to answer, send(). The meaning of each command lives in
// commands.ts behind one gate.
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger, Phase, ShedReason, TcpConnection } from '@sstt/runtime';
import type { Scenario, User } from '@sstt/scenario';
import { tapSession, type Journal, type SessionTap } from '@sstt/events';
import type { AuthPenalty } from '../auth-penalty.ts';
import { startTlsTunnel } from '../starttls.ts';
import { dispatch } from './commands.ts';
import { LineReader } from './line-reader.ts';
import type { Pop3Limits } from './limits.ts';
import { relocate, SMALL_MESSAGE_OCTETS, type MailboxCache, type MailboxSnapshot, type Message } from './mailbox.ts';
import { readPreparedBody, withStatus, WireEncoder, type PreparedBody } from './wire.ts';

export type State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE' | 'CLOSED';

/** What every session of one server shares. */
export interface ServerContext {
  scenario: Scenario;
  limits: Pop3Limits;
  log: Logger;
  greeting: string;
  /** Set when TLS is configured: STLS is offered on plain connections. */
  secureContext?: tls.SecureContext;
  plaintextAuth: boolean;
  closing: boolean;
  /** Login penalties (shared with the other mail listeners). */
  penalty: AuthPenalty;
  /** The session journal (the console's timeline); none: nothing is recorded. */
  journal: Journal | undefined;
  /** What the last login of each Maildir read (the server's own, or shared with its other POP3 listener). */
  mailboxCache: MailboxCache;
}

const OVERFLOW = Symbol('overflow');
/** Largest reply buffer a session keeps for reuse. */
const SPARE_MAX_OCTETS = 20 * 1024;
const CRLF = '\r\n';

export class Pop3Session {
  state: State = 'AUTHORIZATION';
  secure: boolean;
  /** Name given by USER, waiting for PASS. */
  pendingUser: string | undefined;
  user: User | undefined;
  mailbox: MailboxSnapshot | undefined;
  releaseMailbox: (() => Promise<void>) | undefined;
  /** A SASL exchange waiting for the client's next line (RFC 5034 §4). */
  continuation: ((line: string) => Promise<void> | void) | undefined;
  errors = 0;
  authFailures = 0;
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  /** The console's journal of this session (packages/events). */
  readonly tap: SessionTap;

  /** What the session reads commands from and writes replies to (after STLS: the TLS layer). */
  private conn: TcpConnection;
  /** The accepted connection itself; after STLS it carries the TLS records through `tunnel`. */
  private readonly transport: TcpConnection;
  private tunnel: Duplex | undefined;
  /** The client sent FIN: finish the queued commands, then close. */
  private peerEnded = false;
  /** Called when the connection goes away (a reply waiting for 'drain' must not wait forever). */
  private goneWaiters: Array<() => void> = [];
  private readonly reader: LineReader;
  private readonly queue: Array<string | typeof OVERFLOW> = [];
  private busy = false;
  /** The next message, read and encoded while the client was busy with the previous one. */
  private prepared: { msg: Message; body: PreparedBody } | undefined;
  /** A reply buffer the kernel has finished with: the next message is read into it. */
  private spare: Buffer | undefined;
  private upgrading = false;
  /** Bumped by every chunk received and every write: the autologout timer looks at it. */
  private activity = 0;
  /** When something last moved (for the connection limiter: how long it has been idle). */
  private lastActivityAt = Date.now();
  /** When the line now arriving began (while the reader holds part of it). */
  private lineStartAt = 0;
  /** When the STLS handshake began. */
  private upgradeAt = 0;
  /** Set while a login penalty holds this session's answer (commands.ts). */
  penaltySince: number | undefined;
  /** Set while a message waits for the client to read what was already sent. */
  private drainSince: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private terminated = false;
  private paused = false;
  private resolveClosed!: () => void;
  private readonly onError = (err: Error) => this.ctx.log.debug({ err: err.message, client: this.remoteAddress }, 'pop3 socket error');

  /** `conn`: a raw TCP connection (plain POP3) or a TLS socket wrapped by wrapSocket (POP3S). */
  constructor(
    conn: TcpConnection,
    readonly ctx: ServerContext,
    secure: boolean,
  ) {
    this.conn = conn;
    this.transport = conn;
    this.secure = secure;
    this.remoteAddress = conn.remoteAddress ?? 'unknown';
    this.tap = tapSession(ctx.journal, secure ? 'pop3s' : 'pop3', conn);
    // POP3S: the handshake was done before the session began (wrapSocket keeps the TLS socket).
    const tlsSocket = (conn as { socket?: unknown }).socket;
    if (tlsSocket instanceof tls.TLSSocket) this.tap.tls(tlsSocket);
    this.reader = new LineReader(ctx.limits.maxLineOctets);
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  start(): void {
    // One set of handlers for the life of the connection; after STLS the bytes go to the tunnel.
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
    this.reply(this.ctx.greeting);
  }

  /** The client address (the connection limiter's key). */
  get address(): string {
    return this.remoteAddress;
  }

  get alive(): boolean {
    return this.state !== 'CLOSED' && !this.conn.destroyed;
  }

  get messages(): Message[] {
    return this.mailbox?.messages ?? [];
  }

  /**
   * What the connection costs now (@sstt/runtime connection-limits.ts): 'busy' while a command runs, 'penalty'
   * while a failed login's answer is held, 'head' while a line, a TLS handshake or the reading
   * of our reply is in progress, 'idle' otherwise.
   */
  phase(): { phase: Phase; since: number } {
    if (this.upgrading) return { phase: 'head', since: this.upgradeAt };
    if (this.penaltySince !== undefined) return { phase: 'penalty', since: this.penaltySince };
    if (this.drainSince !== undefined) return { phase: 'head', since: this.drainSince };
    if (this.busy || this.queue.length > 0) return { phase: 'busy', since: this.lastActivityAt };
    if (this.reader.hasPartial) return { phase: 'head', since: this.lineStartAt };
    if (this.conn.writableLength > 0) return { phase: 'head', since: this.lastActivityAt };
    return { phase: 'idle', since: this.lastActivityAt };
  }

  /** Closed by the connection limiter: a goodbye, then the connection goes at once. */
  shed(why: ShedReason): void {
    this.reply(
      why === 'room'
        ? '-ERR [SYS/TEMP] Too many connections, closing this one.'
        : why === 'idle'
          ? '-ERR Disconnected for inactivity.'
          : '-ERR Disconnected: too slow.',
    );
    this.conn.destroy();
  }

  /** Writes raw protocol text; does nothing on a dead socket; `close` ends the connection after it. */
  send(data: string | Buffer, opts: { close?: boolean } = {}): void {
    if (!this.alive) return;
    this.activity++;
    if (typeof data === 'string') this.tap.server(data);
    this.lastActivityAt = Date.now();
    this.conn.write(data);
    if (opts.close) {
      this.conn.end();
      this.state = 'CLOSED';
    }
  }

  /** One reply line (CRLF added). */
  reply(line: string, opts: { close?: boolean } = {}): void {
    this.send(line + CRLF, opts);
  }

  /** An -ERR that counts towards the connection's error limit (closes when it is reached). */
  error(line: string): void {
    this.errors++;
    if (this.errors >= this.ctx.limits.maxErrors) {
      this.reply(line);
      this.reply('-ERR Too many invalid commands.', { close: true });
    } else this.reply(line);
  }

  /** Server shutdown: the current command finishes, then the client is told and the connection ends (no UPDATE). */
  shutdown(): void {
    if (!this.busy) this.reply('-ERR [SYS/TEMP] Server shutting down.', { close: true });
  }

  destroy(): void {
    this.conn.destroy();
  }

  /**
   * RETR/TOP body (RFC 1939 §7): a small file is read and encoded in one go and sent with its
   * status line in one write (synchronously: the reply leaves within the event that brought the
   * command); larger ones are streamed chunk by chunk with backpressure (a 50 MB message never
   * sits in memory). Returns a promise only when it has to wait.
   */
  sendMessage(msg: Message, first: string, bodyLines = Infinity): Promise<void> | void {
    if (msg.size > SMALL_MESSAGE_OCTETS) return this.streamMessage(msg, first, bodyLines);
    this.tap.server(first);
    const ahead = this.prepared;
    this.prepared = undefined;
    let body: PreparedBody | null;
    try {
      body = ahead?.msg === msg && bodyLines === Infinity ? ahead.body : readPreparedBody(msg.file, msg.size, bodyLines, this.takeSpare());
    } catch (err) {
      return this.unreadable(msg, err);
    }
    if (body === null) return this.sendRelocated(msg, first, bodyLines);
    this.send(withStatus(first, body));
    // Nothing queued: the kernel took the bytes during write(), the buffer can be used again.
    // (Kept only up to SPARE_MAX_OCTETS: with the message read ahead, a session holds at most
    // 64 KiB + 20 KiB of reply buffers.)
    if (this.conn.writableLength === 0 && body.buf.length <= SPARE_MAX_OCTETS) this.spare = body.buf;
    // Mail clients download messages in order: read the next one while this reply travels and
    // the client parses it, so the next RETR is answered without touching the disk.
    if (bodyLines === Infinity) this.prepareNext(msg.number);
  }

  /** The file was renamed (flags set by another client): find it, then send it. */
  private async sendRelocated(msg: Message, first: string, bodyLines: number): Promise<void> {
    let body: PreparedBody | null;
    try {
      body = (await relocate(msg).catch(() => false)) ? readPreparedBody(msg.file, msg.size, bodyLines) : null;
    } catch (err) {
      return this.unreadable(msg, err);
    }
    if (body === null) return this.reply('-ERR [SYS/TEMP] Message is no longer available.');
    this.send(withStatus(first, body));
  }

  /** A message file that exists but cannot be read (permissions, I/O error): the session goes on. */
  private unreadable(msg: Message, err: unknown): void {
    this.ctx.log.error({ err, file: msg.file }, 'pop3: reading a message failed');
    this.reply('-ERR [SYS/TEMP] Message is no longer available.');
  }

  private async streamMessage(msg: Message, first: string, bodyLines: number): Promise<void> {
    const enc = new WireEncoder(bodyLines);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(msg.file, 'r');
    } catch {
      if (!(await relocate(msg).catch(() => false))) return this.reply('-ERR [SYS/TEMP] Message is no longer available.');
      fh = await fs.promises.open(msg.file, 'r');
    }
    try {
      this.send(first + CRLF);
      const CHUNK = 64 * 1024;
      while (this.alive && !enc.done) {
        const buf = Buffer.allocUnsafe(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        const out = enc.encode(buf.subarray(0, bytesRead));
        this.activity++;
        if (out.length > 0 && !this.conn.write(out)) await this.drained();
      }
      this.send(enc.finish());
    } catch (err) {
      // The reply is half sent: the framing cannot be recovered, drop the connection.
      this.ctx.log.error({ err, file: msg.file }, 'pop3: reading a message failed');
      this.conn.destroy();
    } finally {
      await fh.close();
    }
  }

  /** STLS (RFC 2595 §4): after "+OK", TLS starts on this connection; anything sent in clear is discarded. */
  startTls(): void {
    const transport = this.transport;
    const secureContext = this.ctx.secureContext!;
    this.queue.length = 0;
    this.reader.reset();
    this.pendingUser = undefined;
    this.upgrading = true; // no command runs until the handshake is done
    this.tap.server('+OK Begin TLS negotiation now.');
    this.upgradeAt = Date.now();
    transport.write('+OK Begin TLS negotiation now.' + CRLF);
    this.activity++;
    // From here on, every byte read is TLS (the transport's data handler feeds the tunnel).
    this.tunnel = startTlsTunnel({
      transport,
      secureContext,
      // A client that sends STLS and then no handshake must not hold the connection forever.
      handshakeTimeoutMs: this.ctx.limits.idleTimeoutMs,
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
   * RFC 1939 §3 autologout. Not socket.setTimeout, which re-arms a timer on every read and
   * write: a coarse tick checks whether anything moved, and after a whole idle period of quiet
   * ticks (between 1 and 1.25 periods of inactivity) the session ends.
   */
  private startIdleTimer(): void {
    const TICKS = 4;
    let seen = this.activity;
    let quiet = 0;
    this.idleTimer = setInterval(
      () => {
        if (this.activity !== seen || this.upgrading) {
          seen = this.activity;
          quiet = 0;
        } else if (this.state === 'CLOSED') {
          // We said goodbye a whole tick ago and the client still holds the connection open.
          this.conn.destroy();
        } else if (++quiet >= TICKS) this.autologout();
      },
      Math.max(1, Math.ceil(this.ctx.limits.idleTimeoutMs / TICKS)),
    );
    this.idleTimer.unref();
  }

  /** Reads and encodes message number `after + 1` ahead of its RETR (at most one held, up to 64 KiB). */
  private prepareNext(after: number): void {
    const next = this.messages[after]; // message numbers are 1-based: this is number after+1
    if (!next || next.deleted || next.size > SMALL_MESSAGE_OCTETS || this.state !== 'TRANSACTION') return;
    try {
      // Maildir files never change once delivered (flags change the name only), so bytes read
      // now are the bytes RETR must send.
      const spare = this.takeSpare();
      const body = readPreparedBody(next.file, next.size, Infinity, spare);
      if (body) this.prepared = { msg: next, body };
      if (spare && body?.buf !== spare) this.spare = spare;
    } catch {
      // unreadable now: RETR will try again and report it
    }
  }

  private takeSpare(): Buffer | undefined {
    const s = this.spare;
    this.spare = undefined;
    return s;
  }

  /** Resolves once the pending writes are taken by the kernel, or the connection is gone. */
  private drained(): Promise<void> {
    this.drainSince = Date.now();
    return new Promise<void>((resolve) => {
      this.goneWaiters.push(resolve);
      this.conn.onDrain(resolve);
    }).finally(() => (this.drainSince = undefined));
  }

  /** The client half-closed: the commands already received still run, then the connection ends. */
  private onPeerEnd(): void {
    this.peerEnded = true;
    if (!this.busy && this.queue.length === 0) this.closeAfterPeerEnd();
  }

  private closeAfterPeerEnd(): void {
    if (this.state === 'CLOSED' || this.conn.destroyed) return;
    this.state = 'CLOSED';
    this.conn.end();
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'CLOSED') return;
    this.activity++;
    this.lastActivityAt = Date.now();
    if (!this.reader.hasPartial) this.lineStartAt = this.lastActivityAt;
    const { lines, overflow } = this.reader.push(chunk);
    for (const line of lines) this.queue.push(line);
    if (overflow) {
      this.queue.push(OVERFLOW);
      this.conn.pause();
      this.paused = true;
    } else if (this.queue.length > this.ctx.limits.maxPipelined && !this.paused) {
      this.conn.pause();
      this.paused = true;
    }
    this.pump();
  }

  /**
   * Runs queued commands one at a time, in order (pipelined replies keep the order, RFC 2449
   * §6.6). A command that answers at once (RETR of a small message, LIST, DELE...) runs
   * synchronously; one that has to wait (login, QUIT, a large message) holds the queue until
   * its promise settles.
   */
  private pump(): void {
    if (this.busy) return;
    while (this.queue.length > 0 && this.alive && !this.upgrading) {
      const item = this.queue.shift()!;
      if (item === OVERFLOW) {
        this.reply('-ERR Input line too long, aborting.', { close: true });
        break;
      }
      let pending: Promise<void> | void;
      try {
        // Passwords and SASL data are secrets the console masks (RFC 1939 §7, RFC 5034 §4).
        if (this.tap.id) this.tap.client(item, this.continuation !== undefined || /^(PASS|APOP|AUTH\s+\S+\s+\S)/i.test(item));
        pending = dispatch(this, item);
      } catch (err) {
        this.failed(err);
        return;
      }
      if (pending) {
        this.busy = true;
        pending.then(
          () => {
            // startTls() keeps the session busy until the handshake is done.
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

  private resumeIfDrained(): void {
    if (this.paused && this.queue.length < this.ctx.limits.maxPipelined / 2 && this.alive) {
      this.paused = false;
      this.conn.resume();
    }
  }

  private failed(err: unknown): void {
    this.ctx.log.error({ err, client: this.remoteAddress }, 'pop3 command failed');
    this.reply('-ERR [SYS/TEMP] Internal error.', { close: true });
  }

  /** RFC 1939 §3: the autologout timer ends the session without entering UPDATE. */
  private autologout(): void {
    this.reply('-ERR Disconnected for inactivity.', { close: true });
  }

  private terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.tap.close();
    clearInterval(this.idleTimer);
    this.prepared = undefined;
    this.spare = undefined;
    for (const w of this.goneWaiters.splice(0)) w();
    this.state = 'CLOSED';
    this.queue.length = 0;
    const release = this.releaseMailbox;
    this.releaseMailbox = undefined;
    // A dropped connection deletes nothing (RFC 1939 §6): the marks die with the session.
    void (release ? release() : Promise.resolve()).finally(() => this.resolveClosed());
  }
}
