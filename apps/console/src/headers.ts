// The few header fields the mailbox list shows, read from the start of a message file without
// a full MIME parse (RFC 5322 §2.2: the header section ends at the first empty line; §2.2.3:
// folded lines are unfolded by removing the CRLF before whitespace). Encoded words are decoded
// (RFC 2047) with libmime, the decoder mailparser itself uses.
import libmime from 'libmime';

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
}

const decode = (v: string) => {
  try {
    return libmime.decodeWords(v).trim();
  } catch {
    return v.trim();
  }
};

/** Parses the header block at the start of `head` (a prefix of the message). */
export function summarizeHeaders(head: string): HeaderSummary {
  const end = head.search(/\r?\n\r?\n/);
  const block = end >= 0 ? head.slice(0, end) : head;
  const fields = new Map<string, string>();
  let smtpId = '';
  for (const raw of block.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const name = raw.slice(0, colon).trim().toLowerCase();
    const value = raw.slice(colon + 1);
    // Received: the topmost one is ours (RFC 5321 §4.4: each relay prepends its own).
    if (name === 'received' && !smtpId) smtpId = /\(sstt-mail\)[\s\S]*?\bid ([0-9A-Za-z-]+)/.exec(value)?.[1] ?? '';
    if (!fields.has(name)) fields.set(name, value);
  }
  const dateText = fields.get('date');
  const date = dateText ? Date.parse(dateText.trim().replace(/\s*\([^)]*\)\s*$/, '')) : Number.NaN;
  const contentType = (fields.get('content-type') ?? '').toLowerCase();
  const attachments =
    /multipart\/mixed/.test(contentType) &&
    /^content-disposition:\s*(attachment|inline;[^\r\n]*filename)|^content-type:[^\r\n]*;\s*name=/im.test(head.slice(end >= 0 ? end : head.length));
  return {
    from: decode(fields.get('from') ?? ''),
    to: decode(fields.get('to') ?? ''),
    cc: decode(fields.get('cc') ?? ''),
    subject: decode(fields.get('subject') ?? ''),
    date: Number.isNaN(date) ? null : date,
    messageId: (fields.get('message-id') ?? '').trim(),
    smtpId,
    attachments: attachments || (/multipart\/mixed/.test(contentType) && head.length >= 16384),
  };
}
