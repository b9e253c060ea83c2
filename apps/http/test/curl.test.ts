// curl end to end: the lab's shipped page over HTTP, HTTPS demanding a client certificate from
// the lab CA (with it 200 and the page greets the subject; without it, with a revoked one or
// one from another CA the connection fails), TLS 1.2 and 1.3, keep-alive reuse, the form, a
// range, HEAD, and the cookie sequence through curl's cookie jar.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '@sstt/testkit';
import { foreignClientCert } from './certs.ts';
import { createWorld, type Running, type World } from './world.ts';

let w: World;
let server: Running;
let curl: string;
let httpBase: string;
let httpsBase: string;
let foreign: { cert: string; key: string };

/** curl's status line on stdout after the body: "<code> <content type> <size>". */
const WRITE_OUT = '\n%{http_code} %{content_type} %{size_download}';

beforeAll(async () => {
  curl = requireTool('curl');
  w = await createWorld();
  // The lab's own web root as the project ships it (apps/http/www), read-only for the test.
  server = await w.start({ root: w.s.http.root, formEmail: w.s.users[0]!.email, logDir: w.logDir });
  httpBase = `http://127.0.0.1:${server.byName('tcp').port}`;
  httpsBase = `https://${w.www}:${server.byName('tls').port}`;
  foreign = await foreignClientCert(path.join(w.dir, 'foreign'), `/C=ES/ST=Murcia/O=UMU/CN=${w.s.users[0]!.firstName}`);
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

async function curlRun(args: string[]) {
  const r = await run(curl, ['-sS', '--max-time', '10', ...args], { timeoutMs: 15_000 });
  const nl = r.stdout.lastIndexOf('\n');
  const [code, type, size] = r.stdout.slice(nl + 1).split(' ');
  return { ...r, body: r.stdout.slice(0, nl), http: code, type, size: Number(size) };
}

/** curl over HTTPS to www.<domain> pinned to 127.0.0.1, trusting the lab CA. */
function tlsArgs(client?: { cert: string; key: string }): string[] {
  const port = server.byName('tls').port;
  return ['--resolve', `${w.www}:${port}:127.0.0.1`, '--cacert', w.certs.paths.ca.cert, ...(client ? ['--cert', client.cert, '--key', client.key] : [])];
}

/** curl exit codes of a TLS refusal: 35 handshake failed, 52 empty reply, 56 receive failure. */
const REFUSED = [35, 52, 56];

const cnOf = (certFile: string) => /(?:^|\n)CN=([^\n]+)/.exec(new crypto.X509Certificate(fs.readFileSync(certFile)).subject)![1]!;

describe('HTTP', () => {
  it('GET / is the lab page: a picture larger than 8 KB and a link to www.um.es', async () => {
    const r = await curlRun(['-w', WRITE_OUT, `${httpBase}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.http).toBe('200');
    expect(r.type).toMatch(/^text\/html/);
    expect(r.body).toMatch(/<a [^>]*href="https?:\/\/www\.um\.es\/?"/);
    const img = /<img [^>]*src="([^"]+\.jpe?g)"/.exec(r.body);
    expect(img, 'an <img> of a JPEG').not.toBeNull();
    const pic = await run(curl, ['-sS', '-o', path.join(w.dir, 'pic.jpg'), '-w', '%{http_code} %{content_type} %{size_download}', `${httpBase}/${img![1]}`]);
    const [code, type, size] = pic.stdout.split(' ');
    expect(code).toBe('200');
    expect(type).toBe('image/jpeg');
    expect(Number(size)).toBeGreaterThan(8 * 1024);
    expect([...fs.readFileSync(path.join(w.dir, 'pic.jpg')).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('the shipped form page (2019/20) posts the field email, URL-encoded, to accion_form.html', async () => {
    const r = await curlRun(['-w', WRITE_OUT, `${httpBase}/accion_form.html`]);
    expect(r.http).toBe('200');
    const form = /<form\b[^>]*>/i.exec(r.body)?.[0] ?? '';
    expect(form).toMatch(/action="\/?accion_form\.html"/i);
    expect(form).toMatch(/method="post"/i);
    expect(form).not.toMatch(/enctype="multipart/i);
    expect(r.body).toMatch(/<input\b[^>]*name="email"/i);
  });

  it('HEAD (-I), a range (-r) and HTTP/1.0 (--http1.0)', async () => {
    const head = await run(curl, ['-sS', '-I', `${httpBase}/`]);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.stdout).toMatch(/\r\nContent-Length: \d+\r\n/i);
    const range = await curlRun(['-r', '0-99', '-w', WRITE_OUT, `${httpBase}/logo-um.jpg`]);
    expect(range.http).toBe('206');
    expect(range.size).toBe(100);
    const old = await curlRun(['--http1.0', '-w', WRITE_OUT, `${httpBase}/`]);
    expect(old.http).toBe('200');
  });

  it('keep-alive: curl reuses one connection for two URLs', async () => {
    const r = await run(curl, ['-sS', '-v', '-o', '/dev/null', '-o', '/dev/null', `${httpBase}/`, `${httpBase}/logo-um.jpg`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Re-using existing connection/);
  });

  it('the form through curl --data-urlencode: correct and wrong', async () => {
    const right = await curlRun(['--data-urlencode', `email=${w.s.users[0]!.email}`, '-w', WRITE_OUT, `${httpBase}/accion_form.html`]);
    expect(right.http).toBe('200');
    expect(right.body).toMatch(/correct/i);
    expect(right.body).not.toMatch(/wrong|incorrect/i);
    const wrong = await curlRun(['--data-urlencode', 'email=someone@example.invalid', '-w', WRITE_OUT, `${httpBase}/accion_form.html`]);
    expect(wrong.http).toBe('200');
    expect(wrong.body).toMatch(/wrong|incorrect/i);
  });

  it('the cookie through a cookie jar: ten accesses served, the eleventh (carrying 10) refused', async () => {
    const jar = path.join(w.dir, 'jar.txt');
    const codes: string[] = [];
    for (let i = 0; i < 11; i++) codes.push((await curlRun(['-b', jar, '-c', jar, '-w', WRITE_OUT, `${httpBase}/`])).http!);
    expect(codes).toEqual([...Array(10).fill('200'), '403']);
    expect(fs.readFileSync(jar, 'utf8')).toMatch(/#HttpOnly_127\.0\.0\.1\tFALSE\t\/\tFALSE\t\d+\tcookie_counter\t10\n/);
  });
});

describe('HTTPS with client certificates', () => {
  it('with the client certificate: 200, and the page greets the certificate subject', async () => {
    const client = w.certs.paths.client(w.certs.good);
    const r = await curlRun([...tlsArgs(client), '-w', WRITE_OUT, `${httpsBase}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.http).toBe('200');
    expect(r.body).toContain(cnOf(client.cert));
    expect(r.body).toContain('www.um.es');
  });

  it('the greeting is only for HTTPS: the plain page names nobody', async () => {
    const client = w.certs.paths.client(w.certs.good);
    const r = await curlRun(['-w', WRITE_OUT, `${httpBase}/`]);
    expect(r.body).not.toContain(cnOf(client.cert));
  });

  it.each([
    ['TLS 1.2', ['--tlsv1.2', '--tls-max', '1.2'], 'TLSv1.2'],
    ['TLS 1.3', ['--tlsv1.3'], 'TLSv1.3'],
  ])('%s with the client certificate → 200', async (_label, flags, proto) => {
    const r = await curlRun([...tlsArgs(w.certs.paths.client(w.certs.good)), ...flags, '-v', '-w', WRITE_OUT, `${httpsBase}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.http).toBe('200');
    expect(r.stderr).toContain(`SSL connection using ${proto}`);
  });

  it.each([
    ['TLS 1.2', ['--tlsv1.2', '--tls-max', '1.2']],
    ['TLS 1.3', ['--tlsv1.3']],
  ])('%s without a client certificate: refused at the TLS layer (curl fails, no HTTP status)', async (_label, flags) => {
    // Under TLS 1.2 the handshake itself fails (exit 35). Under TLS 1.3 the refusal arrives
    // after the client's Finished, on the first read: curl reports the alert (56) or, when the
    // close wins the race, an empty reply (52). Either way no HTTP status ever arrives.
    const r = await curlRun([...tlsArgs(), ...flags, '-w', WRITE_OUT, `${httpsBase}/`]);
    expect(r.code).not.toBe(0);
    expect(REFUSED).toContain(r.code);
    expect(r.http).toBe('000');
  });

  it('with a revoked client certificate: refused', async () => {
    const r = await curlRun([...tlsArgs(w.certs.paths.client(w.certs.revoked)), '-w', WRITE_OUT, `${httpsBase}/`]);
    expect(r.code).not.toBe(0);
    expect(REFUSED).toContain(r.code);
    expect(r.http).toBe('000');
  });

  it('with a certificate from another CA (same subject): refused', async () => {
    const r = await curlRun([...tlsArgs(foreign), '-w', WRITE_OUT, `${httpsBase}/`]);
    expect(r.code).not.toBe(0);
    expect(REFUSED).toContain(r.code);
    expect(r.http).toBe('000');
  });

  it('the server certificate is valid for www.<domain> under the lab CA (curl verifies it)', async () => {
    const r = await curlRun([...tlsArgs(w.certs.paths.client(w.certs.good)), '-v', '-w', WRITE_OUT, `${httpsBase}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SSL certificate verify ok/);
  });
});
