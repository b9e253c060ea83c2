// The directories of a Maildir and its Maildir++ folders, as dovecot lays them out
// (https://doc.dovecot.org/admin_manual/mailbox_formats/maildir/, "Directory Structure";
// Courier's README.maildirquota, which defined Maildir++):
//   <Maildir>/{tmp,new,cur}             INBOX
//   <Maildir>/.Sent/{tmp,new,cur}       the folder "Sent", marked by an empty `maildirfolder` file
//   <Maildir>/.Lists.sstt/...           the folder "sstt" inside "Lists" ("." separates levels)
// A folder name here is the name as stored on disk; the modified UTF-7 of IMAP mailbox names
// (RFC 3501 §5.1.3) is the IMAP server's to encode.
import fs from 'node:fs';
import path from 'node:path';

export const MAILDIR_SUBDIRS = ['tmp', 'new', 'cur'] as const;
/** The empty file that makes a `.Name` directory a folder, not a Maildir of its own (dovecot and Courier write it). */
export const MAILDIRFOLDER_FILE = 'maildirfolder';
/** The Maildir itself (RFC 3501 §5.1: the name is case-insensitive). */
export const INBOX = 'INBOX';
/** Maildir++'s hierarchy separator, in directory names and in folder names (dovecot's MAILDIR_FS_SEP). */
export const FOLDER_SEP = '.';

/** The folders dovecot creates and marks with their RFC 6154 special use; quarantined mail goes to Junk. */
export const SPECIAL_USE = { Sent: '\\Sent', Drafts: '\\Drafts', Trash: '\\Trash', Junk: '\\Junk' } as const;
export const JUNK_FOLDER = 'Junk';

/** Creates <dir>/{tmp,new,cur} (mode 0700, as exim and dovecot do) if missing. */
export async function ensureMaildir(dir: string): Promise<void> {
  for (const sub of MAILDIR_SUBDIRS) await fs.promises.mkdir(path.join(dir, sub), { recursive: true, mode: 0o700 });
}

/**
 * Whether `folder` can be a Maildir++ folder other than INBOX: not empty, no "/" (a path), no
 * empty level (a leading, trailing or doubled "."), no control character.
 */
export function isFolderName(folder: string): boolean {
  if (folder === '' || folder.toUpperCase() === INBOX || folder.includes('/')) return false;
  if (/[\x00-\x1f\x7f]/.test(folder)) return false;
  return folder.split(FOLDER_SEP).every((level) => level !== '');
}

/** The directory of a folder: the Maildir itself for INBOX, `<maildir>/.<folder>` for any other. */
export function folderDir(maildir: string, folder: string): string {
  if (folder.toUpperCase() === INBOX) return maildir;
  if (!isFolderName(folder)) throw new RangeError(`not a Maildir++ folder name: ${JSON.stringify(folder)}`);
  return path.join(maildir, `${FOLDER_SEP}${folder}`);
}

/** The folder an entry of a Maildir's directory is, or undefined (tmp, new, cur, files, "." and ".."). */
export function folderOf(entry: string): string | undefined {
  if (!entry.startsWith(FOLDER_SEP)) return undefined;
  const folder = entry.slice(1);
  return isFolderName(folder) ? folder : undefined;
}

/** A folder of `maildir` (created if missing, with its `maildirfolder` mark); its directory. */
export async function ensureFolder(maildir: string, folder: string): Promise<string> {
  const dir = folderDir(maildir, folder);
  await ensureMaildir(dir);
  if (dir !== maildir) await fs.promises.writeFile(path.join(dir, MAILDIRFOLDER_FILE), '', { flag: 'a', mode: 0o600 });
  return dir;
}
