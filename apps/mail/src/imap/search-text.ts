// The text SEARCH's string keys look at (RFC 9051 §6.4.4: a string matches the text of a field or
// body, not its encoding), as dovecot's IMAP reads it: header values with their RFC 2047 encoded
// words decoded (raw 8-bit bytes read as UTF-8); the body of each text part with its transfer
// encoding and charset undone, inside multiparts and attached messages (other parts, the
// preamble and the epilogue are not text: dovecot does not match them). Both sides are folded
// alike: canonical decomposition, then lower case, close to dovecot's i;unicode-casemap (which
// titlecases the decomposed characters): "CAFÉ" finds "café". FROM, TO, CC and BCC look at the
// addresses rewritten in dovecot's form ("Name" <local@domain>).
import iconv from 'iconv-lite';
import libmime from 'libmime';
import { decode as decodeQp } from 'libqp';
import { parseAddresses, type Part } from './message.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The form both sides of a match take. */
export function fold(s: string): string {
  return s.normalize('NFD').toLowerCase();
}

/** Octets carried in a latin1 string (how headers and command strings are read) as text: UTF-8 when they are, else latin1. */
export function octetsText(latin1: string): string {
  if (!/[\x80-\xff]/.test(latin1)) return latin1;
  try {
    return UTF8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return latin1;
  }
}

/** A header value as text: raw 8-bit as UTF-8, then encoded words decoded (a malformed word stays as it is). */
export function headerText(raw: string): string {
  const s = octetsText(raw);
  return s.includes('=?') ? libmime.decodeWords(s) : s;
}

function param(p: Part, name: string): string | undefined {
  return p.params.find(([k]) => k === name)?.[1];
}

/** Bytes in a charset as text; an unknown charset is read as UTF-8 (dovecot does the same). */
function decodeCharset(bytes: Buffer, charset: string): string {
  const cs = charset.trim().toLowerCase();
  if (cs === 'utf-8' || cs === 'us-ascii' || cs === 'utf8' || !iconv.encodingExists(cs)) return bytes.toString('utf8');
  return iconv.decode(bytes, cs);
}

/** The text of a text part: its transfer encoding (base64, quoted-printable) and charset undone. */
function partText(p: Part): string {
  const cte = p.fields
    .find(([n]) => n === 'content-transfer-encoding')?.[1]
    .trim()
    .toLowerCase();
  const bytes = cte === 'base64' ? Buffer.from(p.body.toString('latin1'), 'base64') : cte === 'quoted-printable' ? decodeQp(p.body) : p.body;
  return decodeCharset(bytes, param(p, 'charset') ?? 'us-ascii');
}

/** Every text part's text, in order: what BODY matches. */
export function bodyTexts(p: Part, out: string[] = []): string[] {
  if (p.children) for (const c of p.children) bodyTexts(c, out);
  else if (p.message) bodyTexts(p.message, out);
  else if (p.type === 'text') out.push(partText(p));
  return out;
}

/** Every header value of the message and of its parts and attached messages: with bodyTexts, what TEXT matches. */
export function allHeaderTexts(p: Part, out: string[] = []): string[] {
  for (const [name, value] of p.fields) out.push(`${name}: ${headerText(value)}`);
  if (p.children) for (const c of p.children) allHeaderTexts(c, out);
  if (p.message) allHeaderTexts(p.message, out);
  return out;
}

/** RFC 5322 atext (dovecot's rfc822_atext_chars, 8-bit octets included). */
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]*$/;

/** A phrase or local part as dovecot writes it: as it is when all atext (and dots, for a local part), else quoted. */
function maybeQuoted(s: string, dotIsSpecial: boolean): string {
  if (ATEXT.test(dotIsSpecial ? s : s.replaceAll('.', ''))) return s;
  return `"${s.replace(/["\\']/g, '\\$&')}"`;
}

/**
 * An address header's text as dovecot's FROM/TO/CC/BCC search sees it (message_address_write over
 * the parsed list, missing parts filled in): `"Ana Perez" <ana@example.test>, <bob@example.test>`,
 * groups as `name: members;`; encoded words then decoded.
 */
export function addressText(raw: string): string {
  let out = '';
  let first = true;
  for (const a of parseAddresses(raw)) {
    if (!first) out += ', ';
    first = false;
    if (a.group === 'start') {
      out += `${a.mailbox ? (a.mailbox.includes('=?') ? a.mailbox : maybeQuoted(a.mailbox, true)) : '""'}: `;
      first = true;
    } else if (a.group === 'end') {
      out = `${out.endsWith(', ') ? out.slice(0, -2) : out.endsWith(': ') ? out.slice(0, -1) : out};`;
    } else {
      const name = a.name === undefined ? '' : a.name.includes('=?') ? a.name : maybeQuoted(a.name, true);
      const mailbox = a.mailbox || 'MISSING_MAILBOX';
      out += `${name}${name ? ' ' : ''}<${maybeQuoted(mailbox, false)}@${a.host || 'MISSING_DOMAIN'}>`;
    }
  }
  return headerText(out);
}
