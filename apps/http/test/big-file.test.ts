// A 100 MB file of random bytes, downloaded over TCP and TLS with its SHA-256 checked while
// the bytes stream in (the client never holds the file). A reader that stops for a while must
// not make the server buffer the file: the process's memory stays flat (backpressure).
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus } from './expect.ts';
import { parseHead, readResponse, req, type HttpResponse } from './wire.ts';
import { createWorld, type Running, type TransportName, type World } from './world.ts';

const SIZE = 100 * 1024 * 1024;
const BLOCK = 4 * 1024 * 1024;

let w: World;
let server: Running;
let bigPath: string;
let bigSha: string;

beforeAll(async () => {
  w = await createWorld();
  bigPath = path.join(w.root, 'big.zip');
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(bigPath, 'w');
  for (let written = 0; written < SIZE; written += BLOCK) {
    const block = crypto.randomBytes(BLOCK);
    hash.update(block);
    fs.writeSync(fd, block);
  }
  fs.closeSync(fd);
  bigSha = hash.digest('hex');
  server = await w.start({ idleTimeoutMs: 10_000 }, { net: true });
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

interface Download {
  head: Omit<HttpResponse, 'body'>;
  bytes: number;
  sha256: string;
  /** Largest growth of the process's resident memory seen during the download. */
  peakGrowth: number;
}

/**
 * GETs `target` and hashes the body as it arrives. `pauseAfter` bytes into the body the client
 * stops reading for `pauseMs`.
 */
function download(
  name: TransportName,
  target: string,
  opts: { pauseAfter?: number; pauseMs?: number; fields?: Record<string, string> } = {},
): Promise<Download> {
  const port = server.byName(name).port;
  return new Promise((resolve, reject) => {
    const socket = name !== 'tls' ? net.connect(port, '127.0.0.1') : tls.connect({ port, host: '127.0.0.1', ...w.tlsClient() });
    const base = process.memoryUsage().rss;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - base)), 20);
    let headBuf = Buffer.alloc(0);
    let head: Omit<HttpResponse, 'body'> | undefined;
    let expected = 0;
    let got = 0;
    let paused = false;
    const hash = crypto.createHash('sha256');
    const finish = (err?: Error) => {
      clearInterval(sampler);
      socket.destroy();
      if (err) reject(err);
      else resolve({ head: head!, bytes: got, sha256: hash.digest('hex'), peakGrowth: peak });
    };
    const timer = setTimeout(() => finish(new Error(`download of ${target} timed out after ${got} bytes`)), 60_000);
    const onBody = (chunk: Buffer) => {
      hash.update(chunk);
      got += chunk.length;
      if (got > expected) return finish(new Error(`more bytes than Content-Length (${got} > ${expected})`));
      if (got === expected) {
        clearTimeout(timer);
        return finish();
      }
      if (!paused && opts.pauseAfter !== undefined && got >= opts.pauseAfter) {
        paused = true;
        socket.pause();
        setTimeout(() => socket.resume(), opts.pauseMs ?? 1000);
      }
    };
    socket.on('error', (e) => finish(e));
    socket.on('close', () => {
      if (got !== expected || !head) finish(new Error(`connection closed after ${got} of ${expected} body bytes`));
    });
    socket.on(name !== 'tls' ? 'connect' : 'secureConnect', () => socket.write(req('GET', target, { Host: w.www, ...(opts.fields ?? {}) })));
    socket.on('data', (chunk: Buffer) => {
      if (head) return onBody(chunk);
      headBuf = Buffer.concat([headBuf, chunk]);
      const end = headBuf.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = parseHead(headBuf.subarray(0, end).toString('latin1'));
      expected = Number(head.header('content-length'));
      const rest = headBuf.subarray(end + 4);
      headBuf = Buffer.alloc(0);
      if (rest.length) onBody(rest);
    });
  });
}

describe.each(['tcp', 'net', 'tls'] as const)('over %s', (name) => {
  it('streams the 100 MB file with a matching SHA-256', async () => {
    const d = await download(name, '/big.zip');
    expectStatus({ ...d.head, body: Buffer.alloc(0) }, 200);
    expect(d.head.header('content-length')).toBe(String(SIZE));
    expect(d.head.header('content-type')).toBe('application/zip');
    expect(d.bytes).toBe(SIZE);
    expect(d.sha256).toBe(bigSha);
  }, 60_000);

  it('a reader that stops for a second does not make the server buffer the file (flat memory)', async () => {
    const d = await download(name, '/big.zip', { pauseAfter: 8 * 1024 * 1024, pauseMs: 1000 });
    expect(d.sha256).toBe(bigSha);
    expect(d.peakGrowth, `resident memory grew by ${(d.peakGrowth / 1048576).toFixed(1)} MB`).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('serves a range from the middle of the big file', async () => {
    const start = 52_428_800 + 12345;
    const c = await server.byName(name).connect();
    c.write(req('GET', '/big.zip', { Host: w.www, Range: `bytes=${start}-${start + 65535}` }));
    const r = await readResponse(c);
    expectStatus(r, 206);
    expect(r.header('content-range')).toBe(`bytes ${start}-${start + 65535}/${SIZE}`);
    const fd = fs.openSync(bigPath, 'r');
    const want = Buffer.alloc(65536);
    fs.readSync(fd, want, 0, 65536, start);
    fs.closeSync(fd);
    expect(Buffer.compare(r.body, want)).toBe(0);
    c.destroy();
  });

  it('HEAD of the big file: its length, no body', async () => {
    const c = await server.byName(name).connect();
    c.write(req('HEAD', '/big.zip', { Host: w.www }) + req('GET', '/a.txt', { Host: w.www }));
    const r = await readResponse(c, 'HEAD');
    expectStatus(r, 200);
    expect(r.header('content-length')).toBe(String(SIZE));
    expectStatus(await readResponse(c), 200);
    c.destroy();
  });
});
