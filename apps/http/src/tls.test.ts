// HTTPS: a client certificate revoked while the server runs is refused once the new CRL is
// handed to updateTls() (main.ts does that when sstt-pki rewrites the CRL file).
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPki, revokeCertificate } from '@sstt/pki';
import { certPaths, loadScenario, type Scenario } from '@sstt/scenario';
import { startServer, tempDir, type Started } from '@sstt/testkit';
import { createHttpServer, type HttpServer, type HttpsOptions } from './server.ts';

const t = tempDir('sstt-http-tls-');
let s: Scenario;
let server: HttpServer;
let started: Started;
const creds = (): HttpsOptions => {
  const cp = certPaths(s);
  return { cert: fs.readFileSync(cp.server.cert), key: fs.readFileSync(cp.server.key), ca: fs.readFileSync(cp.ca.cert), crl: fs.readFileSync(cp.crl) };
};

beforeAll(async () => {
  s = loadScenario({ env: { SSTT_CERTS_DIR: path.join(t.dir, 'certs'), SSTT_DATA_DIR: path.join(t.dir, 'data') }, flags: {}, configFile: undefined });
  await initPki(s);
  const root = path.join(t.dir, 'www');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'index.html'), '<p><!--#client-subject--></p>\n');
  server = createHttpServer({ scenario: s, root, host: '127.0.0.1', port: 0, https: { port: 0, ...creds() }, logDir: false });
  started = await startServer(server);
}, 120_000);
afterAll(async () => {
  await started?.close();
  t.remove();
});

/** GET / over TLS with a user's certificate: the status line, or the error that ended it. */
function get(user: string): Promise<string> {
  const cp = certPaths(s);
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: '127.0.0.1',
      port: started.addresses[1]!.port,
      ca: fs.readFileSync(cp.ca.cert),
      cert: fs.readFileSync(cp.client(user).cert),
      key: fs.readFileSync(cp.client(user).key),
      servername: `www.${s.domain}`,
    });
    let data = '';
    sock.on('secureConnect', () => sock.write(`GET / HTTP/1.1\r\nHost: www.${s.domain}\r\nConnection: close\r\n\r\n`));
    sock.on('data', (b: Buffer) => (data += b.toString('latin1')));
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    sock.on('close', () => resolve(data));
  });
}

describe('HTTPS client certificates', () => {
  it('greets the subject, and refuses the certificate after it is revoked and the CRL reloaded', async () => {
    const user = s.users[1]!.name;
    const ok = await get(user);
    expect(ok).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(ok).toMatch(new RegExp(`<p><p class="client">Hola, CN=[^<]*${s.users[1]!.firstName}`));
    await revokeCertificate(s, user);
    server.updateTls(creds());
    expect(await get(user)).toBe('error ECONNRESET');
    // The other user is untouched.
    expect(await get(s.users[0]!.name)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
