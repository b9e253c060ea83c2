// Files handed to Debian's `mail` user, for the tests where a Debian program (dovecot,
// dovecot-lda) reads or writes the Maildirs our servers use: dovecot refuses mailboxes owned by
// uid 0 (and by any uid below its first_valid_uid).
import fs from 'node:fs';
import path from 'node:path';

/** Debian's `mail` user and group. */
export const MAIL_UID = 8;

/**
 * Gives `dir` (made when missing) and everything below it to the mail user, and opens the
 * directories from `dir` up to `root` (temporary directories are 0700). Nothing above `root`
 * changes hands or mode.
 */
export function handToMailUser(dir: string, root: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let d = dir; d.startsWith(root) && d !== '/'; d = path.dirname(d)) fs.chmodSync(d, 0o755);
  const walk = (p: string) => {
    fs.chownSync(p, MAIL_UID, MAIL_UID);
    if (fs.statSync(p).isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(dir);
}
