// The message servidor relayed outside, as the LAN capture shows it: the SMTP conversation from
// servidor to the outside MX (exterior) with a recipient at the university's domain, its message
// read from the client's side of the stream (the DATA text up to the lone '.', dot-unstuffed per
// RFC 5321 §4.5.2) and the MX's reply to it, and the tags of each DKIM-Signature in its header
// (RFC 6376 §3.5). Read by `check` (the message left signed) and `compare` (both servers sign alike).
import { frames, tcpLines } from './grade.ts';

export interface Relayed {
  /** The TCP stream of the conversation, and the frames of its client's lines. */
  stream: string;
  frames: number[];
  /** RCPT TO addresses. */
  recipients: string[];
  /** The MX's reply to the end of the message ('' when the capture has none). */
  reply: string;
  signatures: DkimTags[];
}

/** The tags of one DKIM-Signature (tag=value, RFC 6376 §3.2), whitespace removed from the values. */
export type DkimTags = Record<string, string>;

/** A header's fields, unfolded (RFC 5322 §2.2.3), as [name, value]. */
function headerFields(lines: string[]): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const line of lines) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && fields.length > 0) fields.at(-1)![1] += line;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) fields.push([line.slice(0, colon), line.slice(colon + 1)]);
    }
  }
  return fields;
}

/** The tag list of a DKIM-Signature's value (RFC 6376 §3.2: tag=value; FWS anywhere around them, and inside b= and bh=). */
export function dkimTags(value: string): DkimTags {
  const tags: DkimTags = {};
  for (const spec of value.split(';')) {
    const eq = spec.indexOf('=');
    if (eq < 0) continue;
    tags[spec.slice(0, eq).trim()] = spec.slice(eq + 1).replace(/\s+/g, '');
  }
  return tags;
}

/** The first message `server` relayed to `mx` for an address at `domain`, or undefined when the capture has none. */
export async function relayedMessage(capture: string, server: string, mx: string, domain: string): Promise<Relayed | undefined> {
  const rows = await frames(capture, `tcp.dstport==25 && ip.src==${server} && ip.dst==${mx} && tcp.len>0`, ['frame.number', 'tcp.stream']);
  for (const stream of [...new Set(rows.map((r) => r[1]!))]) {
    const lines = await tcpLines(capture, stream, mx);
    const recipients = lines.flatMap((l) => (l.who === 'C' ? [/^RCPT TO:<([^>]*)>/i.exec(l.line)?.[1]] : [])).filter((x): x is string => !!x);
    if (!recipients.some((r) => r.toLowerCase().endsWith(`@${domain}`))) continue;
    // The message: the client's lines after the MX's 354, to the lone '.'; the next reply is the MX's verdict.
    const message: string[] = [];
    let state: 'before' | 'data' | 'reply' | 'done' = 'before';
    let reply = '';
    for (const l of lines) {
      if (state === 'before' && l.who === 'S' && /^354[ -]/.test(l.line)) state = 'data';
      else if (state === 'data' && l.who === 'C') {
        if (l.line === '.') state = 'reply';
        else message.push(l.line.startsWith('.') ? l.line.slice(1) : l.line);
      } else if (state === 'reply' && l.who === 'S' && /^\d{3} /.test(l.line)) {
        reply = l.line;
        state = 'done';
      }
    }
    const signatures = headerFields(message)
      .filter(([name]) => name.trim().toLowerCase() === 'dkim-signature')
      .map(([, value]) => dkimTags(value));
    return { stream, frames: [...new Set(lines.filter((l) => l.who === 'C').map((l) => l.frame))], recipients, reply, signatures };
  }
  return undefined;
}
