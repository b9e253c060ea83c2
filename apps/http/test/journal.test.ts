// The journal is the server's, not the process's: two HTTP servers in this one process, each given
// its own journal (packages/events), record each only their own connections (plain and TLS), and
// a server given none records nothing (STYLE.md §25).
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openJournal, readJournal, type Journal } from '@sstt/events';
import { expectStatus } from './expect.ts';
import { readResponse, req } from './wire.ts';
import { createWorld, type Running, type World } from './world.ts';

let w: World;
let ja: Journal;
let jb: Journal;

beforeAll(async () => {
  w = await createWorld();
  const open = (name: string) => openJournal({ dir: path.join(w.dir, name), app: 'http', protocols: ['http', 'https'], maxBytes: 1 << 20, flushMs: 60_000 });
  ja = open('journal-a');
  jb = open('journal-b');
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
  await Promise.all([ja?.close(), jb?.close()]);
});

async function get(server: Running, transport: 'tcp' | 'tls', target: string): Promise<void> {
  const c = await server.byName(transport).connect();
  c.write(req('GET', target, { Host: w.www }));
  expectStatus(await readResponse(c), 200);
  c.destroy();
}

/** Each recorded request as protocol, the server's port and the request line. */
async function requests(j: Journal): Promise<string[]> {
  await j.flush();
  const events = readJournal(path.dirname(j.file));
  const local = new Map(events.filter((e) => e.k === 'open').map((e) => [e.s, e.l]));
  return events.filter((e) => e.k === 'c' && !e.secret).map((e) => `${e.p} ${local.get(e.s)} ${String(e.x).split('\n')[0]}`);
}

it('two servers with two journals record separately; a server without one records nothing', async () => {
  const a = await w.start({ journal: ja });
  const b = await w.start({ journal: jb });
  const none = await w.start();
  await get(a, 'tcp', '/a.txt');
  await get(a, 'tls', '/index.html');
  await get(b, 'tcp', '/index.html');
  await get(none, 'tcp', '/a.txt');
  await get(none, 'tls', '/a.txt');
  const port = (r: Running, t: 'tcp' | 'tls') => `127.0.0.1:${r.byName(t).port}`;
  expect(await requests(ja)).toEqual([`http ${port(a, 'tcp')} GET /a.txt HTTP/1.1`, `https ${port(a, 'tls')} GET /index.html HTTP/1.1`]);
  expect(await requests(jb)).toEqual([`http ${port(b, 'tcp')} GET /index.html HTTP/1.1`]);
});

it('records the header fields both ways, as the report reads HTTP; credentials go as secret lines', async () => {
  const a = await w.start({ journal: ja });
  const c = await a.byName('tcp').connect();
  c.write(req('GET', '/index.html', { Host: w.www, Cookie: 'cookie_counter=3', Authorization: 'Basic bm9tYnJlMTpzZWNyZXRv' }));
  expectStatus(await readResponse(c), 200);
  c.destroy();
  await ja.flush();
  const port = `127.0.0.1:${a.byName('tcp').port}`;
  const events = readJournal(path.dirname(ja.file));
  const id = events.find((e) => e.k === 'open' && e.l === port)!.s;
  const mine = events.filter((e) => e.s === id && (e.k === 'c' || e.k === 's'));
  expect(mine.map((e) => [e.k, e.secret ?? false])).toEqual([
    ['c', false],
    ['c', true],
    ['s', false],
  ]);
  expect(mine[0]!.x).toBe(`GET /index.html HTTP/1.1\nhost: ${w.www}\ncookie: cookie_counter=3`);
  expect(mine[1]!.x).toBe('authorization: Basic bm9tYnJlMTpzZWNyZXRv');
  const reply = String(mine[2]!.x).split('\n');
  expect(reply[0]).toBe('HTTP/1.1 200 OK');
  expect(reply).toContain('Content-Type: text/html; charset=utf-8');
  expect(reply.find((l) => l.startsWith('Set-Cookie: '))).toMatch(
    /^Set-Cookie: cookie_counter=4; Max-Age=120; Expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/,
  );
  expect(reply.at(-1)).toMatch(/^\(\d+ bytes\)$/);
});
