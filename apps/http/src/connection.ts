// One Connection per socket (plain TCP on the raw transport or node:net, or TLS; all behind
// runtime's TcpConnection): it owns the socket, the input buffer, the framing
// (request heads, request bodies), the timers and the state, and writes only through
// `respond()`. What a request means is decided by handler.ts.
//
//   new ──first byte──▶ active ──response done, keep-alive──▶ idle ──next byte──▶ active
//    │                    │                                     │
//    └────────────────────┴──── close / timeout / max / error ──┴──▶ closed
import fs from 'node:fs';
import type tls from 'node:tls';
import { tapSession, type SessionTap } from '@sstt/events';
import type { Slot, TcpConnection } from '@sstt/runtime';
import { currentHttpDate } from './http-date.ts';
import { combinedLine, labLine, type LabLogKind, type ServerLogs } from './log.ts';
import { bodyFraming, ChunkedDecoder, parseRequestHead, type RequestHead } from './request.ts';
import { errorPage, REASONS } from './status.ts';
import type { ServerContext } from './context.ts';
import { handleRequest, MAX_FORM_BODY, type Reply } from './handler.ts';

export type ConnState = 'new' | 'active' | 'idle' | 'closed';

/** A body we do not want (e.g. sent with a GET) is read and dropped up to this size; bigger → close. */
export const MAX_DISCARD_BODY = 1024 * 1024;
/** While a response streams, stop reading the socket once this much input is waiting (pipelining). */
export const MAX_PENDING_INPUT = 64 * 1024;
/**
 * Stop answering pipelined requests while this much output waits for a client that does not
 * read; go on when the socket drains. Without it, 20000 pipelined GETs of a cached file would
 * pile their responses up in memory.
 */
export const MAX_PENDING_OUTPUT = 256 * 1024;
/** Size of one read from a file being streamed (and of the buffers in the pool). */
export const STREAM_CHUNK = 512 * 1024;
/** Free stream buffers kept for reuse. */
const POOL_MAX = 64;

const EMPTY = Buffer.alloc(0);
/** Request fields that carry credentials: recorded as secret lines in the console's journal. */
const SECRET_FIELDS = new Set(['authorization', 'proxy-authorization']);
/** Size of the buffer small responses are assembled in (see respond()). */
const SCRATCH_SIZE = 64 * 1024;
let scratch: Buffer | undefined;
const pool: Buffer[] = [];
function takeChunk(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(STREAM_CHUNK);
}
function releaseChunk(b: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(b);
}

type TimerKind = 'idle' | 'header' | 'send';

interface BodyState {
  /** Bytes still to come (Content-Length framing). */
  remaining: number;
  /** Chunked framing instead (RFC 9112 §7.1). */
  decoder?: ChunkedDecoder;
  /** Chunks collected for the handler, or null to drop the bytes. */
  chunks: Buffer[] | null;
  onDone?: (body: Buffer) => void;
}

export class Connection {
  state: ConnState = 'new';
  readonly remote: string;
  /** The TLS client certificate's subject ("CN=..., O=..."), when there is one. */
  readonly peerSubject: string | undefined;
  /** The console's journal of this connection (packages/events): request line, status, TLS. */
  private readonly tap: SessionTap;
  private buf: Buffer = EMPTY;
  private served = 0;
  private streaming = false;
  /** Answering is paused until the socket drains (MAX_PENDING_OUTPUT). */
  private waitingDrain = false;
  private streamFd: number | undefined;
  private closeAfter = false;
  private peerEnded = false;
  private body: BodyState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerKind: TimerKind | undefined;
  private processing = false;
  /** A request was already answered in this round of process(). */
  private inRound = false;
  private paused = false;
  /** The log lines of the last response and what they were made from (see log()). */
  private lastLog:
    | {
        second: number;
        status: number;
        bytes: number;
        requestLine: string;
        reason: string | undefined;
        referer: string | undefined;
        userAgent: string | undefined;
        access: string;
        lab: string;
      }
    | undefined;
  /** Responses of one round of pipelined requests, sent together by uncork() (one writev). */
  private corked: Buffer[] | undefined;

