// Maildir compatibility: Debian's dovecot-pop3d, run privately on a free loopback port and
// pointed at a Maildir this app delivered into, lists the same messages with the same sizes and
// returns them byte for byte; then our POP3 server reads the Maildir dovecot has touched
// (files moved to cur/, dovecot-uidlist written) and shows the same listing and UIDLs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirOf, type Scenario } from '@sstt/scenario';
import { freePort, requireTool, run, startServer, type Started } from '@sstt/testkit';
import { createPop3Server } from '../src/pop3/server.ts';
import { maildirFiles, startSmtp, testScenario, type TestWorld } from './helpers.ts';

/** uid/gid dovecot runs the mailbox as: it refuses uid 0 (recipes/ref_servers.sh). */
const MAIL_UID = 65534;

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dovecot did not listen on ${port}: ${log()}`);
}

/** Starts dovecot (POP3 only, passwd-file, Maildir under the scenario's mail dir) in the foreground. */
async function startDovecot(s: Scenario, dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const dovecot = requireTool('dovecot');
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  const users = s.users.map((u) => `${u.name}:{PLAIN}${u.password}:${MAIL_UID}:${MAIL_UID}::${path.dirname(maildirOf(s, u.name))}`).join('\n');
  fs.writeFileSync(path.join(dir, 'users'), `${users}\n`);
  const conf = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(
    conf,
    `instance_name = sstt_mail_test_${process.pid}
base_dir = ${dir}/run
state_dir = ${dir}/state
protocols = pop3
listen = 127.0.0.1
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1000
mail_location = maildir:~/Maildir
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
    port = ${port}
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
}
service anvil {
  chroot =
}
`,
  );
  const child = spawn(dovecot, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const log = () => out + (fs.existsSync(path.join(dir, 'dovecot.log')) ? fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8') : '');
  await waitForPort(port, child, log);
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One POP3 session with Python's poplib: STAT, LIST, UIDL and every message (RETR). */
const POPLIB = `
import json, poplib, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = poplib.POP3(host, port, timeout=10)
p.user(user); p.pass_(pw)
count, size = p.stat()
lst = [l.decode() for l in p.list()[1]]
uidl = [l.decode() for l in p.uidl()[1]]
msgs = []
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    msgs.append({'octets': octets, 'hex': (b'\\r\\n'.join(lines) + b'\\r\\n').hex()})
p.quit()
print(json.dumps({'stat': [count, size], 'list': lst, 'uidl': uidl, 'msgs': msgs}))
`;

interface PopView {
  stat: [number, number];
  list: string[];
  uidl: string[];
  msgs: Array<{ octets: number; hex: string }>;
}

async function poplibView(port: number, user: string, password: string): Promise<PopView> {
  const r = await run(requireTool('python3'), ['-c', POPLIB, '127.0.0.1', String(port), user, password]);
  if (r.code !== 0) throw new Error(`poplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PopView;
}

let w: TestWorld;
let smtp: Started;
let dove: { port: number; stop(): Promise<void> } | undefined;

beforeAll(async () => {
  requireTool('swaks');
  w = testScenario();
  smtp = await startSmtp({ scenario: w.s });
});

afterAll(async () => {
  await dove?.stop();
  await smtp?.close();
  w?.remove();
});

describe('dovecot reads what we deliver', () => {
  it('lists the same count and sizes, returns the same bytes, and our POP3 agrees after dovecot touched it', async () => {
    const s = w.s;
    const user = s.users[1]!;
    const bodies = [
      'Subject: uno\r\n\r\nprimer mensaje\r\n',
      'Subject: dos\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nañadido en 8 bits: ü ñ €\r\n',
      'Subject: tres\r\n\r\n.punto al principio\r\n..dos\r\nbare\nLF inside\r\n',
      `Subject: cuatro\r\n\r\n${'linea larga '.repeat(40)}\r\n`.repeat(30),
    ];
    for (const body of bodies) {
      const r = await run(requireTool('swaks'), ['--server', `127.0.0.1:${smtp.port}`, '--from', s.users[0]!.email, '--to', user.email, '--data', '-'], { input: body + '.\r\n' });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const maildir = maildirOf(s, user.name);
    const ours = maildirFiles(maildir).map((f) => ({ size: fs.statSync(f).size, data: fs.readFileSync(f) }));
    expect(ours).toHaveLength(bodies.length);

    await run('chown', ['-R', `${MAIL_UID}:${MAIL_UID}`, path.dirname(maildir)]);
    // dovecot's auth and mail processes run unprivileged: let them through the temp dir (0700).
    for (let d = path.dirname(maildir); d.startsWith(w.root); d = path.dirname(d)) fs.chmodSync(d, 0o755);
    dove = await startDovecot(s, path.join(w.root, 'dovecot'));
    const dv = await poplibView(dove.port, user.name, user.password);
    expect(dv.stat[0]).toBe(ours.length);
    expect(dv.stat[1]).toBe(ours.reduce((a, m) => a + m.size, 0));
    const dvSizes = dv.list.map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
    expect(dvSizes).toEqual(ours.map((m) => m.size).sort((a, b) => a - b));
    // every message dovecot returns is one of our files, byte for byte
    const ourHex = new Set(ours.map((m) => m.data.toString('hex')));
    for (const m of dv.msgs) expect(ourHex.has(m.hex)).toBe(true);
    await dove.stop();
    dove = undefined;
    // dovecot moved the messages to cur/ and wrote dovecot-uidlist
    expect(maildirFiles(maildir, 'cur')).toHaveLength(ours.length);
    expect(fs.existsSync(path.join(maildir, 'dovecot-uidlist'))).toBe(true);

    const pop3 = await startServer(createPop3Server({ scenario: s, host: '127.0.0.1', port: 0 }));
    try {
      const mine = await poplibView(pop3.port, user.name, user.password);
      expect(mine.stat).toEqual(dv.stat);
      expect(mine.list).toEqual(dv.list);
      expect(mine.uidl).toEqual(dv.uidl);
      expect(mine.msgs).toEqual(dv.msgs);
    } finally {
      await pop3.close();
    }
  });
});
