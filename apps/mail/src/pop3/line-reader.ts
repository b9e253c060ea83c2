// Framing of POP3 commands (RFC 1939 §3): lines end in CRLF (a bare LF is tolerated); a line
// longer than the cap is an error, not something to buffer forever. One `data` event may hold
// many pipelined commands (RFC 2449 §6.6) or part of one.

export interface LineBatch {
  lines: string[];
  /** The peer sent more than `maxLineOctets` without ending the line. */
  overflow: boolean;
}

export class LineReader {
  private pending: Buffer | undefined;

  constructor(private readonly maxLineOctets: number) {}

  push(chunk: Buffer): LineBatch {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const lf = buf.indexOf(0x0a, start);
      if (lf < 0) break;
      const end = lf > start && buf[lf - 1] === 0x0d ? lf - 1 : lf;
      if (end - start > this.maxLineOctets) return { lines, overflow: true };
      lines.push(buf.toString('utf8', start, end));
      start = lf + 1;
    }
    // A partial line ending in CR may be a full-length line whose LF is in the next read: the
    // CR is not counted, as it is not for a complete line (found by fuzz/pop3.fuzz.ts).
    const partial = buf.length - start - (buf.length > start && buf[buf.length - 1] === 0x0d ? 1 : 0);
    if (partial > this.maxLineOctets) return { lines, overflow: true };
    if (start < buf.length) this.pending = Buffer.from(buf.subarray(start));
    return { lines, overflow: false };
  }

  /** Part of a line has arrived and waits for its end. */
  get hasPartial(): boolean {
    return this.pending !== undefined;
  }

  /** Forgets a partial line (after STLS: nothing sent in clear may leak into the TLS session). */
  reset(): void {
    this.pending = undefined;
  }
}
