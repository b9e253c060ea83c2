import { describe, expect, it } from 'vitest';
import { bodyFraming, ChunkedDecoder, MAX_HEAD_BYTES, MAX_REQUEST_LINE, parseRequestHead, type ParseResult, type RequestHead } from './request.ts';

const parse = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'));
const head = (r: ParseResult): RequestHead => {
  if (r.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(r)}`);
  return r.head;
};
const status = (r: ParseResult) => (r.kind === 'error' ? r.status : r.kind);

describe('parseRequestHead', () => {
  it('reads a request line and fields, lower-cases names, trims OWS, reports what it used', () => {
    const text = 'GET /a/b.html?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent:  t \t\r\n\r\nGET / HTTP/1.1\r\n';
    const r = parse(text);
    expect(r.kind).toBe('request');
    const h = head(r);
    expect(h).toMatchObject({ method: 'GET', target: '/a/b.html?x=1', version: 'HTTP/1.1', requestLine: 'GET /a/b.html?x=1 HTTP/1.1' });
    expect([...h.headers]).toEqual([
      ['host', 'example'],
      ['user-agent', 't'],
    ]);
    expect(r.kind === 'request' && r.consumed).toBe(text.indexOf('GET / HTTP/1.1\r\n'));
  });

  it('waits for more bytes until the empty line arrives, byte by byte', () => {
    const text = 'HEAD /x HTTP/1.0\r\nA: b\r\n\r\n';
    for (let i = 0; i < text.length; i++) expect(parse(text.slice(0, i)).kind).toBe('incomplete');
    expect(head(parse(text)).method).toBe('HEAD');
  });

  it('accepts bare LF line ends (RFC 9112 §2.2) and skips leading empty lines', () => {
    expect(head(parse('GET / HTTP/1.0\n\n')).target).toBe('/');
    expect(head(parse('\r\n\r\nGET /y HTTP/1.0\r\n\r\n')).target).toBe('/y');
  });

  it('joins repeated fields with a comma, cookies with a semicolon', () => {
    const h = head(parse('GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\nCookie: x=1\r\nCookie: y=2\r\n\r\n'));
    expect(h.headers.get('accept')).toBe('a, b');
    expect(h.headers.get('cookie')).toBe('x=1; y=2');
  });

  it.each([
    ['double space in the request line', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['two tokens (HTTP/0.9 style)', 'GET /\r\n\r\n'],
    ['four tokens', 'GET / HTTP/1.1 x\r\nHost: h\r\n\r\n'],
    ['tab as separator', 'GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n'],
    ['version with letters', 'GET / HTTP/1.x\r\nHost: h\r\n\r\n'],
    ['method with a slash', 'GE/T / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['control character in the target', 'GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['non-ASCII in the target', 'GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n'],
    ['field without a colon', 'GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n'],
    ['empty field name', 'GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n'],
    ['bare CR in a field', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n'],
    ['NUL in a field value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
    ['a Host with a space', 'GET / HTTP/1.1\r\nHost: bad host\r\n\r\n'],
    ['a Host with a path', 'GET / HTTP/1.1\r\nHost: h/path\r\n\r\n'],
    ['a Host with a bad port', 'GET / HTTP/1.1\r\nHost: h:80x\r\n\r\n'],
    ['a Host with two colons', 'GET / HTTP/1.1\r\nHost: h:1:2\r\n\r\n'],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['conflicting Content-Length', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
  ])('400 for %s', (_, text) => {
    expect(status(parse(text))).toBe(400);
  });

  it.each(['www.example.org', 'h:8000', '127.0.0.1:1', '[::1]:443', '', 'a_b-c.d~e'])('accepts Host %j', (h) => {
    expect(head(parse(`GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`)).headers.get('host')).toBe(h);
  });

  it('HTTP/1.0 does not need Host', () => {
    expect(head(parse('GET / HTTP/1.0\r\n\r\n')).version).toBe('HTTP/1.0');
  });

  it.each(['HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/3.0'])('505 for %s', (v) => {
    expect(status(parse(`GET / ${v}\r\nHost: h\r\n\r\n`))).toBe(505);
  });

  it('414 for a request line over the limit, even before its end arrives', () => {
    const long = `GET /${'a'.repeat(MAX_REQUEST_LINE)}`;
    expect(status(parse(long))).toBe(414);
    expect(status(parse(`${long} HTTP/1.1\r\nHost: h\r\n\r\n`))).toBe(414);
    expect(status(parse(`GET /${'a'.repeat(MAX_REQUEST_LINE - 20)} HTTP/1.1\r\nHost: h\r\n\r\n`))).toBe('request');
  });

  it('431 for a head over the limit or too many fields', () => {
    const big = `GET / HTTP/1.1\r\nHost: h\r\nX: ${'v'.repeat(MAX_HEAD_BYTES)}\r\n`;
    expect(status(parse(big))).toBe(431);
    const many = `GET / HTTP/1.1\r\nHost: h\r\n${Array.from({ length: 120 }, (_, i) => `X${i}: v\r\n`).join('')}\r\n`;
    expect(status(parse(many))).toBe(431);
  });
});

describe('bodyFraming', () => {
  const framing = (fields: string, version = 'HTTP/1.1') => bodyFraming(head(parse(`POST / ${version}\r\nHost: h\r\n${fields}\r\n`)));
  it('no body without Content-Length; the length otherwise', () => {
    expect(framing('')).toEqual({ kind: 'length', length: 0 });
    expect(framing('Content-Length: 12\r\n')).toEqual({ kind: 'length', length: 12 });
  });
  it('chunked when it is the only and final coding', () => {
    expect(framing('Transfer-Encoding: chunked\r\n')).toEqual({ kind: 'chunked' });
    expect(framing('Transfer-Encoding: CHUNKED \r\n')).toEqual({ kind: 'chunked' });
  });
  it('refuses a bad Content-Length, TE with CL (smuggling), chunked not last, other codings', () => {
    expect(framing('Content-Length: -1\r\n')).toMatchObject({ kind: 'error', status: 400 });
    expect(framing('Content-Length: 1 2\r\n')).toMatchObject({ kind: 'error', status: 400 });
    expect(framing('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n')).toMatchObject({ kind: 'error', status: 400 });
    expect(framing('Transfer-Encoding: chunked\r\n', 'HTTP/1.0')).toMatchObject({ kind: 'error', status: 400 });
    expect(framing('Transfer-Encoding: chunked, gzip\r\n')).toMatchObject({ kind: 'error', status: 400 });
    expect(framing('Transfer-Encoding: gzip\r\n')).toMatchObject({ kind: 'error', status: 400 });
    expect(framing('Transfer-Encoding: gzip, chunked\r\n')).toMatchObject({ kind: 'error', status: 501 });
  });
});

describe('ChunkedDecoder', () => {
  const body = '5\r\nhello\r\n7;name=v\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT';
  it('decodes sizes, skips extensions and trailers, stops at the end of the body', () => {
    const d = new ChunkedDecoder(1000, true);
    const r = d.push(Buffer.from(body));
    expect(r).toEqual({ kind: 'done', consumed: body.indexOf('NEXT') });
    expect(Buffer.concat(d.chunks).toString()).toBe('hello, world');
  });
  it('takes the bytes one at a time', () => {
    const d = new ChunkedDecoder(1000, true);
    let last: unknown;
    for (let i = 0; i < body.indexOf('NEXT'); i++) last = d.push(Buffer.from(body[i]!));
    expect(last).toEqual({ kind: 'done', consumed: 1 });
    expect(Buffer.concat(d.chunks).toString()).toBe('hello, world');
  });
  it.each([
    ['a bad size', 'zz\r\n', 400],
    ['data without its CRLF', '2\r\nabc\r\n', 400],
    ['a body over the limit', 'ff\r\n', 413],
    ['a bad trailer', '0\r\nno colon\r\n\r\n', 400],
  ])('refuses %s', (_, text, status) => {
    expect(new ChunkedDecoder(100, false).push(Buffer.from(text))).toMatchObject({ kind: 'error', status });
  });
});
