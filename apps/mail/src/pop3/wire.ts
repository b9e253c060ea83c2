// The bytes of a stored message as POP3 sends them (RFC 1939 §3): every line ends in CRLF (a
// Maildir file may hold bare LF lines), a line that starts with "." gets one more "." (byte
// stuffing), and the multi-line reply ends with CRLF "." CRLF. TOP (RFC 1939 §7) sends the
// header, the blank line and the first n body lines. The encoder works chunk by chunk, so a
// 50 MB message is streamed, never held in memory.

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
