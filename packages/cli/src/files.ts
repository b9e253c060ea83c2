// Writing the machine's files: whole, or not at all.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const sha256 = (text: string | Buffer): string => crypto.createHash('sha256').update(text).digest('hex');

/** The file's digest, or undefined when it does not exist. */
export function fileSha256(file: string): string | undefined {
  try {
    return sha256(fs.readFileSync(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Replaces a file's content atomically (a temporary file beside it, fsync, rename), keeping its
 * mode and owner. A file that is itself a mount point (/etc/hosts in a container) cannot be
 * renamed over (EBUSY): that one is rewritten in place.
 */
export function rewriteFile(file: string, content: string, mode = 0o644): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.sstt-${process.pid}`);
  const fd = fs.openSync(tmp, 'w', st ? st.mode & 0o7777 : mode);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
    if (st) fs.fchownSync(fd, st.uid, st.gid);
    fs.fchmodSync(fd, st ? st.mode & 0o7777 : mode);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (!['EBUSY', 'EXDEV'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    fs.writeFileSync(file, content);
  }
}

/** mkdir -p that returns the directories it created, outermost first (so undo removes exactly those). */
export function mkdirs(dir: string): string[] {
  if (fs.existsSync(dir)) return [];
  const made = mkdirs(path.dirname(dir));
  fs.mkdirSync(dir);
  return [...made, dir];
}

/** Removes the directories (innermost first) that are empty; says which stayed. */
export function rmdirsIfEmpty(dirs: string[]): string[] {
  const kept: string[] = [];
  for (const dir of [...dirs].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') kept.push(dir);
    }
  }
  return kept;
}
