// The POP3 dialogue rule by rule over raw sockets, with the exact replies (RFC 1939, 2449,
// 3206, 5034; wording as the lab's dovecot).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import type { User } from '@sstt/scenario';
import type { Started } from '@sstt/testkit';
import { crlf, crlfSize, listMaildir, mailboxUnlocked, plainBlob, Pop3Client, pop3Scenario, startPop3, writeMessage, type Pop3World } from './pop3-helpers.ts';
import { AuthPenalty } from '../src/auth-penalty.ts';

let w: Pop3World;
let srv: Started;
let u1: User;
let u2: User;

// Every test gets its own data directory and server: no mailbox lock or state leaks between them.
beforeEach(async () => {
  w = pop3Scenario();
  u1 = w.s.users[0]!;
  u2 = w.s.users[1]!;
  srv = await startPop3({ scenario: w.s, closeGraceMs: 200 });
});
afterEach(async () => {
  await srv?.close();
  w?.remove();
});

/** The seed's message (nombre1 to nombre2), spelled for the scenario's users and domain. */
const seedMessage = (from: { name: string; firstName: string; email: string }, to: { firstName: string; email: string }) =>
  [
    `Return-Path: <${from.email}>`,
    'Received: from cliente by server with esmtp',
    `From: ${from.firstName} <${from.email}>`,
    `To: ${to.email}`,
    'Subject: prueba',
    '',
    `Hola ${to.firstName}, esto es una prueba.`,
    '',
  ].join('\r\n');

