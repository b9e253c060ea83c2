// The index is a cache of the Maildir: built (for a large mailbox, in a worker thread), saved,
// read back at the next start and corrected from the files, which stay the truth.
import fs from 'node:fs';
import path from 'node:path';
import { loadScenario, maildirOf } from '@sstt/scenario';
import { startServer, tempDir } from '@sstt/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { prebuildCaches } from '../src/mail-index.ts';
import { createConsoleServer } from '../src/server.ts';
import { drop } from './hostile.ts';

const t = tempDir('sstt-console-index-');
afterAll(() => t.remove());
const s = loadScenario({ env: { SSTT_CERTS_DIR: path.join(t.dir, 'certs'), SSTT_DATA_DIR: path.join(t.dir, 'var') }, flags: {}, configFile: undefined });
const user = s.users[0]!.name;
const dir = maildirOf(s, user);
const cacheFile = path.join(s.paths.data, 'console', `index-${user}.json`);

async function list(opts: { indexWorkerMin?: number } = {}) {
  const c = await startServer(createConsoleServer({ scenario: s, host: '127.0.0.1', port: 0, ...opts }));
  try {
    const res = await fetch(`http://127.0.0.1:${c.port}/api/v1/mailboxes/${user}/messages?limit=500`);
    return (await res.json()) as { total: number; messages: Array<{ subject: string; seen: boolean }> };
  } finally {
    await c.close();
  }
}

describe('the mailbox index', () => {
  it('a large mailbox is first indexed in a worker that writes the cache', async () => {
    for (let i = 0; i < 30; i++) drop(dir, `From: a${i}@example.org\r\nSubject: message ${i}\r\n\r\nbody ${i}\r\n`);
    expect(fs.existsSync(cacheFile)).toBe(false);
    // The worker alone writes the cache (below the threshold it does nothing).
    await prebuildCaches(s, { workerMin: 31 });
    expect(fs.existsSync(cacheFile)).toBe(false);
    await prebuildCaches(s, { workerMin: 10 });
    const lines = fs.readFileSync(cacheFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(31);
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: 4 });
    expect((await list({ indexWorkerMin: 10 })).total).toBe(30);
  });

  it('the next start reads the cache and corrects it from the files (removed, flagged, new)', async () => {
    const names = fs.readdirSync(path.join(dir, 'new')).sort();
    fs.unlinkSync(path.join(dir, 'new', names[0]!));
    fs.mkdirSync(path.join(dir, 'cur'), { recursive: true });
    fs.renameSync(path.join(dir, 'new', names[1]!), path.join(dir, 'cur', `${names[1]}:2,S`));
    drop(dir, 'From: late@example.org\r\nSubject: arrived while the console was down\r\n\r\nx\r\n');
    const again = await list();
    expect(again.total).toBe(30);
    expect(again.messages.filter((m) => m.seen)).toHaveLength(1);
    expect(again.messages.some((m) => m.subject === 'arrived while the console was down')).toBe(true);
  });

  it('a damaged cache is ignored and rebuilt from the files', async () => {
    fs.writeFileSync(cacheFile, '{"version":4,"fields":["key"]}\n["x"]\nnot json');
    expect((await list()).total).toBe(30);
    expect(JSON.parse(fs.readFileSync(cacheFile, 'utf8').split('\n')[0]!).fields).toContain('subject');
  });
});
