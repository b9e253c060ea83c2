// One message as IMAP FETCH sees it (RFC 9051 §6.4.5, §7.5.2): its octets with CRLF line
// endings (RFC 5322 §2.3; a Maildir file may have bare LFs), its MIME tree (RFC 2045/2046),
// the ENVELOPE and BODYSTRUCTURE built from it, and the octets of a BODY[section]. Header
// values are given raw (unfolded), as RFC 9051 §7.5.2 asks: no decoding of encoded words.
import { quote } from './syntax.ts';

export interface Part {
  /** The header, with its ending blank line. */
  header: Buffer;
  body: Buffer;
  fields: Array<[string, string]>;
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  children?: Part[];
  /** The encapsulated message of a message/rfc822 part. */
  message?: Part;
}

/** Bare LF become CRLF (a file that already has CRLF is returned as it is). */
export function toCrlf(buf: Buffer): Buffer {
  // The line ends found by indexOf (memchr), not a loop over every byte: most files have none bare.
  let bare = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) if (i === 0 || buf[i - 1] !== 0x0d) bare++;
  if (bare === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + bare);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) out[o++] = 0x0d;
    out[o++] = buf[i]!;
  }
  return out;
}

/** Header fields, unfolded (RFC 5322 §2.2.3): [lower-case name, raw value]. */
function parseFields(header: Buffer): Array<[string, string]> {
  const text = header.toString('latin1').replace(/\r\n(?=[ \t])/g, '');
  const out: Array<[string, string]> = [];
  for (const line of text.split('\r\n')) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    out.push([line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim()]);
  }
  return out;
}

function field(p: Part, name: string): string | undefined {
  return p.fields.find(([n]) => n === name)?.[1];
}

/** `type/subtype; a=b; c="d"` (RFC 2045 §5.1), comments dropped. */
function parseContentType(value: string | undefined): { type: string; subtype: string; params: Array<[string, string]> } | undefined {
  if (!value) return undefined;
  const v = value.replace(/\([^()]*\)/g, '');
  const m = /^\s*([^\s/;]+)\s*\/\s*([^\s;]+)\s*/.exec(v);
  if (!m) return undefined;
  return { type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), params: parseParams(v.slice(m[0].length)) };
}

function parseParams(rest: string): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  const re = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    const raw = m[2]!;
    params.push([m[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw]);
  }
  return params;
}

/** Splits at the first empty line: the header (with the blank line) and the body. */
function splitHeader(buf: Buffer): { header: Buffer; body: Buffer } {
  if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) return { header: buf.subarray(0, 2), body: buf.subarray(2) };
  const at = buf.indexOf('\r\n\r\n');
  if (at < 0) return { header: buf, body: buf.subarray(buf.length) };
  return { header: buf.subarray(0, at + 4), body: buf.subarray(at + 4) };
}

/** The MIME tree of an entity (`digest`: inside multipart/digest the default type is message/rfc822, RFC 2046 §5.1.5). */
export function parsePart(buf: Buffer, digest = false, depth = 0): Part {
  const { header, body } = splitHeader(buf);
  const fields = parseFields(header);
  const ct = parseContentType(fields.find(([n]) => n === 'content-type')?.[1]);
  const part: Part = {
    header,
    body,
    fields,
    type: ct?.type ?? (digest ? 'message' : 'text'),
    subtype: ct?.subtype ?? (digest ? 'rfc822' : 'plain'),
    params: ct?.params ?? (digest ? [] : [['charset', 'us-ascii']]),
  };
  if (depth > 20) return part;
  const boundary = part.params.find(([k]) => k === 'boundary')?.[1];
  if (part.type === 'multipart' && boundary) {
    part.children = splitMultipart(body, boundary).map((b) => parsePart(b, part.subtype === 'digest', depth + 1));
  } else if (part.type === 'message' && part.subtype === 'rfc822') {
    part.message = parsePart(body, false, depth + 1);
  }
  return part;
}

/** The body parts between the delimiters (RFC 2046 §5.1.1: "--boundary" at a line start; the CRLF before it belongs to it). */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = -1;
  let at = 0;
  while (at <= body.length) {
    const i = body.indexOf(delim, at);
    if (i < 0) break;
    if (i === 0 || (body[i - 2] === 0x0d && body[i - 1] === 0x0a)) {
      if (start >= 0) parts.push(body.subarray(start, Math.max(start, i - 2)));
      const close = body[i + delim.length] === 0x2d && body[i + delim.length + 1] === 0x2d;
      const eol = body.indexOf('\r\n', i);
      if (close || eol < 0) return parts;
      start = eol + 2;
    }
    at = i + delim.length;
  }
  if (start >= 0) parts.push(body.subarray(start));
  return parts;
}

