// Shared expectations of the conformance suite: exact status lines, the headers every response
// carries, and the connection invariant (a response either says `Connection: close` and the
// server closes, or the connection still answers the next request correctly: no desync).
import { expect } from 'vitest';
import type { RawClient } from '@sstt/testkit';
import { SECRET } from './world.ts';
import { parseImfDate, readResponse, req, type HttpResponse } from './wire.ts';

/** Reason phrases of RFC 9110 §15 (the server's status lines must use them). */
export const REASON: Record<number, string> = {
  200: 'OK',
  206: 'Partial Content',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function expectStatus(r: HttpResponse, status: number): void {
  expect(r.statusLine, r.head).toBe(`HTTP/1.1 ${status} ${REASON[status]}`);
}

/** The media type of a Content-Type value, without parameters, lower-cased. */
export function mediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase();
}

/**
 * Headers every response carries (issue #6): Date (IMF-fixdate, now), Server, Content-Type and
 * Content-Length (except 304, RFC 9110 §15.4.5), Connection, and Keep-Alive exactly when the
 * connection stays open.
 */
export function expectCommonHeaders(r: HttpResponse, opts: { idleSeconds?: number } = {}): void {
  const date = r.header('date');
  expect(date, `Date in ${r.head}`).toBeDefined();
  expect(Math.abs(parseImfDate(date!) - Date.now())).toBeLessThan(5000);
  expect(r.header('server'), `Server in ${r.head}`).toMatch(/\S/);
  if (r.status !== 304) {
    expect(r.header('content-type'), `Content-Type in ${r.head}`).toMatch(/\S/);
    expect(r.header('content-length'), `Content-Length in ${r.head}`).toMatch(/^\d+$/);
  }
  const connection = r.header('connection')?.toLowerCase();
  expect(['keep-alive', 'close'], `Connection in ${r.head}`).toContain(connection);
  const ka = r.header('keep-alive');
  if (connection === 'keep-alive') {
    expect(ka, `Keep-Alive in ${r.head}`).toMatch(/^timeout=\d+, max=\d+$/);
    if (opts.idleSeconds !== undefined) expect(ka).toMatch(new RegExp(`^timeout=${opts.idleSeconds}, `));
  } else {
    expect(ka, `no Keep-Alive on a closing response: ${r.head}`).toBeUndefined();
  }
}

/** An error page: small HTML that says what happened (its status) and does not leak the secret. */
export function expectErrorPage(r: HttpResponse): void {
  expect(mediaType(r.header('content-type'))).toBe('text/html');
  if (r.body.length) expect(r.body.toString(), 'the page names its status').toContain(String(r.status));
  expect(r.body.length).toBeGreaterThan(0);
  expect(r.body.length).toBeLessThan(4096);
  expect(r.header('set-cookie'), 'errors set no cookie').toBeUndefined();
  expectNoSecret(r);
}

export function expectNoSecret(r: HttpResponse | Buffer | string): void {
  const text = typeof r === 'string' ? r : Buffer.isBuffer(r) ? r.toString('latin1') : r.head + r.body.toString('latin1');
  expect(text.includes(SECRET), 'a file outside the web root was sent').toBe(false);
}

/**
 * After a response: if it announced `Connection: close` the server must close without sending
 * anything more; otherwise the connection must answer a following GET correctly.
 */
export async function expectConnectionConsistent(client: RawClient, r: HttpResponse, host: string): Promise<void> {
  if (r.header('connection')?.toLowerCase() === 'close') {
    const rest = await client.readToEnd(3000);
    expect(rest.toString('latin1'), 'bytes after a Connection: close response').toBe('');
    return;
  }
  client.write(req('GET', '/a.txt', { Host: host }));
  const next = await readResponse(client);
  expectStatus(next, 200);
  expect(next.body.toString()).toMatch(/^plain text/);
}

/** Expects the server to close (within timeoutMs) without sending anything more. */
export async function expectClosedQuietly(client: RawClient, timeoutMs = 3000): Promise<void> {
  const rest = await client.readToEnd(timeoutMs);
  expect(rest.toString('latin1')).toBe('');
}
