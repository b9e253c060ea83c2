// What a request means: the gate every request passes (method, path, cookie) and then the file,
// the form or an error. It returns a Reply; connection.ts writes it.
import { AUTOCONFIG_PATHS } from '@sstt/scenario';
import type { ServerContext } from './context.ts';
import { isOverLimit, readCounter, setCookieValue } from './cookie.ts';
import { parseRange, resolveTarget, INDEX_FILE, type FileEntry } from './files.ts';
import { parseHttpDate } from './http-date.ts';
import type { BodyFraming, RequestHead } from './request.ts';
import { escapeHtml } from './status.ts';

export interface Reply {
  status: number;
  contentType?: string;
  /** In-memory body; error pages are filled in by the connection. */
  body?: Buffer;
  /** A file part to stream instead of `body`. */
  file?: { path: string; start: number };
  /** Content-Length when it is not body.length (HEAD, 304, streamed files). */
  length?: number;
  /** Extra header lines, each ending in CRLF. */
  headers?: string;
  /** Send no body (HEAD, 304). */
  noBody?: boolean;
  /** Close the connection after this response. */
  close?: boolean;
  /** Why, for webserver.log (never sent to the client). */
  reason?: string;
}

/** Request bodies we read whole (the form) are at most this big; bigger → 413. */
export const MAX_FORM_BODY = 16 * 1024;

/** The form of the 2019/20 edition. */
export const FORM_PATH = 'accion_form.html';
/** Marker in an HTML page replaced, over HTTPS, by a greeting to the client certificate's subject. */
export const CLIENT_MARKER = '<!--#client-subject-->';
const CLIENT_MARKER_BUF = Buffer.from(CLIENT_MARKER);

type Handled = Reply | { wantsBody: (body: Buffer) => Reply };

/** What the gate needs to know of the connection a request came on. */
export interface RequestPeer {
  /** Over TLS (HTTPS). */
  readonly secure: boolean;
  /** The TLS client certificate's subject ("CN=..., O=..."), when there is one. */
  readonly peerSubject: string | undefined;
}

/** The gate: checks in order, each with its status; the first that fails answers. */
export function handleRequest(ctx: ServerContext, conn: RequestPeer, head: RequestHead, framing: Exclude<BodyFraming, { kind: 'error' }>): Handled {
  const method = head.method;
  const target = resolveTarget(head.target);
  const isForm = target.kind === 'ok' && target.relPath === FORM_PATH && ctx.formEmail !== undefined;

  // Methods (RFC 9110 §15.5.6): GET and HEAD everywhere; POST only for the configured form.
  if (method !== 'GET' && method !== 'HEAD' && !(method === 'POST' && isForm)) {
    return { status: 405, headers: `Allow: ${isForm ? 'GET, HEAD, POST' : 'GET, HEAD'}\r\n`, noBody: method === 'HEAD', reason: `method ${method}` };
  }
  if (target.kind === 'bad') return { status: 400, reason: target.reason, noBody: method === 'HEAD' };
  if (target.kind === 'forbidden') return { status: 403, reason: target.reason, noBody: method === 'HEAD' };

  // Mail clients' autoconfig (Thunderbird asks autoconfig.<domain>/mail/config-v1.1.xml and the
  // domain's /.well-known/ path): generated, not a file of the lab's site, so no lab cookie either.
  if (method !== 'POST' && target.kind === 'ok' && (AUTOCONFIG_PATHS as readonly string[]).includes(target.relPath)) {
    return { status: 200, contentType: 'application/xml; charset=utf-8', body: ctx.autoconfig, noBody: method === 'HEAD', length: ctx.autoconfig.length };
  }

  // The lab's cookie: a client that already carries the limit is refused (and gets no cookie).
  const counter = readCounter(head.headers.get('cookie'), ctx.cookie.name);
  if (isOverLimit(counter, ctx.cookie)) return { status: 403, reason: `cookie limit ${counter}`, noBody: method === 'HEAD' };
  const cookieLine = `Set-Cookie: ${setCookieValue(counter, ctx.cookie)}\r\n`;

  if (method === 'POST') {
    // A body needs a length or chunked framing (RFC 9112 §6.3); the limit applies to the decoded size.
    if (framing.kind === 'length' && head.headers.get('content-length') === undefined) return { status: 411, reason: 'form without Content-Length' };
    if (framing.kind === 'length' && framing.length > MAX_FORM_BODY) return { status: 413, close: true, reason: 'form too large' };
    const type = head.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return { status: 415, reason: 'form is not URL-encoded' };
    return { wantsBody: (body) => formReply(ctx, body, cookieLine) };
  }

  const relPath = target.isDirPath ? (target.relPath ? `${target.relPath}/${INDEX_FILE}` : INDEX_FILE) : target.relPath;
  const found = ctx.files.lookup(relPath);
  const noBody = method === 'HEAD';
  switch (found.kind) {
    case 'forbidden':
      return { status: 403, reason: found.reason, noBody };
    case 'missing':
      return { status: 404, noBody };
    case 'unsupported':
      return { status: 415, noBody };
    case 'directory': {
      // "/dir" names a directory: send the client to "/dir/" so relative links work. The
      // Location is rebuilt from the normalised path (never the raw target: "//host" would be
      // a protocol-relative reference to another host, RFC 3986 §4.2).
      const location = `/${target.relPath.split('/').filter(Boolean).map(encodeURIComponent).join('/')}/`.replace(/^\/\/$/, '/');
      return { status: 301, headers: `Location: ${location}\r\n`, noBody };
    }
    case 'file':
      return fileReply(conn, head, found.entry, cookieLine, noBody);
  }
}