/** RFC 9051 §7.5.2 body-fld-lines: the line ends in the body (a last line without one is not counted, as dovecot counts). */
function lines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

function paramList(params: Array<[string, string]>): string {
  return params.length === 0 ? 'NIL' : `(${params.map(([k, v]) => `${quote(k)} ${quote(v)}`).join(' ')})`;
}

function disposition(p: Part): string {
  const v = field(p, 'content-disposition');
  if (!v) return 'NIL';
  const m = /^\s*([^\s;]+)/.exec(v);
  if (!m) return 'NIL';
  return `(${quote(m[1]!.toLowerCase())} ${paramList(parseParams(v.slice(m[0].length)))})`;
}

function nstring(v: string | undefined): string {
  return v === undefined ? 'NIL' : quote(v);
}

/** BODYSTRUCTURE (`extended`) or BODY (RFC 9051 §7.5.2). */
export function bodyStructure(p: Part, extended: boolean): string {
  if (p.children) {
    const kids = p.children.length > 0 ? p.children.map((c) => bodyStructure(c, extended)).join('') : '';
    const ext = extended ? ` ${paramList(p.params)} ${disposition(p)} ${nstring(field(p, 'content-language'))} ${nstring(field(p, 'content-location'))}` : '';
    return `(${kids} ${quote(p.subtype)}${ext})`;
  }
  const enc = field(p, 'content-transfer-encoding')?.toLowerCase() ?? '7bit';
  let s = `${quote(p.type)} ${quote(p.subtype)} ${paramList(p.params)} ${nstring(field(p, 'content-id'))} ${nstring(field(p, 'content-description'))} ${quote(enc)} ${p.body.length}`;
  if (p.type === 'text') s += ` ${lines(p.body)}`;
  else if (p.message) s += ` ${envelope(p.message)} ${bodyStructure(p.message, extended)} ${lines(p.body)}`;
  if (extended) s += ` ${nstring(field(p, 'content-md5'))} ${disposition(p)} ${nstring(field(p, 'content-language'))} ${nstring(field(p, 'content-location'))}`;
  return `(${s})`;
}

interface Address {
  name?: string;
  mailbox?: string;
  host?: string;
  /** A group's start (mailbox is its name) or end (nothing). */
  group?: 'start' | 'end';
}

/** An RFC 5322 §3.4 address list, leniently: display names, angle addresses, groups, comments. */
export function parseAddresses(value: string): Address[] {
  const out: Address[] = [];
  let phrase = '';
  let angle: string | undefined;
  let inGroup = false;
  const flush = () => {
    const p = phrase.trim().replace(/\s+/g, ' ');
    if (angle !== undefined) {
      const spec = angle.replace(/^(@[^:]*:)/, '');
      const at = spec.lastIndexOf('@');
      out.push({ ...(p ? { name: p } : {}), mailbox: at < 0 ? spec : spec.slice(0, at), ...(at < 0 ? {} : { host: spec.slice(at + 1) }) });
    } else if (p) {
      const spec = p.replace(/\s/g, '');
      const at = spec.lastIndexOf('@');
      out.push({ mailbox: at < 0 ? spec : spec.slice(0, at), ...(at < 0 ? {} : { host: spec.slice(at + 1) }) });
    }
    phrase = '';
    angle = undefined;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') {
      let j = i + 1;
      let q = '';
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\') j++;
        q += value[j] ?? '';
        j++;
      }
      phrase += q;
      i = j;
    } else if (c === '(') {
      let depth = 1;
      let j = i + 1;
      while (j < value.length && depth > 0) {
        if (value[j] === '\\') j++;
        else if (value[j] === '(') depth++;
        else if (value[j] === ')') depth--;
        j++;
      }
      i = j - 1;
    } else if (c === '<') {
      const end = value.indexOf('>', i);
      angle = value.slice(i + 1, end < 0 ? value.length : end).trim();
      i = end < 0 ? value.length : end;
    } else if (c === ',') flush();
    else if (c === ':' && angle === undefined && !inGroup) {
      out.push({ mailbox: phrase.trim(), group: 'start' });
      phrase = '';
      inGroup = true;
    } else if (c === ';' && inGroup) {
      flush();
      out.push({ group: 'end' });
      inGroup = false;
    } else phrase += c;
  }
  flush();
  if (inGroup) out.push({ group: 'end' });
  return out;
}

