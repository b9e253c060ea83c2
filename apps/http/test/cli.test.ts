// The command line, started like the lab's `web_sstt <port> <dir>` (port 0 here: the test reads
// the chosen port from the "listening" log line), with no arguments (the scenario's port and
// root), with HTTPS when the certificates exist, and the one-line exit 2 for a bad directory or
// a taken port.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
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

/** Runs the CLI to completion (for the failures). */
function runCli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
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
  it('`sstt-http <port> <dir>` like the lab\'s web_sstt serves <dir>; SIGTERM closes it with exit 0', async () => {
    const { child, addresses } = await startCli(['0', w.root, '--no-https']);
    expect(addresses).toHaveLength(1);
    const r = await getA(portOf(addresses[0]!));
    expectStatus(r, 200);
    expect(r.body.toString()).toBe(FILES['a.txt']);
    expect(await stop(child)).toBe(0);
  }, 30_000);

  it('with no arguments it takes the scenario\'s port and web root', async () => {
    const { child, addresses } = await startCli([], { SSTT_HTTP_PORT: '0', SSTT_HTTP_ROOT: w.root, SSTT_HTTPS_PORT: '0', SSTT_CERTS_DIR: w.certs.paths.dir });
    const r = await getA(portOf(addresses[0]!));
    expect(r.body.toString()).toBe(FILES['a.txt']);
    // HTTPS too, with the certificates packages/pki wrote.
    expect(addresses).toHaveLength(2);
    expectStatus(await getA(portOf(addresses[1]!), true), 200);
    expect(await stop(child)).toBe(0);
  }, 30_000);

  it('a <dir> that does not exist: one line and exit 2', async () => {
    const r = await runCli(['0', path.join(w.dir, 'no-such-dir'), '--no-https']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sstt-http: .*no-such-dir/);
  }, 30_000);

  it('a port already taken: one line and exit 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runCli([String(port), w.root, '--no-https'], { SSTT_LISTEN: '127.0.0.1' });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(String(port));
    } finally {
      blocker.close();
    }
  }, 30_000);

  it('the web root the project ships exists and holds the lab page', () => {
    expect(fs.existsSync(path.join(w.s.http.root, 'index.html'))).toBe(true);
  });
});
