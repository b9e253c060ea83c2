// What the HTTP campaigns start from: well-formed requests (methods, targets of the test root,
// Host forms, bodies by length and chunked) as curl and browsers send them.
import fc from 'fast-check';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'BREW'];
const TARGETS = [
  '/',
  '/index.html',
  '/sub/',
  '/sub/inner.html',
  '/a.txt',
  '/accion_form.html',
  '/pic.jpg',
  '/nope.html',
  '/../secret.html',
  '/%2e%2e/secret.html',
  '/escape.html',
  '/escape-dir/secret.html',
  '/sub/..%2f..%2fsecret.html',
  'http://www.example/index.html',
  '*',
  '/index.html?q=1#f',
];
const HEADERS = [
  'Host: www',
  'Host: 127.0.0.1:80',
  'Host: [::1]',
  'Connection: close',
  'Connection: keep-alive',
  'Accept: */*',
  'Expect: 100-continue',
  'Range: bytes=0-10',
  'Range: bytes=-5',
  'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT',
  'Cookie: a=b',
  'Transfer-Encoding: chunked',
  'Content-Length: 5',
  'Content-Type: application/x-www-form-urlencoded',
  'Authorization: Basic dXNlcjpwYXNz',
];

/** Data and extensions of a chunked body. */
export const chunkList = fc.array(fc.record({ data: fc.uint8Array({ minLength: 1, maxLength: 40 }), ext: fc.constantFrom('', ';a=b', ';x', ' ;q="1"') }), {
  maxLength: 5,
});

/** The chunked coding of `chunks` (RFC 9112 §7.1), with trailer fields. */
export function encodeChunked(chunks: Array<{ data: Uint8Array; ext: string }>, trailers: string[] = []): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(Buffer.from(`${c.data.length.toString(16)}${c.ext}\r\n`, 'latin1'), Buffer.from(c.data), Buffer.from('\r\n'));
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** One well-formed request, head and body. */
export const request = fc
  .record({
    method: fc.constantFrom(...METHODS),
    target: fc.constantFrom(...TARGETS),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.10'),
    headers: fc.uniqueArray(fc.constantFrom(...HEADERS), { maxLength: 5 }),
    body: fc.option(
      fc.oneof(
        fc.uint8Array({ maxLength: 30 }).map((b) => ({ kind: 'length' as const, b })),
        chunkList.map((c) => ({ kind: 'chunked' as const, c })),
      ),
    ),
    bareLf: fc.boolean(),
  })
  .map((r) => {
    const headers = r.headers.filter((h) => !/^(Content-Length|Transfer-Encoding)/.test(h));
    if (r.version === 'HTTP/1.1' && !headers.some((h) => h.startsWith('Host'))) headers.unshift('Host: www');
    let body: Buffer = Buffer.alloc(0);
    if (r.body?.kind === 'length') {
      headers.push(`Content-Length: ${r.body.b.length}`);
      body = Buffer.from(r.body.b);
    } else if (r.body?.kind === 'chunked') {
      headers.push('Transfer-Encoding: chunked');
      body = encodeChunked(r.body.c);
    }
    const eol = r.bareLf ? '\n' : '\r\n';
    return new Uint8Array(
      Buffer.concat([Buffer.from(`${r.method} ${r.target} ${r.version}${eol}${headers.map((h) => h + eol).join('')}${eol}`, 'latin1'), body]),
    );
  });

/** Several requests back to back (pipelined, RFC 9112 §9.3.2). */
export const pipeline = fc.array(request, { minLength: 1, maxLength: 4 }).map((rs) => new Uint8Array(Buffer.concat(rs)));
