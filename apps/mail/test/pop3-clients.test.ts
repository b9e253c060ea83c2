// Real POP3 clients against our server: curl (pop3://, STLS with --ssl-reqd, pop3s://) and
// Python's poplib (USER/PASS, AUTH via the raw command, STLS, POP3_SSL), with certificates
// minted by packages/pki.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths } from '@sstt/scenario';
import { initPki } from '@sstt/pki';
import { requireTool, run, type Started } from '@sstt/testkit';
import { crlf, listMaildir, Pop3Client, pop3Scenario, startPop3, upgradeToTls, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let plain: Started;
let implicit: Started;
let ca: string;
let curl: string;
let python: string;
let user: { name: string; password: string };

const MESSAGE = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: clients\r\n\r\nline\r\n.dotted line\r\n\r\nlast\r\n';
const LF_MESSAGE = 'Subject: lf only\n\nbody\n';

beforeAll(async () => {
  curl = requireTool('curl');
  python = requireTool('python3');
  w = pop3Scenario();
  user = w.s.users[1]!;
  await initPki(w.s);
  const p = certPaths(w.s);
  ca = p.ca.cert;
  const tlsOpts = { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert) };
  plain = await startPop3({ scenario: w.s, tls: tlsOpts });
  implicit = await startPop3({ scenario: w.s, tls: tlsOpts, implicitTls: true });
}, 120_000);

afterAll(async () => {
  await plain?.close();
  await implicit?.close();
  w?.remove();
});

function resetBox(): void {
  fs.rmSync(w.s.paths.mail, { recursive: true, force: true });
  writeMessage(w.s, user.name, MESSAGE);
  writeMessage(w.s, user.name, LF_MESSAGE, { names: '' });
}

const userpass = () => `${user.name}:${user.password}`;

describe('curl', () => {
  it('lists, retrieves byte-exact and deletes with -X DELE', async () => {
    resetBox();
    const list = await run(curl, ['-sS', '-u', userpass(), `pop3://127.0.0.1:${plain.port}/`]);
    expect(list.stderr).toBe('');
    expect(list.stdout).toBe(`1 ${MESSAGE.length}\r\n2 ${crlf(LF_MESSAGE).length}\r\n`);
    const retr = await run(curl, ['-sS', '-u', userpass(), `pop3://127.0.0.1:${plain.port}/1`]);
    expect(retr.stdout).toBe(MESSAGE);
    const retr2 = await run(curl, ['-sS', '-u', userpass(), `pop3://127.0.0.1:${plain.port}/2`]);
    expect(retr2.stdout).toBe(crlf(LF_MESSAGE).toString());
    const dele = await run(curl, ['-sS', '-u', userpass(), '-X', 'DELE', '-I', `pop3://127.0.0.1:${plain.port}/1`]);
    expect(dele.code).toBe(0);
    expect(listMaildir(w.s, user.name, 'cur')).toHaveLength(1);
    const after = await run(curl, ['-sS', '-u', userpass(), `pop3://127.0.0.1:${plain.port}/`]);
    expect(after.stdout).toBe(`1 ${crlf(LF_MESSAGE).length}\r\n`);
  });

  it('logs in with AUTH PLAIN (SASL) and fails with a wrong password (exit 67)', async () => {
    resetBox();
    const ok = await run(curl, ['-sS', '--login-options', 'AUTH=PLAIN', '-u', userpass(), `pop3://127.0.0.1:${plain.port}/1`]);
    expect(ok.stdout).toBe(MESSAGE);
    const bad = await run(curl, ['-sS', '-u', `${user.name}:wrong`, `pop3://127.0.0.1:${plain.port}/`]);
    expect(bad.code).toBe(67);
  });

  it('upgrades with STLS (--ssl-reqd) and talks implicit TLS (pop3s://), verifying the pki certificate', async () => {
    resetBox();
    const stls = await run(curl, ['-sS', '--ssl-reqd', '--cacert', ca, '-u', userpass(), `pop3://127.0.0.1:${plain.port}/1`]);
    expect(stls.stderr).toBe('');
    expect(stls.stdout).toBe(MESSAGE);
    const pop3s = await run(curl, ['-sS', '--cacert', ca, '-u', userpass(), `pop3s://127.0.0.1:${implicit.port}/`]);
    expect(pop3s.stderr).toBe('');
    expect(pop3s.stdout).toBe(`1 ${MESSAGE.length}\r\n2 ${crlf(LF_MESSAGE).length}\r\n`);
  });
});

