// The raw-socket conformance suite of the hand-written HTTP/1.1 server (issue #6, SCENARIO.md
// "The custom web server"), run unchanged over plain TCP and over TLS with a client certificate
// (one suite, every transport). Every expectation is exact: status line, the headers that
// matter, and the body where it matters.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawClient } from '@sstt/testkit';
import { expectClosedQuietly, expectCommonHeaders, expectConnectionConsistent, expectErrorPage, expectNoSecret, expectStatus, mediaType } from './expect.ts';
import { parseImfDate, parseSetCookie, readResponse, readSome, req, splitResponses, type HttpResponse } from './wire.ts';
import { createWorld, FILES, MEDIA_TYPES, SECRET, type Running, type Transport, type World } from './world.ts';

const IDLE_MS = 5000;
const MAX_REQUESTS = 100;

let w: World;
let server: Running;
let noForm: Running;

beforeAll(async () => {
  w = await createWorld();
  w.put('with space.txt', 'a file name with a space\n');
  w.put('ñandú.txt', 'utf-8 name\n');
  w.put('nolist/hidden-name.txt', 'not to be listed\n');
  w.put('empty.txt', '');
  server = await w.start({ idleTimeoutMs: IDLE_MS, maxRequests: MAX_REQUESTS, formEmail: w.s.users[0]!.email }, { net: true });
  noForm = await w.start({ idleTimeoutMs: IDLE_MS, maxRequests: MAX_REQUESTS, formEmail: undefined }, { net: true });
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

it('the plain listener runs on the raw TCP handle by default, on node:net when forced', () => {
  expect(server.server.plainTransport()).toBe(process.env.SSTT_RAW_TCP === 'net' ? 'net' : 'raw');
});

// tcp: the raw libuv handle (the default); net: node:net forced (the fallback); tls: HTTPS.
describe.each(['tcp', 'net', 'tls'] as const)('over %s', (transportName) => {
  let t: Transport;
  let host: string;
  const open: RawClient[] = [];

  beforeAll(() => {
    t = server.byName(transportName);
    host = w.www;
  });
  afterAll(() => {
    for (const c of open) c.destroy();
  });

  const connect = async (on: Transport = t) => {
    const c = await on.connect();
    open.push(c);
    return c;
  };

  /** Sends raw bytes on a fresh connection and reads one response to `method`. */
  const exchange = async (raw: string | Buffer, method = 'GET', on: Transport = t) => {
    const c = await connect(on);
    c.write(raw);
    const r = await readResponse(c, method);
    return { c, r };
  };

  /** A well-formed request on a fresh connection; checks the common headers and the connection afterwards. */
  const request = async (method: string, target: string, fields: Record<string, string> = {}, body = '') => {
    const { c, r } = await exchange(req(method, target, { Host: host, ...fields }, body), method);
    expectCommonHeaders(r);
    expectNoSecret(r);
    await expectConnectionConsistent(c, r, host);
    c.destroy();
    return r;
  };

  const get = (target: string, fields: Record<string, string> = {}) => request('GET', target, fields);

  /** A malformed request: exact status, an error page, and the connection closed after it. */
  const expectRejected = async (raw: string, status: number, framing: 'broken' | 'intact' = 'broken') => {
    const { c, r } = await exchange(raw);
    expectStatus(r, status);
    expectCommonHeaders(r);
    expectErrorPage(r);
    if (framing === 'broken') {
      // Decision: after a head that could not be framed (request line, fields, sizes) the
      // server cannot know where the next request starts, so it closes (RFC 9112 §9.3).
      expect(r.header('connection')?.toLowerCase(), `a ${status} for broken framing closes the connection`).toBe('close');
      await expectClosedQuietly(c);
    } else {
      await expectConnectionConsistent(c, r, host);
    }
    c.destroy();
    return r;
  };

  describe('basic service', () => {
    it('GET / is index.html with the headers every response carries', async () => {
      const r = await get('/');
      expectStatus(r, 200);
      expectCommonHeaders(r, { idleSeconds: IDLE_MS / 1000 });
      expect(r.body.toString()).toBe(FILES['index.html']);
      expect(mediaType(r.header('content-type'))).toBe('text/html');
      expect(Number(r.header('content-length'))).toBe(r.body.length);
      expect(r.header('connection')).toMatch(/^keep-alive$/i);
      expect(r.header('keep-alive')).toMatch(/^timeout=5, max=\d+$/);
    });

    it('Last-Modified is the file mtime (IMF-fixdate) and an ETag is sent', async () => {
      const r = await get('/a.txt');
      expectStatus(r, 200);
      const mtime = Math.floor(fs.statSync(path.join(w.root, 'a.txt')).mtimeMs / 1000) * 1000;
      expect(parseImfDate(r.header('last-modified')!)).toBe(mtime);
      expect(r.header('etag')).toMatch(/^(W\/)?"[^"]+"$/);
    });

    it.each(Object.keys(FILES).filter((f) => MEDIA_TYPES[f.split('.').pop()!] && f.includes('.')))(
      'serves %s with its media type and exact bytes',
      async (file) => {
        const r = await get(`/${file}`);
        expectStatus(r, 200);
        expect(mediaType(r.header('content-type'))).toBe(MEDIA_TYPES[file.split('.').pop()!]);
        expect(Buffer.compare(r.body, Buffer.from(FILES[file]!))).toBe(0);
      },
    );

    it('ignores the query string and decodes percent-encoded octets in the path', async () => {
      expect((await get('/a.txt?x=1&y=%2e%2e')).body.toString()).toBe(FILES['a.txt']);
      expect((await get('/a%2Etxt')).body.toString()).toBe(FILES['a.txt']);
      expect((await get('/with%20space.txt')).body.toString()).toBe('a file name with a space\n');
    });

    it('UTF-8 file names, percent-encoded', async () => {
      const r = await get('/%C3%B1and%C3%BA.txt');
      expectStatus(r, 200);
      expect(r.body.toString()).toBe('utf-8 name\n');
    });

    it('a directory: /sub/ serves its index.html; /sub redirects there (or serves it)', async () => {
      const slash = await get('/sub/');
      expectStatus(slash, 200);
      expect(slash.body.toString()).toBe(FILES['sub/index.html']);
      const bare = await get('/sub');
      if (bare.status === 301) expect(bare.header('location')).toMatch(/^(https?:\/\/[^/]+)?\/sub\/$/);
      else expect(bare.body.toString()).toBe(FILES['sub/index.html']);
    });

    it('a redirect never points to another host (no protocol-relative Location from "//sub")', async () => {
      for (const target of ['//sub', '///sub', '/.//sub']) {
        const r = await get(target);
        if (r.status === 301) expect(r.header('location'), target).toMatch(/^\/[^/\\]/);
      }
    });

    it('a directory without index.html is never listed', async () => {
      const r = await get('/nolist/');
      expect([403, 404]).toContain(r.status);
      expect(r.body.toString()).not.toContain('hidden-name.txt');
    });

    it('follows a symlink that stays inside the root', async () => {
      const r = await get('/alias.html');
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['index.html']);
    });

    it('accepts the absolute-form of the request target (RFC 9112 §3.2.2)', async () => {
      const r = await get(`http://${host}/a.txt`);
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['a.txt']);
    });

    it('ignores an empty line before the request line (RFC 9112 §2.2)', async () => {
      const { r } = await exchange(`\r\n${req('GET', '/a.txt', { Host: host })}`);
      expectStatus(r, 200);
    });

    it('reassembles a request that arrives in small pieces', async () => {
      const c = await connect();
      c.socket.setNoDelay(true);
      const raw = req('GET', '/a.txt', { Host: host, 'User-Agent': 'pieces' });
      for (let i = 0; i < raw.length; i += 7) {
        c.write(raw.slice(i, i + 7));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const r = await readResponse(c);
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['a.txt']);
    });

    it('404 for a missing file, as a small HTML page without a cookie', async () => {
      const r = await get('/nope.html');
      expectStatus(r, 404);
      expectErrorPage(r);
      const r2 = await get('/sub/nope.txt');
      expectStatus(r2, 404);
    });

    it('error pages never echo the request', async () => {
      const r = await get('/%3Cscript%3Ealert(1)%3C/script%3E.html');
      expectStatus(r, 404);
      expect(r.body.toString()).not.toMatch(/<script>|alert\(1\)/i);
      const { r: r2 } = await exchange(`GET /<script>alert(2)</script>  HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expectStatus(r2, 400);
      expect(r2.body.toString()).not.toMatch(/<script>|alert\(2\)/i);
    });

    it('415 for an extension outside the table, and for no extension', async () => {
      const r = await get('/unknown.xyz');
      expectStatus(r, 415);
      expectErrorPage(r);
      expectStatus(await get('/README'), 415);
    });
  });

  describe('pipelining', () => {
    it('answers four pipelined GETs in order, sent in one write', async () => {
      const targets = ['/index.html', '/a.txt', '/style.css', '/sub/inner.html'];
      const c = await connect();
      c.write(targets.map((p) => req('GET', p, { Host: host })).join(''));
      const responses: HttpResponse[] = [];
      for (let i = 0; i < targets.length; i++) responses.push(await readResponse(c));
      expect(responses.map((r) => r.statusLine)).toEqual(targets.map(() => 'HTTP/1.1 200 OK'));
      expect(responses.map((r) => r.body.toString())).toEqual(targets.map((p) => FILES[p.slice(1)]));
      for (const r of responses) expectCommonHeaders(r);
    });

    it('splits a pipelined burst mixing GET, HEAD, a 404 and a 304 by Content-Length', async () => {
      const first = await get('/pic.png');
      const etag = first.header('etag')!;
      const c = await connect();
      const reqs: Array<[string, string, Record<string, string>]> = [
        ['GET', '/pic.jpg', {}],
        ['HEAD', '/pic.jpg', {}],
        ['GET', '/missing.html', {}],
        ['GET', '/pic.png', { 'If-None-Match': etag }],
        ['GET', '/a.txt', {}],
      ];
      c.write(reqs.map(([m, p, f]) => req(m, p, { Host: host, ...f })).join(''));
      let buf = Buffer.alloc(0);
      let split = splitResponses(
        buf,
        reqs.map(([m]) => m),
      );
      while (split.responses.length < reqs.length) {
        buf = Buffer.concat([buf, await readSome(c)]);
        split = splitResponses(
          buf,
          reqs.map(([m]) => m),
        );
      }
      const [get1, head, missing, notModified, last] = split.responses;
      expect(split.responses.map((r) => r.status)).toEqual([200, 200, 404, 304, 200]);
      expect(Buffer.compare(get1!.body, FILES['pic.jpg'] as Buffer)).toBe(0);
      expect(head!.header('content-length')).toBe(String((FILES['pic.jpg'] as Buffer).length));
      expect(head!.body.length).toBe(0);
      expect(missing!.body.toString()).toMatch(/<html/i);
      expect(notModified!.body.length).toBe(0);
      expect(last!.body.toString()).toBe(FILES['a.txt']);
      expect(split.rest.length).toBe(0);
    });
  });

  describe('request line (RFC 9112 §3)', () => {
    it('400 for a double space between the tokens', async () => {
      await expectRejected(`GET  / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
    });
    it('400 for more or fewer than three tokens, leading whitespace or tabs', async () => {
      await expectRejected(`GET / HTTP/1.1 extra\r\nHost: ${host}\r\n\r\n`, 400);
      await expectRejected(` GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
      await expectRejected(`GET\t/\tHTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
      await expectRejected(`GET / HTTP/1.1 \r\nHost: ${host}\r\n\r\n`, 400);
    });
    it('400 for an HTTP/0.9 simple request "GET /" (two tokens: not a request-line of RFC 9112 §3)', async () => {
      await expectRejected('GET /\r\n\r\n', 400);
    });
    it('400 for a bare CR inside the request line', async () => {
      await expectRejected(`GET /a.txt\rX HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
    });
    it('400 for a malformed version (HTTP-name is case-sensitive, one digit each side, RFC 9112 §2.3)', async () => {
      for (const v of ['http/1.1', 'HTTP/11', 'HTTP/1.1.1', 'HTTP/10.0', 'HTTP/01.1', 'HTTP/1', 'HTTP/1.x', 'HTTPS/1.1']) {
        await expectRejected(`GET / ${v}\r\nHost: ${host}\r\n\r\n`, 400);
      }
    });
    it('400 for a target that is not origin-form, absolute-form or * (and never the secret)', async () => {
      const r = await expectRejected(`GET ../secret.html HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400, 'intact');
      expectNoSecret(r);
    });
    it('400 for an invalid percent-encoding (RFC 3986 §2.1)', async () => {
      await expectRejected(`GET /a%zz.txt HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400, 'intact');
      await expectRejected(`GET /a.txt% HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400, 'intact');
    });
    it('414 for a request line longer than the server accepts', async () => {
      await expectRejected(`GET /${'a'.repeat(20_000)}.html HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 414);
    });
    it('a request line of 8000 octets is accepted (RFC 9112 §3 recommends at least that)', async () => {
      const prefix = 'GET /';
      const suffix = '.html HTTP/1.1';
      const line = `${prefix}${'b'.repeat(8000 - prefix.length - suffix.length)}${suffix}`;
      expect(line.length).toBe(8000);
      const { r } = await exchange(`${line}\r\nHost: ${host}\r\n\r\n`);
      expectStatus(r, 404);
    });
  });

  describe('versions: 505 for any version but HTTP/1.0 and HTTP/1.1', () => {
    // Decision: HTTP/1.2 is answered 505 as the issue demands ("any version other than HTTP/1.0
    // and HTTP/1.1"), although RFC 9110 §2.5 says a recipient SHOULD treat an unknown minor
    // version as the highest it implements. HTTP/0.9 as a three-token line is a valid request
    // line with an unsupported version (505); "GET /" alone is not a request line (400, above).
    it('the HTTP/2 connection preface (prior knowledge, RFC 9113 §3.4) → 505', async () => {
      const { c, r } = await exchange('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      expectStatus(r, 505);
      expectErrorPage(r);
      if (r.header('connection')?.toLowerCase() === 'close') await expectClosedQuietly(c);
    });
    it.each(['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTP/3.0'])('%s → 505', async (v) => {
      const { c, r } = await exchange(`GET / ${v}\r\nHost: ${host}\r\n\r\n`);
      expectStatus(r, 505);
      expectCommonHeaders(r);
      expectErrorPage(r);
      await expectConnectionConsistent(c, r, host);
    });
  });

  describe('header fields (RFC 9112 §5)', () => {
    it('400 when an HTTP/1.1 request has no Host (RFC 9112 §3.2)', async () => {
      await expectRejected('GET /a.txt HTTP/1.1\r\nUser-Agent: t\r\n\r\n', 400);
    });
    it('400 for two Host fields (RFC 9112 §3.2)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nHost: other\r\n\r\n`, 400);
    });
    it('HTTP/1.0 without Host is fine', async () => {
      const { r } = await exchange('GET /a.txt HTTP/1.0\r\n\r\n');
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['a.txt']);
    });
    it('400 for whitespace between the field name and the colon (RFC 9112 §5.1)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost : ${host}\r\n\r\n`, 400);
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX-Test\t: 1\r\n\r\n`, 400);
    });
    it('400 for a field line without a colon', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nNoColonHere\r\n\r\n`, 400);
    });
    it('400 for an empty field name or one with characters outside token', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\n: empty\r\n\r\n`, 400);
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX(A): b\r\n\r\n`, 400);
    });
    it('400 for obs-fold (RFC 9112 §5.2)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX-Long: first\r\n  folded\r\n\r\n`, 400);
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX-Long: first\r\n\tfolded\r\n\r\n`, 400);
    });
    it('400 for a bare CR in a field (RFC 9112 §2.2)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX-A: a\rb\r\n\r\n`, 400);
    });
    it('400 for a NUL in a field value (RFC 9110 §5.5)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX-A: a\0b\r\n\r\n`, 400);
    });
    it('400 for an invalid or conflicting Content-Length (RFC 9112 §6.3)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nContent-Length: abc\r\n\r\n`, 400);
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy`, 400);
    });
    it('400 when chunked is not the final transfer coding (RFC 9112 §6.3: MUST 400 and close)', async () => {
      await expectRejected(`POST /accion_form.html HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, 400);
    });
    it('501 for a transfer coding the server does not implement (RFC 9112 §6.1)', async () => {
      const { r } = await exchange(`POST /accion_form.html HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 'POST');
      expect(r.statusLine).toBe('HTTP/1.1 501 Not Implemented');
      expect(r.header('connection')).toMatch(/^close$/i);
    });
    it('400 for a malformed chunk size', async () => {
      await expectRejected(
        `POST /accion_form.html HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nemail=x\r\n0\r\n\r\n`,
        400,
      );
    });
    it('431 for a single huge field', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\nX-Huge: ${'h'.repeat(40_000)}\r\n\r\n`, 431);
    });
    it('431 for too many fields', async () => {
      const fields = Array.from({ length: 400 }, (_, i) => `X-Field-${i}: ${'v'.repeat(90)}\r\n`).join('');
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`, 431);
    });
    it('400 for a Host that is not a valid authority (RFC 9112 §3.2)', async () => {
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: bad host\r\n\r\n`, 400, 'intact');
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}/path\r\n\r\n`, 400, 'intact');
      await expectRejected(`GET /a.txt HTTP/1.1\r\nHost: ${host}:80x\r\n\r\n`, 400, 'intact');
    });
    it('400 for Content-Length together with Transfer-Encoding (RFC 9112 §6.1: smuggling)', async () => {
      await expectRejected(`POST /accion_form.html HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400);
    });
    it('a GET with a body: the body is skipped, never read as the next request', async () => {
      const c = await connect();
      const smuggled = req('GET', '/../secret.html', { Host: host });
      c.write(req('GET', '/a.txt', { Host: host, 'Content-Length': String(smuggled.length) }, smuggled) + req('GET', '/style.css', { Host: host }));
      const first = await readResponse(c);
      expectStatus(first, 200);
      if (first.header('connection')?.toLowerCase() === 'close') return expectClosedQuietly(c);
      const second = await readResponse(c);
      expectStatus(second, 200);
      expect(second.body.toString()).toBe(FILES['style.css']);
    });
    it('valid Host spellings: name:port, IPv4, IPv6 literal', async () => {
      for (const value of [`${host}:8000`, '127.0.0.1', '127.0.0.1:80', '[::1]', '[::1]:8000']) {
        const { r } = await exchange(`GET /a.txt HTTP/1.1\r\nHost: ${value}\r\n\r\n`);
        expect(r.statusLine, value).toBe('HTTP/1.1 200 OK');
      }
    });
    it('an empty Host is valid (RFC 9112 §3.2: a target without authority)', async () => {
      const { r } = await exchange('GET /a.txt HTTP/1.1\r\nHost:\r\n\r\n');
      expectStatus(r, 200);
    });
    it('a browser-sized head (a 4 KB cookie and twenty fields) is served', async () => {
      const fields: Record<string, string> = { Cookie: `big=${'c'.repeat(4000)}; cookie_counter=2` };
      for (let i = 0; i < 20; i++) fields[`X-Browser-${i}`] = 'v'.repeat(100);
      const r = await get('/a.txt', fields);
      expectStatus(r, 200);
      expect(parseSetCookie(r.header('set-cookie')!).value).toBe('3');
    });
    it('an Upgrade request (h2c) is ignored: a plain HTTP/1.1 200', async () => {
      const r = await get('/a.txt', { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' });
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['a.txt']);
    });
    it('field names are case-insensitive and values are trimmed', async () => {
      const { r } = await exchange(`GET /a.txt HTTP/1.1\r\nhOsT:   ${host}  \r\nconnection:   CLOSE \r\n\r\n`);
      expectStatus(r, 200);
      expect(r.header('connection')).toMatch(/^close$/i);
    });
  });

  describe('traversal: 403 and nothing outside the root, however it is spelled', () => {
    const spellings = [
      '/../secret.html',
      '/../../../../../../etc/passwd',
      '/..',
      '/%2e%2e/secret.html',
      '/%2E%2E/secret.html',
      '/.%2e/secret.html',
      '/%2e./secret.html',
      '/..%2fsecret.html',
      '/%2e%2e%2fsecret.html',
      '/sub/../../secret.html',
      '/sub/%2e%2e/%2e%2e/secret.html',
      '/sub/..%2f..%2fsecret.html',
      '/%2fetc%2fpasswd',
      '/..\\secret.html',
      '/sub\\..\\..\\secret.html',
      '/..%5csecret.html',
      '/%5c..%5c..%5csecret.html',
      '/index.html%00',
      '/../secret.txt%00.html',
      '/%00../secret.html',
      '/../www-private/secret.html',
      '/%2e%2e/www-private/secret.html',
      '/escape.html',
      '/escape-relative.html',
      '/escape-dir/secret.html',
    ];
    it.each(spellings)('GET %s → 403', async (target) => {
      const { c, r } = await exchange(req('GET', target, { Host: host }));
      expectStatus(r, 403);
      expectCommonHeaders(r);
      expectErrorPage(r);
      await expectConnectionConsistent(c, r, host);
    });
    it.each(['/../secret.html', '/escape.html', '/%2e%2e/secret.html'])('HEAD %s → 403 without a body', async (target) => {
      const { r } = await exchange(req('HEAD', target, { Host: host }), 'HEAD');
      expectStatus(r, 403);
      expect(r.body.length).toBe(0);
    });
    it('an absolute file-system path in the target stays inside the root (403 or 404, never the file)', async () => {
      // "//tmp/.../secret.html": joined to the root, not taken as an absolute path.
      for (const target of [`/${w.dir}/secret.html`, `/%2F${w.dir.slice(1)}/secret.html`, `/.//..//${path.basename(w.dir)}/secret.html`]) {
        const r = await get(target);
        expect([403, 404], target).toContain(r.status);
      }
      const passwd = await get('//etc/passwd');
      expect([403, 404, 415]).toContain(passwd.status);
      expect(passwd.body.toString()).not.toMatch(/root:.*:0:0:/);
    });
    it.each([
      ['a small file (kept in the server cache)', 'small', 300],
      ['a big file (streamed)', 'big', 3 * 1024 * 1024],
    ] as const)('%s replaced by a symlink pointing outside: never the secret, 403 once the cache revalidates', async (_label, kind, size) => {
      // The file is served (and cached), then swapped for a symlink to an outside file.
      const name = `swap-${kind}-${transportName}.html`;
      const inside = w.put(name, `<html>${'i'.repeat(size)}</html>`);
      const outside = path.join(w.dir, `outside-${name}`);
      fs.writeFileSync(outside, `<html>${SECRET}${'o'.repeat(size)}</html>`);
      expectStatus(await get(`/${name}`), 200);
      fs.rmSync(inside);
      fs.symlinkSync(outside, inside);
      let status = 0;
      for (let i = 0; i < 40 && status !== 403; i++) {
        const { c, r } = await exchange(req('GET', `/${name}`, { Host: host }));
        expectNoSecret(r);
        status = r.status;
        c.destroy();
        if (status !== 403) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(403);
    });
    it('a directory replaced by a symlink to an outside directory: 403', async () => {
      const dir = `swapdir-${transportName}`;
      w.put(`${dir}/page.html`, '<html>inside</html>');
      fs.mkdirSync(path.join(w.dir, `outside-${dir}`));
      fs.writeFileSync(path.join(w.dir, `outside-${dir}`, 'page.html'), `<html>${SECRET}</html>`);
      expectStatus(await get(`/${dir}/page.html`), 200);
      fs.rmSync(path.join(w.root, dir), { recursive: true });
      fs.symlinkSync(path.join(w.dir, `outside-${dir}`), path.join(w.root, dir));
      let status = 0;
      for (let i = 0; i < 40 && status !== 403; i++) {
        const { c, r } = await exchange(req('GET', `/${dir}/page.html`, { Host: host }));
        expectNoSecret(r);
        status = r.status;
        c.destroy();
        if (status !== 403) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(403);
    });
    it('absolute-form with dot segments → 403', async () => {
      const r = await get(`http://${host}/../secret.html`);
      expectStatus(r, 403);
    });
    it('double-encoded dots are a name, not a way out: never the secret', async () => {
      const r = await get('/%252e%252e/secret.html');
      expect([403, 404]).toContain(r.status);
      expectNoSecret(r);
    });
    it('the secret really is readable outside the root (the test is meaningful)', () => {
      expect(fs.readFileSync(path.join(w.dir, 'www-private', 'secret.html'), 'utf8')).toContain(SECRET);
      expect(fs.readFileSync(path.join(w.root, 'escape.html'), 'utf8')).toContain(SECRET);
    });
  });

  describe('methods', () => {
    it.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'BREW', 'get'])('%s → 405 with Allow: GET, HEAD', async (method) => {
      const target = method === 'CONNECT' ? `${host}:443` : '/index.html';
      const body = method === 'POST' || method === 'PUT' ? 'GET /a.txt HTTP/1.1\r\nHost: smuggled\r\n\r\n' : '';
      const fields: Record<string, string> = body ? { 'Content-Length': String(body.length), 'Content-Type': 'text/plain' } : {};
      const { c, r } = await exchange(req(method, target, { Host: host, ...fields }, body), method);
      expectStatus(r, 405);
      expect(r.header('allow')).toBe('GET, HEAD');
      expectCommonHeaders(r);
      expectErrorPage(r);
      // The body of the refused request is consumed, never parsed as a request (no smuggling).
      await expectConnectionConsistent(c, r, host);
    });
    it('OPTIONS * → 405 with Allow: GET, HEAD', async () => {
      const { r } = await exchange(req('OPTIONS', '*', { Host: host }), 'OPTIONS');
      expectStatus(r, 405);
      expect(r.header('allow')).toBe('GET, HEAD');
    });

    it('HEAD has the headers of GET and no body', async () => {
      const c = await connect();
      c.write(req('HEAD', '/pic.jpg', { Host: host }) + req('GET', '/pic.jpg', { Host: host }));
      const head = await readResponse(c, 'HEAD');
      const got = await readResponse(c, 'GET');
      expectStatus(head, 200);
      expectStatus(got, 200);
      expect(head.body.length).toBe(0);
      for (const name of ['content-type', 'content-length', 'last-modified', 'etag', 'connection']) {
        expect(head.header(name), name).toBe(got.header(name));
      }
      expect(Number(head.header('content-length'))).toBe((FILES['pic.jpg'] as Buffer).length);
      expect(Buffer.compare(got.body, FILES['pic.jpg'] as Buffer)).toBe(0);
    });
    it('HEAD of a missing file: 404 headers, no body', async () => {
      const c = await connect();
      c.write(req('HEAD', '/nope.html', { Host: host }) + req('GET', '/a.txt', { Host: host }));
      const head = await readResponse(c, 'HEAD');
      expectStatus(head, 404);
      expect(Number(head.header('content-length'))).toBeGreaterThan(0);
      const next = await readResponse(c);
      expectStatus(next, 200);
    });
  });

  describe('the form of 2019/20 (POST /accion_form.html, email, URL-encoded)', () => {
    const email = () => w.s.users[0]!.email;
    const post = async (body: string, on: Transport = t) => {
      const raw = req(
        'POST',
        '/accion_form.html',
        { Host: host, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) },
        body,
      );
      const { c, r } = await exchange(raw, 'POST', on);
      expectCommonHeaders(r);
      await expectConnectionConsistent(c, r, host);
      return r;
    };
    it('the configured email gets the "correct" page, another one the "wrong" page', async () => {
      const right = await post(`email=${encodeURIComponent(email())}`);
      const wrong = await post(`email=${encodeURIComponent(`x${email()}`)}`);
      expectStatus(right, 200);
      expectStatus(wrong, 200);
      expect(mediaType(right.header('content-type'))).toBe('text/html');
      expect(mediaType(wrong.header('content-type'))).toBe('text/html');
      expect(right.body.toString()).not.toBe(wrong.body.toString());
      expect(right.body.toString()).toMatch(/correct/i);
      expect(wrong.body.toString()).toMatch(/wrong|incorrect/i);
      expect(wrong.body.toString()).not.toContain(`x${email()}`.replace('@', ''));
    });
    it('decodes the URL-encoding and finds the field among others', async () => {
      const right = await post(`name=a+b&email=${encodeURIComponent(email()).replace('%40', '%40')}&x=%2B`);
      expect(right.body.toString()).toMatch(/correct/i);
      expect(right.body.toString()).not.toMatch(/wrong|incorrect/i);
    });
    it('a form body larger than the server reads is refused (413) and the connection closed', async () => {
      const raw = req(
        'POST',
        '/accion_form.html',
        { Host: host, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '1000000000000' },
        'email=',
      );
      const { c, r } = await exchange(raw, 'POST');
      expect(r.statusLine).toBe('HTTP/1.1 413 Content Too Large');
      expect(r.header('connection')).toMatch(/^close$/i);
      await expectClosedQuietly(c);
    });
    it('a form POST without Content-Length → 411 Length Required (RFC 9110 §15.5.12) or an empty form (wrong page)', async () => {
      const { c, r } = await exchange(req('POST', '/accion_form.html', { Host: host, 'Content-Type': 'application/x-www-form-urlencoded' }), 'POST');
      if (r.status === 411) expect(r.statusLine).toBe('HTTP/1.1 411 Length Required');
      else {
        expectStatus(r, 200);
        expect(r.body.toString()).toMatch(/wrong|incorrect/i);
      }
      await expectConnectionConsistent(c, r, host);
    });
    it('Expect: 100-continue on the form: 100 Continue first, then the answer (RFC 9110 §10.1.1)', async () => {
      const body = `email=${encodeURIComponent(email())}`;
      const c = await connect();
      c.write(
        req('POST', '/accion_form.html', {
          Host: host,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': String(body.length),
          Expect: '100-continue',
        }),
      );
      const interim = await readResponse(c, 'POST', 2000);
      expect(interim.statusLine).toBe('HTTP/1.1 100 Continue');
      c.write(body);
      const r = await readResponse(c, 'POST');
      expectStatus(r, 200);
      expect(r.body.toString()).toMatch(/correct/i);
    });
    it('Expect: 100-continue where the answer is already known: the final status at once, no 100', async () => {
      const c = await connect();
      // The body is never sent: a server that waited for it would end in its header timeout (408)
      // or a 100 first; the 405 can only come at once.
      c.write(req('POST', '/index.html', { Host: host, 'Content-Type': 'text/plain', 'Content-Length': '1000', Expect: '100-continue' }));
      const r = await readResponse(c, 'POST');
      expectStatus(r, 405);
    });
    it('a form body that arrives in pieces, pipelined with a GET behind it', async () => {
      const body = `email=${encodeURIComponent(email())}`;
      const c = await connect();
      c.socket.setNoDelay(true);
      c.write(req('POST', '/accion_form.html', { Host: host, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) }));
      for (let i = 0; i < body.length; i += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        c.write(body.slice(i, i + 5) + (i + 5 >= body.length ? req('GET', '/a.txt', { Host: host }) : ''));
      }
      const r = await readResponse(c, 'POST');
      expectStatus(r, 200);
      expect(r.body.toString()).toMatch(/correct/i);
      expect(r.body.toString()).not.toMatch(/wrong|incorrect/i);
      const next = await readResponse(c);
      expectStatus(next, 200);
      expect(next.body.toString()).toBe(FILES['a.txt']);
    });
    it('a chunked form body is read (RFC 9112 §7.1: a recipient MUST be able to parse chunked)', async () => {
      const value = `email=${encodeURIComponent(email())}`;
      const chunked = `6\r\n${value.slice(0, 6)}\r\n${(value.length - 6).toString(16)};ext=1\r\n${value.slice(6)}\r\n0\r\n\r\n`;
      const { c, r } = await exchange(
        `POST /accion_form.html HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
        'POST',
      );
      expectStatus(r, 200);
      expect(r.body.toString()).toMatch(/correct/i);
      expect(r.body.toString()).not.toMatch(/wrong|incorrect/i);
      await expectConnectionConsistent(c, r, host);
    });
    it('a chunked form body with a trailer section, then a pipelined GET', async () => {
      const value = `email=${encodeURIComponent(email())}`;
      const c = await connect();
      c.write(
        `POST /accion_form.html HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `${value.length.toString(16)}\r\n${value}\r\n0\r\nX-Trailer: 1\r\n\r\n` +
          req('GET', '/a.txt', { Host: host }),
      );
      const r = await readResponse(c, 'POST');
      expectStatus(r, 200);
      expect(r.body.toString()).toMatch(/correct/i);
      const next = await readResponse(c);
      expectStatus(next, 200);
      expect(next.body.toString()).toBe(FILES['a.txt']);
    });
    it('a chunked body sent to a refused method is skipped, never read as a request (no smuggling)', async () => {
      const smuggled = req('GET', '/../secret.html', { Host: host });
      const raw =
        `POST /index.html HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n` + `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      const { c, r } = await exchange(raw, 'POST');
      expectStatus(r, 405);
      await expectConnectionConsistent(c, r, host);
    });
    it('without a configured email the form is 405 with Allow: GET, HEAD', async () => {
      const r = await post(`email=${encodeURIComponent(email())}`, noForm.byName(transportName));
      expectStatus(r, 405);
      expect(r.header('allow')).toBe('GET, HEAD');
    });
    it('GET /accion_form.html serves the form page', async () => {
      const r = await get('/accion_form.html');
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['accion_form.html']);
    });
  });

  describe('Range (RFC 9110 §14)', () => {
    const text = FILES['a.txt'] as string;
    const size = Buffer.byteLength(text);
    const range = async (spec: string) => get('/a.txt', { Range: spec });
    it('bytes=0-9 → 206 with Content-Range and the slice', async () => {
      const r = await range('bytes=0-9');
      expectStatus(r, 206);
      expect(r.header('content-range')).toBe(`bytes 0-9/${size}`);
      expect(r.header('content-length')).toBe('10');
      expect(r.body.toString()).toBe(text.slice(0, 10));
    });
    it('bytes=5- → the rest', async () => {
      const r = await range('bytes=5-');
      expectStatus(r, 206);
      expect(r.header('content-range')).toBe(`bytes 5-${size - 1}/${size}`);
      expect(r.body.toString()).toBe(text.slice(5));
    });
    it('bytes=-7 → the last seven', async () => {
      const r = await range('bytes=-7');
      expectStatus(r, 206);
      expect(r.header('content-range')).toBe(`bytes ${size - 7}-${size - 1}/${size}`);
      expect(r.body.toString()).toBe(text.slice(-7));
    });
    it('a last-pos beyond the end is clamped', async () => {
      const r = await range('bytes=10-999999');
      expectStatus(r, 206);
      expect(r.header('content-range')).toBe(`bytes 10-${size - 1}/${size}`);
      expect(r.body.toString()).toBe(text.slice(10));
    });
    it('a first-pos at or beyond the end → 416 with Content-Range: bytes */size', async () => {
      for (const spec of [`bytes=${size}-`, `bytes=${size + 100}-${size + 200}`, 'bytes=-0']) {
        const r = await range(spec);
        expectStatus(r, 416);
        expect(r.header('content-range')).toBe(`bytes */${size}`);
        expect(r.header('set-cookie')).toBeUndefined();
      }
    });
    it('a Range in an unknown unit is ignored (200, whole body)', async () => {
      const r = await range('items=0-5');
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(text);
    });
    it('decision: several ranges are not served as multipart; the whole body comes back (200)', async () => {
      const r = await range('bytes=0-1,4-5');
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(text);
    });
    it('If-Range with the current ETag → 206; with another validator → 200 whole (RFC 9110 §13.1.5)', async () => {
      const etag = (await get('/a.txt')).header('etag')!;
      const hit = await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': etag });
      expectStatus(hit, 206);
      expect(hit.body.toString()).toBe(text.slice(0, 4));
      const miss = await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': '"stale"' });
      expectStatus(miss, 200);
      expect(miss.body.toString()).toBe(text);
      // If-Range uses the strong comparison: a weak tag never matches.
      expectStatus(await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': `W/${etag.replace(/^W\//, '')}` }), 200);
      // An HTTP-date validator equal to Last-Modified → the range.
      const lastModified = (await get('/a.txt')).header('last-modified')!;
      expectStatus(await get('/a.txt', { Range: 'bytes=0-3', 'If-Range': lastModified }), 206);
    });
    it('an empty file: 200 with Content-Length: 0; bytes=0- on it → 416 bytes */0', async () => {
      const r = await get('/empty.txt');
      expectStatus(r, 200);
      expect(r.header('content-length')).toBe('0');
      const ranged = await get('/empty.txt', { Range: 'bytes=0-' });
      expectStatus(ranged, 416);
      expect(ranged.header('content-range')).toBe('bytes */0');
    });
    it('Range with HEAD: 206 headers, no body', async () => {
      const { r } = await exchange(req('HEAD', '/a.txt', { Host: host, Range: 'bytes=0-9' }), 'HEAD');
      expectStatus(r, 206);
      expect(r.header('content-range')).toBe(`bytes 0-9/${size}`);
      expect(r.body.length).toBe(0);
    });
  });

  describe('conditional requests (RFC 9110 §13)', () => {
    let etag: string;
    let lastModified: string;
    beforeAll(async () => {
      const r = await get('/style.css');
      etag = r.header('etag')!;
      lastModified = r.header('last-modified')!;
    });
    const expect304 = async (fields: Record<string, string>) => {
      const c = await connect();
      c.write(req('GET', '/style.css', { Host: host, ...fields }) + req('GET', '/a.txt', { Host: host }));
      const r = await readResponse(c);
      expectStatus(r, 304);
      expectCommonHeaders(r);
      expect(r.header('etag')).toBe(etag);
      // No body: the next response follows the head immediately.
      const next = await readResponse(c);
      expectStatus(next, 200);
      expect(next.body.toString()).toBe(FILES['a.txt']);
      return r;
    };
    it('If-None-Match with the ETag → 304, ETag repeated, no body', async () => {
      await expect304({ 'If-None-Match': etag });
    });
    it('If-None-Match with a list containing the ETag, or *, → 304', async () => {
      await expect304({ 'If-None-Match': `"nope", ${etag}` });
      await expect304({ 'If-None-Match': '*' });
    });
    it('weak comparison: W/ form of the ETag → 304', async () => {
      await expect304({ 'If-None-Match': etag.startsWith('W/') ? etag : `W/${etag}` });
    });
    it('If-None-Match without a match → 200', async () => {
      const r = await get('/style.css', { 'If-None-Match': '"does-not-match"' });
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['style.css']);
    });
    it('If-Modified-Since at or after Last-Modified → 304', async () => {
      await expect304({ 'If-Modified-Since': lastModified });
      await expect304({ 'If-Modified-Since': new Date(parseImfDate(lastModified) + 3600_000).toUTCString() });
    });
    it('If-Modified-Since before Last-Modified → 200', async () => {
      const r = await get('/style.css', { 'If-Modified-Since': new Date(parseImfDate(lastModified) - 86400_000).toUTCString() });
      expectStatus(r, 200);
    });
    it('If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.2.2)', async () => {
      const r = await get('/style.css', { 'If-None-Match': '"does-not-match"', 'If-Modified-Since': lastModified });
      expectStatus(r, 200);
      expect(r.body.toString()).toBe(FILES['style.css']);
    });
    it('a file changed on disk gets a new ETag: the old one no longer yields 304', async () => {
      const name = `changing-${transportName}.txt`;
      const file = w.put(name, 'first version\n');
      const first = await get(`/${name}`);
      const oldTag = first.header('etag')!;
      fs.writeFileSync(file, 'second, longer version\n');
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      // The server may trust its cache for a moment (like nginx's open_file_cache_valid).
      let r = await get(`/${name}`, { 'If-None-Match': oldTag });
      for (let i = 0; i < 30 && r.status === 304; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        r = await get(`/${name}`, { 'If-None-Match': oldTag });
      }
      expectStatus(r, 200);
      expect(r.body.toString()).toBe('second, longer version\n');
      expect(r.header('etag')).not.toBe(oldTag);
    });
    it('an unparseable If-Modified-Since is ignored → 200', async () => {
      const r = await get('/style.css', { 'If-Modified-Since': 'yesterday, more or less' });
      expectStatus(r, 200);
    });
  });

  describe('the cookie of the lab (cookie_counter, 2 minutes, tenth access refused)', () => {
    const cookieOf = (r: HttpResponse) => {
      const all = r.all('set-cookie');
      expect(all.length, r.head).toBe(1);
      return parseSetCookie(all[0]!);
    };
    it('no cookie → cookie_counter=1; Max-Age=120; Expires two minutes ahead; Path=/; HttpOnly', async () => {
      const r = await get('/a.txt');
      expectStatus(r, 200);
      const c = cookieOf(r);
      expect(c.name).toBe('cookie_counter');
      expect(c.value).toBe('1');
      expect(c.attrs.get('max-age')).toBe('120');
      expect(c.attrs.get('path')).toBe('/');
      expect(c.attrs.has('httponly')).toBe(true);
      const expires = parseImfDate(c.attrs.get('expires')!);
      expect(Math.abs(expires - (parseImfDate(r.header('date')!) + 120_000))).toBeLessThanOrEqual(1000);
    });
    it('the sequence 1..10, then a request carrying 10 → 403 without Set-Cookie', async () => {
      let cookie: string | undefined;
      const c = await connect();
      for (let n = 1; n <= 10; n++) {
        c.write(req('GET', '/a.txt', { Host: host, ...(cookie ? { Cookie: cookie } : {}) }));
        const r = await readResponse(c);
        expectStatus(r, 200);
        const set = cookieOf(r);
        expect(set.value).toBe(String(n));
        cookie = `${set.name}=${set.value}`;
      }
      expect(cookie).toBe('cookie_counter=10');
      c.write(req('GET', '/a.txt', { Host: host, Cookie: cookie! }));
      const refused = await readResponse(c);
      expectStatus(refused, 403);
      expectErrorPage(refused);
      expect(refused.all('set-cookie')).toEqual([]);
    });
    it('the counter is found among other cookies', async () => {
      const r = await get('/a.txt', { Cookie: 'a=b; cookie_counter=3; c=d' });
      expect(cookieOf(r).value).toBe('4');
    });
    it('206 is a success and sets it; 304 and 416 do not', async () => {
      expect(cookieOf(await get('/a.txt', { Range: 'bytes=0-1', Cookie: 'cookie_counter=4' })).value).toBe('5');
      const etag = (await get('/a.txt')).header('etag')!;
      expect((await get('/a.txt', { 'If-None-Match': etag })).all('set-cookie')).toEqual([]);
      expect((await get('/a.txt', { Range: 'bytes=99999-' })).all('set-cookie')).toEqual([]);
    });
    it('decision: a counter above the limit is refused as well', async () => {
      const r = await get('/a.txt', { Cookie: 'cookie_counter=11' });
      expectStatus(r, 403);
      expect(r.all('set-cookie')).toEqual([]);
    });
    it('only successful responses set it (404, 403, 405, 400 do not)', async () => {
      for (const r of [await get('/nope.html'), await get('/../secret.html'), await request('DELETE', '/a.txt')]) {
        expect(r.all('set-cookie'), r.statusLine).toEqual([]);
      }
      const { r } = await exchange('GET /a.txt HTTP/1.1\r\n\r\n');
      expectStatus(r, 400);
      expect(r.all('set-cookie')).toEqual([]);
    });
  });

  describe('persistent connections (RFC 9112 §9)', () => {
    it('HTTP/1.1 stays open: two requests one after the other on one connection', async () => {
      const c = await connect();
      for (const p of ['/a.txt', '/style.css']) {
        c.write(req('GET', p, { Host: host }));
        const r = await readResponse(c);
        expectStatus(r, 200);
        expect(r.header('connection')).toMatch(/^keep-alive$/i);
        expect(r.body.toString()).toBe(FILES[p.slice(1)]);
      }
      expect(c.isClosed()).toBe(false);
    });
    it('Connection: close is honoured: close announced, no Keep-Alive, then the server closes', async () => {
      const c = await connect();
      c.write(req('GET', '/a.txt', { Host: host, Connection: 'close' }) + req('GET', '/style.css', { Host: host }));
      const r = await readResponse(c);
      expectStatus(r, 200);
      expect(r.header('connection')).toMatch(/^close$/i);
      expect(r.header('keep-alive')).toBeUndefined();
      await expectClosedQuietly(c);
    });
    it('a close option among others in Connection is honoured', async () => {
      const c = await connect();
      c.write(req('GET', '/a.txt', { Host: host, Connection: 'TE, Close' }));
      const r = await readResponse(c);
      expect(r.header('connection')).toMatch(/^close$/i);
      await expectClosedQuietly(c);
    });
    it('HTTP/1.0 closes unless it asks for keep-alive', async () => {
      const c = await connect();
      c.write('GET /a.txt HTTP/1.0\r\n\r\n');
      const r = await readResponse(c);
      expectStatus(r, 200);
      expect(r.version).toBe('HTTP/1.1');
      expect(r.header('connection')).toMatch(/^close$/i);
      expect(r.header('keep-alive')).toBeUndefined();
      await expectClosedQuietly(c);
    });
    it('HTTP/1.0 with Connection: keep-alive stays open', async () => {
      const c = await connect();
      for (let i = 0; i < 2; i++) {
        c.write('GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
        const r = await readResponse(c);
        expectStatus(r, 200);
        expect(r.header('connection')).toMatch(/^keep-alive$/i);
        expect(r.header('keep-alive')).toMatch(/^timeout=5, max=\d+$/);
      }
    });
    it('Keep-Alive max counts down the requests left on the connection', async () => {
      const c = await connect();
      const maxes: number[] = [];
      for (let i = 0; i < 3; i++) {
        c.write(req('GET', '/a.txt', { Host: host }));
        const r = await readResponse(c);
        maxes.push(Number(/max=(\d+)/.exec(r.header('keep-alive')!)![1]));
      }
      expect(maxes).toEqual([MAX_REQUESTS - 1, MAX_REQUESTS - 2, MAX_REQUESTS - 3]);
    });
  });
});

// Defined last so it runs after both transports: nothing outside the root went out on any connection of the suite.
describe('the secret outside the root', () => {
  it('never appeared in any byte received by any test of this file', () => {
    expect(w.leaks()).toEqual([]);
  });
});
