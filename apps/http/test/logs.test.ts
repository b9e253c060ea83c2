// The two logs: access.log in Combined Log Format (Apache's "combined") and the lab's
// webserver.log with INFO: / FORBIDDEN: / NOT FOUND: / ERROR: lines, over TCP and TLS. The
// server is closed before the files are read (close() flushes the buffered logs).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus } from './expect.ts';
import { readResponse, req } from './wire.ts';
import { createWorld, FILES, type World } from './world.ts';

let w: World;

beforeAll(async () => {
  w = await createWorld();
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

/** One quoted field of the combined format: quotes and backslashes inside are escaped. */
const Q = '"((?:[^"\\\\]|\\\\.)*)"';
/** host ident authuser [date] "request" status bytes "referer" "user-agent" */
const COMBINED = new RegExp(
  `^(\\S+) (\\S+) (-|\\S+|${Q}) \\[(\\d{2}/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})\\] ${Q} (\\d{3}) (\\d+|-) ${Q} ${Q}$`,
);

interface AccessLine {
  host: string;
  request: string;
  status: number;
  bytes: string;
  referer: string;
  agent: string;
}

function parseAccess(line: string): AccessLine {
  const m = COMBINED.exec(line);
  if (!m) throw new Error(`not a Combined Log Format line: ${JSON.stringify(line)}`);
  return { host: m[1]!, request: m[6]!, status: Number(m[7]), bytes: m[8]!, referer: m[9]!, agent: m[10]! };
}

describe.each(['tcp', 'tls'] as const)('over %s', (name) => {
  let access: string[];
  let lab: string[];
  let logDir: string;

  beforeAll(async () => {
    logDir = path.join(w.dir, `logs-${name}`);
    const server = await w.start({ logDir });
    const c = await server.byName(name).connect();
    const send = async (raw: string, method = 'GET') => {
      c.write(raw);
      return readResponse(c, method);
    };
    expectStatus(await send(req('GET', '/a.txt', { Host: w.www, Referer: 'http://referer.example/page', 'User-Agent': `agent-${name}/1.0` })), 200);
    expectStatus(await send(req('HEAD', '/a.txt', { Host: w.www }), 'HEAD'), 200);
    expectStatus(await send(req('GET', '/nope.html', { Host: w.www })), 404);
    expectStatus(await send(req('GET', '/../secret.html', { Host: w.www })), 403);
    expectStatus(await send(req('GET', '/a.txt', { Host: w.www, 'User-Agent': 'evil" 200 1 "x\\' })), 200);
    expectStatus(await send(req('GET', '/nope%0aINFO:%20forged.html', { Host: w.www })), 404);
    expectStatus(await send('GET / HTTP/1.1\r\n\r\n'), 400);
    c.destroy();
    await server.close();
    access = fs.readFileSync(path.join(logDir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    lab = fs.readFileSync(path.join(logDir, 'webserver.log'), 'utf8').split('\n').filter(Boolean);
  }, 30_000);

  it('every access.log line is in Combined Log Format', () => {
    expect(access.length).toBeGreaterThanOrEqual(7);
    for (const line of access) parseAccess(line);
  });

  it('a GET: client address, request line, status, bytes, Referer and User-Agent', () => {
    const e = access.map(parseAccess).find((x) => x.agent === `agent-${name}/1.0`);
    expect(e, access.join('\n')).toBeDefined();
    expect(e).toEqual({
      host: '127.0.0.1',
      request: 'GET /a.txt HTTP/1.1',
      status: 200,
      bytes: String(Buffer.byteLength(FILES['a.txt'] as string)),
      referer: 'http://referer.example/page',
      agent: `agent-${name}/1.0`,
    });
  });

  it('HEAD sends no body: bytes are "-"; a 404 and a 403 are logged with their status', () => {
    const all = access.map(parseAccess);
    expect(all.find((x) => x.request === 'HEAD /a.txt HTTP/1.1')?.bytes).toBe('-');
    expect(all.find((x) => x.request === 'GET /nope.html HTTP/1.1')?.status).toBe(404);
    expect(all.find((x) => x.request === 'GET /../secret.html HTTP/1.1')?.status).toBe(403);
  });

  it('a quote in the User-Agent cannot forge fields (escaped, the line still parses)', () => {
    const evil = access.map(parseAccess).find((x) => x.agent.startsWith('evil'));
    expect(evil, access.join('\n')).toBeDefined();
    expect(evil!.status).toBe(200);
    expect(evil!.agent).not.toMatch(/(^|[^\\])"/);
  });

  it('webserver.log: INFO: for a success, NOT FOUND: for a 404, FORBIDDEN: for a 403, ERROR: for a 400', () => {
    const text = lab.join('\n');
    expect(text).toMatch(/^INFO: .*GET \/a\.txt HTTP\/1\.1.* 200/m);
    expect(text).toMatch(/^NOT FOUND: .*GET \/nope\.html HTTP\/1\.1.* 404/m);
    expect(text).toMatch(/^FORBIDDEN: .*GET \/\.\.\/secret\.html HTTP\/1\.1.* 403/m);
    expect(text).toMatch(/^ERROR: .*400/m);
  });

  it('every webserver.log line starts with one of the lab kinds, and nothing is forged', () => {
    for (const line of lab) expect(line).toMatch(/^(INFO|FORBIDDEN|NOT FOUND|ERROR): /);
    expect(lab.some((l) => l.startsWith('INFO: forged'))).toBe(false);
  });

  it('the logs are written to the configured place, not into the web root', () => {
    expect(fs.readdirSync(w.root).filter((f) => f.endsWith('.log'))).toEqual([]);
  });
});
