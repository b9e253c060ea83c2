// The SMTP server with real clients (swaks, curl, nodemailer) and a scripted raw client for the
// exact replies of the seed's dialogue.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf, type Scenario } from '@sstt/scenario';
import { rawTcp, requireTool, run, type RawClient, type Started } from '@sstt/testkit';
import { OUTBOUND_DIR } from '../src/smtp.ts';
import { maildirFiles, serverTls, startSmtp, testScenario, userNew, whenDir, withoutTrace, type TestWorld } from './helpers.ts';

/** Reads one (possibly multi-line) SMTP reply: lines until "<code> " (RFC 5321 §4.2.1). */
async function reply(c: RawClient): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = (await c.readLine()).replace(/\r\n$/, '');
    lines.push(line);
    if (/^\d{3}( |$)/.test(line)) return lines;
  }
}
const one = async (c: RawClient) => (await reply(c)).join('\n');

let w: TestWorld;
let s: Scenario;
let tlsFiles: { key: Buffer; cert: Buffer; ca: string };
let smtp: Started;
let submission: Started;
let n1: string;
let n2: string;
let swaks: string;
let curl: string;

beforeAll(async () => {
  swaks = requireTool('swaks');
  curl = requireTool('curl');
  w = testScenario();
  s = w.s;
  tlsFiles = await serverTls(s);
  const tlsOpt = { key: tlsFiles.key, cert: tlsFiles.cert };
  smtp = await startSmtp({ scenario: s, tls: tlsOpt });
  submission = await startSmtp({ scenario: s, tls: tlsOpt, submission: true });
  n1 = s.users[0]!.email;
  n2 = s.users[1]!.email;
});

afterAll(async () => {
  await smtp?.close();
  await submission?.close();
  w?.remove();
});

