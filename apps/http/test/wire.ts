// A tiny HTTP/1.1 response parser for the conformance suite. It frames responses the way a
// client must (RFC 9112 §6.3): no body after HEAD, 1xx, 204 and 304; otherwise exactly
// Content-Length bytes (every response of this server carries one). It never assumes that one
// `data` event is one response: it reads from the testkit's buffered raw client.
import type { RawClient } from '@sstt/testkit';

export interface HttpResponse {
  /** "HTTP/1.1 200 OK" */
  statusLine: string;
  version: string;
  status: number;
  reason: string;
  /** Header fields in the order received (names as sent). */
  fields: Array<[string, string]>;
  /** The single value of a field (case-insensitive name); throws if it appears more than once. */
  header(name: string): string | undefined;
  /** Every value of a field (case-insensitive name). */
  all(name: string): string[];
  body: Buffer;
  /** The head as received, for messages. */
  head: string;
}

const HEAD_END = '\r\n\r\n';

/** Parses the head of a response (status line and fields, without the final CRLF CRLF). */
export function parseHead(head: string): Omit<HttpResponse, 'body'> {
  const lines = head.split('\r\n');
  const statusLine = lines[0] ?? '';
  const m = /^(HTTP\/\d\.\d) (\d{3}) (.*)$/.exec(statusLine);
  if (!m) throw new Error(`malformed status line ${JSON.stringify(statusLine)} in ${JSON.stringify(head.slice(0, 300))}`);
  const fields: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const i = line.indexOf(':');
    if (i <= 0 || /\s/.test(line.slice(0, i))) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    fields.push([line.slice(0, i), line.slice(i + 1).trim()]);
  }
  const all = (name: string) => fields.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return {
    statusLine,
    version: m[1]!,
    status: Number(m[2]),
    reason: m[3]!,
    fields,
    all,
    header(name) {
      const v = all(name);
      if (v.length > 1) throw new Error(`header ${name} sent ${v.length} times: ${JSON.stringify(v)}`);
      return v[0];
    },
    head,
  };
}

/** Whether a response to `method` with `status` has a body at all (RFC 9112 §6.3 rules 1-2). */
export function hasBody(method: string, status: number): boolean {
  if (method === 'HEAD') return false;
  if (status < 200 || status === 204 || status === 304) return false;
  return true;
}

/** Length of the body announced by a head; throws when the server sent none. */
function announcedLength(r: Omit<HttpResponse, 'body'>): number {
  if (r.all('transfer-encoding').length) throw new Error(`unexpected Transfer-Encoding in ${JSON.stringify(r.head)}`);
  const cl = r.header('content-length');
  if (cl === undefined || !/^\d+$/.test(cl)) throw new Error(`no valid Content-Length in ${JSON.stringify(r.head)}`);
  return Number(cl);
}

/** Reads exactly one response from a raw client. */
export async function readResponse(client: RawClient, method = 'GET', timeoutMs = 5000): Promise<HttpResponse> {
  const text = await client.readUntil(HEAD_END, timeoutMs);
  const head = parseHead(text.slice(0, -HEAD_END.length));
  const len = hasBody(method, head.status) ? announcedLength(head) : 0;
  const body = len ? await client.readBytes(len, timeoutMs) : Buffer.alloc(0);
  return { ...head, body };
}

/**
 * Splits a buffer holding several responses (pipelining), `methods[i]` being the method of the
 * i-th request. Returns the responses and whatever bytes are left over.
 */
export function splitResponses(buf: Buffer, methods: string[]): { responses: HttpResponse[]; rest: Buffer } {
  const responses: HttpResponse[] = [];
  let at = 0;
  for (const method of methods) {
    const end = buf.indexOf(HEAD_END, at, 'latin1');
    if (end < 0) break;
    const head = parseHead(buf.subarray(at, end).toString('latin1'));
    const len = hasBody(method, head.status) ? announcedLength(head) : 0;
    const start = end + HEAD_END.length;
    if (buf.length < start + len) break;
    responses.push({ ...head, body: Buffer.from(buf.subarray(start, start + len)) });
    at = start + len;
  }
  return { responses, rest: Buffer.from(buf.subarray(at)) };
}

/** Builds a request: `req('GET', '/', { Host: 'x' })`, fields in order, CRLF line ends. */
export function req(method: string, target: string, fields: Record<string, string> | Array<[string, string]> = {}, body = '', version = 'HTTP/1.1'): string {
  const list = Array.isArray(fields) ? fields : Object.entries(fields);
  return `${method} ${target} ${version}\r\n${list.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}

/** IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
export const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Parses an IMF-fixdate to epoch ms, checking that the weekday agrees with the date. */
export function parseImfDate(text: string): number {
  if (!IMF_FIXDATE.test(text)) throw new Error(`not an IMF-fixdate: ${JSON.stringify(text)}`);
  const t = Date.parse(text);
  if (new Date(t).toUTCString() !== text) throw new Error(`IMF-fixdate not canonical (weekday?): ${JSON.stringify(text)}`);
  return t;
}

/** A Set-Cookie value split into its name, value and attributes (RFC 6265 §4.1). */
export function parseSetCookie(value: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair, ...rest] = value.split(';').map((s) => s.trim());
  const eq = pair!.indexOf('=');
  const attrs = new Map<string, string>();
  for (const a of rest) {
    const i = a.indexOf('=');
    attrs.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1));
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attrs };
}

/** Whatever bytes have arrived (at least one), consumed from the client. */
export async function readSome(client: RawClient, timeoutMs = 5000): Promise<Buffer> {
  const first = await client.readBytes(1, timeoutMs);
  const rest = client.buffered.length ? await client.readBytes(client.buffered.length) : Buffer.alloc(0);
  return Buffer.concat([first, rest]);
}