describe('the seed exchange', () => {
  it('CAPA, AUTH PLAIN with continuation, STAT, LIST, UIDL, RETR 1 byte-exact, DELE 1, QUIT empties the mailbox', async () => {
    const message = seedMessage(u1, u2);
    writeMessage(w.s, u2.name, message, { names: 'SW' });
    const size = Buffer.byteLength(message);
    const { client, greeting } = await Pop3Client.connect(srv.port);
    expect(greeting).toBe('+OK sstt ready.');
    const capa = await client.lines('CAPA');
    expect(capa.first).toBe('+OK');
    expect(capa.lines).toEqual(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'USER', 'SASL PLAIN LOGIN']);
    expect(await client.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await client.cmd(plainBlob(u2.name, u2.password))).toBe('+OK Logged in.');
    expect(await client.cmd('STAT')).toBe(`+OK 1 ${size}`);
    expect(await client.lines('LIST')).toEqual({ first: '+OK 1 messages:', lines: [`1 ${size}`] });
    const uidl = await client.lines('UIDL');
    expect(uidl.first).toBe('+OK');
    expect(uidl.lines).toHaveLength(1);
    expect(uidl.lines[0]).toMatch(/^1 00000001[0-9a-f]{8}$/);
    expect(await client.cmd('RETR 1')).toBe(`+OK ${size} octets`);
    expect((await client.body()).toString('latin1')).toBe(message);
    expect(await client.cmd('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await client.cmd('QUIT')).toBe('+OK Logging out, messages deleted.');
    await client.raw.closed;
    expect(listMaildir(w.s, u2.name, 'cur')).toEqual([]);
    expect(listMaildir(w.s, u2.name, 'new')).toEqual([]);
  });

  it('AUTH PLAIN with an initial response (the seed blob shape) and USER/PASS both log in', async () => {
    const a = await Pop3Client.connect(srv.port);
    expect(await a.client.cmd(`AUTH PLAIN ${plainBlob(u1.name, u1.password)}`)).toBe('+OK Logged in.');
    expect(await a.client.cmd('STAT')).toBe('+OK 0 0');
    expect(await a.client.cmd('QUIT')).toBe('+OK Logging out.');
    const b = await Pop3Client.connect(srv.port);
    expect(await b.client.cmd(`USER ${u1.name}`)).toBe('+OK');
    expect(await b.client.cmd(`PASS ${u1.password}`)).toBe('+OK Logged in.');
    expect(await b.client.lines('LIST')).toEqual({ first: '+OK 0 messages:', lines: [] });
    expect(await b.client.cmd('QUIT')).toBe('+OK Logging out.');
  });
});

describe('mailbox rules', () => {
  it('moves new/ to cur/ with the ":2," suffix at login, keeps UIDLs stable across sessions', async () => {
    const n1 = writeMessage(w.s, u1.name, 'Subject: one\r\n\r\n1\r\n');
    const n2 = writeMessage(w.s, u1.name, 'Subject: two\r\n\r\n2\r\n');
    const a = await Pop3Client.connect(srv.port);
    await a.client.login(u1.name, u1.password);
    expect(listMaildir(w.s, u1.name, 'new')).toEqual([]);
    expect(listMaildir(w.s, u1.name, 'cur')).toEqual([`${n1}:2,`, `${n2}:2,`].sort());
    const first = (await a.client.lines('UIDL')).lines;
    await a.client.cmd('QUIT');
    const n3 = writeMessage(w.s, u1.name, 'Subject: three\r\n\r\n3\r\n');
    const b = await Pop3Client.connect(srv.port);
    await b.client.login(u1.name, u1.password);
    const second = (await b.client.lines('UIDL')).lines;
    expect(second.slice(0, 2)).toEqual(first);
    expect(second[2]).toMatch(/^3 00000003/);
    expect(await b.client.cmd('UIDL 2')).toBe(`+OK ${first[1]}`);
    await b.client.cmd('QUIT');
    const uidlist = fs.readFileSync(path.join(maildirOf(w.s, u1.name), 'dovecot-uidlist'), 'utf8');
    expect(uidlist).toMatch(new RegExp(`^3 V\\d+ N4 G[0-9a-f]{32}\\n1 [^\\n]*:${n1.replace(/[.,=]/g, '\\$&')}\\n`));
    expect(uidlist).toContain(`:${n3}\n`);
  });

  it('counts sizes as CRLF octets for LF-only files, and RETR sends CRLF', async () => {
    const lf = 'Subject: lf\n\nline one\nline two\n';
    writeMessage(w.s, u1.name, lf, { names: '' });
    const { client } = await Pop3Client.connect(srv.port);
    await client.login(u1.name, u1.password);
    expect(await client.cmd('LIST 1')).toBe(`+OK 1 ${crlfSize(lf)}`);
    expect(await client.cmd('RETR 1')).toBe(`+OK ${crlfSize(lf)} octets`);
    expect(await client.body()).toEqual(crlf(lf));
    await client.cmd('QUIT');
  });

  it('DELE then a dropped connection deletes nothing', async () => {
    writeMessage(w.s, u1.name, 'Subject: keep\r\n\r\nkeep me\r\n');
    const a = await Pop3Client.connect(srv.port);
    await a.client.login(u1.name, u1.password);
    expect(await a.client.cmd('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await a.client.cmd('STAT')).toBe('+OK 0 0');
    a.client.close();
    await a.client.raw.closed;
    // The lock is released once the server saw the close (it removes its lock file): the next login gets in.
    await mailboxUnlocked(w.s, u1.name);
    const b = await Pop3Client.connect(srv.port);
    expect(await b.client.login(u1.name, u1.password)).toBe('+OK Logged in.');
    expect(await b.client.cmd('STAT')).toMatch(/^\+OK 1 \d+$/);
    expect(listMaildir(w.s, u1.name, 'cur')).toHaveLength(1);
    await b.client.cmd('QUIT');
  });

  it('a second login to a mailbox in use gets -ERR [IN-USE] and may retry after the first QUIT', async () => {
    writeMessage(w.s, u1.name, 'Subject: x\r\n\r\nx\r\n');
    const a = await Pop3Client.connect(srv.port);
    expect(await a.client.login(u1.name, u1.password)).toBe('+OK Logged in.');
    const b = await Pop3Client.connect(srv.port);
    expect(await b.client.login(u1.name, u1.password)).toBe('-ERR [IN-USE] Mailbox is locked by another POP3 session.');
    // Another user is not affected.
    const c = await Pop3Client.connect(srv.port);
    expect(await c.client.login(u2.name, u2.password)).toBe('+OK Logged in.');
    await c.client.cmd('QUIT');
    expect(await a.client.cmd('QUIT')).toBe('+OK Logging out.');
    // Still in AUTHORIZATION: the same connection can log in now.
    expect(await b.client.login(u1.name, u1.password)).toBe('+OK Logged in.');
    await b.client.cmd('QUIT');
  });

  it('RSET unmarks deleted messages', async () => {
    writeMessage(w.s, u1.name, 'Subject: a\r\n\r\na\r\n');
    writeMessage(w.s, u1.name, 'Subject: b\r\n\r\nb\r\n');
    const { client } = await Pop3Client.connect(srv.port);
    await client.login(u1.name, u1.password);
    await client.cmd('DELE 1');
    await client.cmd('DELE 2');
    expect(await client.cmd('STAT')).toBe('+OK 0 0');
    expect(await client.cmd('LIST 2')).toBe('-ERR Message is deleted.');
    expect(await client.cmd('RETR 1')).toBe('-ERR Message is deleted.');
    expect(await client.cmd('RSET')).toBe('+OK');
    expect(await client.cmd('STAT')).toBe('+OK 2 34');
    expect(await client.cmd('QUIT')).toBe('+OK Logging out.');
    expect(listMaildir(w.s, u1.name, 'cur')).toHaveLength(2);
  });
});

describe('message bytes', () => {
  it('dot-stuffs lines starting with "." and the client gets the message back intact', async () => {
    const message = 'Subject: dots\r\n\r\n.\r\n..two\r\n.hidden\r\nend.\r\n...\r\n';
    writeMessage(w.s, u1.name, message);
    const { client } = await Pop3Client.connect(srv.port);
    await client.login(u1.name, u1.password);
    expect(await client.cmd('RETR 1')).toBe(`+OK ${message.length} octets`);
    expect(await client.rawBody()).toBe('Subject: dots\r\n\r\n..\r\n...two\r\n..hidden\r\nend.\r\n....\r\n');
    expect(await client.cmd('RETR 1')).toBe(`+OK ${message.length} octets`);
    expect((await client.body()).toString('latin1')).toBe(message);
    await client.cmd('QUIT');
  });

  it('ends a message without a final newline with CRLF before the terminator; 8-bit bytes pass untouched', async () => {
    const message = Buffer.concat([Buffer.from('Subject: 8bit\n\ncaf'), Buffer.from([0xc3, 0xa9, 0xff])]);
    writeMessage(w.s, u1.name, message, { names: '' });
    const { client } = await Pop3Client.connect(srv.port);
    await client.login(u1.name, u1.password);
    expect(await client.cmd('RETR 1')).toBe(`+OK ${message.length + 2} octets`);
    expect(await client.raw.readUntil('\r\n.\r\n')).toBe(Buffer.concat([crlf(message), Buffer.from('\r\n.\r\n')]).toString('latin1'));
    await client.cmd('QUIT');
  });

  it('TOP sends the header, the blank line and n body lines', async () => {
    const message = 'Subject: top\r\nFrom: a@b\r\n\r\nl1\r\n.l2\r\nl3\r\n';
    writeMessage(w.s, u1.name, message);
    const { client } = await Pop3Client.connect(srv.port);
    await client.login(u1.name, u1.password);
    expect(await client.cmd('TOP 1 0')).toBe('+OK');
    expect(await client.rawBody()).toBe('Subject: top\r\nFrom: a@b\r\n\r\n');
    expect(await client.cmd('TOP 1 2')).toBe('+OK');
    expect(await client.rawBody()).toBe('Subject: top\r\nFrom: a@b\r\n\r\nl1\r\n..l2\r\n');
    expect(await client.cmd('TOP 1 99')).toBe('+OK');
    expect((await client.body()).toString()).toBe(message);
    expect(await client.cmd('TOP 1')).toBe('-ERR Invalid number of lines.');
    expect(await client.cmd('TOP 1 x')).toBe('-ERR Invalid number of lines.');
    expect(await client.cmd('TOP 2 1')).toBe("-ERR There's no message 2.");
    await client.cmd('QUIT');
  });

  it('streams a 50 MB message with backpressure and the bytes arrive intact', async () => {
    const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz.ABCDEFGHIJKLMNOPQRSTUVWXYZ\n');
    const count = Math.ceil((50 * 1024 * 1024) / line.length);
    const md = maildirOf(w.s, u1.name);
    for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(md, sub), { recursive: true });
    const file = path.join(md, 'new', '1700000000.M1P1.big');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, 'Subject: big\n\n');
    const block = Buffer.concat(Array.from({ length: 1024 }, () => line));
    for (let i = 0; i < count; i += 1024) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const fileSize = fs.statSync(file).size;
    const lfCount = 2 + Math.ceil(count / 1024) * 1024;
    const wireSize = fileSize + lfCount;
    // A plain socket (the scripted client concatenates buffers, too slow for 50 MB): hash as it arrives.
    const sock = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(`USER ${u1.name}\r\nPASS ${u1.password}\r\n`);
    let head = '';
    while ((head.match(/\r\n/g) ?? []).length < 3) head += ((await once(sock, 'data')) as [Buffer])[0].toString('latin1');
    expect(head).toBe('+OK sstt ready.\r\n+OK\r\n+OK Logged in.\r\n');
    sock.pause();
    const before = process.memoryUsage().arrayBuffers;
    sock.write('RETR 1\r\n');
    // The client reads nothing for a while: the server must stop at the socket's high-water mark.
    await new Promise((r) => setTimeout(r, 300));
    const during = process.memoryUsage().arrayBuffers;
    expect(during - before).toBeLessThan(16 * 1024 * 1024);
    const first = `+OK ${wireSize} octets\r\n`;
    const total = first.length + wireSize + 3;
    const got = crypto.createHash('sha256');
    let received = 0;
    let prefix = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      sock.on('error', reject);
      sock.on('data', (d: Buffer) => {
        if (prefix.length < first.length) prefix = Buffer.concat([prefix, d.subarray(0, first.length - prefix.length)]);
        const bodyStart = Math.max(0, first.length - received);
        const bodyEnd = Math.min(d.length, first.length + wireSize - received);
        if (bodyEnd > bodyStart) got.update(d.subarray(bodyStart, bodyEnd));
        if (received + d.length > first.length + wireSize) tail = Buffer.concat([tail, d.subarray(Math.max(0, first.length + wireSize - received))]);
        received += d.length;
        if (received >= total) resolve();
      });
      sock.resume();
    });
    expect(prefix.toString()).toBe(first);
    expect(tail.toString()).toBe('.\r\n');
    const expected = crypto.createHash('sha256');
    expected.update('Subject: big\r\n\r\n');
    const crlfBlock = Buffer.from(block.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    for (let i = 0; i < count; i += 1024) expected.update(crlfBlock);
    expect(got.digest('hex')).toBe(expected.digest('hex'));
    sock.destroy();
  }, 90_000);
});

