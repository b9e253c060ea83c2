// The plain POP3 listener on both transports (@sstt/runtime's raw libuv TCP handle, the default,
// and node:net, SSTT_RAW_TCP=net): a client's half-close after pipelined commands, a drop without
// QUIT, RETRs out of order and after DELE (the session reads the next message ahead: it must
// never answer with the wrong one), and STLS over both.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certPaths, maildirOf } from '@sstt/scenario';
import { initPki } from '@sstt/pki';
import type { Started } from '@sstt/testkit';
import { crlf, listMaildir, mailboxUnlocked, Pop3Client, pop3Scenario, startPop3, upgradeToTls, writeMessage, type Pop3World } from './pop3-helpers.ts';

let w: Pop3World;
let tlsOpts: { key: Buffer; cert: Buffer };
let ca: Buffer;

beforeAll(async () => {
  w = pop3Scenario();
  await initPki(w.s);
  const p = certPaths(w.s);
  tlsOpts = { key: fs.readFileSync(p.server.key), cert: fs.readFileSync(p.server.cert) };
  ca = fs.readFileSync(p.ca.cert);
}, 120_000);
afterAll(() => w?.remove());

/** Five messages, the third with a dot-leading line and the fourth with bare LFs. */
const bodies = [1, 2, 3, 4, 5].map((i) => {
  if (i === 3) return `Subject: m3\r\n\r\n.dot\r\n..two\r\nend\r\n`;
  if (i === 4) return `Subject: m4\n\nbare\nlf\n`;
  return `Subject: m${i}\r\n\r\n${'x'.repeat(i * 100)}\r\n`;
});
/** How the body travels in a RETR reply (CRLF, dot-stuffed), terminator excluded. */
const wire = (text: string) => crlf(text).toString('latin1').replace(/^\./gm, '..');

for (const transport of ['raw', 'net'] as const) {
  describe(`plain POP3 over the ${transport} transport`, () => {
    let srv: Started;
    let user: { name: string; password: string };

    beforeAll(async () => {
      user = w.s.users[transport === 'raw' ? 0 : 1]!;
      for (const b of bodies) writeMessage(w.s, user.name, b);
      srv = await startPop3({ scenario: w.s, transport, tls: tlsOpts, closeGraceMs: 200 });
    });
    afterAll(async () => srv?.close());

    it('answers RETRs out of order and after DELE with the right message every time', async () => {
      const { client } = await Pop3Client.connect(srv.port);
      expect(await client.login(user.name, user.password)).toBe('+OK Logged in.');
      for (const n of [1, 2, 4, 3, 3, 5, 1]) {
        expect(await client.cmd(`RETR ${n}`)).toBe(`+OK ${crlf(bodies[n - 1]!).length} octets`);
        expect(await client.rawBody()).toBe(wire(bodies[n - 1]!));
      }
      // RETR 1 has read message 2 ahead: deleting it must win.
      expect(await client.cmd('RETR 1')).toMatch(/^\+OK /);
      await client.rawBody();
      expect(await client.cmd('DELE 2')).toBe('+OK Marked to be deleted.');
      expect(await client.cmd('RETR 2')).toBe('-ERR Message is deleted.');
      // Pipelined in one packet: the replies come back in order.
      client.raw.write('RETR 3\r\nRETR 4\r\nTOP 5 0\r\nRETR 5\r\n');
      for (const [n, first] of [
        [3, `+OK ${crlf(bodies[2]!).length} octets`],
        [4, `+OK ${crlf(bodies[3]!).length} octets`],
      ] as const) {
        expect(await client.line()).toBe(first);
        expect(await client.rawBody()).toBe(wire(bodies[n - 1]!));
      }
      expect(await client.line()).toBe('+OK');
      expect(await client.rawBody()).toBe('Subject: m5\r\n\r\n');
      expect(await client.line()).toBe(`+OK ${crlf(bodies[4]!).length} octets`);
      expect(await client.rawBody()).toBe(wire(bodies[4]!));
      // A drop without QUIT deletes nothing (RFC 1939 §6).
      client.close();
      await client.raw.closed;
    });

    it('runs the commands pipelined before a half-close, then closes', async () => {
      // The previous session's lock goes when its connection has closed on the server side: the
      // server removes its lock file then.
      await mailboxUnlocked(w.s, user.name);
      const { client } = await Pop3Client.connect(srv.port);
      expect(await client.login(user.name, user.password)).toBe('+OK Logged in.');
      client.raw.write('STAT\r\nRETR 2\r\nQUIT\r\n');
      client.raw.end();
      const rest = (await client.raw.readToEnd()).toString('latin1');
      const octets = bodies.reduce((n, b) => n + crlf(b).length, 0);
      expect(rest).toBe(`+OK 5 ${octets}\r\n+OK ${crlf(bodies[1]!).length} octets\r\n${wire(bodies[1]!)}.\r\n+OK Logging out.\r\n`);
      expect(listMaildir(w.s, user.name, 'cur')).toHaveLength(5);
    });

    it('upgrades with STLS and serves the session over TLS', async () => {
      const { client } = await Pop3Client.connect(srv.port);
      expect(await client.cmd('STLS')).toBe('+OK Begin TLS negotiation now.');
      const { secure, until } = await upgradeToTls(client, ca);
      secure.write(`USER ${user.name}\r\nPASS ${user.password}\r\nRETR 3\r\nQUIT\r\n`);
      const expected = `+OK\r\n+OK Logged in.\r\n+OK ${crlf(bodies[2]!).length} octets\r\n${wire(bodies[2]!)}.\r\n+OK Logging out.\r\n`;
      expect(await until(/^[\s\S]*?\+OK Logging out\.\r\n/)).toBe(expected);
      await new Promise<void>((resolve) => (secure.closed ? resolve() : secure.once('close', () => resolve())));
    });
  });
}

describe('a message file that cannot be read', () => {
  it('gets -ERR [SYS/TEMP] and the session goes on', async () => {
    const w2 = pop3Scenario();
    const user = w2.s.users[0]!;
    writeMessage(w2.s, user.name, 'Subject: ok\r\n\r\nfine\r\n');
    const srv = await startPop3({ scenario: w2.s });
    try {
      const { client } = await Pop3Client.connect(srv.port);
      expect(await client.login(user.name, user.password)).toBe('+OK Logged in.');
      expect(await client.cmd('QUIT')).toBe('+OK Logging out.');
      // A directory where message 2 should be: open() works, read() fails with EISDIR.
      fs.mkdirSync(`${maildirOf(w2.s, user.name)}/cur/9999999999.M1P1.broken,S=10,W=10:2,`);
      // QUIT released the lock before its answer
      const again = (await Pop3Client.connect(srv.port)).client;
      expect(await again.login(user.name, user.password)).toBe('+OK Logged in.');
      expect(await again.cmd('RETR 2')).toBe('-ERR [SYS/TEMP] Message is no longer available.');
      expect(await again.cmd('RETR 1')).toBe(`+OK ${crlf('Subject: ok\r\n\r\nfine\r\n').length} octets`);
      expect(await again.rawBody()).toBe('Subject: ok\r\n\r\nfine\r\n');
      expect(await again.cmd('NOOP')).toBe('+OK');
      expect(await again.cmd('QUIT')).toBe('+OK Logging out.');
    } finally {
      await srv.close();
      w2.remove();
    }
  });
});
