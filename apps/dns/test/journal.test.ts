// The journal is the server's, not the process's: two DNS servers in this one process, each given
// its own journal (packages/events), record each only the exchanges it answered, and a server
// given none records nothing (STYLE.md §25).
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openJournal, readJournal, type Journal } from '@sstt/events';
import { tempDir, type Started } from '@sstt/testkit';
import { ask, startDns, testScenario } from './helpers.ts';

const s = testScenario();
const t = tempDir('sstt-dns-journal-');
const open = (name: string) => openJournal({ dir: path.join(t.dir, name), app: 'dns', protocols: ['dns'], maxBytes: 1 << 20, flushMs: 60_000 });
let ja: Journal;
let jb: Journal;
let a: Started;
let b: Started;
let none: Started;

beforeAll(async () => {
  ja = open('a');
  jb = open('b');
  a = await startDns({ scenario: s, journal: ja });
  b = await startDns({ scenario: s, journal: jb });
  none = await startDns({ scenario: s });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), none?.close()]);
  await Promise.all([ja?.close(), jb?.close()]);
  t.remove();
});

/** The name asked and the transport of each exchange a journal holds. */
async function exchanges(j: Journal): Promise<string[]> {
  await j.flush();
  return readJournal(path.dirname(j.file)).map((e) => `${dnsPacket.decode(Buffer.from(e.r as string, 'base64')).questions![0]!.name} ${e.tr}`);
}

it('two servers with two journals record separately; a server without one records nothing', async () => {
  const d = s.domain;
  await ask('udp', a.port, { name: `www.${d}` });
  await ask('tcp', a.port, { name: `smtp.${d}` });
  await ask('udp', b.port, { name: `pop.${d}` });
  await ask('udp', none.port, { name: `dns.${d}` });
  await ask('tcp', none.port, { name: `dns.${d}` });
  expect(await exchanges(ja)).toEqual([`www.${d} udp`, `smtp.${d} tcp`]);
  expect(await exchanges(jb)).toEqual([`pop.${d} udp`]);
});