function fileReply(conn: RequestPeer, head: RequestHead, entry: FileEntry, cookieLine: string, noBody: boolean): Reply {
  let body = entry.body;
  let etag = entry.etag;
  // Over HTTPS an HTML page may greet the client certificate's subject.
  if (body && conn.secure && entry.mime.startsWith('text/html') && body.includes(CLIENT_MARKER_BUF)) {
    const who = conn.peerSubject ? `Hola, ${escapeHtml(conn.peerSubject)}` : '';
    body = Buffer.from(body.toString('utf8').split(CLIENT_MARKER).join(`<p class="client">${who}</p>`));
    etag = `${etag.slice(0, -1)}-${hash(who)}"`;
  }
  const size = body ? body.length : entry.size;
  const validators = `ETag: ${etag}\r\nLast-Modified: ${entry.lastModified}\r\n`;

  // Conditional requests (RFC 9110 §13.2.2): If-None-Match wins over If-Modified-Since.
  const inm = head.headers.get('if-none-match');
  let notModified = false;
  if (inm !== undefined) notModified = etagMatches(inm, etag);
  else {
    const ims = head.headers.get('if-modified-since');
    const since = ims !== undefined ? parseHttpDate(ims) : undefined;
    if (since !== undefined && Math.floor(entry.mtimeMs / 1000) * 1000 <= since) notModified = true;
  }
  if (notModified) {
    // 304 carries the validators; Content-Length, if sent, must be the 200's (RFC 9110 §8.6).
    return { status: 304, contentType: entry.mime, length: size, headers: validators, noBody: true };
  }

  let range = parseRange(head.headers.get('range'), size);
  const ifRange = head.headers.get('if-range');
  if (range.kind !== 'none' && ifRange !== undefined) {
    // If-Range (RFC 9110 §13.1.5): the range only if the validator still matches.
    const ok = ifRange.startsWith('"') || ifRange.startsWith('W/') ? ifRange === etag : parseHttpDate(ifRange) === Math.floor(entry.mtimeMs / 1000) * 1000;
    if (!ok) range = { kind: 'none' };
  }
  if (range.kind === 'unsatisfiable') {
    return { status: 416, headers: `Content-Range: bytes */${size}\r\n`, noBody, reason: 'range not satisfiable' };
  }
  const common = `${validators}Accept-Ranges: bytes\r\n${cookieLine}`;
  if (range.kind === 'range') {
    const len = range.end - range.start + 1;
    return {
      status: 206,
      contentType: entry.mime,
      headers: `Content-Range: bytes ${range.start}-${range.end}/${size}\r\n${common}`,
      length: len,
      noBody,
      ...(body ? { body: body.subarray(range.start, range.end + 1) } : { file: { path: entry.real, start: range.start } }),
    };
  }
  const reply: Reply = { status: 200, contentType: entry.mime, headers: common, length: size, noBody };
  if (body) reply.body = body;
  else reply.file = { path: entry.real, start: 0 };
  return reply;
}

/** Weak comparison of entity tags (RFC 9110 §8.8.3.2), for If-None-Match; "*" matches any. */
function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const strip = (t: string) => (t.startsWith('W/') ? t.slice(2) : t);
  const want = strip(etag);
  return header.split(',').some((t) => strip(t.trim()) === want);
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16);
}

/** The answer of the 2019/20 form: "correct" when the field `email` is the configured address. */
function formReply(ctx: ServerContext, body: Buffer, cookieLine: string): Reply {
  const email = new URLSearchParams(body.toString('utf8')).get('email')?.trim() ?? '';
  const correct = ctx.formEmail !== undefined && email.toLowerCase() === ctx.formEmail.toLowerCase();
  const title = correct ? 'Correcto' : 'Incorrecto';
  const text = correct ? 'correct: the email address is the right one.' : 'wrong: that is not the expected email address.';
  const page = Buffer.from(
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1><p>${text}</p><p><a href="/${FORM_PATH}">Volver</a></p></body></html>\n`,
  );
  return { status: 200, body: page, headers: cookieLine, reason: correct ? 'form correct' : 'form wrong' };
}