describe('pipelining (RFC 2449 §6.6)', () => {
  it('answers many commands sent in one packet, in order', async () => {
    writeMessage(w.s, u1.name, 'Subject: p\r\n\r\n.p\r\n');
    const { client } = await Pop3Client.connect(srv.port);
    client.raw.write(`USER ${u1.name}\r\nPASS ${u1.password}\r\nSTAT\r\nLIST\r\nRETR 1\r\nNOOP\r\nFOO\r\nUIDL 1\r\nQUIT\r\n`);
    expect(await client.line()).toBe('+OK');
    expect(await client.line()).toBe('+OK Logged in.');
    expect(await client.line()).toBe('+OK 1 18');
    expect(await client.line()).toBe('+OK 1 messages:');
    expect(await client.rawBody()).toBe('1 18\r\n');
    expect(await client.line()).toBe('+OK 18 octets');
    expect(await client.rawBody()).toBe('Subject: p\r\n\r\n..p\r\n');
    expect(await client.line()).toBe('+OK');
    expect(await client.line()).toBe('-ERR Unknown command.');
    expect(await client.line()).toMatch(/^\+OK 1 00000001[0-9a-f]{8}$/);
    expect(await client.line()).toBe('+OK Logging out.');
    await client.raw.closed;
  });
});

