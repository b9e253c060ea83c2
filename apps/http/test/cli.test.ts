// The command line with no arguments: the scenario's port and web root, and HTTPS when
// packages/pki has written the certificates (the chosen ports are read from the "listening"
// log line). `<port> <dir>`, SIGTERM and the exit-2 lines are covered by src/main.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTcp, rawTls } from '@sstt/testkit';
import { expectStatus } from './expect.ts';
import { readResponse, req } from './wire.ts';
import { createWorld, FILES, type World } from './world.ts';

const BIN = fileURLToPath(new URL('../bin/sstt-http.mjs', import.meta.url));

let w: World;
const children: ChildProcess[] = [];

beforeAll(async () => {
  w = await createWorld();
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await w?.cleanup();
});

/** The environment of a run: an empty config file and the world's directories, nothing inherited from the user's SSTT_*. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SSTT_')));
  return { ...base, SSTT_CONFIG: path.join(w.dir, 'sstt.config.json'), SSTT_LOG_DIR: w.logDir, SSTT_DATA_DIR: path.join(w.dir, 'data'), ...extra };
}

/** Starts the CLI and waits for its "listening" line; returns the addresses it printed. */
function startCli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; addresses: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"addresses":(\[[^\]]*\])[^\n]*web_sstt listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, addresses: JSON.parse(m[1]!) as string[] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening: ${out}`));
    });
  });
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

async function getA(port: number, secure = false) {
  const c = secure ? await rawTls(port, w.tlsClient()) : await rawTcp(port);
  c.write(req('GET', '/a.txt', { Host: w.www }));
  const r = await readResponse(c);
  c.destroy();
  return r;
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('sstt-http command line', () => {
  it("with no arguments it takes the scenario's port and web root", async () => {
    const { child, addresses } = await startCli([], { SSTT_HTTP_PORT: '0', SSTT_HTTP_ROOT: w.root, SSTT_HTTPS_PORT: '0', SSTT_CERTS_DIR: w.certs.paths.dir });
    const r = await getA(portOf(addresses[0]!));
    expect(r.body.toString()).toBe(FILES['a.txt']);
    // HTTPS too, with the certificates packages/pki wrote.
    expect(addresses).toHaveLength(2);
    expectStatus(await getA(portOf(addresses[1]!), true), 200);
    expect(await stop(child)).toBe(0);
  }, 30_000);

  it('the web root the project ships exists and holds the lab page', () => {
    expect(fs.existsSync(path.join(w.s.http.root, 'index.html'))).toBe(true);
  });
});
