// The Maildir++ model IMAP works on is @sstt/maildir's (folders.ts, shared with the console);
// what only IMAP needs of it lives here: RFC822.SIZE measured as POP3 measures its size.
import path from 'node:path';
import { sizeOf } from '@sstt/maildir';
import { measureVirtualSize } from '../pop3/mailbox.ts';

/** RFC822.SIZE: the octets with CRLF line endings (W= in the name, else measured). */
export async function messageSize(dir: string, name: string): Promise<number> {
  return sizeOf(name, 'W') ?? (await measureVirtualSize(path.join(dir, 'cur', name)));
}