describe('bad input', () => {
  it('unknown commands, commands in the wrong state and bad arguments get exact -ERR replies', async () => {
    writeMessage(w.s, u1.name, 'Subject: a\r\n\r\na\r\n');
    const { client } = await Pop3Client.connect(srv.port);
    expect(await client.cmd('STAT')).toBe('-ERR Unknown command.');
    expect(await client.cmd('FOO bar')).toBe('-ERR Unknown command.');
    expect(await client.cmd('PASS x')).toBe('-ERR No username given.');
    expect(await client.cmd('USER')).toBe('-ERR No username given.');
    expect(await client.cmd('STLS')).toBe("-ERR TLS support isn't enabled.");
    expect(await client.cmd('AUTH')).toBe('+OK');
    expect(await client.rawBody()).toBe('PLAIN\r\nLOGIN\r\n');
    expect(await client.cmd('AUTH CRAM-MD5')).toBe('-ERR [AUTH] Unsupported authentication mechanism.');
    expect(await client.cmd('AUTH PLAIN ####')).toBe('-ERR [AUTH] Invalid base64 data in initial response.');
    expect(await client.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await client.cmd('*')).toBe('-ERR Authentication aborted by client.');
    expect(await client.login(u1.name, u1.password)).toBe('+OK Logged in.');
    expect(await client.cmd('USER x')).toBe('-ERR Unknown command.');
    expect(await client.cmd('LIST 9')).toBe("-ERR There's no message 9.");
    expect(await client.cmd('LIST 0')).toBe("-ERR There's no message 0.");
    expect(await client.cmd('LIST -1')).toBe('-ERR Invalid message number.');
    expect(await client.cmd('RETR')).toBe('-ERR Invalid message number.');
    expect(await client.cmd('RETR 1 2')).toBe('-ERR Noise after message number.');
    expect(await client.cmd('DELE one')).toBe('-ERR Invalid message number.');
    expect(await client.cmd('noop')).toBe('+OK');
    await client.cmd('QUIT');
  });

  it('closes after too many errors', async () => {
    const { client } = await Pop3Client.connect(srv.port);
    for (let i = 0; i < 19; i++) expect(await client.cmd('BOGUS')).toBe('-ERR Unknown command.');
    client.raw.write('BOGUS\r\n');
    expect(await client.line()).toBe('-ERR Unknown command.');
    expect(await client.line()).toBe('-ERR Too many invalid commands.');
    await client.raw.closed;
  });

  it('refuses an over-long line and closes', async () => {
    const { client } = await Pop3Client.connect(srv.port);
    client.raw.write(`USER ${'u'.repeat(5000)}\r\n`);
    expect(await client.line()).toBe('-ERR Input line too long, aborting.');
    await client.raw.closed;
  });
});