describe('the seed dialogue, reply by reply', () => {
  it('greets, lists the EHLO keywords, answers MAIL/RCPT/DATA/QUIT with exim texts and delivers intact', async () => {
    const before = userNew(s, s.users[1]!.name).length;
    const c = await rawTcp(smtp.port);
    expect(await one(c)).toMatch(new RegExp(`^220 ${s.hostname} ESMTP sstt-mail \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}$`));
    c.write('EHLO cliente\r\n');
    expect(await reply(c)).toEqual([
      `250-${s.hostname} Hello cliente [127.0.0.1]`,
      `250-SIZE ${s.mail.maxSize}`,
      '250-8BITMIME',
      '250-PIPELINING',
      '250-AUTH PLAIN LOGIN',
      '250-STARTTLS',
      '250 HELP',
    ]);
    const body = 'From: <' + n1 + '>\r\nTo: <' + n2 + '>\r\nSubject: prueba\r\n\r\nHola, esto es una prueba.\r\n';
    c.write(`MAIL FROM:<${n1}> BODY=8BITMIME SIZE=${body.length}\r\n`);
    expect(await one(c)).toBe('250 OK');
    c.write(`RCPT TO:<${n2}>\r\n`);
    expect(await one(c)).toBe('250 Accepted');
    c.write('DATA\r\n');
    expect(await one(c)).toBe('354 Enter message, ending with "." on a line by itself');
    c.write(`${body}.\r\n`);
    const ok = await one(c);
    expect(ok).toMatch(/^250 OK id=[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/);
    c.write('QUIT\r\n');
    expect(await one(c)).toBe(`221 ${s.hostname} closing connection`);
    await c.closed;

    const files = userNew(s, s.users[1]!.name);
    expect(files.length).toBe(before + 1);
    const file = files.find((f) => fs.readFileSync(f, 'latin1').includes(`id ${ok.slice('250 OK id='.length)}`))!;
    expect(file).toBeDefined();
    // Maildir name: <secs>.M<usecs>P<pid>Q<n>.<host>,S=<size>,W=<size>
    const size = fs.statSync(file).size;
    expect(path.basename(file)).toMatch(new RegExp(`^\\d+\\.M\\d+P\\d+Q\\d+\\.[^,/]+,S=${size},W=${size}$`));
    const text = fs.readFileSync(file, 'latin1');
    expect(text.startsWith(`Return-Path: <${n1}>\r\nReceived: from [127.0.0.1] (helo=cliente)\r\n\tby ${s.hostname}.${s.domain} with esmtp`)).toBe(true);
    expect(text).toContain(`\tfor ${n2}; `);
    expect(withoutTrace(file).toString('latin1')).toBe(body);
  });

  it('answers HELP, RSET and NOOP like exim, and refuses DATA before RCPT', async () => {
    const c = await rawTcp(smtp.port);
    await one(c);
    c.write('HELO cliente\r\n');
    expect(await one(c)).toBe(`250 ${s.hostname} Hello cliente [127.0.0.1]`);
    c.write('HELP\r\n');
    expect(await reply(c)).toEqual(['214-Commands supported:', '214 AUTH STARTTLS HELO EHLO MAIL RCPT DATA NOOP QUIT RSET HELP']);
    c.write('MAIL FROM:<>\r\nDATA\r\nRSET\r\nNOOP\r\nQUIT\r\n');
    expect(await one(c)).toBe('250 OK');
    expect(await one(c)).toBe('503 valid RCPT command must precede DATA');
    expect(await one(c)).toBe('250 Reset OK');
    expect(await one(c)).toBe('250 OK');
    expect(await one(c)).toBe(`221 ${s.hostname} closing connection`);
  });

  it('answers pipelined commands in order (RFC 2920) and delivers to two users at once', async () => {
    const c = await rawTcp(smtp.port);
    await one(c);
    c.write('EHLO cliente\r\n');
    await reply(c);
    c.write(`MAIL FROM:<${n1}>\r\nRCPT TO:<${n1}>\r\nRCPT TO:<nadie@${s.domain}>\r\nRCPT TO:<${n2}>\r\nDATA\r\n`);
    expect(await one(c)).toBe('250 OK');
    expect(await one(c)).toBe('250 Accepted');
    expect(await one(c)).toBe('550 5.1.1 Unrouteable address: no such user here');
    expect(await one(c)).toBe('250 Accepted');
    expect(await one(c)).toBe('354 Enter message, ending with "." on a line by itself');
    c.write('Subject: two\r\n\r\nfor both\r\n.\r\nQUIT\r\n');
    const ok = await one(c);
    expect(ok).toMatch(/^250 OK id=/);
    const id = ok.slice('250 OK id='.length);
    const find = (user: string) => userNew(s, user).find((f) => fs.readFileSync(f, 'latin1').includes(`id ${id}`));
    const f1 = find(s.users[0]!.name)!;
    const f2 = find(s.users[1]!.name)!;
    expect(f1 && f2).toBeTruthy();
    expect(path.basename(f1)).not.toBe(path.basename(f2));
    expect(withoutTrace(f1).toString()).toBe('Subject: two\r\n\r\nfor both\r\n');
    expect(fs.readFileSync(f2)).toEqual(fs.readFileSync(f1));
  });

  it('refuses an unknown local user with 550 5.1.1', async () => {
    const r = await run(swaks, ['--server', `127.0.0.1:${smtp.port}`, '--from', n1, '--to', `nadie@${s.domain}`, '--quit-after', 'RCPT']);
    expect(r.stdout).toContain('<** 550 5.1.1 Unrouteable address: no such user here');
  });

  it('accepts the null sender <> (bounces, RFC 5321 §4.5.5)', async () => {
    const before = userNew(s, s.users[0]!.name).length;
    const r = await run(swaks, ['--server', `127.0.0.1:${smtp.port}`, '--from', '<>', '--to', n1, '--header', 'Subject: bounce']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('-> MAIL FROM:<>');
    const files = userNew(s, s.users[0]!.name);
    expect(files.length).toBe(before + 1);
    expect(files.some((f) => fs.readFileSync(f, 'latin1').startsWith('Return-Path: <>\r\n'))).toBe(true);
  });
});

describe('a client that half-closes (its FIN) and still reads', () => {
  // exim 4.96 as a client, when PIPELINING is offered, sends the message's "." and QUIT in one
  // write and then its FIN; it reads the 250 and the 221 after that. Before the fix, the 250 and
  // the 221 were never written (smtp-server writes only to a socket that says 'open'), and a
  // client without the 250 sends the message again.
  const transaction = async (c: RawClient) => {
    expect(await one(c)).toMatch(/^220 /);
    c.write('EHLO client.example.test\r\n');
    expect(await one(c)).toMatch(/^250 HELP$/m);
    c.write(`MAIL FROM:<a@example.test>\r\nRCPT TO:<${n2}>\r\nDATA\r\n`);
    expect([await one(c), await one(c), await one(c)]).toEqual(['250 OK', '250 Accepted', '354 Enter message, ending with "." on a line by itself']);
  };

  it('the message\'s "." and QUIT pipelined, then FIN: 250 (the message stored once), then 221, then the server closes', async () => {
    const before = userNew(s, s.users[1]!.name).length;
    const c = await rawTcp(smtp.port);
    await transaction(c);
    c.write('Subject: half-closed\r\n\r\nbody\r\n.\r\nQUIT\r\n');
    c.end();
    const rest = (await c.readToEnd(10_000)).toString('latin1');
    expect(rest).toMatch(/^250 OK id=\S+\r\n221 \S+ closing connection\r\n$/);
    expect(userNew(s, s.users[1]!.name).length).toBe(before + 1);
  });

  it('the message\'s "." then FIN without QUIT: 250, then the server closes its side (no half-open session left)', async () => {
    const c = await rawTcp(smtp.port);
    await transaction(c);
    c.write('Subject: half-closed, no QUIT\r\n\r\nbody\r\n.\r\n');
    c.end();
    // readToEnd resolves only when the server has closed (5 min of idle timeout before the fix).
    expect((await c.readToEnd(10_000)).toString('latin1')).toMatch(/^250 OK id=\S+\r\n$/);
  });
});

describe('postmaster and MAIL parameters', () => {
  it('accepts postmaster@<domain> in any case and bare <postmaster> from outside (RFC 5321 §4.5.1, §4.1.1.3) and delivers to the first user', async () => {
    const pm = s.users[0]!.name;
    expect(s.mail.postmaster).toBe(pm);
    const before = userNew(s, pm).length;
    const c = await rawTcp(smtp.port, '127.0.0.1', '127.0.0.2');
    await one(c);
    c.write('EHLO fuera\r\n');
    await reply(c);
    c.write(
      `MAIL FROM:<alguien@example.com>\r\nRCPT TO:<postmaster@${s.domain}>\r\nRCPT TO:<PostMaster@${s.domain.toUpperCase()}>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<abuse>\r\nDATA\r\n`,
    );
    expect(await one(c)).toBe('250 OK');
    expect(await one(c)).toBe('250 Accepted');
    expect(await one(c)).toBe('250 Accepted');
    expect(await one(c)).toBe('250 Accepted');
    // only postmaster may come without a domain (smtp-server's syntax check)
    expect(await one(c)).toBe('501 Error: Bad recipient address syntax');
    expect(await one(c)).toMatch(/^354 /);
    c.write('Subject: al postmaster\r\n\r\nhola\r\n.\r\nQUIT\r\n');
    expect(await one(c)).toMatch(/^250 OK id=/);
    await c.closed;
    // three recipients, one mailbox: one copy
    const files = userNew(s, pm).filter((f) => fs.readFileSync(f, 'latin1').includes('Subject: al postmaster'));
    expect(files).toHaveLength(1);
    expect(userNew(s, pm).length).toBe(before + 1);
  });

  it('delivers postmaster to the configured user (mail.postmaster)', async () => {
    const other = s.users[1]!.name;
    const srv = await startSmtp({ scenario: { ...s, mail: { ...s.mail, postmaster: other } } });
    try {
      const r = await run(swaks, ['--server', `127.0.0.1:${srv.port}`, '--from', n1, '--to', `postmaster@${s.domain}`, '--header', 'Subject: pm configurado']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(userNew(s, other).some((f) => fs.readFileSync(f, 'latin1').includes('Subject: pm configurado'))).toBe(true);
      expect(userNew(s, s.users[0]!.name).some((f) => fs.readFileSync(f, 'latin1').includes('Subject: pm configurado'))).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('refuses SMTPUTF8 (not advertised) and any other parameter of an extension it does not offer with 555', async () => {
    const c = await rawTcp(smtp.port);
    await one(c);
    c.write('EHLO cliente\r\n');
    expect(await reply(c)).not.toContain('250-SMTPUTF8');
    c.write(`MAIL FROM:<${n1}> SMTPUTF8\r\n`);
    expect(await one(c)).toBe('555 5.5.4 SMTPUTF8 is not supported');
    c.write(`MAIL FROM:<${n1}> BODY=8BITMIME SMTPUTF8\r\n`);
    expect(await one(c)).toBe('555 5.5.4 SMTPUTF8 is not supported');
    c.write(`MAIL FROM:<${n1}> RET=HDRS\r\n`);
    expect(await one(c)).toBe('555 5.5.4 Unsupported MAIL FROM parameter');
    c.write(`MAIL FROM:<${n1}> XFOO\r\n`);
    expect(await one(c)).toBe('555 5.5.4 Unsupported MAIL FROM parameter');
    // nothing was accepted: a plain MAIL FROM still works
    c.write(`MAIL FROM:<${n1}> SIZE=10 BODY=7BIT\r\n`);
    expect(await one(c)).toBe('250 OK');
    c.destroy();
  });
});

describe('real clients', () => {
  it('swaks delivers an 8-bit body byte for byte', async () => {
    const body = 'Año, canción, pingüino: ñ á é í ó ú € — 8 bits.\r\nSegunda línea.\r\n';
    const r = await run(
      swaks,
      [
        '--server',
        `127.0.0.1:${smtp.port}`,
        '--from',
        n1,
        '--to',
        n2,
        '--header',
        'Subject: ocho bits',
        '--add-header',
        'Content-Type: text/plain; charset=utf-8',
        '--body',
        '-',
      ],
      { input: body },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/<- {2}250 OK id=/);
    const file = userNew(s, s.users[1]!.name).find((f) => fs.readFileSync(f, 'latin1').includes('Subject: ocho bits'))!;
    expect(withoutTrace(file).includes(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('curl smtp:// in clear: dot-stuffed lines arrive unstuffed (RFC 5321 §4.5.2)', async () => {
    const msg = `From: <${n1}>\r\nTo: <${n2}>\r\nSubject: puntos\r\n\r\n.una linea con punto\r\n..dos puntos\r\n.\r\nfin\r\n`;
    const r = await run(curl, ['-sS', `smtp://127.0.0.1:${smtp.port}`, '--mail-from', n1, '--mail-rcpt', n2, '-T', '-'], { input: msg });
    expect(r.code, r.stderr).toBe(0);
    const file = userNew(s, s.users[1]!.name).find((f) => fs.readFileSync(f, 'latin1').includes('Subject: puntos'))!;
    expect(withoutTrace(file).toString()).toBe(msg);
  });

  it('curl smtp:// with STARTTLS (--ssl-reqd) and the lab CA', async () => {
    const msg = `From: <${n1}>\r\nTo: <${n2}>\r\nSubject: cifrado\r\n\r\nsecreto\r\n`;
    const r = await run(
      curl,
      ['-sS', '-v', '--ssl-reqd', '--cacert', tlsFiles.ca, `smtp://127.0.0.1:${smtp.port}`, '--mail-from', n1, '--mail-rcpt', n2, '-T', '-'],
      { input: msg },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('STARTTLS');
    const file = userNew(s, s.users[1]!.name).find((f) => fs.readFileSync(f, 'latin1').includes('Subject: cifrado'))!;
    expect(fs.readFileSync(file, 'latin1')).toMatch(/ with esmtps \(sstt-mail\)/);
  });

  it('swaks with STARTTLS and AUTH PLAIN (ESMTPSA)', async () => {
    const u = s.users[0]!;
    const r = await run(swaks, [
      '--server',
      `127.0.0.1:${smtp.port}`,
      '--from',
      n1,
      '--to',
      n2,
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      u.name,
      '--auth-password',
      u.password,
      '--header',
      'Subject: tls auth',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('<-  220 TLS go ahead');
    expect(r.stdout).toContain('<~  235 Authentication succeeded');
    const file = userNew(s, s.users[1]!.name).find((f) => fs.readFileSync(f, 'latin1').includes('Subject: tls auth'))!;
    expect(fs.readFileSync(file, 'latin1')).toMatch(/ with esmtpsa \(sstt-mail\)/);
  });

  it('nodemailer sends a batch over one pipelined connection', async () => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => t.sendMail({ from: n1, to: [n1, n2], subject: `lote ${i}`, text: `mensaje ${i}\n` })),
    );
    t.close();
    for (const r of results) {
      expect(r.accepted).toEqual([n1, n2]);
      expect(r.response).toMatch(/^250 OK id=/);
    }
    for (const user of [s.users[0]!.name, s.users[1]!.name]) {
      const subjects = userNew(s, user)
        .map((f) => /Subject: (lote \d)/.exec(fs.readFileSync(f, 'latin1'))?.[1])
        .filter(Boolean);
      expect(subjects.sort()).toEqual(['lote 0', 'lote 1', 'lote 2', 'lote 3', 'lote 4']);
    }
  });
});

describe('limits and relaying', () => {
  it('refuses a declared SIZE over the limit with 552 (RFC 1870)', async () => {
    const c = await rawTcp(smtp.port);
    await one(c);
    c.write('EHLO cliente\r\n');
    await reply(c);
    c.write(`MAIL FROM:<${n1}> SIZE=${s.mail.maxSize + 1}\r\n`);
    expect(await one(c)).toBe('552 Message size exceeds maximum permitted');
    c.destroy();
  });

  it('refuses a message over SIZE with 552 and leaves nothing in new/ or tmp/', async () => {
    const small = { ...s, mail: { ...s.mail, maxSize: 4096 } };
    const srv = await startSmtp({ scenario: small });
    try {
      const user = s.users[0]!.name;
      const before = userNew(s, user).length;
      const tmpBefore = maildirFiles(maildirOf(s, user), 'tmp').length;
      const c = await rawTcp(srv.port);
      await one(c);
      c.write(`EHLO cliente\r\nMAIL FROM:<${n1}>\r\nRCPT TO:<${n1}>\r\nDATA\r\n`);
      await reply(c);
      await one(c);
      await one(c);
      expect(await one(c)).toMatch(/^354 /);
      c.write(`Subject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(100) + '.\r\n');
      expect(await one(c)).toBe('552 Message size exceeds maximum permitted');
      c.write('QUIT\r\n');
      await one(c);
      expect(userNew(s, user).length).toBe(before);
      expect(maildirFiles(maildirOf(s, user), 'tmp').length).toBe(tmpBefore);
    } finally {
      await srv.close();
    }
  });

  it('a client that drops in the middle of DATA leaves nothing in new/ and tmp/ is cleaned up', async () => {
    const user = s.users[0]!.name;
    const dir = maildirOf(s, user);
    const before = userNew(s, user).length;
    const c = await rawTcp(smtp.port);
    await one(c);
    c.write(`EHLO cliente\r\nMAIL FROM:<>\r\nRCPT TO:<${n1}>\r\nDATA\r\n`);
    await reply(c);
    await one(c);
    await one(c);
    expect(await one(c)).toMatch(/^354 /);
    c.write(`Subject: cortado\r\n\r\n${'x'.repeat(100)}\r\n`.repeat(50));
    // the partial message is being written to tmp/ (it may not have arrived yet: wait for it)
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    await whenDir(path.join(dir, 'tmp'), () => maildirFiles(dir, 'tmp').length > 0, 'the partial message in tmp/');
    c.destroy();
    // the dropped connection's file goes from tmp/
    await whenDir(path.join(dir, 'tmp'), () => maildirFiles(dir, 'tmp').length === 0, 'tmp/ emptied');
    expect(maildirFiles(dir, 'tmp')).toEqual([]);
    expect(userNew(s, user).length).toBe(before);
  });

  it('refuses relaying from outside the relay network (127.0.0.2): 550 5.7.1', async () => {
    const r = await run(swaks, [
      '--server',
      `127.0.0.1:${smtp.port}`,
      '--local-interface',
      '127.0.0.2',
      '--from',
      n1,
      '--to',
      'alguien@example.com',
      '--quit-after',
      'RCPT',
    ]);
    expect(r.stdout).toContain('<** 550 5.7.1 relaying denied');
    // local users are still reachable from there
    const ok = await run(swaks, [
      '--server',
      `127.0.0.1:${smtp.port}`,
      '--local-interface',
      '127.0.0.2',
      '--from',
      'alguien@example.com',
      '--to',
      n2,
      '--quit-after',
      'RCPT',
    ]);
    expect(ok.stdout).toContain('<-  250 Accepted');
  });

  it('offers AUTH to 127.0.0.2 only after STARTTLS, and relays for it after AUTH', async () => {
    const c = await rawTcp(smtp.port, '127.0.0.1', '127.0.0.2');
    await one(c);
    c.write('EHLO fuera\r\n');
    const ehlo = await reply(c);
    expect(ehlo).not.toContain('250-AUTH PLAIN LOGIN');
    expect(ehlo).toContain('250-STARTTLS');
    c.write('AUTH PLAIN AG5vYm9keQB4\r\n');
    expect(await one(c)).toBe('500 unrecognized command');
    c.destroy();

    const u = s.users[0]!;
    const r = await run(swaks, [
      '--server',
      `127.0.0.1:${smtp.port}`,
      '--local-interface',
      '127.0.0.2',
      '--tls',
      '--auth',
      'LOGIN',
      '--auth-user',
      u.name,
      '--auth-password',
      u.password,
      '--from',
      n1,
      '--to',
      'alguien@example.com',
      '--header',
      'Subject: relayed',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = maildirFiles(path.join(s.paths.mail, OUTBOUND_DIR, 'example.com', 'Maildir'));
    expect(out.some((f) => fs.readFileSync(f, 'latin1').includes('Subject: relayed'))).toBe(true);
  });

  it('relays for the relay network (127.0.0.1) into the outbound Maildir', async () => {
    const r = await run(swaks, ['--server', `127.0.0.1:${smtp.port}`, '--from', n1, '--to', 'otro@example.org', '--header', 'Subject: saliente']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = maildirFiles(path.join(s.paths.mail, OUTBOUND_DIR, 'example.org', 'Maildir'));
    expect(out.some((f) => fs.readFileSync(f, 'latin1').includes('Subject: saliente'))).toBe(true);
  });

  it('rejects bad credentials with 535', async () => {
    const r = await run(swaks, [
      '--server',
      `127.0.0.1:${smtp.port}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      s.users[0]!.name,
      '--auth-password',
      'wrong',
      '--from',
      n1,
      '--to',
      n2,
    ]);
    expect(r.stdout).toContain('<** 535 Incorrect authentication data');
  });

  it('submission requires AUTH before MAIL, then accepts', async () => {
    const c = await rawTcp(submission.port);
    await one(c);
    c.write(`EHLO cliente\r\nMAIL FROM:<${n1}>\r\n`);
    await reply(c);
    expect(await one(c)).toBe('530 Authentication required');
    c.destroy();
    const u = s.users[0]!;
    const r = await run(swaks, [
      '--server',
      `127.0.0.1:${submission.port}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      u.name,
      '--auth-password',
      u.password,
      '--from',
      n1,
      '--to',
      n2,
      '--header',
      'Subject: submission',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('without certificates offers no STARTTLS; with plaintextAuth off, no AUTH in clear', async () => {
    const noTls = await startSmtp({ scenario: { ...s, mail: { ...s.mail, plaintextAuth: false } } });
    try {
      const c = await rawTcp(noTls.port);
      await one(c);
      c.write('EHLO cliente\r\n');
      expect(await reply(c)).toEqual([
        `250-${s.hostname} Hello cliente [127.0.0.1]`,
        `250-SIZE ${s.mail.maxSize}`,
        '250-8BITMIME',
        '250-PIPELINING',
        '250 HELP',
      ]);
      c.write('STARTTLS\r\n');
      expect(await one(c)).toBe('500 unrecognized command');
      c.destroy();
    } finally {
      await noTls.close();
    }
  });
});
