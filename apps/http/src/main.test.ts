// The command line of sstt-http: positionals like the lab's `web_sstt <port> <dir>`, exit 2 with
// one line for what the user must fix, a clean exit on SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { rawTcp, run, tempDir } from '@sstt/testkit';

const BIN = fileURLToPath(new URL('../bin/sstt-http.mjs', import.meta.url));
const t = tempDir('sstt-http-main-');
// A scenario of our own: no config file, logs and certificates in the temp dir.
const env = {
  PATH: process.env.PATH,
  SSTT_ROOT: t.dir,
  SSTT_CERTS_DIR: path.join(t.dir, 'certs'),
  SSTT_LOG_DIR: path.join(t.dir, 'log'),
  SSTT_LOG_LEVEL: 'info',
};
const www = path.join(t.dir, 'www');
fs.mkdirSync(www);
fs.writeFileSync(path.join(www, 'index.html'), '<p>hello from main</p>\n');
afterAll(() => t.remove());

describe('sstt-http', () => {
  it.concurrent('serves <dir> on <port> like web_sstt <port> <dir>, writes both logs, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, '0', www, '--listen', '127.0.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /"addresses":\["127\.0\.0\.1:(\d+)"/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const c = await rawTcp(port, '127.0.0.1');
    c.write('GET / HTTP/1.0\r\n\r\n');
    const reply = (await c.readToEnd()).toString('latin1');
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply).toContain('\r\nServer: web_sstt\r\n');
    expect(reply).toMatch(/\r\n\r\n<p>hello from main<\/p>\n$/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.readFileSync(path.join(t.dir, 'log', 'access.log'), 'utf8')).toMatch(/^127\.0\.0\.1 - - \[.*\] "GET \/ HTTP\/1\.0" 200 23 "-" "-"\n$/);
    expect(fs.readFileSync(path.join(t.dir, 'log', 'webserver.log'), 'utf8')).toMatch(/^INFO: .* 127\.0\.0\.1 GET \/ HTTP\/1\.0 200$/m);
  });

  it.concurrent('--help exits 0; a taken port and bad arguments are one line each and exit 2', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const taken = `sstt-http: http: port ${port} on 127.0.0.1 is already taken; change it with --http-port or SSTT_HTTP_PORT (or ports.http in sstt.config.json)\n`;
    const cases: Array<[string[], RegExp]> = [
      [[String(port), www, '--listen', '127.0.0.1'], new RegExp(`^${taken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)],
      [['0', '/nonexistent/dir'], /^sstt-http: command line: <dir>: expected an existing directory, found \/nonexistent\/dir\n$/],
      [['eighty', www], /^sstt-http: command line: <port>: expected a port number 0-65535, found eighty\n$/],
      [['0', www, 'extra'], /^sstt-http: command line: \(arguments\): expected <port> <dir> at most/],
      [['--idle-timeout', '0'], /^sstt-http: command line: --idle-timeout: expected a positive integer, found 0\n$/],
      [['--bogus'], /^sstt-http: command line: --bogus: expected one of the documented flags/],
      [[], /^sstt-http: configuration: http\.root: expected an existing directory, found \S+\/apps\/http\/www\n$/],
    ];
    const [help, ...results] = await Promise.all([
      run(process.execPath, [BIN, '--help'], { env }),
      ...cases.map(([args]) => run(process.execPath, [BIN, ...args], { env })),
    ]);
    expect(help!.code).toBe(0);
    expect(help!.stdout).toMatch(/^usage: sstt-http \[<port> \[<dir>\]\]/);
    blocker.close();
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr.split('\n').length).toBe(2);
    });
  });
});
