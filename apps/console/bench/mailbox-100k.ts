// The console over a large mailbox (issue #14, "Performance"): N generated messages of realistic
// sizes (most 1–8 kB, one in ten with a 30–200 kB attachment) in one user's Maildir; then the
// console is started as its own process (as npm run dev does) and we measure: the first start
// (the index is built from the files), the first page of the list and a from: search (median of
// 20 calls each), the process's memory (at once and after 35 s idle), and a second start (index
// read from its cache).
// Usage: npx tsx bench/mailbox-100k.ts [N]   (default 100000; needs `npm run build` first)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadScenario, maildirOf } from '@sstt/scenario';
import { freePort, tempDir } from '@sstt/testkit';

const N = Number(process.argv[2] ?? 100_000);
const t = tempDir('sstt-console-bench-');
const port = await freePort();
const env = {
  ...process.env,
  SSTT_CONFIG: '',
  SSTT_DATA_DIR: path.join(t.dir, 'var'),
  SSTT_CERTS_DIR: path.join(t.dir, 'certs'),
  SSTT_CONSOLE_PORT: String(port),
  SSTT_LOG_FORMAT: 'json',
};
const s = loadScenario({ env, flags: {}, configFile: undefined });
const user = s.users[1]!.name;
const dir = maildirOf(s, user);
for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(dir, sub), { recursive: true });

// A small deterministic generator: the same mailbox on every run.
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const senders = Array.from({ length: 500 }, (_, i) => `user${i}@example${i % 37}.org`);
const words = 'report meeting lunch invoice project release build deploy review budget travel schedule party update question answer'.split(' ');
const t0 = Date.now();
const base = Math.floor(Date.now() / 1000) - N;
for (let i = 0; i < N; i++) {
  const from = senders[Math.floor(rnd() * senders.length)]!;
  const subject = `${words[Math.floor(rnd() * words.length)]} ${words[Math.floor(rnd() * words.length)]} #${i}`;
  const bodyLen = 1000 + Math.floor(rnd() * 7000);
  const body = 'x'
    .repeat(76)
    .concat('\r\n')
    .repeat(Math.ceil(bodyLen / 78));
  const head = `Return-Path: <${from}>\r\nReceived: from [127.0.0.1] (helo=bench)\r\n\tby server.${s.domain} with esmtp (sstt-mail)\r\n\tid b${i}\r\nFrom: ${from}\r\nTo: ${user}@${s.domain}\r\nSubject: ${subject}\r\nDate: ${new Date((base + i) * 1000).toUTCString()}\r\nMessage-ID: <${i}@bench>\r\n`;
  let text: string;
  if (rnd() < 0.1) {
    const att = Buffer.alloc(30_000 + Math.floor(rnd() * 170_000), i % 251)
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n');
    text = `${head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${body}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="f${i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--b--\r\n`;
  } else text = `${head}\r\n${body}`;
  const name = `${base + i}.M${i}P1Q${i}.bench,S=${Buffer.byteLength(text)},W=${Buffer.byteLength(text)}`;
  fs.writeFileSync(path.join(dir, 'new', name), text);
}
console.log(JSON.stringify({ generated: N, seconds: (Date.now() - t0) / 1000 }));

const entry = path.join(import.meta.dirname, '..', 'dist', 'main.js');
async function start(): Promise<{ pid: number; ms: number; stop: () => Promise<void> }> {
  const t1 = performance.now();
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/livez`)).ok) break;
    } catch {
      // not yet listening
    }
    if (performance.now() - t1 > 120_000) throw new Error('the console did not start within 120 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const ms = performance.now() - t1;
  return { pid: child.pid!, ms, stop: () => new Promise((r) => child.once('exit', () => r()).kill('SIGTERM')) };
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(url: string): Promise<{ ms: number; total: number }> {
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < 20; i++) {
    const t1 = performance.now();
    const body = (await (await fetch(url)).json()) as { total: number };
    times.push(performance.now() - t1);
    total = body.total;
  }
  return { ms: Math.round(median(times) * 10) / 10, total };
}
const mem = (pid: number) => {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { pssMB: Math.round(Number(/^Pss:\s+(\d+)/m.exec(text)![1]) / 1024), rssMB: Math.round(Number(/^Rss:\s+(\d+)/m.exec(text)![1]) / 1024) };
};

const api = `http://127.0.0.1:${port}/api/v1/mailboxes/${user}/messages`;
const first = await start();
const page = await timed(`${api}?limit=50`);
const search = await timed(`${api}?limit=50&query=${encodeURIComponent('from:user42@')}`);
const text = await timed(`${api}?limit=50&query=${encodeURIComponent('invoice has:attachment')}`);
console.log(JSON.stringify({ firstStartMs: Math.round(first.ms), firstPage: page, fromSearch: search, freeTextSearch: text, memory: mem(first.pid) }));
// V8 keeps the heap it grew while building the index until its memory reducer runs, after some
// idle seconds: the memory the console holds from then on is the figure that lasts.
await new Promise((r) => setTimeout(r, 35_000));
console.log(JSON.stringify({ memoryAfterIdle35s: mem(first.pid) }));
await first.stop();
const second = await start();
console.log(JSON.stringify({ secondStartMs: Math.round(second.ms), memory: mem(second.pid) }));
await second.stop();
if (process.env.SSTT_BENCH_KEEP) console.log(JSON.stringify({ kept: t.dir }));
else t.remove();
