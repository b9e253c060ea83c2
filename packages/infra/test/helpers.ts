// Shared by the reference-program tests: a scenario whose certificates live in a temp dir, the
// generated infra/ files written there, and waiting for a port without sleeping blindly.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadScenario, type Scenario } from '@sstt/scenario';
import { initPki } from '@sstt/pki';
import { run } from '@sstt/testkit';
import type { Generator } from '../src/types.ts';
import { writeInfra } from '../src/index.ts';

/** A dev-profile scenario with certs/ in `dir`, its PKI minted, and `gen`'s files in dir/infra. */
export async function labIn(dir: string, gen: Generator): Promise<{ s: Scenario; infra: string; certs: string }> {
  const certs = path.join(dir, 'certs');
  const empty = path.join(dir, 'empty.json');
  fs.writeFileSync(empty, '{}');
  const s = loadScenario({ env: { SSTT_CERTS_DIR: certs, SSTT_DATA_DIR: path.join(dir, 'var') }, flags: {}, configFile: empty, resolvConfPath: empty });
  await initPki(s);
  const infra = path.join(dir, 'infra');
  writeInfra(gen(s), infra);
  return { s, infra, certs };
}

/** Runs a generated install.sh below DESTDIR, from the repository root as the README says. */
export async function install(script: string, destdir: string, certs: string, root: string): Promise<void> {
  const r = await run('sh', [script], { env: { ...process.env, DESTDIR: destdir, CERTS: certs }, cwd: root });
  if (r.code !== 0) throw new Error(`${script} failed (${r.code}): ${r.stderr}`);
}

/** Resolves once something accepts TCP connections on host:port (polling, bounded). */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 15_000, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ port, host });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`the server on ${host}:${port} exited before listening`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `check` until it returns true (bounded); for daemons with no readiness signal. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
