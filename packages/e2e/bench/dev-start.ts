// `npm run bench -w @sstt/e2e`: `npm run dev` as a newcomer meets it. The checkout's HEAD is
// cloned into a temporary directory and installed there (`npm install`, not timed); a first
// `npm run dev` builds and mints the certificates (not counted); then each round types
// `npm run dev` in the clone with the user's environment (no SSTT_* setting, the default ports,
// the output to a file as a terminal would take it, the journal on) and times it until every TCP
// port accepts and both DNS ports answer a query for the domain's SOA; 1.5 s later PSS and RSS are
// summed over every process of its session (/proc/<pid>/smaps_rollup); then Ctrl-C.
// Uncommitted changes are not measured: commit first (the clone is what a newcomer gets).
// Nothing leaves the machine: the probes go to 127.0.0.1, and a query for the domain's own SOA is
// answered from the zone, never forwarded.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '@sstt/host';
import { resolveScenario, SERVICES } from '@sstt/scenario';
import { tempDir } from '@sstt/testkit';
import { portIsFree, ROOT, sessionProcesses, waitForPort } from '../test/helpers.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const READY_TARGET_MS = 1000;
const PSS_TARGET_MB = 250;

/** The defaults a fresh clone runs with (no sstt.config.json, no SSTT_* variables). */
const s = resolveScenario({});
const UDP = ['dns', 'hostdns'] as const;
const ports = SERVICES.map((name) => ({ name, port: s.listen.ports[name] }));

/** A DNS query (id 0xabcd, no recursion) for the domain's SOA. */
function soaQuery(domain: string): Buffer {
  const labels = domain.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  return Buffer.concat([Buffer.from('abcd00000001000000000000', 'hex'), ...labels, Buffer.from('0000060001', 'hex')]);
}

async function dnsAnswers(port: number, deadline: number): Promise<void> {
  const query = soaQuery(s.domain);
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = dgram.createSocket('udp4');
      const timer = setTimeout(() => {
        sock.close();
        resolve(false);
      }, 20);
      sock.on('message', () => {
        clearTimeout(timer);
        sock.close();
        resolve(true);
      });
      sock.send(query, port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`DNS on port ${port} never answered`);
  }
}

/** The environment of a user's shell: what npm run bench added (npm_* settings, SSTT_*) removed. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(npm_|SSTT_|TURBO_|INIT_CWD$|NODE$|PATH$)/.test(k)) env[k] = v;
  // npm run put node_modules/.bin directories first on PATH: a shell has only the system's.
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => !d.includes('node_modules'))
    .join(':');
  return env;
}

interface Round {
  ms: number;
  pss: number;
  rss: number;
  procs: number;
  names: string;
}

async function round(clone: string, env: Record<string, string>, log: string): Promise<Round> {
  const out = fs.openSync(log, 'w');
  const t0 = performance.now();
  const dev = spawn('npm', ['run', 'dev'], { cwd: clone, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => dev.on('exit', () => resolve()));
  try {
    const deadline = Date.now() + 120_000;
    await Promise.all(
      ports.map(({ name, port }) => ((UDP as readonly string[]).includes(name) ? dnsAnswers(port, deadline) : waitForPort(port, 120_000, '127.0.0.1', 5))),
    );
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1500)); // let start-up garbage settle before reading memory
    const procs = sessionProcesses(dev.pid!);
    const names = procs.map((p) => `${p.comm}:${Math.round(p.pss / 1024)}`).join(' ');
    return { ms, pss: procs.reduce((a, p) => a + p.pss, 0) / 1024, rss: procs.reduce((a, p) => a + p.rss, 0) / 1024, procs: procs.length, names };
  } finally {
    process.kill(-dev.pid!, 'SIGINT');
    const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    if (!gone) process.kill(-dev.pid!, 'SIGKILL');
  }
}

const busy = [];
for (const { name, port } of ports) if (!(await portIsFree(port))) busy.push(`${name} ${port}`);
if (busy.length > 0) {
  console.error(`the default ports are taken (${busy.join(', ')}): stop the npm run dev that holds them, then run the bench again`);
  process.exit(1);
}

const tmp = tempDir('sstt-dev-bench-');
try {
  const clone = path.join(tmp.dir, 'sstt');
  const head = (await run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])).stdout.trim();
  const cloned = await run('git', ['clone', '-q', ROOT, clone], { timeoutMs: 120_000 });
  if (cloned.code !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
  const env = userEnv();
  const installed = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: clone, env, timeoutMs: 600_000 });
  if (installed.code !== 0) throw new Error(`npm install failed in the clone: ${installed.stderr.slice(-2000)}`);
  console.log(`a clone of ${head} in ${clone}, installed; first npm run dev (builds, mints the certificates; not counted)`);
  await round(clone, env, path.join(tmp.dir, 'dev-first.log'));
  const results: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round(clone, env, path.join(tmp.dir, `dev-${i + 1}.log`));
    results.push(r);
    console.log(`round ${i + 1}: ready in ${r.ms.toFixed(0)} ms, ${r.procs} processes, PSS ${r.pss.toFixed(0)} MB, RSS ${r.rss.toFixed(0)} MB  [${r.names}]`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ms = median(results.map((r) => r.ms));
  const pss = median(results.map((r) => r.pss));
  const rss = median(results.map((r) => r.rss));
  console.log(
    `npm run dev in a fresh clone (warm), median of ${ROUNDS}: ready in ${ms.toFixed(0)} ms (target < ${READY_TARGET_MS}), ` +
      `PSS ${pss.toFixed(0)} MB (target < ${PSS_TARGET_MB}), RSS ${rss.toFixed(0)} MB`,
  );
} finally {
  tmp.remove();
}
