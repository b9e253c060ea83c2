import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { isOverLimit, readCounter, setCookieValue } from './cookie.ts';
import { currentHttpDate, formatHttpDate, parseHttpDate } from './http-date.ts';
import { BufferedLog, clfDate, combinedLine, labLine, logSafe } from './log.ts';
import { errorPage } from './status.ts';

const rule = { name: 'cookie_counter', maxAgeSeconds: 120, limit: 10 };

describe('cookie', () => {
  it('reads the counter among other cookies; junk counts as none', () => {
    expect(readCounter(undefined, rule.name)).toBe(0);
    expect(readCounter('a=1; cookie_counter=7; b=2', rule.name)).toBe(7);
    expect(readCounter('cookie_counter=abc', rule.name)).toBe(0);
    expect(readCounter('xcookie_counter=5', rule.name)).toBe(0);
  });
  it('sets N+1 for two minutes, Path=/, HttpOnly', () => {
    const now = Date.UTC(2026, 0, 1, 10, 0, 0);
    expect(setCookieValue(0, rule, now)).toBe('cookie_counter=1; Max-Age=120; Expires=Thu, 01 Jan 2026 10:02:00 GMT; Path=/; HttpOnly');
    expect(setCookieValue(9, rule, now)).toMatch(/^cookie_counter=10;/);
  });
  it('refuses the request that already carries the limit', () => {
    expect(isOverLimit(9, rule)).toBe(false);
    expect(isOverLimit(10, rule)).toBe(true);
    expect(isOverLimit(11, rule)).toBe(true);
  });
});

describe('HTTP dates', () => {
  it('formats IMF-fixdate', () => {
    expect(formatHttpDate(Date.UTC(1994, 10, 6, 8, 49, 37, 500))).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(currentHttpDate()).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
  it('parses the three forms of RFC 9110 §5.6.7 and refuses junk', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
    expect(parseHttpDate('yesterday')).toBeUndefined();
    expect(parseHttpDate('Sun, 06 Foo 1994 08:49:37 GMT')).toBeUndefined();
  });
});

describe('logs', () => {
  it('writes Combined Log Format with escaped client input', () => {
    const line = combinedLine({ remote: '127.0.0.1', requestLine: 'GET /a"b\x01 HTTP/1.1', status: 200, bytes: 12, userAgent: 'curl/8' });
    expect(line).toMatch(/^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/a\\x22b\\x01 HTTP\/1\.1" 200 12 "-" "curl\/8"\n$/);
    expect(combinedLine({ remote: 'h', requestLine: '-', status: 304, bytes: 0 })).toContain('" 304 - "-" "-"');
    expect(clfDate()).toMatch(/^\[.*\]$/);
  });
  it('writes the lab lines', () => {
    expect(labLine('NOT FOUND', '1.2.3.4', 'GET /x HTTP/1.1 404')).toMatch(/^NOT FOUND: \S+ 1\.2\.3\.4 GET \/x HTTP\/1\.1 404\n$/);
    expect(logSafe('a\nb')).toBe('a\\x0ab');
  });
  it('buffers lines and appends them on flush and close', async () => {
    const t = tempDir('sstt-http-log-');
    const file = path.join(t.dir, 'deep', 'access.log');
    const log = new BufferedLog(file);
    log.open();
    log.write('one\n');
    log.write('two\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    await log.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('one\ntwo\n');
    t.remove();
  });
});

describe('error pages', () => {
  it('are small HTML naming the status', () => {
    const p = errorPage(404).toString();
    expect(p).toContain('<title>404 Not Found</title>');
    expect(p.length).toBeLessThan(400);
  });
});