describe('authentication failures', () => {
  it('answers -ERR [AUTH] after the penalty and closes after the per-connection limit', async () => {
    const slow = await startPop3({ scenario: w.s, penalty: new AuthPenalty({ baseMs: 300, maxMs: 300 }) });
    try {
      const { client } = await Pop3Client.connect(slow.port);
      const t0 = Date.now();
      expect(await client.login(u1.name, 'wrong')).toBe('-ERR [AUTH] Authentication failed.');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      expect(await client.login('nobody', 'x')).toBe('-ERR [AUTH] Authentication failed.');
      expect(await client.cmd(`AUTH PLAIN ${plainBlob(u1.name, 'bad')}`)).toBe('-ERR [AUTH] Authentication failed.');
      await client.raw.closed;
    } finally {
      await slow.close();
    }
  });

  it('after many failures from an address, the right password still gets in (no lockout)', async () => {
    const strict = await startPop3({ scenario: w.s, penalty: new AuthPenalty({ baseMs: 1, maxMs: 4 }) });
    try {
      for (let i = 0; i < 4; i++) {
        const { client } = await Pop3Client.connect(strict.port);
        for (let j = 0; j < 3; j++) expect(await client.login(u1.name, `bad${i}${j}`)).toBe('-ERR [AUTH] Authentication failed.');
        await client.raw.closed;
      }
      const again = await Pop3Client.connect(strict.port);
      expect(await again.client.login(u1.name, u1.password)).toBe('+OK Logged in.');
      await again.client.cmd('QUIT');
    } finally {
      await strict.close();
    }
  });

  it('an authorization identity other than the user is refused', async () => {
    const { client } = await Pop3Client.connect(srv.port);
    expect(await client.cmd(`AUTH PLAIN ${plainBlob(u1.name, u1.password, u2.name)}`)).toBe('-ERR [AUTH] Authentication failed.');
    expect(await client.cmd(`AUTH PLAIN ${plainBlob(u1.name, u1.password, u1.name)}`)).toBe('+OK Logged in.');
    await client.cmd('QUIT');
  });

  it('without plaintext logins, USER/PASS/AUTH on a clear connection get [PRIVACY]', async () => {
    const w2 = pop3Scenario({ SSTT_MAIL_PLAINTEXT_AUTH: 'false' });
    const strict = await startPop3({ scenario: w2.s });
    try {
      const { client } = await Pop3Client.connect(strict.port);
      const privacy = '-ERR [PRIVACY] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.';
      expect((await client.lines('CAPA')).lines).toEqual(['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE']);
      expect(await client.cmd(`USER ${u1.name}`)).toBe(privacy);
      expect(await client.cmd(`PASS ${u1.password}`)).toBe(privacy);
      expect(await client.cmd(`AUTH PLAIN ${plainBlob(u1.name, u1.password)}`)).toBe(privacy);
      client.close();
    } finally {
      await strict.close();
      w2.remove();
    }
  });
});

