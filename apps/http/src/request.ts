// The request-head parser (RFC 9112 §2-§5), written by hand: no node:http. It only frames and
// checks syntax; what a request means is decided in handler.ts.
//
// The parser is given the bytes received so far and answers one of:
//   - `incomplete`: wait for more bytes (the caller enforces the header timeout);
//   - `request`: a syntactically valid head and how many bytes it used;
//   - `error`: the status to answer (400, 414, 431, 505) and then close the connection.

/** Longest request line we accept (RFC 9112 §3: "at least 8000 octets" recommended). */
export const MAX_REQUEST_LINE = 8192;
/** Largest whole head (request line + fields) we accept before answering 431 (RFC 6585 §5). */
export const MAX_HEAD_BYTES = 16384;
/** Most header fields in one request before 431. */
export const MAX_HEADER_COUNT = 100;

export type HttpVersion = 'HTTP/1.0' | 'HTTP/1.1';

export interface RequestHead {
  method: string;
  /** The request-target exactly as sent (origin-form or absolute-form). */
  target: string;
  version: HttpVersion;
  /** Field names in lower case; repeated fields joined with ", " (RFC 9110 §5.3). */
  headers: Map<string, string>;
  /** The raw request line, for the access log (escaped there). */
  requestLine: string;
}

export type ParseResult =
  | { kind: 'incomplete' }
  | { kind: 'request'; head: RequestHead; consumed: number }
  | { kind: 'error'; status: 400 | 414 | 431 | 505; reason: string; requestLine?: string };

// tchar (RFC 9110 §5.6.2) as a lookup table.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A request-target may not hold whitespace, controls or non-ASCII bytes (RFC 9112 §3.2, RFC 3986). */
function isValidTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** field-value: VCHAR, obs-text, SP and HTAB only; no CR, LF, NUL or other controls (RFC 9110 §5.5). */
function isValidFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

const LF = 0x0a;
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::\d*)?$/;

/**
 * Finds the end of the head: the empty line. Lines end in CRLF or, tolerated by RFC 9112 §2.2,
 * a bare LF. Returns the offset just past the empty line, or -1.
 */
function findHeadEnd(buf: Buffer, from: number): number {
  let i = buf.indexOf(LF, from);
  while (i !== -1) {
    // An empty line is "\n\n" or "\n\r\n".
    const next = i + 1;
    if (next < buf.length && buf[next] === LF) return next + 1;
    if (next + 1 < buf.length && buf[next] === 0x0d && buf[next + 1] === LF) return next + 2;
    i = buf.indexOf(LF, next);
  }
  return -1;
}

/**
 * Parses one request head from the start of `buf`. Empty lines before the request line are
 * skipped (RFC 9112 §2.2: a server SHOULD ignore at least one).
 */
export function parseRequestHead(buf: Buffer): ParseResult {
  // Skip leading CRLFs (left over from a client that adds one after a body).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === LF)) {
    if (buf[start] === 0x0d && start + 1 < buf.length && buf[start + 1] !== LF) break;
    start++;
  }
  const firstLf = buf.indexOf(LF, start);
  if (firstLf === -1) {
    if (buf.length - start > MAX_REQUEST_LINE) return { kind: 'error', status: 414, reason: 'request line too long' };
    return { kind: 'incomplete' };
  }
  if (firstLf - start > MAX_REQUEST_LINE) return { kind: 'error', status: 414, reason: 'request line too long' };
  // The request line may also be the whole head ("GET / HTTP/1.0\r\n\r\n").
  const end = findHeadEnd(buf, firstLf);
  if (end === -1) {
    if (buf.length - start > MAX_HEAD_BYTES) return { kind: 'error', status: 431, reason: 'header section too large' };
    return { kind: 'incomplete' };
  }
  if (end - start > MAX_HEAD_BYTES) return { kind: 'error', status: 431, reason: 'header section too large' };

  const text = buf.toString('latin1', start, end);
  const lines = text.split('\n');
  // The last two elements are the empty line and the empty string after it.
  lines.length -= 2;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.charCodeAt(l.length - 1) === 0x0d) lines[i] = l.slice(0, -1);
    // A CR anywhere else is a bare CR: RFC 9112 §2.2 says reject it.
    if (lines[i]!.includes('\r')) return { kind: 'error', status: 400, reason: 'bare CR in the head' };
  }

  // request-line = method SP request-target SP HTTP-version (RFC 9112 §3), exactly one SP each.
  const requestLine = lines[0]!;
  const parts = requestLine.split(' ');
  if (parts.length !== 3) return { kind: 'error', status: 400, reason: 'request line is not three tokens', requestLine };
  const [method, target, versionText] = parts as [string, string, string];
  if (!isToken(method)) return { kind: 'error', status: 400, reason: 'bad method token', requestLine };
  if (!isValidTarget(target)) return { kind: 'error', status: 400, reason: 'bad request-target', requestLine };
  // HTTP-version = HTTP-name "/" DIGIT "." DIGIT (RFC 9112 §2.3); a well-formed other version is 505.
  if (!/^HTTP\/\d\.\d$/.test(versionText)) return { kind: 'error', status: 400, reason: 'bad HTTP version syntax', requestLine };
  if (versionText !== 'HTTP/1.1' && versionText !== 'HTTP/1.0') {
    return { kind: 'error', status: 505, reason: 'unsupported HTTP version', requestLine };
  }
  const version = versionText as HttpVersion;

  if (lines.length - 1 > MAX_HEADER_COUNT) return { kind: 'error', status: 431, reason: 'too many header fields', requestLine };
  const headers = new Map<string, string>();
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    // obs-fold (a line starting with SP/HTAB) is rejected (RFC 9112 §5.2).
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) return { kind: 'error', status: 400, reason: 'obsolete line folding', requestLine };
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', status: 400, reason: 'header field without a name and colon', requestLine };
    const name = line.slice(0, colon);
    // No whitespace between field name and colon (RFC 9112 §5.1): isToken rejects it.
    if (!isToken(name)) return { kind: 'error', status: 400, reason: 'bad header field name', requestLine };
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isValidFieldValue(value)) return { kind: 'error', status: 400, reason: 'bad header field value', requestLine };
    const key = name.toLowerCase();
    if (key === 'host') hosts++;
    const prev = headers.get(key);
    if (prev === undefined) headers.set(key, value);
    else if (key === 'content-length') {
      // Repeated Content-Length must all agree (RFC 9110 §8.6); otherwise the framing is unknown.
      if (prev !== value) return { kind: 'error', status: 400, reason: 'conflicting Content-Length', requestLine };
    } else headers.set(key, key === 'cookie' ? `${prev}; ${value}` : `${prev}, ${value}`);
  }
  // HTTP/1.1 needs exactly one Host (RFC 9112 §3.2); more than one is also a 400.
  if (hosts > 1 || (version === 'HTTP/1.1' && hosts === 0)) {
    return { kind: 'error', status: 400, reason: hosts > 1 ? 'more than one Host' : 'HTTP/1.1 request without Host', requestLine };
  }
  // Host = uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2): a bracketed IP literal or a
  // reg-name; anything else (spaces, a path, a bad port) is a 400.
  const host = headers.get('host');
  if (host !== undefined && !HOST_RE.test(host)) return { kind: 'error', status: 400, reason: 'Host is not a valid authority', requestLine };
  return { kind: 'request', head: { method, target, version, headers, requestLine }, consumed: end };
}