  /**
   * `tlsSocket`: the TLS socket under `socket`, for the client certificate's subject. `slot`: its
   * place in the server's connection limits, kept up to date with what the connection does.
   */
  constructor(
    readonly socket: TcpConnection,
    readonly ctx: ServerContext,
    readonly secure: boolean,
    tlsSocket?: tls.TLSSocket,
    private readonly slot?: Slot,
  ) {
    this.remote = socket.remoteAddress?.replace(/^::ffff:/, '') ?? '-';
    this.peerSubject = tlsSocket ? subjectOf(tlsSocket) : undefined;
    this.tap = tapSession(ctx.journal, secure ? 'https' : 'http', socket);
    if (tlsSocket) this.tap.tls(tlsSocket);
    socket.setHandlers({
      data: (chunk) => this.onData(chunk),
      end: () => {
        this.peerEnded = true;
        this.afterProcess();
      },
      // A client that goes away is not an error worth more than a debug line (STYLE.md §8).
      error: (err) => this.ctx.log.debug({ err: err.message, remote: this.remote }, 'socket error'),
      close: () => this.onClose(),
    });
    this.arm('idle', this.idleMs());
  }

  /** The timeouts shrink while the server is under pressure (near its connection cap). */
  private headerMs(): number {
    return this.ctx.limiter.underPressure ? Math.min(this.ctx.headerTimeoutMs, this.ctx.pressureHeaderTimeoutMs) : this.ctx.headerTimeoutMs;
  }
  private idleMs(): number {
    return this.ctx.limiter.underPressure ? Math.min(this.ctx.idleTimeoutMs, this.ctx.pressureIdleTimeoutMs) : this.ctx.idleTimeoutMs;
  }

  /** Writes now, or adds to the round's batch while corked. */
  private send(data: Buffer): void {
    if (this.corked) this.corked.push(data);
    else this.socket.write(data);
  }

  private uncork(): void {
    const batch = this.corked;
    this.corked = undefined;
    if (batch && batch.length > 0 && !this.socket.destroyed) this.socket.writev(batch);
  }