describe('timeouts and shutdown', () => {
  it('autologout after the idle timeout ends the session without UPDATE', async () => {
    writeMessage(w.s, u1.name, 'Subject: idle\r\n\r\nidle\r\n');
    const quick = await startPop3({ scenario: w.s, idleTimeoutMs: 300 });
    try {
      const { client } = await Pop3Client.connect(quick.port);
      await client.login(u1.name, u1.password);
      expect(await client.cmd('DELE 1')).toBe('+OK Marked to be deleted.');
      expect(await client.line(3000)).toBe('-ERR Disconnected for inactivity.');
      await client.raw.closed;
      expect(listMaildir(w.s, u1.name, 'cur')).toHaveLength(1);
    } finally {
      await quick.close();
    }
  });

  it('close() tells connected clients and deletes nothing', async () => {
    writeMessage(w.s, u1.name, 'Subject: s\r\n\r\ns\r\n');
    const other = await startPop3({ scenario: w.s });
    const { client } = await Pop3Client.connect(other.port);
    await client.login(u1.name, u1.password);
    await client.cmd('DELE 1');
    await other.close();
    expect(await client.line()).toBe('-ERR [SYS/TEMP] Server shutting down.');
    await client.raw.closed;
    expect(listMaildir(w.s, u1.name, 'cur')).toHaveLength(1);
  });
});
