// The seed's full exchange against the app as a process (src/main.ts): nombre1 sends to
// nombre2 over SMTP (as Thunderbird does: BODY=8BITMIME SIZE=...), nombre2 reads it over POP3
// (CAPA, AUTH PLAIN, STAT, LIST, UIDL, RETR 1, DELE 1, QUIT); the message arrives intact byte
// for byte and the mailbox is empty afterwards. Then `sstt-mail ls/show` on the same data.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { rawTcp, requireTool, run, type RawClient } from '@sstt/testkit';
import { maildirFiles, serverTls, testScenario, type TestWorld } from './helpers.ts';
import { appEnv, startApp } from './app-process.ts';
import { main as cli } from '../src/cli.ts';

const CLI = fileURLToPath(new URL('../bin/sstt-mail.mjs', import.meta.url));

async function reply(c: RawClient): Promise<string> {
  for (;;) {
    const line = (await c.readLine()).replace(/\r\n$/, '');
    if (/^\d{3} /.test(line)) return line;
  }
}

/** The seed's POP3 session, with poplib speaking each command (AUTH PLAIN by hand). */
const SEED_POP3 = `
import base64, json, poplib, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = poplib.POP3(host, port, timeout=10)
out = {'greeting': p.getwelcome().decode()}
out['capa'] = sorted(p.capa().keys())
p._putcmd('AUTH PLAIN')
out['auth1'] = p._getline()[0].decode()
blob = base64.b64encode(('\\0%s\\0%s' % (user, pw)).encode()).decode()
out['auth2'] = p._shortcmd(blob).decode()
out['stat'] = list(p.stat())
resp, lines, _ = p.list()
out['list'] = [resp.decode()] + [l.decode() for l in lines]
resp, lines, _ = p.uidl()
out['uidl'] = [resp.decode()] + [l.decode() for l in lines]
resp, lines, octets = p.retr(1)
out['retr'] = resp.decode()
out['message'] = (b'\\r\\n'.join(lines) + b'\\r\\n').hex()
out['dele'] = p.dele(1).decode()
out['quit'] = p.quit().decode()
p = poplib.POP3(host, port, timeout=10)
p.user(user); p.pass_(pw)
out['after'] = list(p.stat())
p.quit()
print(json.dumps(out))
`;

let w: TestWorld;
let app: Awaited<ReturnType<typeof startApp>>;

beforeAll(async () => {
  requireTool('python3');
  w = testScenario();
  app = await startApp(appEnv(w.s), ['smtp', 'submission', 'pop3']);
});

afterAll(async () => {
  if (app) {
    app.child.kill('SIGTERM');
    await app.exited;
  }
  w?.remove();
});

