// One POP3 connection (the connection, send(), the queue and the timers are ../mail-session.ts's):
// the line framing, the state (RFC 1939 §3: AUTHORIZATION → TRANSACTION → UPDATE), and RETR's
// message bodies. The meaning of each command lives in commands.ts behind one gate.
import fs from 'node:fs';
import type { Phase, ShedReason, TcpConnection } from '@sstt/runtime';
import type { User } from '@sstt/scenario';
import type { MailContext } from '../mail-listener.ts';
import { MailSession } from '../mail-session.ts';
import { dispatch } from './commands.ts';
import { LineReader } from './line-reader.ts';
import type { Pop3Limits } from './limits.ts';
import { relocate, SMALL_MESSAGE_OCTETS, type MailboxCache, type MailboxSnapshot, type Message } from './mailbox.ts';
import { readPreparedBody, withStatus, WireEncoder, type PreparedBody } from './wire.ts';

export type State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE' | 'CLOSED';

/** What every session of one server shares. */
export interface ServerContext extends MailContext {
  limits: Pop3Limits;
  /** What the last login of each Maildir read (the server's own, or shared with its other POP3 listener). */
  mailboxCache: MailboxCache;
}

const OVERFLOW = Symbol('overflow');
/** Largest reply buffer a session keeps for reuse. */
const SPARE_MAX_OCTETS = 20 * 1024;

export class Pop3Session extends MailSession<string | typeof OVERFLOW, ServerContext> {
  state: State = 'AUTHORIZATION';
  /** Name given by USER, waiting for PASS. */
  pendingUser: string | undefined;
  user: User | undefined;
  mailbox: MailboxSnapshot | undefined;
  releaseMailbox: (() => Promise<void>) | undefined;
  /** A SASL exchange waiting for the client's next line (RFC 5034 §4). */
  continuation: ((line: string) => Promise<void> | void) | undefined;
  errors = 0;
  authFailures = 0;

  /** Called when the connection goes away (a reply waiting for 'drain' must not wait forever). */
  private goneWaiters: Array<() => void> = [];
  private readonly reader: LineReader;
  /** The next message, read and encoded while the client was busy with the previous one. */
  private prepared: { msg: Message; body: PreparedBody } | undefined;
  /** A reply buffer the kernel has finished with: the next message is read into it. */
  private spare: Buffer | undefined;
  /** Set while a message waits for the client to read what was already sent. */
  private drainSince: number | undefined;

  /** `conn`: a raw TCP connection (plain POP3) or a TLS socket wrapped by wrapSocket (POP3S). */
  constructor(conn: TcpConnection, ctx: ServerContext, secure: boolean) {
    super(conn, ctx, secure, 'pop3');
    this.reader = new LineReader(ctx.limits.maxLineOctets);
  }

  protected get ended(): boolean {
    return this.state === 'CLOSED';
  }

  protected end(): void {
    this.state = 'CLOSED';
  }

  protected greeting(): string {
    return this.ctx.greeting;
  }

  protected frame(chunk: Buffer): { items: Array<string | typeof OVERFLOW>; stop: boolean } {
    const { lines, overflow } = this.reader.push(chunk);
    return { items: overflow ? [...lines, OVERFLOW] : lines, stop: overflow };
  }

  protected get framePartial(): boolean {
    return this.reader.hasPartial;
  }

  protected resetFraming(): void {
    this.reader.reset();
  }

  protected idlePeriodMs(): number {
    return this.ctx.limits.idleTimeoutMs;
  }

  /** RFC 1939 §3: the autologout timer ends the session without entering UPDATE. */
  protected autologout(): void {
    this.reply('-ERR Disconnected for inactivity.', { close: true });
  }

  protected shedLine(why: ShedReason): string {
    return why === 'room'
      ? '-ERR [SYS/TEMP] Too many connections, closing this one.'
      : why === 'idle'
        ? '-ERR Disconnected for inactivity.'
        : '-ERR Disconnected: too slow.';
  }

  protected internalError(): string {
    return '-ERR [SYS/TEMP] Internal error.';
  }

  protected override ownPhase(): { phase: Phase; since: number } | undefined {
    return this.drainSince === undefined ? undefined : { phase: 'head', since: this.drainSince };
  }

  /** Pipelined commands run in order (RFC 2449 §6.6); a line past the cap ends the connection. */
  protected handle(item: string | typeof OVERFLOW): Promise<void> | void {
    if (item === OVERFLOW) return this.reply('-ERR Input line too long, aborting.', { close: true });
    // Passwords and SASL data are secrets the console masks (RFC 1939 §7, RFC 5034 §4).
    if (this.tap.id) this.tap.client(item, this.continuation !== undefined || /^(PASS|APOP|AUTH\s+\S+\s+\S)/i.test(item));
    return dispatch(this, item);
  }

  /** A dropped connection deletes nothing (RFC 1939 §6): the marks die with the session. */
  protected override onTerminate(): Promise<void> | void {
    this.prepared = undefined;
    this.spare = undefined;
    for (const w of this.goneWaiters.splice(0)) w();
    const release = this.releaseMailbox;
    this.releaseMailbox = undefined;
    return release?.();
  }

  get messages(): Message[] {
    return this.mailbox?.messages ?? [];
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
      this.reply(first);
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
    this.pendingUser = undefined;
    // A client that sends STLS and then no handshake must not hold the connection forever.
    this.beginTls('+OK Begin TLS negotiation now.', this.ctx.secureContext!, this.ctx.limits.idleTimeoutMs);
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
}
