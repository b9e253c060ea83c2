import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { followJournal, NOOP_TAP, openJournal, tapSession, type JournalEvent } from '../src/index.ts';

// One directory per test, all inside one removed when the file's tests end.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-events-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const tmp = () => fs.mkdtempSync(path.join(root, 't-'));
const sock = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 40001 };

describe('journal', () => {
  it('writes a session as lines the reader follows, secrets marked', async () => {
    const dir = tmp();
    const j = openJournal({ dir, app: 'mail', protocols: ['smtp'], maxBytes: 1 << 20 });
    const seen: JournalEvent[] = [];
    const r = followJournal(dir, (e) => seen.push(e));
    const tap = j.session('smtp', sock, sock);
    tap.server('220 server ESMTP');
    tap.client(Buffer.from('EHLO [127.0.0.1]\r\n'));
    tap.client('AUTH PLAIN AHVzZXIAcGFzcw==', true);
    tap.close();
    await j.flush();
    r.poll();
    expect(seen.map((e) => [e.k, e.x ?? e.c, e.secret ?? false])).toEqual([
      ['open', '127.0.0.1:40000', false],
      ['s', '220 server ESMTP', false],
      ['c', 'EHLO [127.0.0.1]', false],
      ['c', 'AUTH PLAIN AHVzZXIAcGFzcw==', true],
      ['close', undefined, false],
    ]);
    expect(new Set(seen.map((e) => e.s)).size).toBe(1);
    r.close();
    await j.close();
  });

  it('a protocol switched off, or no journal given, costs a no-op tap', async () => {
    const dir = tmp();
    const j = openJournal({ dir, app: 'mail', protocols: ['pop3'], maxBytes: 1 << 20 });
    expect(j.session('smtp', sock)).toBe(NOOP_TAP);
    expect(tapSession(undefined, 'pop3', sock)).toBe(NOOP_TAP);
    expect(tapSession(j, 'pop3', sock).id).not.toBe('');
    await j.close();
  });

  it('the ring is bounded: past it events are counted as lost, and the loss is journaled', async () => {
    const dir = tmp();
    const j = openJournal({ dir, app: 'dns', protocols: ['dns'], maxBytes: 1 << 20, ringEvents: 10, flushMs: 60_000 });
    for (let i = 0; i < 25; i++) j.dns('udp', '127.0.0.1', 1, Buffer.from([i]));
    expect(j.lost).toBe(15);
    await j.flush();
    const lines = fs
      .readFileSync(j.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JournalEvent);
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toMatchObject({ k: 'lost', n: 15 });
    await j.close();
  });

  it('the file is capped: it rotates to .1 and the reader reads across the rotation', async () => {
    const dir = tmp();
    const j = openJournal({ dir, app: 'http', protocols: ['http'], maxBytes: 4096, flushMs: 60_000 });
    const seen: string[] = [];
    const r = followJournal(dir, (e) => e.x && seen.push(e.x), { pollMs: 60_000 });
    const tap = j.session('http', sock);
    for (let i = 0; i < 200; i++) {
      tap.client(`GET /${i} HTTP/1.1`);
      if (i % 20 === 19) {
        await j.flush();
        r.poll();
      }
    }
    await j.flush();
    r.poll();
    expect(fs.statSync(j.file).size).toBeLessThanOrEqual(4096);
    expect(fs.statSync(`${j.file}.1`).size).toBeLessThanOrEqual(4096);
    expect(seen).toHaveLength(200);
    expect(seen[199]).toBe('GET /199 HTTP/1.1');
    r.close();
    await j.close();
  });
});
