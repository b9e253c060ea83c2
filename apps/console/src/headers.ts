// The few header fields the mailbox list shows, read from the start of a message file without
// a full MIME parse (RFC 5322 §2.2: the header section ends at the first empty line; §2.2.3:
// folded lines are unfolded by removing the CRLF before whitespace). Encoded words are decoded
// (RFC 2047) with libmime, the decoder mailparser itself uses.
import libmime from 'libmime';
import { receivedSmtpId } from '@sstt/maildir';
import { authSummary, ourAuthResults } from './auth-results.ts';

export interface HeaderSummary {
  from: string;
  to: string;
  cc: string;
  subject: string;
  /** The Date field as milliseconds since the epoch, or null when absent or unparseable. */
  date: number | null;
  messageId: string;
  /** The id our SMTP server gave the message (exim's `id` in Received), linking it to its session. */
  smtpId: string;
  attachments: boolean;
  /** Our server's verdicts in one line (`dkim=pass spf=pass dmarc=pass`), '' when it wrote none. */
  auth: string;
}

const decode = (v: string) => {
  try {
    return libmime.decodeWords(v).trim();
  } catch {
    return v.trim();
  }
};

/** The end of the header block in the first `n` bytes of a message (n when it is not there). */
function headerEnd(buf: Buffer, n: number): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0 && i < n);
  return ends.length ? Math.min(...ends) : n;
}

/**
 * Parses the header block in the first `n` bytes of a message. Only the header block becomes a
 * string (UTF-8: raw 8-bit headers are UTF-8 in practice, RFC 6532); the rest is looked at only
 * for a multipart/mixed message, to tell whether a part is an attachment.
 */
export function summarizeHeaders(buf: Buffer, n: number = buf.length, authservId = ''): HeaderSummary {
  const end = headerEnd(buf, n);
  const block = buf.toString('utf8', 0, end);
  const fields = new Map<string, string>();
  let smtpId = '';
  const results: Array<{ name: string; value: string }> = [];
  for (const raw of block.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const name = raw.slice(0, colon).trim().toLowerCase();
    const value = raw.slice(colon + 1);
    // Received: the topmost one is ours (RFC 5321 §4.4: each relay prepends its own); the first
    // of ours gives the id (@sstt/maildir received.ts, the field our SMTP server writes).
    if (name === 'received' && !smtpId) smtpId = receivedSmtpId(value) ?? '';
    if (name === 'authentication-results') results.push({ name, value });
    if (!fields.has(name)) fields.set(name, value);
  }
  const dateText = fields.get('date');
  const date = dateText ? Date.parse(dateText.trim().replace(/\s*\([^)]*\)\s*$/, '')) : Number.NaN;
  const contentType = (fields.get('content-type') ?? '').toLowerCase();
  const mixed = /multipart\/mixed/.test(contentType);
  const attachments =
    mixed && /^content-disposition:\s*(attachment|inline;[^\r\n]*filename)|^content-type:[^\r\n]*;\s*name=/im.test(buf.toString('latin1', end, n));
  return {
    from: decode(fields.get('from') ?? ''),
    to: decode(fields.get('to') ?? ''),
    cc: decode(fields.get('cc') ?? ''),
    subject: decode(fields.get('subject') ?? ''),
    date: Number.isNaN(date) ? null : date,
    messageId: (fields.get('message-id') ?? '').trim(),
    smtpId,
    // A multipart/mixed whose first parts did not fit in what was read: most likely attachments.
    attachments: attachments || (mixed && n >= buf.length),
    auth: authservId ? authSummary(ourAuthResults(results, authservId)) : '',
  };
}
