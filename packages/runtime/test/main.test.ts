import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/tiny-app.ts', import.meta.url));

function start(env: Record<string, string>, args: string[] = []) {
  // node --import tsx, not the tsx CLI: signals reach the app itself, with no relay in between.
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    env: { PATH: process.env.PATH, SSTT_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /listening (\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
  });
  listening.catch(() => {}); // the error-path tests never listen

  return { child, exited, listening, out: () => stdout, err: () => stderr };
}

describe('runApp', () => {
  it('a taken port: one line naming the service, port and fix, exit 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const app = start({ SSTT_HTTP_PORT: String(port) });
      expect(await app.exited).toBe(2);
      expect(app.err()).toBe(
        `tiny: http: port ${port} on 127.0.0.1 is already taken; change it with --http-port or SSTT_HTTP_PORT (or ports.http in sstt.config.json)\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('a bad config value: one line naming the source and key, exit 2', async () => {
    const app = start({ SSTT_HTTP_PORT: 'eighty' });
    expect(await app.exited).toBe(2);
    expect(app.err()).toBe('tiny: environment: SSTT_HTTP_PORT: expected a port number from 0 to 65535 (0 = any free port), found "eighty"\n');
  });

  it('a bad flag: exit 2', async () => {
    const app = start({ SSTT_HTTP_PORT: '0' }, ['--http-port', '99999']);
    expect(await app.exited).toBe(2);
    expect(app.err()).toBe('tiny: command line: --http-port: expected a port number from 0 to 65535 (0 = any free port), found 99999\n');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s closes gracefully, even with a client connected, and exits 0', async (signal) => {
    const app = start({ SSTT_HTTP_PORT: '0' });
    const port = await app.listening;
    const client = net.connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const clientClosed = new Promise((r) => client.on('close', r));
    client.on('error', () => {});
    app.child.kill(signal);
    // exit 0, not the deadline's exit 1 (the next case): the close ended the connection itself
    expect(await app.exited).toBe(0);
    expect(app.err()).not.toContain('still closing');
    await clientClosed;
  });

  it('a close that hangs is cut off at the deadline with exit 1', async () => {
    const app = start({ SSTT_HTTP_PORT: '0', TINY_GRACE_MS: '60000' });
    const port = await app.listening;
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    await new Promise((r) => client.once('connect', r));
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(1);
    expect(app.err()).toContain('tiny: still closing after 5000 ms, exiting');
    client.destroy();
  }, 40_000);
});
