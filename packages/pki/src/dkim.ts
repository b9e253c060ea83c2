// The domain's DKIM keys (RFC 6376), beside the certificates: certs/dkim/<selector>.key (PKCS#8,
// 0600) and <selector>.pub (SubjectPublicKeyInfo), one per selector of scenario.mail.auth.dkim:
// RSA 2048 (RFC 8301) and Ed25519 (RFC 8463). Node's own key generation (no node-forge: a DKIM
// key has no certificate). The zone publishes the .pub (packages/scenario mail-auth.ts); the mail
// app signs with the .key.
//
// A key has no expiry of its own; it is given the certificates' lifetime (pki.days from the
// moment it was written, the file's mtime) so that `init` and `renew` rotate it with them. A new
// key under the same selector takes effect when the DNS and mail apps start again (they read the
// keys at start): mail signed with the old key and checked later then fails, which the
// README's "Mail authentication" explains with the way out (a new selector name).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { certPaths, DKIM_RSA_BITS, dkimKeyType, dkimPublicKeyData, dkimRecordName, type DkimKey, type Scenario } from '@sstt/scenario';

const DAY = 86_400_000;

/** What `list` and `renew` call a DKIM key: `dkim-<selector>`. */
export const dkimName = (k: Pick<DkimKey, 'selector'>): string => `dkim-${k.selector}`;

export interface DkimKeyState {
  key: DkimKey;
  name: string;
  file: { key: string; pub: string };
  /** When the key was written (the private key file's mtime); undefined: missing or unusable. */
  created?: Date;
  notAfter?: Date;
}

/** The private key and its public half exist, are of the selector's kind and belong together. */
function usable(file: { key: string; pub: string }, k: DkimKey): boolean {
  try {
    const priv = crypto.createPrivateKey(fs.readFileSync(file.key));
    const pub = dkimPublicKeyData(fs.readFileSync(file.pub));
    return pub.keyType === dkimKeyType(k.algorithm) && dkimPublicKeyData(crypto.createPublicKey(priv).export({ type: 'spki', format: 'pem' })).p === pub.p;
  } catch {
    return false;
  }
}

/** Each DKIM key of the scenario with its files and age. */
export function dkimKeys(s: Scenario): DkimKeyState[] {
  return s.mail.auth.dkim.map((key) => {
    const file = certPaths(s).dkim(key.selector);
    const state: DkimKeyState = { key, name: dkimName(key), file };
    if (!usable(file, key)) return state;
    const created = fs.statSync(file.key).mtime;
    return { ...state, created, notAfter: new Date(created.getTime() + s.pki.days * DAY) };
  });
}

/** Writes a new key pair for `k`: the private key 0600, the public key 0644, both dated `now` (the key's age). */
export function mintDkimKey(s: Scenario, k: DkimKey, now: Date = new Date()): string[] {
  const file = certPaths(s).dkim(k.selector);
  const { publicKey, privateKey } =
    dkimKeyType(k.algorithm) === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: DKIM_RSA_BITS }) : crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(path.dirname(file.key), { recursive: true });
  // A new file (not rewritten in place): the mode is 0600 from the first byte.
  fs.rmSync(file.key, { force: true });
  fs.writeFileSync(file.key, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(file.pub, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  for (const f of [file.key, file.pub]) fs.utimesSync(f, now, now);
  return [file.key, file.pub];
}

/** What `list` says about a DKIM key: its algorithm and the name its record is published at. */
export function dkimSubject(s: Scenario, k: DkimKey): string {
  return `${k.algorithm}${dkimKeyType(k.algorithm) === 'rsa' ? ` ${DKIM_RSA_BITS}-bit` : ''} key, TXT ${dkimRecordName(s, k.selector)}`;
}
