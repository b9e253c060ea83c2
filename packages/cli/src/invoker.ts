// Whom `sstt` acts for. Under sudo the system stores and /etc are root's, but the browsers'
// profiles belong to the user who typed `sudo`: their databases are written by NSS's tools running
// as that user (SUDO_USER, looked up in the passwd database), so nothing in their home turns
// root-owned.
import os from 'node:os';
import { run, type RunOptions } from '@sstt/host';
import { HostError } from './errors.ts';

export interface Invoker {
  user: string;
  uid: number;
  gid: number;
  home: string;
  /** sstt itself runs as root: the system stores and /etc are writable. */
  root: boolean;
  /** The environment `main` was given (PATH for the tools), passed on to them with the invoker's HOME. */
  env: NodeJS.ProcessEnv;
}

/** The invoking user from the environment `main` read (SUDO_USER under sudo, else ourselves). */
export async function invokerFrom(env: NodeJS.ProcessEnv): Promise<Invoker> {
  const uid = process.getuid?.() ?? -1;
  const root = uid === 0;
  const sudoUser = env.SUDO_USER;
  if (root && sudoUser && sudoUser !== 'root') {
    // getent: the passwd database as the system resolves it (files, LDAP, systemd-userdb).
    const r = await run('getent', ['passwd', sudoUser], { env });
    const fields = r.stdout.trim().split(':');
    if (r.code !== 0 || fields.length < 7) throw new HostError(`SUDO_USER is ${JSON.stringify(sudoUser)}, but getent passwd does not know that user`);
    return { user: sudoUser, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]!, root, env };
  }
  const me = os.userInfo();
  return { user: me.username, uid, gid: process.getgid?.() ?? -1, home: env.HOME || me.homedir, root, env };
}

/** run() options that make a program run as the invoker, in their home, with their HOME. */
export function asInvoker(inv: Invoker): RunOptions {
  const env = { ...inv.env, HOME: inv.home };
  if (!inv.root || inv.uid === 0) return { env, cwd: inv.home };
  return { env, cwd: inv.home, uid: inv.uid, gid: inv.gid };
}
