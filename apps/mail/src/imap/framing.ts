// Framing of IMAP commands (RFC 9051 §2.2, §4.3): a command is a line ending in CRLF, unless the
// line ends with a literal's announcement `{n}` (synchronising: the server answers "+" before
// the client sends the n octets), `{n+}` (RFC 7888 LITERAL+, sent at once) or `{n-}` (LITERAL-,
// the same up to 4096 octets); after the literal's octets the command goes on, maybe with more
// literals, up to its final CRLF. This reader only frames: what the command means is syntax.ts's
// and commands.ts's. Caps: a line longer than maxLineOctets, and a literal over its cap (APPEND's
// is the APPENDLIMIT, any other command's maxLiteralOctets) is refused before its octets are
// buffered: a synchronising one is never sent, a non-synchronising one is skipped as it arrives.

/** A command as it arrived: text segments, each but the last followed by a literal's octets. */
export interface RawCommand {
  /** text[0], literal[0], text[1], ... : text.length === literals.length + 1 */
  text: string[];
  literals: Buffer[];
}

export type Framed =
  | { kind: 'command'; command: RawCommand }
  /**
   * A synchronising literal within its cap: the client waits for a continuation request. The
   * command so far lets the server refuse it instead (abandon(id)), as dovecot refuses an APPEND
   * to a missing mailbox before the message is sent.
   */
  | { kind: 'continue'; command: RawCommand; id: number }
  /** A literal over its cap (the command is dropped); `tag` as far as it could be read. */
  | { kind: 'too-big'; tag: string | undefined; sync: boolean }
  /** A line over maxLineOctets: the connection cannot be resynchronised. */
  | { kind: 'overflow' };

export interface FramingLimits {
  maxLineOctets: number;
  maxLiteralOctets: number;
  /** The cap of an APPEND's message literals (RFC 7889 APPENDLIMIT). */
  appendLimit: number;
}

/** `{123}`, `{123+}` or `{123-}` at the end of a line (RFC 9051 §9 literal, RFC 7888 §8). */
const LITERAL_AT_END = /\{(\d{1,20})([+-]?)\}$/;
/** RFC 7888 §4: a LITERAL- non-synchronising literal is at most this large. */
export const LITERAL_MINUS_MAX = 4096;

/** The tag and the verb (UID's own verb after it) of a command's first line, if it has them. */
export function headOf(first: string): { tag: string | undefined; verb: string } {
  const parts = first.split(' ', 3);
  const verb = (parts[1] ?? '').toUpperCase();
  return { tag: parts[0] || undefined, verb: verb === 'UID' ? (parts[2] ?? '').toUpperCase() : verb };
}

export class CommandReader {
  private pending: Buffer | undefined;
  private text: string[] = [];
  private literals: Buffer[] = [];
  /** The literal being read, and how much of it has arrived. */
  private literal: Buffer | undefined;
  private literalAt = 0;
  /** Counts the literals announced, so that abandon() drops only the one it was asked about. */
  private literalId = 0;
  /** Octets of a refused non-synchronising literal still to skip, then the rest of its command. */
  private skip = 0;
  private skipLine = false;

  constructor(private readonly limits: FramingLimits) {}

  /** Whether part of a command has arrived and waits for the rest. */
  get hasPartial(): boolean {
    return this.pending !== undefined || this.text.length > 0 || this.literal !== undefined || this.skip > 0 || this.skipLine;
  }

  /**
   * Drops the command whose synchronising literal `id` has not begun to arrive (the server
   * refused it); false when it has, or another is being read (the command then runs as sent).
   */
  abandon(id: number): boolean {
    if (!this.literal || this.literalId !== id || this.literalAt > 0) return false;
    this.literal = undefined;
    this.text = [];
    this.literals = [];
    return true;
  }

  /** Forgets everything (after STARTTLS: nothing sent in clear may leak into the TLS session). */
  reset(): void {
    this.pending = undefined;
    this.text = [];
    this.literals = [];
    this.literal = undefined;
    this.skip = 0;
    this.skipLine = false;
  }

  push(chunk: Buffer): Framed[] {
    const out: Framed[] = [];
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (at < buf.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      if (this.literal) {
        const n = Math.min(this.literal.length - this.literalAt, buf.length - at);
        buf.copy(this.literal, this.literalAt, at, at + n);
        this.literalAt += n;
        at += n;
        if (this.literalAt === this.literal.length) {
          this.literals.push(this.literal);
          this.literal = undefined;
        }
        continue;
      }
      const lf = buf.indexOf(0x0a, at);
      if (lf < 0) {
        // A partial line ending in CR is not counted past its CR (its LF may be next).
        const partial = buf.length - at - (buf[buf.length - 1] === 0x0d ? 1 : 0);
        if (partial > this.limits.maxLineOctets) {
          out.push({ kind: 'overflow' });
          this.reset();
          return out;
        }
        this.pending = Buffer.from(buf.subarray(at));
        break;
      }
      const end = lf > at && buf[lf - 1] === 0x0d ? lf - 1 : lf;
      if (end - at > this.limits.maxLineOctets) {
        out.push({ kind: 'overflow' });
        this.reset();
        return out;
      }
      // latin1: one char per octet; the server's strings are octets throughout (TcpConnection.write takes latin1).
      const line = buf.toString('latin1', at, end);
      at = lf + 1;
      if (this.skipLine) {
        // The rest of a command whose literal was refused: skipped, with any literal+ it announces.
        const m = LITERAL_AT_END.exec(line);
        if (m && m[2] !== '') this.skip = Number(m[1]);
        else this.skipLine = false;
        continue;
      }
      const m = LITERAL_AT_END.exec(line);
      if (!m) {
        this.text.push(line);
        out.push({ kind: 'command', command: { text: this.text, literals: this.literals } });
        this.text = [];
        this.literals = [];
        continue;
      }
      const size = Number(m[1]);
      const sync = m[2] === '';
      this.text.push(line.slice(0, m.index));
      const { tag, verb } = headOf(this.text[0]!);
      const cap = verb === 'APPEND' ? this.limits.appendLimit : this.limits.maxLiteralOctets;
      if (size > cap || (m[2] === '-' && size > LITERAL_MINUS_MAX)) {
        out.push({ kind: 'too-big', tag, sync });
        this.text = [];
        this.literals = [];
        if (!sync) {
          this.skip = size;
          this.skipLine = true;
        }
        continue;
      }
      this.literalId++;
      if (sync) out.push({ kind: 'continue', command: { text: [...this.text], literals: [...this.literals] }, id: this.literalId });
      this.literal = Buffer.allocUnsafe(size);
      this.literalAt = 0;
      if (size === 0) {
        this.literals.push(this.literal);
        this.literal = undefined;
      }
      // The rest of buf is the literal's octets (or, after a synchronising one, whatever the
      // client sent too early: read the same way, as dovecot does).
      buf = buf.subarray(at);
      at = 0;
    }
    return out;
  }
}
