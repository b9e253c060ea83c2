// What the POP3 and IMAP logins share: the password check, strict base64 of SASL exchanges and
// the PLAIN mechanism's message (RFC 4616).
import crypto from 'node:crypto';

/** Compares secrets in constant time (hashes first: the lengths do not leak either). */
export function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** Strict base64 (RFC 4648 §4); "=" alone is the empty response (RFC 5034 §4, RFC 9051 §6.2.2). */
export function decodeBase64(text: string): Buffer | undefined {
  if (text === '=') return Buffer.alloc(0);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * RFC 4616 PLAIN: [authzid] NUL authcid NUL passwd. `wellFormed` false (three parts missing, or
 * an authorisation identity other than the login's: we act only as the user who logs in) is a
 * failure that counts like a wrong password.
 */
export function parsePlain(blob: Buffer): { user: string; password: string; wellFormed: boolean } {
  const parts = blob.toString('utf8').split('\0');
  if (parts.length !== 3) return { user: '', password: '', wellFormed: false };
  const [authz, authc, password] = parts as [string, string, string];
  return { user: authc, password, wellFormed: authz === '' || authz === authc };
}