  /** The server is closing: an idle connection goes now, a busy one after its response. */
  shutdown(): void {
    if (this.state === 'closed') return;
    if (!this.streaming && this.buf.length === 0 && !this.body) this.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.closeAfter) return;
    if (this.state !== 'active') this.state = 'active';
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.streaming || this.waitingDrain) {
      // Pipelined requests wait for the response being streamed; bound what waits.
      if (this.buf.length > MAX_PENDING_INPUT && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    this.process();
  }

  /** Answers every complete request in the buffer, in order (pipelining, RFC 9112 §9.3.2). */
  private process(): void {
    if (this.processing) return;
    this.processing = true;
    // Responses to pipelined requests leave in one write: cork once a second request follows.
    let corked = false;
    try {
      while (!this.streaming && !this.waitingDrain && !this.closeAfter && this.state !== 'closed') {
        if (this.body?.decoder) {
          if (this.buf.length === 0) break;
          const progress = this.body.decoder.push(this.buf);
          if (progress.kind === 'error') {
            const collecting = this.body.chunks !== null;
            this.body = undefined;
            this.buf = EMPTY;
            // A broken chunked body: the framing is lost, so the connection goes. If the answer
            // was waiting for this body (the form) it is the error; otherwise it was sent already.
            if (collecting) this.respond({ status: progress.status, close: true, reason: progress.reason }, '-', undefined);
            else this.end();
            break;
          }
          this.buf = progress.consumed === this.buf.length ? EMPTY : this.buf.subarray(progress.consumed);
          if (progress.kind === 'more') break;
          const done = this.body;
          this.body = undefined;
          done.onDone?.(Buffer.concat(done.decoder!.chunks));
          continue;
        }
        if (this.body) {
          if (this.buf.length === 0) break;
          const take = Math.min(this.body.remaining, this.buf.length);
          if (this.body.chunks) this.body.chunks.push(this.buf.subarray(0, take));
          this.buf = take === this.buf.length ? EMPTY : this.buf.subarray(take);
          this.body.remaining -= take;
          if (this.body.remaining > 0) break;
          const done = this.body;
          this.body = undefined;
          done.onDone?.(Buffer.concat(done.chunks ?? []));
          continue;
        }
        if (this.buf.length === 0) break;
        if (this.socket.writableLength > MAX_PENDING_OUTPUT) {
          this.uncork();
          corked = false;
          this.waitForDrain();
          break;
        }
        if (this.served > 0 && !corked && this.state === 'active' && this.inRound) {
          this.corked = [];
          corked = true;
        }
        this.inRound = true;
        const parsed = parseRequestHead(this.buf);
        if (parsed.kind === 'incomplete') break;
        if (parsed.kind === 'error') {
          this.buf = EMPTY;
          this.respond({ status: parsed.status, close: true, reason: parsed.reason }, parsed.requestLine ?? '-', undefined);
          break;
        }
        this.buf = parsed.consumed === this.buf.length ? EMPTY : this.buf.subarray(parsed.consumed);
        this.onHead(parsed.head);
      }
    } finally {
      if (corked) this.uncork();
      this.inRound = false;
      this.processing = false;
    }
    this.afterProcess();
  }

  private onHead(head: RequestHead): void {
    const framing = bodyFraming(head);
    if (framing.kind === 'error') {
      this.respond({ status: framing.status, close: true, reason: framing.reason }, head.requestLine, head);
      return;
    }
    const chunked = framing.kind === 'chunked';
    const length = framing.kind === 'length' ? framing.length : 0;
    const hasBody = chunked || length > 0;
    const expects = head.headers.get('expect')?.toLowerCase() === '100-continue';
    const reply = handleRequest(this.ctx, this, head, framing);
    if ('wantsBody' in reply) {
      // The handler reads the body (the form); it answers when the body is complete.
      // A client that waits for permission before sending it gets it (RFC 9110 §10.1.1).
      if (hasBody && expects && head.version === 'HTTP/1.1') this.send(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1'));
      const onDone = (body: Buffer) => this.respond(reply.wantsBody(body), head.requestLine, head);
      if (!hasBody) onDone(EMPTY);
      else if (chunked) this.body = { remaining: 0, decoder: new ChunkedDecoder(MAX_FORM_BODY, true), chunks: [], onDone };
      else this.body = { remaining: length, chunks: [], onDone };
      return;
    }
    if (hasBody) {
      // A body the client may never send (it waited for a 100 that did not come) cannot be
      // skipped: close instead (RFC 9110 §10.1.1). Other unwanted bodies are read and dropped.
      if (length > MAX_DISCARD_BODY || expects) reply.close = true;
      else if (chunked) this.body = { remaining: 0, decoder: new ChunkedDecoder(MAX_DISCARD_BODY, false), chunks: null };
      else this.body = { remaining: length, chunks: null };
    }
    this.respond(reply, head.requestLine, head);
  }

  /** Whether the connection may stay open after answering this request (RFC 9112 §9.3). */
  private keepAlive(head: RequestHead | undefined): boolean {
    if (!head || this.ctx.closing) return false;
    if (this.served + 1 >= this.ctx.maxRequests) return false;
    const conn = head.headers.get('connection')?.toLowerCase();
    const tokens = conn ? conn.split(',').map((t) => t.trim()) : [];
    if (tokens.includes('close')) return false;
    if (head.version === 'HTTP/1.0') return tokens.includes('keep-alive');
    return true;
  }

  /** The one way out: writes a response head and its body (or starts streaming it). */
  respond(reply: Reply, requestLine: string, head: RequestHead | undefined): void {
    if (this.state === 'closed' || this.closeAfter) return;
    const keepOpen = !reply.close && this.keepAlive(head);
    this.served++;
    // Answering: busy (and, once idle again, idle since now).
    this.slot?.set('busy');
    const status = reply.status;
    const body = reply.body ?? (reply.file ? undefined : status >= 400 ? errorPage(status) : EMPTY);
    const length = reply.length ?? body?.length ?? 0;
    let h = `${statusLines(status, this.ctx.serverName)}Content-Type: ${reply.contentType ?? 'text/html; charset=utf-8'}\r\nContent-Length: ${length}\r\n`;
    if (reply.headers) h += reply.headers;
    h += keepOpen ? keepAliveLines(this.ctx, this.ctx.maxRequests - this.served) : 'Connection: close\r\n\r\n';
    const withBody = !reply.noBody;
    if (withBody && body && body.length > 0 && body.length <= 16384) {
      // Small responses go out as one buffer: one write, one TCP segment.
      const hl = h.length; // latin1: one byte per character
      const total = hl + body.length;
      // On the raw transport a write the kernel took at once is done with its buffer, so one
      // scratch buffer serves response after response without an allocation; a queued write
      // keeps it, and the next response takes a new one.
      const reuse = this.corked === undefined && this.socket.transport === 'raw' && total <= SCRATCH_SIZE;
      const out = reuse ? (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE)).subarray(0, total) : Buffer.allocUnsafe(total);
      out.write(h, 0, 'latin1');
      body.copy(out, hl);
      this.send(out);
      if (reuse && this.socket.writableLength > 0) scratch = undefined;
    } else if (withBody && body && body.length > 0) {
      // Head and a large body in one writev, the body not copied.
      const head = Buffer.from(h, 'latin1');
      if (this.corked) this.corked.push(head, body);
      else this.socket.writev([head, body]);
    } else this.send(Buffer.from(h, 'latin1'));
    this.log(status, requestLine, head, withBody ? length : 0, reply.reason, h);
    if (!keepOpen) this.closeAfter = true;
    if (withBody && reply.file && length > 0) this.stream(reply.file.path, reply.file.start, length);
    else if (!keepOpen) this.end();
  }

  /**
   * The exchange into the console's journal as the report shows HTTP: the request line and its
   * header fields (Cookie, Connection...), then the response head (Set-Cookie with Expires,
   * Content-Type...) and the body's size. Credentials (RFC 9110 §11.6.2 Authorization,
   * §11.7.2 Proxy-Authorization) go as separate secret lines, which the console masks.
   */
  private record(requestLine: string, head: RequestHead | undefined, bytes: number, reason: string | undefined, responseHead: string): void {
    const lines = [requestLine];
    const secrets: string[] = [];
    if (head) for (const [name, value] of head.headers) (SECRET_FIELDS.has(name) ? secrets : lines).push(`${name}: ${value}`);
    this.tap.client(lines.join('\n'));
    for (const line of secrets) this.tap.client(line, true);
    const fields = responseHead.split('\r\n').filter(Boolean);
    this.tap.server([...fields, `(${bytes} bytes${reason ? `; ${reason}` : ''})`].join('\n'));
  }

  private log(status: number, requestLine: string, head: RequestHead | undefined, bytes: number, reason: string | undefined, responseHead: string): void {
    if (this.tap.id) this.record(requestLine, head, bytes, reason, responseHead);
    const logs: ServerLogs | undefined = this.ctx.logs;
    if (!logs) return;
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const referer = head?.headers.get('referer');
    const userAgent = head?.headers.get('user-agent');
    // A client repeating a request within the same second gets the very same log lines: they
    // are made once (a keep-alive client polling a page, a load generator).
    const last = this.lastLog;
    if (
      last &&
      last.second === second &&
      last.status === status &&
      last.bytes === bytes &&
      last.requestLine === requestLine &&
      last.reason === reason &&
      last.referer === referer &&
      last.userAgent === userAgent
    ) {
      logs.access.write(last.access);
      logs.lab.write(last.lab);
      return;
    }
    const access = combinedLine({ remote: this.remote, requestLine, status, bytes, referer, userAgent, user: this.peerSubject }, now);
    const kind: LabLogKind = status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT FOUND' : status >= 400 ? 'ERROR' : 'INFO';
    const lab = labLine(kind, this.remote, `${requestLine} ${status}${reason ? ` (${reason})` : ''}`, now);
    this.lastLog = { second, status, bytes, requestLine, reason, referer, userAgent, access, lab };
    logs.access.write(access);
    logs.lab.write(lab);
  }

  /**
   * Sends `length` bytes of a file from `start` in large reads, with backpressure: the next
   * chunk is read while the previous one is being sent, and nothing more is read while the
   * socket has not drained, so memory stays at about two chunks per connection.
   */
  private stream(file: string, start: number, length: number): void {
    this.streaming = true;
    fs.open(file, 'r', (err, fd) => {
      if (err) {
        // The head is out already: the only honest thing left is to cut the connection.
        this.ctx.log.warn({ err: err.message }, 'cannot open file to stream');
        this.socket.destroy();
        return;
      }
      if (this.state === 'closed') {
        fs.close(fd, () => {});
        return;
      }
      this.streamFd = fd;
      let pos = start;
      let toRead = length;
      let reading = false;
      let draining = false;
      let ready: { chunk: Buffer; n: number } | undefined;
      const alive = () => this.state !== 'closed' && this.streamFd === fd;
      const pump = (): void => {
        if (!alive()) return;
        if (ready && !draining) {
          const { chunk, n } = ready;
          ready = undefined;
          this.arm('send', this.ctx.sendTimeoutMs);
          const ok = this.socket.write(n === chunk.length ? chunk : chunk.subarray(0, n), () => releaseChunk(chunk));
          if (!ok) {
            draining = true;
            this.socket.onDrain(() => {
              draining = false;
              pump();
            });
          }
        }
        if (!reading && !ready && toRead > 0) {
          reading = true;
          const chunk = takeChunk();
          fs.read(fd, chunk, 0, Math.min(chunk.length, toRead), pos, (rerr, n) => {
            reading = false;
            if (!alive()) return;
            if (rerr || n === 0) {
              // The file shrank or failed under us; Content-Length can no longer be honoured.
              releaseChunk(chunk);
              this.ctx.log.warn({ err: rerr?.message ?? 'file shrank' }, 'stream cut');
              this.socket.destroy();
              return;
            }
            pos += n;
            toRead -= n;
            ready = { chunk, n };
            pump();
          });
        }
        if (toRead === 0 && !reading && !ready) {
          // Everything is queued on the socket; the next response may follow it in order.
          this.streamFd = undefined;
          fs.close(fd, () => {});
          const next = () => {
            this.streaming = false;
            this.onStreamDone();
          };
          if (draining) this.socket.onDrain(next);
          else next();
        }
      };
      pump();
    });
  }

  /** Backpressure for answers from memory: resume when the client has taken the output. */
  private waitForDrain(): void {
    this.waitingDrain = true;
    this.arm('send', this.ctx.sendTimeoutMs);
    this.socket.onDrain(() => {
      this.waitingDrain = false;
      this.onStreamDone();
    });
  }

  private onStreamDone(): void {
    if (this.closeAfter) {
      this.end();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.process();
  }

  /** Sets the one timer of the connection. The header deadline runs from the first byte. */
  private arm(kind: TimerKind, ms: number): void {
    // What the connection costs and gives, for shedding at the caps (connection-limits.ts): a
    // head being sent (or none yet) is 'head', a keep-alive between requests 'idle', a response
    // on its way 'busy'. A head keeps its start time however many bytes trickle in.
    this.slot?.set(kind === 'send' ? 'busy' : kind === 'header' || this.served === 0 ? 'head' : 'idle');
    if (this.timer && this.timerKind === kind) {
      if (kind !== 'header') this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerKind = kind;
    this.timer = setTimeout(() => this.onTimer(kind), ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerKind = undefined;
  }

  private onTimer(kind: TimerKind): void {
    this.timer = undefined;
    this.timerKind = undefined;
    if (this.state === 'closed') return;
    if (kind === 'header') {
      // RFC 9110 §15.5.9: 408 and close for a request that did not arrive in time. The socket is
      // closed as soon as the kernel has the 408, not kept until the client's FIN (nginx's
      // reset_timedout_connection): a slowloris that never closes must not hold its place.
      this.buf = EMPTY;
      this.body = undefined;
      this.respond({ status: 408, close: true, reason: 'header timeout' }, '-', undefined);
      this.closeWhenFlushed();
      return;
    }
    // A client that stopped reading is cut; an idle keep-alive is closed at once (nothing is
    // pending: the kernel sends the FIN), freeing its place without waiting for the client's FIN.
    this.socket.destroy();
  }

  /** Closes once everything written has been taken by the kernel (which still delivers it). */
  private closeWhenFlushed(): void {
    this.uncork();
    this.socket.onDrain(() => this.socket.destroy());
  }

  /** Chooses the timer after a round of processing, and handles a client's half-close. */
  private afterProcess(): void {
    if (this.state === 'closed' || this.closeAfter) return;
    if (this.streaming || this.waitingDrain) return;
    if (this.peerEnded) {
      // The client sent FIN: everything complete has been answered; nothing more can come.
      this.end();
      return;
    }
    if (this.buf.length > 0 || this.body) this.arm('header', this.headerMs());
    else {
      this.state = this.served > 0 ? 'idle' : this.state;
      if (this.ctx.closing) this.end();
      else this.arm('idle', this.idleMs());
    }
  }

  private end(): void {
    if (this.state === 'closed') return;
    this.closeAfter = true;
    this.disarm();
    this.uncork();
    this.socket.end();
    // A peer that never reads would keep the socket; the send timer still applies.
    this.arm('send', this.ctx.sendTimeoutMs);
    // Once the answer is out, a connection waiting only for the client's FIN gives nothing: the
    // first to go at the caps.
    this.socket.onDrain(() => this.slot?.set('idle'));
  }

  private onClose(): void {
    this.tap.close();
    this.state = 'closed';
    this.slot?.release();
    this.disarm();
    if (this.streamFd !== undefined) {
      fs.close(this.streamFd, () => {});
      this.streamFd = undefined;
    }
    this.ctx.onClosed(this);
  }
}

let linesDate = '';
let linesServer = '';
let lines: string[] = [];
/** Status line, Date and Server: the same for a whole second, so made once per second and status. */
function statusLines(status: number, serverName: string): string {
  const date = currentHttpDate();
  if (date !== linesDate || serverName !== linesServer) {
    linesDate = date;
    linesServer = serverName;
    lines = [];
  }
  return (lines[status] ??= `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\nDate: ${date}\r\nServer: ${serverName}\r\n`);
}

const keepAliveCache = new WeakMap<ServerContext, string[]>();
/** The closing lines of a response that keeps the connection, by requests left (RFC 9112 §9.3). */
function keepAliveLines(ctx: ServerContext, left: number): string {
  let byLeft = keepAliveCache.get(ctx);
  if (!byLeft) keepAliveCache.set(ctx, (byLeft = []));
  return (byLeft[left] ??= `Connection: keep-alive\r\nKeep-Alive: timeout=${ctx.keepAliveTimeoutS}, max=${left}\r\n\r\n`);
}

/** "CN=..., O=..., C=ES" from the peer certificate, most specific first as people read it. */
function subjectOf(socket: tls.TLSSocket): string | undefined {
  try {
    const cert = socket.getPeerCertificate();
    if (!cert?.subject) return undefined;
    const order = ['CN', 'emailAddress', 'OU', 'O', 'L', 'ST', 'C'];
    const subj = cert.subject as unknown as Record<string, string | string[]>;
    const parts: string[] = [];
    for (const k of order) {
      const v = subj[k];
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) parts.push(`${k}=${one}`);
    }
    return parts.join(', ') || undefined;
  } catch {
    return undefined;
  }
}
