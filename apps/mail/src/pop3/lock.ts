// One POP3 session per mailbox (RFC 1939 §8 "exclusive-access lock", RFC 2449 §8.1.2 [IN-USE]).
// The lock is a file in the Maildir created exclusively and holding the owner's pid, so two
// server processes on the same Maildir exclude each other too; a lock left by a dead process
// (or by an earlier life of this one) is stale and taken over.
import fs from 'node:fs';
import path from 'node:path';

export const SESSION_LOCK_NAME = 'sstt-pop3.lock';

/** Mailboxes this process holds (a file lock belongs to the process, like flock). */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // ours but not in heldHere: left by an earlier run
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the mailbox lock; undefined when another session holds it. */
export async function lockMailbox(maildir: string): Promise<(() => Promise<void>) | undefined> {
  const key = path.resolve(maildir);
  if (heldHere.has(key)) return undefined;
  heldHere.add(key);
  const file = path.join(key, SESSION_LOCK_NAME);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.promises.writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          await fs.promises.unlink(file).catch(() => {});
          heldHere.delete(key);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number((await fs.promises.readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) break;
      await fs.promises.unlink(file).catch(() => {});
    }
  } catch (err) {
    heldHere.delete(key);
    throw err;
  }
  heldHere.delete(key);
  return undefined;
}