const POPLIB = `
import json, poplib, ssl, sys
mode, port, user, password, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
if mode == 'pop3s':
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=10)
else:
    p = poplib.POP3('127.0.0.1', port, timeout=10)
    if mode == 'stls':
        p.stls(ctx)
out = {'welcome': p.getwelcome().decode(), 'capa': sorted(p.capa().keys())}
if mode == 'auth':
    out['auth'] = p._shortcmd('AUTH PLAIN ' + __import__('base64').b64encode(('\\0%s\\0%s' % (user, password)).encode()).decode()).decode()
else:
    out['user'] = p.user(user).decode()
    out['pass'] = p.pass_(password).decode()
out['stat'] = list(p.stat())
resp, lines, octets = p.list()
out['list'] = [resp.decode(), [l.decode() for l in lines]]
out['uidl'] = [l.decode() for l in p.uidl()[1]]
resp, lines, octets = p.retr(1)
out['retr'] = [resp.decode(), b'\\r\\n'.join(lines).decode() + '\\r\\n', octets]
out['top'] = [l.decode() for l in p.top(1, 1)[1]]
out['dele'] = p.dele(1).decode()
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;

async function poplib(mode: 'plain' | 'auth' | 'stls' | 'pop3s', port: number): Promise<Record<string, unknown>> {
  const r = await run(python, ['-c', POPLIB, mode, String(port), user.name, user.password, ca]);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('python poplib', () => {
  for (const mode of ['plain', 'auth', 'stls', 'pop3s'] as const) {
    it(`reads and deletes over ${mode}`, async () => {
      resetBox();
      const out = await poplib(mode, mode === 'pop3s' ? implicit.port : plain.port);
      const lfSize = crlf(LF_MESSAGE).length;
      expect(out.welcome).toBe('+OK sstt ready.');
      expect(out.capa).toEqual(
        mode === 'plain' || mode === 'auth'
          ? ['AUTH-RESP-CODE', 'CAPA', 'PIPELINING', 'RESP-CODES', 'SASL', 'STLS', 'TOP', 'UIDL', 'USER']
          : ['AUTH-RESP-CODE', 'CAPA', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER'],
      );
      if (mode === 'auth') expect(out.auth).toBe('+OK Logged in.');
      else expect([out.user, out.pass]).toEqual(['+OK', '+OK Logged in.']);
      expect(out.stat).toEqual([2, MESSAGE.length + lfSize]);
      expect(out.list).toEqual(['+OK 2 messages:', [`1 ${MESSAGE.length}`, `2 ${lfSize}`]]);
      expect((out.uidl as string[]).map((l) => l.slice(0, 10))).toEqual(['1 00000001', '2 00000002']);
      const [resp, body] = out.retr as [string, string];
      expect(resp).toBe(`+OK ${MESSAGE.length} octets`);
      expect(body).toBe(MESSAGE);
      expect(out.top).toEqual(['From: a@example.test', 'To: b@example.test', 'Subject: clients', '', 'line']);
      expect(out.dele).toBe('+OK Marked to be deleted.');
      expect(out.quit).toBe('+OK Logging out, messages deleted.');
      expect(listMaildir(w.s, user.name, 'cur')).toHaveLength(1);
    });
  }
});

describe('STLS on a raw socket (RFC 2595 §4)', () => {
  it('answers +OK, discards commands pipelined after STLS, then serves the session over TLS', async () => {
    resetBox();
    const { client } = await Pop3Client.connect(plain.port);
    expect((await client.lines('CAPA')).lines).toContain('STLS');
    // CAPA in the same packet as STLS was sent in clear: it must not be answered.
    client.raw.write('STLS\r\nCAPA\r\n');
    expect(await client.line()).toBe('+OK Begin TLS negotiation now.');
    const { secure, until } = await upgradeToTls(client, fs.readFileSync(ca));
    secure.write('CAPA\r\n');
    expect(await until(/^\+OK\r\n[\s\S]*?\r\n\.\r\n/)).toBe(
      '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n',
    );
    secure.write('STLS\r\n');
    expect(await until(/^.*\r\n/)).toBe('-ERR TLS is already active.\r\n');
    secure.write(`USER ${user.name}\r\nPASS ${user.password}\r\nSTAT\r\nQUIT\r\n`);
    expect(await until(/^(.*\r\n){4}/)).toBe(`+OK\r\n+OK Logged in.\r\n+OK 2 ${MESSAGE.length + crlf(LF_MESSAGE).length}\r\n+OK Logging out.\r\n`);
    secure.destroy();
  });
});

describe('STLS without a handshake', () => {
  it('is dropped after the idle timeout', async () => {
    const p = certPaths(w.s);
    const quick = await startPop3({ scenario: w.s, idleTimeoutMs: 300, tls: { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert) } });
    try {
      const { client } = await Pop3Client.connect(quick.port);
      expect(await client.cmd('STLS')).toBe('+OK Begin TLS negotiation now.');
      await client.raw.readToEnd(5000);
      expect(client.raw.isClosed()).toBe(true);
    } finally {
      await quick.close();
    }
  });
});

describe('plaintext logins switched off', () => {
  it('refuses USER in clear with [PRIVACY] but accepts it after STLS', async () => {
    const w2 = pop3Scenario({ SSTT_MAIL_PLAINTEXT_AUTH: 'false', SSTT_CERTS_DIR: w.s.paths.certs });
    const p = certPaths(w2.s);
    const srv = await startPop3({ scenario: w2.s, tls: { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert) } });
    try {
      fs.mkdirSync(path.join(w2.s.paths.mail), { recursive: true });
      writeMessage(w2.s, user.name, MESSAGE);
      const clear = await run(curl, ['-sS', '-u', userpass(), `pop3://127.0.0.1:${srv.port}/`]);
      expect(clear.code).not.toBe(0);
      const secured = await run(curl, ['-sS', '--ssl-reqd', '--cacert', ca, '-u', userpass(), `pop3://127.0.0.1:${srv.port}/1`]);
      expect(secured.stdout).toBe(MESSAGE);
    } finally {
      await srv.close();
      w2.remove();
    }
  });
});