/** Body framing of a request (RFC 9112 §6.3): a length, chunked, or a reason to refuse. */
export type BodyFraming = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'error'; status: 400 | 501; reason: string };

export function bodyFraming(head: RequestHead): BodyFraming {
  const te = head.headers.get('transfer-encoding');
  const cl = head.headers.get('content-length');
  if (te !== undefined) {
    // Both present is a smuggling attempt (RFC 9112 §6.3 item 3): refuse and close.
    if (cl !== undefined) return { kind: 'error', status: 400, reason: 'both Transfer-Encoding and Content-Length' };
    if (head.version === 'HTTP/1.0') return { kind: 'error', status: 400, reason: 'Transfer-Encoding in HTTP/1.0' };
    const codings = te
      .toLowerCase()
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    // chunked must be the final coding, or the length cannot be known (§6.3 item 4).
    if (codings.at(-1) !== 'chunked') return { kind: 'error', status: 400, reason: 'chunked is not the final transfer coding' };
    // Other codings (gzip, ...) under chunked: understood by name, not implemented (§6.1).
    if (codings.length > 1) return { kind: 'error', status: 501, reason: 'transfer coding not implemented' };
    return { kind: 'chunked' };
  }
  if (cl === undefined) return { kind: 'length', length: 0 };
  if (!/^\d{1,15}$/.test(cl)) return { kind: 'error', status: 400, reason: 'bad Content-Length' };
  return { kind: 'length', length: Number(cl) };
}

/** Longest chunk-size line (with extensions) or trailer line we read. */
export const MAX_CHUNK_LINE = 4096;

export type ChunkedProgress = { kind: 'more'; consumed: number } | { kind: 'done'; consumed: number } | { kind: 'error'; status: 400 | 413; reason: string };

/**
 * Decoder of the chunked transfer coding (RFC 9112 §7.1), fed as bytes arrive: chunk sizes in
 * hex, extensions ignored (§7.1.1), trailer fields read and dropped (§7.1.2). Keeps the data
 * (up to `limit` decoded bytes) or only counts it.
 */
export class ChunkedDecoder {
  readonly chunks: Buffer[] = [];
  private state: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size';
  private line = '';
  private remaining = 0;
  private total = 0;

  constructor(
    private readonly limit: number,
    private readonly keep: boolean,
  ) {}

  push(buf: Buffer): ChunkedProgress {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, buf.length - i);
        if (this.keep) this.chunks.push(buf.subarray(i, i + take));
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'data-crlf';
        continue;
      }
      // Line states: collect up to LF.
      const lf = buf.indexOf(0x0a, i);
      const end = lf === -1 ? buf.length : lf;
      this.line += buf.toString('latin1', i, end);
      if (this.line.length > MAX_CHUNK_LINE) return { kind: 'error', status: 400, reason: 'chunk line too long' };
      if (lf === -1) return { kind: 'more', consumed: buf.length };
      i = lf + 1;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.state === 'data-crlf') {
        if (line !== '') return { kind: 'error', status: 400, reason: 'chunk data not followed by CRLF' };
        this.state = 'size';
      } else if (this.state === 'size') {
        const m = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/.exec(line);
        if (!m) return { kind: 'error', status: 400, reason: 'bad chunk size' };
        const size = parseInt(m[1]!, 16);
        if (size === 0) this.state = 'trailer';
        else {
          this.total += size;
          if (this.total > this.limit) return { kind: 'error', status: 413, reason: 'chunked body too large' };
          this.remaining = size;
          this.state = 'data';
        }
      } else {
        // trailer-section: field lines until the empty line.
        if (line === '') return { kind: 'done', consumed: i };
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(line)) return { kind: 'error', status: 400, reason: 'bad trailer field' };
      }
    }
    return { kind: 'more', consumed: buf.length };
  }
}