describe('the seed exchange, end to end', () => {
  it('nombre1 sends to nombre2, nombre2 reads and deletes it over POP3', async () => {
    const [n1, n2] = [w.s.users[0]!, w.s.users[1]!];
    const message = Buffer.from(
      `From: ${n1.firstName} <${n1.email}>\r\nTo: ${n2.email}\r\nSubject: Prueba SSTT\r\nDate: Tue, 14 May 2019 10:00:00 +0200\r\n` +
        `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n` +
        `Hola nombre2, ¿qué tal? Esto es una prueba del correo.\r\n.Una línea que empieza por punto.\r\n`,
      'utf8',
    );
    const c = await rawTcp(app.ports.smtp!);
    expect(await reply(c)).toMatch(/^220 /);
    c.write('EHLO [127.0.0.1]\r\n');
    expect(await reply(c)).toBe('250 HELP');
    c.write(`MAIL FROM:<${n1.email}> BODY=8BITMIME SIZE=${message.length}\r\n`);
    expect(await reply(c)).toBe('250 OK');
    c.write(`RCPT TO:<${n2.email}>\r\n`);
    expect(await reply(c)).toBe('250 Accepted');
    c.write('DATA\r\n');
    expect(await reply(c)).toBe('354 Enter message, ending with "." on a line by itself');
    c.write(Buffer.concat([Buffer.from(message.toString('latin1').replace(/^\./gm, '..'), 'latin1'), Buffer.from('.\r\n')]));
    expect(await reply(c)).toMatch(/^250 OK id=/);
    c.write('QUIT\r\n');
    expect(await reply(c)).toMatch(/^221 .* closing connection$/);

    const stored = fs.readFileSync(maildirFiles(maildirOf(w.s, n2.name))[0]!);
    const r = await run('python3', ['-c', SEED_POP3, '127.0.0.1', String(app.ports.pop3), n2.name, n2.password]);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o.greeting).toMatch(/^\+OK .*ready\.$/);
    expect(o.capa).toEqual(expect.arrayContaining(['UIDL', 'USER', 'SASL']));
    expect(o.auth1).toBe('+ ');
    expect(o.auth2).toBe('+OK Logged in.');
    expect(o.stat).toEqual([1, stored.length]);
    expect(o.list).toEqual(['+OK 1 messages:', `1 ${stored.length}`]);
    expect((o.uidl as string[])[1]).toMatch(/^1 \S+$/);
    expect(o.retr).toBe(`+OK ${stored.length} octets`);
    const got = Buffer.from(o.message as string, 'hex');
    expect(got).toEqual(stored);
    // intact: what nombre1 sent follows our Return-Path and Received headers unchanged
    expect(got.subarray(got.length - message.length)).toEqual(message);
    expect(got.toString('latin1').startsWith(`Return-Path: <${n1.email}>\r\nReceived: `)).toBe(true);
    expect(o.dele).toBe('+OK Marked to be deleted.');
    expect(o.quit).toBe('+OK Logging out, messages deleted.');
    expect(o.after).toEqual([0, 0]);
    expect(maildirFiles(maildirOf(w.s, n2.name), 'new')).toEqual([]);
    expect(maildirFiles(maildirOf(w.s, n2.name), 'cur')).toEqual([]);
  });

  it('sstt-mail ls and show print the mailbox', async () => {
    const [n1, n2] = [w.s.users[0]!, w.s.users[1]!];
    const mime =
      `From: ${n2.email}\r\nTo: ${n1.email}\r\nSubject: Con adjunto\r\nDate: Wed, 15 May 2019 09:30:00 +0000\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVa el fichero.\r\n` +
      `--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="datos.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n`;
    const send = await run(requireTool('swaks'), ['--server', `127.0.0.1:${app.ports.smtp}`, '--from', n2.email, '--to', n1.email, '--data', '-'], {
      input: `${mime}.\r\n`,
    });
    expect(send.code, send.stdout).toBe(0);
    const env = { ...process.env, SSTT_DATA_DIR: w.s.paths.data, SSTT_CERTS_DIR: w.s.paths.certs };
    const size = fs.statSync(maildirFiles(maildirOf(w.s, n1.name))[0]!).size;

    const ls = await run(process.execPath, [CLI, 'ls', n1.name], { env });
    expect(ls.code, ls.stderr).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`1 message in ${maildirOf(w.s, n1.name)}`);
    expect(lines[1]).toMatch(/^\s+#\s+date \(UTC\)\s+from\s+to\s+subject\s+size\s+attachments$/);
    expect(lines[2]).toMatch(new RegExp(`^\\s+1  2019-05-15 09:30\\s+${n2.email}\\s+${n1.email}\\s+Con adjunto\\s+${size}  datos\\.bin$`));

    const show = await run(process.execPath, [CLI, 'show', n1.name, '1'], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`From:        ${n2.email}\n`);
    expect(show.stdout).toContain(`To:          ${n1.email}\n`);
    expect(show.stdout).toContain('Subject:     Con adjunto\n');
    expect(show.stdout).toContain(`Size:        ${size} octets\n`);
    expect(show.stdout).toContain('Attachments: datos.bin (application/octet-stream, 10 bytes)\n');
    expect(show.stdout.trimEnd().endsWith('Va el fichero.')).toBe(true);

    // in-process for the cheap cases (each node start costs seconds on a busy machine)
    const flags = ['--data-dir', w.s.paths.data, '--certs-dir', w.s.paths.certs];
    const out: string[] = [];
    expect(await cli(['ls', n2.name, ...flags], (l) => out.push(l))).toBe(0);
    expect(out).toEqual([`0 messages in ${maildirOf(w.s, n2.name)}`]);
    await expect(cli(['show', n1.name, '7', ...flags], () => {})).rejects.toThrow('command line: <n>: expected a message number from 1 to 1, found 7');
    await expect(cli(['ls', 'nadie', ...flags], () => {})).rejects.toThrow(
      `command line: <user>: expected a user of the scenario (${n1.name}, ${n2.name}), found nadie`,
    );
  });
});

describe('with the pki certificates', () => {
  it('main.ts adds STARTTLS, STLS and POP3S: curl sends with STARTTLS and reads over pop3s://', async () => {
    const tw = testScenario();
    const { ca } = await serverTls(tw.s);
    const tapp = await startApp(appEnv(tw.s), ['smtp', 'submission', 'pop3', 'pop3s']);
    try {
      const [n1, n2] = [tw.s.users[0]!, tw.s.users[1]!];
      const msg = `From: <${n1.email}>\r\nTo: <${n2.email}>\r\nSubject: todo cifrado\r\n\r\nhola\r\n`;
      const send = await run(
        'curl',
        [
          '-sS',
          '--ssl-reqd',
          '--cacert',
          ca,
          `smtp://127.0.0.1:${tapp.ports.submission}`,
          '--user',
          `${n1.name}:${n1.password}`,
          '--mail-from',
          n1.email,
          '--mail-rcpt',
          n2.email,
          '-T',
          '-',
        ],
        { input: msg },
      );
      expect(send.code, send.stderr).toBe(0);
      const list = await run('curl', ['-sS', '--cacert', ca, '--user', `${n2.name}:${n2.password}`, `pop3s://127.0.0.1:${tapp.ports.pop3s}/`]);
      expect(list.code, list.stderr).toBe(0);
      // the login moved the message from new/ to cur/ (as dovecot does)
      const size = fs.statSync(maildirFiles(maildirOf(tw.s, n2.name), 'cur')[0]!).size;
      expect(list.stdout).toBe(`1 ${size}\r\n`);
      const retr = await run('curl', ['-sS', '--cacert', ca, '--user', `${n2.name}:${n2.password}`, `pop3s://127.0.0.1:${tapp.ports.pop3s}/1`]);
      expect(retr.stdout.endsWith(msg)).toBe(true);
      expect(retr.stdout).toMatch(/ with esmtpsa \(sstt-mail\)/);
    } finally {
      tapp.child.kill('SIGTERM');
      await tapp.exited;
      tw.remove();
    }
  });
});
