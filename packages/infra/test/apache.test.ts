// The generated Apache vhosts judged by Apache 2.4 itself: installed with the generated
// install.sh below a temp dir, the paths and the listen address rewritten to that dir and a free
// loopback port, a private apache2 (own config, not /etc/apache2) in the foreground. curl with a
// client certificate from packages/pki gets 200, without one fails, with a revoked one fails.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths, type Scenario } from '@sstt/scenario';
import { revokeCertificate } from '@sstt/pki';
import { freePort, requireTool, run, tempDir } from '@sstt/testkit';
import { APACHE_SITE, apacheInstallPaths, generateApache, privateApacheConf } from '../src/apache/index.ts';
import { install, labIn, until, waitForPort } from './helpers.ts';

const apache2 = requireTool('apache2');
const curl = requireTool('curl');

describe('Apache 2.4 with the generated vhosts', () => {
  const tmp = tempDir('sstt-infra-apache-');
  let s: Scenario;
  let certs: string;
  let infra: string;
  let root: string;
  let conf: string;
  let httpPort: number;
  let httpsPort: number;
  let child: ChildProcess | undefined;
  const marker = `hola desde apache ${process.pid}`;

  async function startApache(): Promise<void> {
    const proc = spawn(apache2, ['-f', conf, '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child = proc;
    await waitForPort(httpsPort, '127.0.0.1', 15_000, () => {
      if (proc.exitCode !== null) throw new Error(`apache2 exited ${proc.exitCode}: ${out}`);
      return true;
    });
    await waitForPort(httpPort);
  }

  async function stopApache(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  const https = (extra: string[], file = 'sstt-test.html') =>
    run(curl, [
      '-sS',
      '--max-time',
      '10',
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      '--resolve',
      `www.${s.domain}:${httpsPort}:127.0.0.1`,
      '--cacert',
      certPaths(s).ca.cert,
      ...extra,
      `https://www.${s.domain}:${httpsPort}/${file}`,
    ]);
  const withCert = (user: string) => ['--cert', certPaths(s).client(user).cert, '--key', certPaths(s).client(user).key];

  beforeAll(async () => {
    fs.chmodSync(tmp.dir, 0o755); // Apache's children run as www-data and read the document root
    ({ s, certs, infra } = await labIn(tmp.dir, generateApache));
    root = path.join(tmp.dir, 'root');
    await install(path.join(infra, 'apache', 'install.sh'), root, certs, s.paths.root);
    const p = apacheInstallPaths(s);
    fs.writeFileSync(path.join(root, p.documentRoot, 'sstt-test.html'), `<p>${marker}</p>\n`, { mode: 0o644 });
    [httpPort, httpsPort] = [await freePort(), await freePort()];

    // The installed vhosts with every absolute install path moved below `root`, on loopback ports.
    const rewrite = (file: string, port: number) =>
      fs
        .readFileSync(path.join(root, p.sitesAvailable, file), 'utf8')
        .replace(/(?<=[\s"])\/(etc|var)\//g, `${root}/$1/`)
        .replace(/<VirtualHost \*:\d+>/, `<VirtualHost 127.0.0.1:${port}>`);
    const run_ = path.join(tmp.dir, 'run');
    const logs = path.join(tmp.dir, 'logs');
    fs.mkdirSync(run_);
    fs.mkdirSync(logs);
    conf = path.join(tmp.dir, 'httpd.conf');
    fs.writeFileSync(
      conf,
      privateApacheConf({
        dir: run_,
        serverName: '127.0.0.1',
        errorLog: `${logs}/error.log`,
        logDir: logs,
        listen: [`127.0.0.1:${httpPort}`, `127.0.0.1:${httpsPort}`],
        vhosts: [rewrite(`${APACHE_SITE}.conf`, httpPort), rewrite(`${APACHE_SITE}-ssl.conf`, httpsPort)],
      }),
    );
    const t = await run(apache2, ['-t', '-f', conf]);
    expect(t.stderr.trim(), t.stderr).toBe('Syntax OK');
    await startApache();
  });

  afterAll(async () => {
    await stopApache();
    tmp.remove();
  });

  it('the SSL vhost has the lab directives', () => {
    const text = fs.readFileSync(path.join(infra, 'apache', `${APACHE_SITE}-ssl.conf`), 'utf8');
    for (const line of ['SSLEngine on', 'SSLVerifyClient require', 'SSLVerifyDepth 10', `ServerName www.${s.domain}`, 'SSLCARevocationCheck chain']) {
      expect(text).toContain(`    ${line}\n`);
    }
    const p = apacheInstallPaths(s);
    expect(text).toContain(`SSLCACertificateFile ${p.caCert}\n`);
    expect(text).toContain(`SSLCARevocationFile ${p.crl}\n`);
    expect(text).toContain(`SSLCertificateKeyFile ${p.serverKey}\n`);
    expect(fs.statSync(path.join(root, p.serverKey)).mode & 0o777).toBe(0o600);
  });

  it('plain HTTP serves the document root', async () => {
    const r = await run(curl, [
      '-sS',
      '--max-time',
      '10',
      '-w',
      '\n%{http_code}',
      '-H',
      `Host: www.${s.domain}`,
      `http://127.0.0.1:${httpPort}/sstt-test.html`,
    ]);
    expect(r.stdout).toBe(`<p>${marker}</p>\n\n200`);
  });

  it('HTTPS with a client certificate of the lab CA: 200', async () => {
    const r = await https(withCert(s.users[0]!.name));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`<p>${marker}</p>\n\n200`);
    // Apache writes the access log in its log phase, after the response went out: wait for the
    // line (bounded) rather than read the file at the moment curl returns.
    const logFile = path.join(tmp.dir, 'logs', `${APACHE_SITE}-ssl-access.log`);
    const cn = `CN=${s.users[0]!.firstName} ${s.id}`;
    const read = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    await until('apache to log the request', async () => read().includes(cn), 10_000, 50).catch(() => undefined);
    expect(read()).toContain(cn);
  });

  it('HTTPS without a client certificate fails', async () => {
    const r = await https([]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain(marker);
  });

  it('HTTPS with a revoked client certificate fails once the CRL is installed', async () => {
    const user = s.users[1]!.name;
    expect((await https(withCert(user))).stdout).toBe(`<p>${marker}</p>\n\n200`);
    await revokeCertificate(s, user);
    await install(path.join(infra, 'apache', 'install.sh'), root, certs, s.paths.root);
    await stopApache();
    await startApache();
    const r = await https(withCert(user));
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain(marker);
    const errorLog = path.join(tmp.dir, 'logs', `${APACHE_SITE}-ssl-error.log`);
    const revoked = 'Certificate Verification: Error (23): certificate revoked';
    await until('apache to log the refusal', async () => fs.readFileSync(errorLog, 'utf8').includes(revoked), 10_000, 50).catch(() => undefined);
    expect(fs.readFileSync(errorLog, 'utf8')).toContain(revoked);
    // The other user still gets in.
    expect((await https(withCert(s.users[0]!.name))).stdout).toBe(`<p>${marker}</p>\n\n200`);
  });
});
