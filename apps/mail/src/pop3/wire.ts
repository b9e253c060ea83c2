// The bytes of a stored message as POP3 sends them (RFC 1939 §3): every line ends in CRLF (a
// Maildir file may hold bare LF lines), a line that starts with "." gets one more "." (byte
// stuffing), and the multi-line reply ends with CRLF "." CRLF. TOP (RFC 1939 §7) sends the
// header, the blank line and the first n body lines. The encoder works chunk by chunk, so a
// 50 MB message is streamed, never held in memory.

import fs from 'node:fs';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CR_BUF = Buffer.from('\r');
const DOT_BUF = Buffer.from('.');
const EMPTY = Buffer.alloc(0);
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

export class WireEncoder {
  private atLineStart = true;
  /** The previous chunk ended in CR (only meaningful inside a line). */
  private prevCR = false;
  /** Octets of the current line seen in earlier chunks (header/body split for TOP). */
  private lineLen = 0;
  private inHeaders = true;
  /** Set once TOP has sent its lines: the rest of the file is not needed. */
  done = false;

  /** @param bodyLines body lines to send after the header (TOP n); Infinity for RETR. */
  constructor(private bodyLines = Infinity) {}

  /** Encodes one chunk of the file; returns the input itself when nothing needs changing. */
  encode(buf: Buffer): Buffer {
    if (this.done || buf.length === 0) return EMPTY;
    const n = buf.length;
    const out: Buffer[] = [];
    let copyFrom = 0;
    let end = n;
    let s = 0;
    while (s < n) {
      if (this.atLineStart && buf[s] === DOT) {
        out.push(buf.subarray(copyFrom, s), DOT_BUF);
        copyFrom = s;
      }
      const lf = buf.indexOf(LF, s);
      if (lf < 0) {
        this.lineLen += n - s;
        this.prevCR = buf[n - 1] === CR;
        this.atLineStart = false;
        break;
      }
      const crBefore = lf > s ? buf[lf - 1] === CR : this.prevCR;
      if (!crBefore) {
        out.push(buf.subarray(copyFrom, lf), CR_BUF);
        copyFrom = lf;
      }
      const contentLen = this.lineLen + (lf - s) - (crBefore ? 1 : 0);
      this.lineLen = 0;
      this.prevCR = false;
      this.atLineStart = true;
      s = lf + 1;
      if (this.bodyLines !== Infinity) {
        if (this.inHeaders) {
          if (contentLen === 0) this.inHeaders = false;
          if (!this.inHeaders && this.bodyLines === 0) this.done = true;
        } else if (--this.bodyLines === 0) this.done = true;
        if (this.done) {
          end = s;
          break;
        }
      }
    }
    if (out.length === 0) return end === n ? buf : buf.subarray(0, end);
    out.push(buf.subarray(copyFrom, end));
    return Buffer.concat(out);
  }

  /** The end of the multi-line reply: CRLF if the file did not end a line, then "." CRLF. */
  finish(): Buffer {
    return this.atLineStart ? TERMINATOR : CRLF_TERMINATOR;
  }
}

/** Counts the size POP3 will announce for some bytes: bare LFs count as CRLF (dovecot's "virtual size"). */
export class VirtualSizeCounter {
  private prevCR = false;
  size = 0;

  add(buf: Buffer): void {
    let bare = 0;
    let i = buf.indexOf(LF);
    while (i >= 0) {
      if (!(i > 0 ? buf[i - 1] === CR : this.prevCR)) bare++;
      i = buf.indexOf(LF, i + 1);
    }
    if (buf.length > 0) this.prevCR = buf[buf.length - 1] === CR;
    this.size += buf.length + bare;
  }
}

/** Dot-stuffs and terminates a multi-line reply built from text lines (CAPA, LIST, UIDL). */
export function multiLine(first: string, lines: readonly string[]): string {
  let text = `${first}\r\n`;
  for (const line of lines) text += (line.startsWith('.') ? `.${line}` : line) + '\r\n';
  return `${text}.\r\n`;
}

/** Octets kept free before a prepared body for the status line ("+OK <size> octets" CRLF). */
export const STATUS_HEADROOM = 32;

/**
 * A small message as RETR/TOP sends it, ready for one write: `buf` holds STATUS_HEADROOM free
 * octets, then the body (CRLF line ends, dot-stuffed) and the terminator, up to `end`.
 */
export interface PreparedBody {
  buf: Buffer;
  end: number;
}

/**
 * Reads a small file and encodes it for the wire in place: one open, one read into the reply
 * buffer itself (no stat: `size`, the POP3 size known from the mailbox, bounds it), one close.
 * When the file is already wire-clean (CRLF, no line starting with ".": the common case) the
 * body is not copied at all. `scratch`, when large enough, is used instead of a new buffer (a
 * buffer whose earlier contents the kernel has already taken). Returns null when the file does
 * not exist (renamed by another client: the caller looks for it again).
 */
export function readPreparedBody(file: string, size: number, bodyLines = Infinity, scratch?: Buffer): PreparedBody | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    // One octet more than expected: getting it means the file is larger than its recorded size.
    const want = size + 1;
    const need = STATUS_HEADROOM + want + CRLF_TERMINATOR.length;
    // At least 4 KiB: a buffer of its own (not a slice of Buffer's shared pool) worth keeping.
    const buf = scratch !== undefined && scratch.length >= need ? scratch : Buffer.allocUnsafe(Math.max(need, 4096));
    let got = fs.readSync(fd, buf, STATUS_HEADROOM, want, 0);
    // Fewer octets than the POP3 size: bare LFs (each counts 2 on the wire) or a short read; a
    // second read confirms the end of the file. More than expected: read the whole file.
    if (got < size && got > 0 && fs.readSync(fd, buf, STATUS_HEADROOM + got, want - got, got) !== 0) got = -1;
    if (got === want) got = -1;
    const raw = got < 0 ? fs.readFileSync(fd) : buf.subarray(STATUS_HEADROOM, STATUS_HEADROOM + got);
    const enc = new WireEncoder(bodyLines);
    const body = enc.encode(raw);
    const tail = enc.finish();
    if (body.buffer === buf.buffer && body.byteOffset === STATUS_HEADROOM + buf.byteOffset) {
      // Encoded in place (unchanged, or only cut short by TOP): append the terminator.
      const end = STATUS_HEADROOM + body.length;
      tail.copy(buf, end);
      return { buf, end: end + tail.length };
    }
    const out = Buffer.allocUnsafe(STATUS_HEADROOM + body.length + tail.length);
    body.copy(out, STATUS_HEADROOM);
    tail.copy(out, STATUS_HEADROOM + body.length);
    return { buf: out, end: out.length };
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole reply: the status line written into the headroom before the prepared body. */
export function withStatus(first: string, body: PreparedBody): Buffer {
  const headLen = first.length + 2;
  if (headLen > STATUS_HEADROOM) return Buffer.concat([Buffer.from(first + '\r\n', 'latin1'), body.buf.subarray(STATUS_HEADROOM, body.end)]);
  const start = STATUS_HEADROOM - headLen;
  body.buf.write(first, start, 'latin1');
  body.buf[STATUS_HEADROOM - 2] = CR;
  body.buf[STATUS_HEADROOM - 1] = LF;
  return body.buf.subarray(start, body.end);
}
