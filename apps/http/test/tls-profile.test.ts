// HTTPS on Mozilla's intermediate profile (issue 12), judged by `openssl s_client`: a TLS 1.2
// suite outside the profile (static RSA, CBC) and a group outside it (secp521r1) are refused, a
// client-initiated renegotiation is refused (no_renegotiation), the chain (leaf + CA) verifies
// with -verify_return_error against the lab CA, and TLS 1.2 sessions are resumed.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '@sstt/testkit';
import { createWorld, type Running, type World } from './world.ts';

let w: World;
let server: Running;
let openssl: string;

beforeAll(async () => {
  openssl = requireTool('openssl');
  w = await createWorld();
  server = await w.start({ logDir: false });
}, 60_000);

afterAll(async () => {
  await w?.cleanup();
});

/** s_client to the HTTPS port with the valid client certificate and the lab CA. */
function clientArgs(): string[] {
  const c = w.certs.paths.client(w.certs.good);
  return [
    's_client',
    '-connect',
    `127.0.0.1:${server.byName('tls').port}`,
    '-servername',
    w.www,
    '-cert',
    c.cert,
    '-key',
    c.key,
    '-CAfile',
    w.certs.paths.ca.cert,
  ];
}

/** Runs s_client with stdin closed at once: it handshakes, then leaves. */
function sClient(extra: string[]) {
  return run(openssl, [...clientArgs(), ...extra], { timeoutMs: 10_000 });
}

describe('HTTPS: Mozilla intermediate profile', () => {
  it('a TLS 1.2 suite outside the profile (AES128-SHA: static RSA, CBC) is refused with a handshake_failure alert', async () => {
    const r = await sClient(['-tls1_2', '-cipher', 'AES128-SHA']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/alert handshake failure/);
    expect(r.stdout).toMatch(/Cipher is \(NONE\)/);
  });

  it('a profile suite is accepted (ECDHE-RSA-AES128-GCM-SHA256 over TLS 1.2)', async () => {
    const r = await sClient(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/New, TLSv1\.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256/);
  });

  it('a group outside the profile (secp521r1) is refused; X25519, P-256 and P-384 are accepted', async () => {
    const refused = await sClient(['-groups', 'secp521r1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/alert handshake failure/);
    for (const [group, shown] of [
      ['X25519', 'X25519'],
      ['P-256', 'ECDH, prime256v1'],
      ['P-384', 'ECDH, secp384r1'],
    ] as const) {
      const r = await sClient(['-groups', group, '-brief']);
      expect(r.code, `${group}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain(`Server Temp Key: ${shown}`);
    }
  });

  it('a client renegotiation (R on a TLS 1.2 connection) is refused: no second handshake', async () => {
    const child = spawn(openssl, [...clientArgs(), '-tls1_2'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let from = 0;
    const waitFor = (re: RegExp, ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        const check = () => {
          if (re.test(out.slice(from))) {
            clearTimeout(timer);
            resolve(true);
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.on('close', () => {
          clearTimeout(timer);
          resolve(re.test(out.slice(from)));
        });
        check();
      });
    // The handshake summary ends with the session block; then the client may type.
    expect(await waitFor(/Verify return code: 0 \(ok\)[\s\S]*---\n/, 8000)).toBe(true);
    from = out.length;
    child.stdin.write('R\n');
    // Either the refusal or a second verification of the server's chain (a new handshake).
    expect(await waitFor(/no renegotiation|depth=0/, 8000)).toBe(true);
    child.kill();
    const after = out.slice(from);
    expect(after).toMatch(/RENEGOTIATING/);
    expect(after).toMatch(/no renegotiation/);
    // A second handshake would verify the server's chain again.
    expect(after).not.toMatch(/depth=0/);
  });

  it('the chain verifies with -verify_return_error against the lab CA (leaf + CA sent), for www.<domain>', async () => {
    const r = await sClient(['-verify_return_error', '-verify_hostname', w.www, '-showcerts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Verify return code: 0 \(ok\)/);
    // Certificate chain: 0 the leaf, 1 the CA.
    expect(r.stdout).toMatch(new RegExp(` 0 s:.*CN = ${w.www.replace(/\./g, '\\.')}`));
    expect(r.stdout).toMatch(/ 1 s:.*CN = ca\./);
  });

  it('TLS 1.2 session resumption is kept', async () => {
    const sess = path.join(w.dir, 'tls12.sess');
    const first = await sClient(['-tls1_2', '-sess_out', sess]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^New, TLSv1\.2/m);
    const again = await sClient(['-tls1_2', '-sess_in', sess]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Reused, TLSv1\.2/m);
  });
});
