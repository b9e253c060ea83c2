// Debian's dovecot-pop3d as a reference server for the Maildir compatibility tests: run
// privately (own config, run and state directories) on a free loopback port, POP3 only,
// passwd-file users of the scenario, Maildirs where this app keeps them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { maildirOf, type Scenario } from '@sstt/scenario';
import { freePort, MAIL_UID, requireTool } from '@sstt/testkit';

export interface Dovecot {
  port: number;
  /** Its IMAP port (startDovecot with `imap`), else 0. */
  imapPort: number;
  /** dovecot's own log file. */
  log: string;
  stop(): Promise<void>;
}

/** Starts dovecot in the foreground with its files in `dir`; resolves once it accepts connections. */
export async function startDovecot(s: Scenario, dir: string, opts: { imap?: boolean } = {}): Promise<Dovecot> {
  const bin = requireTool('dovecot');
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  const port = await freePort();
  const imapPort = opts.imap ? await freePort() : 0;
  const users = s.users.map((u) => `${u.name}:{PLAIN}${u.password}:${MAIL_UID}:${MAIL_UID}::${path.dirname(maildirOf(s, u.name))}::`);
  fs.writeFileSync(path.join(dir, 'users'), `${users.join('\n')}\n`, { mode: 0o644 });
  const log = path.join(dir, 'dovecot.log');
  const conf = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(
    conf,
    `instance_name = sstt_mail_test_${process.pid}_${path.basename(dir)}
base_dir = ${dir}/run
state_dir = ${dir}/state
protocols = pop3${opts.imap ? ' imap' : ''}
listen = 127.0.0.1
log_path = ${log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
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
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
# The special-use folders as Debian's 15-mailboxes.conf names them, created and subscribed as ours does.
namespace inbox {
  inbox = yes
  separator = .
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
service anvil {
  chroot =
}
`,
  );
  const child = spawn(bin, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const why = () => out + (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  // Ready when it answers on its port (an external process: poll a connect, no fixed sleep).
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200 || child.exitCode !== null) throw new Error(`dovecot did not start on ${port}: ${why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    imapPort,
    log,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
