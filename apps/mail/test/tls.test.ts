// TLS on every mail listener of the app (src/main.ts with the pki's certificates), judged by
// `openssl s_client`: Mozilla's intermediate profile (a suite or a group outside it is refused),
// no client renegotiation, the chain leaf + CA sent and verified with the CA, and session
// resumption kept (RFC 5077 tickets on TLS 1.2, RFC 8446 §2.2 PSK on TLS 1.3).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '@sstt/testkit';
import { appEnv, startApp, type App } from './app-process.ts';
import { serverTls, testScenario, whenDir, type TestWorld } from './helpers.ts';

let w: TestWorld;
let app: App;
let ca: string;
let openssl: string;

beforeAll(async () => {
  openssl = requireTool('openssl');
  w = testScenario();
  ca = (await serverTls(w.s)).ca;
  app = await startApp(appEnv(w.s), ['smtp', 'submission', 'pop3', 'pop3s']);
});

afterAll(async () => {
  app?.child.kill('SIGTERM');
  await app?.exited;
  w?.remove();
});

/** s_client arguments that reach TLS on each listener (STARTTLS/STLS where it is not implicit). */
const LISTENERS: Record<string, () => string[]> = {
  smtp: () => ['-connect', `127.0.0.1:${app.ports.smtp}`, '-starttls', 'smtp'],
  submission: () => ['-connect', `127.0.0.1:${app.ports.submission}`, '-starttls', 'smtp'],
  'pop3 (STLS)': () => ['-connect', `127.0.0.1:${app.ports.pop3}`, '-starttls', 'pop3'],
  pop3s: () => ['-connect', `127.0.0.1:${app.ports.pop3s}`],
};

/** One s_client run with nothing to send: it connects, handshakes, prints the session and quits. */
async function sClient(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await run(openssl, ['s_client', '-servername', 'localhost', ...args], { timeoutMs: 10_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

/**
 * An s_client that stays connected until the session is up, then either asks for a
 * renegotiation (`R`) and waits for the server's answer, or waits for the session ticket to be
 * written to `sessOut` (a TLS 1.3 ticket comes after the handshake) and quits. Returns what it
 * printed (5 s at most).
 */
function session(args: string[], opts: { renegotiate?: boolean; sessOut?: string } = {}): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(openssl, ['s_client', '-servername', 'localhost', '-CAfile', ca, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let up = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const onData = (d: Buffer) => {
      out += d.toString('latin1');
      if (!up && /Verify return code[\s\S]*\n---\n/.test(out)) {
        up = true;
        if (opts.renegotiate) child.stdin.write('R\n');
        else void ticketWritten(opts.sessOut).then(() => child.stdin.end());
      }
      // Refused: OpenSSL's no_renegotiation alert; accepted: the second handshake's verify lines.
      if (up && opts.renegotiate && (/no renegotiation/.test(out) || /RENEGOTIATING[\s\S]*verify return:1[\s\S]*verify return:1/.test(out)))
        child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.on('error', () => {});
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** Resolves once s_client has written the file (exists, not empty), as it happens. */
async function ticketWritten(file: string | undefined): Promise<void> {
  if (!file) return;
  await whenDir(path.dirname(file), () => fs.existsSync(file) && fs.statSync(file).size > 0, `the session written to ${file}`);
}

describe.each(Object.keys(LISTENERS))('TLS on %s', (name) => {
  const target = () => LISTENERS[name]!();

  it('sends leaf + CA, which verifies against the lab CA (-verify_return_error), on TLS 1.3 by default', async () => {
    const r = await sClient([...target(), '-verify_return_error', '-CAfile', ca, '-showcerts']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('Verify return code: 0 (ok)');
    const chain = r.out.slice(r.out.indexOf('Certificate chain'), r.out.indexOf('Server certificate'));
    expect(chain).toMatch(new RegExp(`^ 0 s:.*CN = www\\.${w.s.domain.replace(/\./g, '\\.')}$`, 'm'));
    expect(chain).toMatch(new RegExp(`^ 1 s:.*CN = ca\\.${w.s.domain.replace(/\./g, '\\.')}$`, 'm'));
    expect(r.out).toMatch(/^New, TLSv1\.3, Cipher is TLS_AES_(128|256)_GCM_SHA(256|384)$/m);
  });

  it('refuses a TLS 1.2 suite outside the profile (AES128-SHA: static RSA, CBC) with a handshake_failure alert', async () => {
    const r = await sClient([...target(), '-tls1_2', '-cipher', 'AES128-SHA']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('alert handshake failure');
    expect(r.out).toMatch(/^New, \(NONE\), Cipher is \(NONE\)$/m);
  });

  it('accepts a profile suite on TLS 1.2 (ECDHE-RSA-AES128-GCM-SHA256)', async () => {
    const r = await sClient([...target(), '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256', '-CAfile', ca, '-verify_return_error']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^New, TLSv1\.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256$/m);
  });

  it('refuses a group outside the profile (secp521r1 only)', async () => {
    const r = await sClient([...target(), '-groups', 'secp521r1']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/alert handshake failure|no suitable key share/);
  });

  it('refuses a client-initiated renegotiation on TLS 1.2 (no_renegotiation)', async () => {
    const out = await session([...target(), '-tls1_2'], { renegotiate: true });
    expect(out).toContain('RENEGOTIATING');
    expect(out).toContain('no renegotiation');
  });

  it('resumes a session from its ticket on TLS 1.2 and TLS 1.3', async () => {
    for (const version of ['-tls1_2', '-tls1_3']) {
      const sess = path.join(w.root, `sess-${name.replace(/\W/g, '')}${version}.pem`);
      const first = await session([...target(), version, '-sess_out', sess], { sessOut: sess });
      expect(first).toMatch(new RegExp(`^New, TLSv1\\.${version.at(-1)}, `, 'm'));
      expect(fs.existsSync(sess), first).toBe(true);
      const again = await sClient([...target(), version, '-sess_in', sess]);
      expect(again.out).toMatch(new RegExp(`^Reused, TLSv1\\.${version.at(-1)}, `, 'm'));
    }
  });
});