function addressList(value: string | undefined): string {
  if (value === undefined) return 'NIL';
  const list = parseAddresses(value);
  if (list.length === 0) return 'NIL';
  return `(${list
    .map((a) =>
      a.group === 'start'
        ? `(NIL NIL ${quote(a.mailbox)} NIL)`
        : a.group === 'end'
          ? '(NIL NIL NIL NIL)'
          : `(${nstring(a.name)} NIL ${nstring(a.mailbox ?? '')} ${nstring(a.host)})`,
    )
    .join('')})`;
}

/** ENVELOPE (RFC 9051 §7.5.2): sender and reply-to default to from. */
export function envelope(p: Part): string {
  const from = field(p, 'from');
  return `(${[
    nstring(field(p, 'date')),
    nstring(field(p, 'subject')),
    addressList(from),
    addressList(field(p, 'sender') ?? from),
    addressList(field(p, 'reply-to') ?? from),
    addressList(field(p, 'to')),
    addressList(field(p, 'cc')),
    addressList(field(p, 'bcc')),
    nstring(field(p, 'in-reply-to')),
    nstring(field(p, 'message-id')),
  ].join(' ')})`;
}

export interface Section {
  /** Part numbers ([] the whole message). */
  path: number[];
  /** '' the part's content, or HEADER, TEXT, MIME, HEADER.FIELDS, HEADER.FIELDS.NOT. */
  text: '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';
  fields: string[];
}

/** The section spec inside BODY[...] (RFC 9051 §6.4.5); undefined when malformed. */
export function parseSection(spec: string): Section | undefined {
  const m = /^((?:[1-9]\d{0,8}\.)*(?:[1-9]\d{0,8})?)\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?(?: \(([^()]*)\))?$/i.exec(spec);
  if (!m) return undefined;
  const nums = m[1]
    ? m[1]
        .replace(/\.$/, '')
        .split('.')
        .filter((x) => x !== '')
        .map(Number)
    : [];
  const text = (m[2]?.toUpperCase() ?? '') as Section['text'];
  if (text === 'MIME' && nums.length === 0) return undefined;
  if ((text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') !== (m[3] !== undefined)) return undefined;
  if (m[1] && !m[1].endsWith('.') && m[2] && !spec.includes(`${m[1]}.`)) return undefined;
  const fields =
    m[3] !== undefined
      ? m[3]
          .split(' ')
          .filter((x) => x !== '')
          .map((x) => x.replace(/^"(.*)"$/, '$1'))
      : [];
  if ((text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') && fields.length === 0) return undefined;
  return { path: nums, text, fields };
}

function partAt(root: Part, path: number[]): Part | undefined {
  let p: Part | undefined = root;
  for (let i = 0; i < path.length && p; i++) {
    const n = path[i]!;
    if (i > 0 && p.message) p = p.message;
    if (p.children) p = p.children[n - 1];
    else if (n !== 1) p = undefined;
  }
  return p;
}

/** Header lines whose name is (or with `not`, is not) in `names`, then the blank line. */
function headerFields(header: Buffer, names: string[], not: boolean): Buffer {
  const want = new Set(names.map((n) => n.toLowerCase()));
  const text = header.toString('latin1');
  const lines = text.split(/\r\n(?![ \t])/);
  const kept: string[] = [];
  for (const line of lines) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    if (want.has(line.slice(0, c).trim().toLowerCase()) !== not) kept.push(`${line}\r\n`);
  }
  return Buffer.from(`${kept.join('')}\r\n`, 'latin1');
}

/** The octets of a section; undefined when the part does not exist (dovecot then returns ""). */
export function sectionBytes(whole: Buffer, root: Part, s: Section): Buffer | undefined {
  if (s.path.length === 0) {
    if (s.text === '') return whole;
    if (s.text === 'HEADER') return root.header;
    if (s.text === 'TEXT') return root.body;
    return headerFields(root.header, s.fields, s.text === 'HEADER.FIELDS.NOT');
  }
  const p = partAt(root, s.path);
  if (!p) return undefined;
  if (s.text === '') return p.body;
  if (s.text === 'MIME') return p.header;
  const m = p.message;
  if (!m) return undefined;
  if (s.text === 'HEADER') return m.header;
  if (s.text === 'TEXT') return m.body;
  return headerFields(m.header, s.fields, s.text === 'HEADER.FIELDS.NOT');
}

/** A header field's raw value, for SEARCH HEADER/FROM/SUBJECT... */
export function headerValues(p: Part, name: string): string[] {
  return p.fields.filter(([n]) => n === name).map(([, v]) => v);
}
