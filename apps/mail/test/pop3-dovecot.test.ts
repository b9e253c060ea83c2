// Maildir compatibility with dovecot (the lab's POP3 server): Debian's dovecot-pop3d, run
// privately on a free loopback port against the same Maildirs, must list the same messages with
// the same sizes and UIDLs as ours and send the same bytes, whichever of the two touched the
// Maildir first; and we must read a Maildir dovecot has synced (new/ -> cur/, its uidlist and
// index files). dovecot refuses uid 0 mailboxes, so the Maildirs are handed to the `mail` user
// before dovecot reads them.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf } from '@sstt/scenario';
import { freePort, requireTool, type Started } from '@sstt/testkit';
import { listMaildir, Pop3Client, pop3Scenario, startPop3, writeMessage, type Pop3World } from './pop3-helpers.ts';

const MAIL_UID = 8; // Debian's `mail` user: dovecot's first_valid_uid must allow it

let w: Pop3World;
let ours: Started;
let dovecot: { port: number; stop(): Promise<void>; log: string };

async function startDovecot(world: Pop3World): Promise<typeof dovecot> {
  const bin = requireTool('dovecot');
  const dir = path.join(world.root, 'dv');
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  const port = await freePort();
  const users = world.s.users
    .map((u) => `${u.name}:{PLAIN}${u.password}:${MAIL_UID}:${MAIL_UID}::${path.dirname(maildirOf(world.s, u.name))}::`)
    .join('\n');
  fs.writeFileSync(path.join(dir, 'users'), `${users}\n`, { mode: 0o644 });
  const log = path.join(dir, 'dovecot.log');
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `instance_name = sstt_pop3_test_${process.pid}
base_dir = ${dir}/run
state_dir = ${dir}/state
protocols = pop3
listen = 127.0.0.1
log_path = ${log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = ${MAIL_UID}
first_valid_gid = ${MAIL_UID}
default_internal_user = dovecot
default_login_user = dovenull
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/users
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${port}
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
}
`,
  );
  const child: ChildProcess = spawn(bin, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Ready when it answers on its port (polling a connect, not a fixed sleep).
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200 || child.exitCode !== null) throw new Error(`dovecot did not start: ${fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    log,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Hands the Maildirs to the mail user (what a delivery running as that user would have left). */
function handToMailUser(world: Pop3World): void {
  fs.mkdirSync(world.s.paths.mail, { recursive: true });
  for (let d = world.s.paths.mail; d.startsWith(world.root) && d !== '/'; d = path.dirname(d)) fs.chmodSync(d, 0o755);
  const walk = (p: string) => {
    fs.chownSync(p, MAIL_UID, MAIL_UID);
    if (fs.statSync(p).isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(world.s.paths.mail);
}

interface View {
  stat: string;
  list: string[];
  uidl: string[];
  bodies: string[];
}

/** What a POP3 server shows of a mailbox: STAT, LIST, UIDL and every message (as sent, dot-stuffed). */
async function view(port: number, user: { name: string; password: string }): Promise<View> {
  const { client } = await Pop3Client.connect(port);
  expect(await client.login(user.name, user.password)).toBe('+OK Logged in.');
  const stat = await client.cmd('STAT');
  const list = (await client.lines('LIST')).lines;
  const uidl = (await client.lines('UIDL')).lines;
  const bodies: string[] = [];
  for (let i = 1; i <= list.length; i++) {
    const first = await client.cmd(`RETR ${i}`);
    bodies.push(`${first}\n${await client.rawBody()}`);
  }
  expect(await client.cmd('QUIT')).toBe('+OK Logging out.');
  await client.raw.closed;
  return { stat, list, uidl, bodies };
}

const MESSAGES = [
  { content: 'Subject: crlf\r\nFrom: a@b\r\n\r\nhola\r\n', names: 'S' as const },
  { content: 'Subject: lf only\nFrom: a@b\n\nline\n.dot line\n\nend\n', names: '' as const },
  { content: 'Subject: no final newline\n\nx', names: '' as const },
  { content: 'Subject: with W\r\n\r\n..\r\n.\r\nbody\r\n', names: 'SW' as const },
];

beforeAll(async () => {
  w = pop3Scenario();
  ours = await startPop3({ scenario: w.s });
  handToMailUser(w);
  dovecot = await startDovecot(w);
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await dovecot?.stop();
  w?.remove();
});

describe('dovecot and this server on the same Maildir', () => {
  it('ours first: dovecot then shows the same count, sizes, UIDLs and bytes', async () => {
    const u = w.s.users[0]!;
    MESSAGES.forEach((m, i) => writeMessage(w.s, u.name, m.content, { names: m.names, seconds: 1700000000 + i }));
    const a = await view(ours.port, u);
    expect(a.list).toHaveLength(MESSAGES.length);
    handToMailUser(w);
    const b = await view(dovecot.port, u);
    expect(b).toEqual(a);
    // And after dovecot's session (its index now exists) we still agree.
    expect(await view(ours.port, u)).toEqual(a);
    expect(fs.readFileSync(dovecot.log, 'utf8')).not.toMatch(/Error|Panic|Fatal|corrupt/i);
  });

  it('dovecot first: we read the Maildir it synced, with its UIDLs; deletions and new mail stay in step', async () => {
    const u = w.s.users[1]!;
    MESSAGES.forEach((m, i) => writeMessage(w.s, u.name, m.content, { names: m.names, seconds: 1700000100 + i }));
    handToMailUser(w);
    const b = await view(dovecot.port, u);
    expect(listMaildir(w.s, u.name, 'new')).toEqual([]);
    expect(fs.readFileSync(path.join(maildirOf(w.s, u.name), 'dovecot-uidlist'), 'utf8')).toMatch(/^3 V\d+ N5 G/);
    const a = await view(ours.port, u);
    expect(a).toEqual(b);

    // We delete message 2; a new message arrives; dovecot must agree on what is left and the new UID.
    const { client } = await Pop3Client.connect(ours.port);
    await client.login(u.name, u.password);
    expect(await client.cmd('DELE 2')).toBe('+OK Marked to be deleted.');
    expect(await client.cmd('QUIT')).toBe('+OK Logging out, messages deleted.');
    writeMessage(w.s, u.name, 'Subject: later\r\n\r\nlater\r\n', { seconds: 1700000200 });
    const a2 = await view(ours.port, u);
    expect(a2.uidl.map((l) => l.split(' ')[1])).toEqual([b.uidl[0], b.uidl[2], b.uidl[3]].map((l) => l!.split(' ')[1]).concat([expect.stringMatching(/^00000005/) as unknown as string]));
    handToMailUser(w);
    expect(await view(dovecot.port, u)).toEqual(a2);

    // And the other way round: dovecot deletes, then numbers a new message; we agree.
    const d = await Pop3Client.connect(dovecot.port);
    await d.client.login(u.name, u.password);
    expect(await d.client.cmd('DELE 1')).toBe('+OK Marked to be deleted.');
    expect(await d.client.cmd('QUIT')).toBe('+OK Logging out, messages deleted.');
    writeMessage(w.s, u.name, 'Subject: even later\n\nlf\n', { names: '', seconds: 1700000300 });
    handToMailUser(w);
    const b3 = await view(dovecot.port, u);
    expect(b3.list).toHaveLength(4);
    expect(await view(ours.port, u)).toEqual(b3);
    expect(fs.readFileSync(dovecot.log, 'utf8')).not.toMatch(/Error|Panic|Fatal|corrupt/i);
  });
});
