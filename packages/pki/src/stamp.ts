// A record of the last complete `init`: which settings it ran with, the files it left (size and
// modification time) and the moment something would need doing again (a leaf or the CA expiring,
// the CRL's nextUpdate drawing near). `npm run dev` asks `pkiIsCurrent()` first: a few stat calls
// instead of loading node-forge and decrypting every PKCS#12 bundle on every start. Any change
// (a file renewed, revoked, removed or touched; another ID, profile, password or key size) makes
// the stamp stale and the full `init` runs. This module must not import node-forge.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { certPaths, type Scenario } from '@sstt/scenario';
import { leafSpecs } from './subjects.ts';

const STAMP_FILE = '.init-stamp.json';

interface Stamp {
  settings: string;
  files: Record<string, [size: number, mtimeMs: number]>;
  recheckAfter: number;
}

export function stampPath(s: Scenario): string {
  return path.join(certPaths(s).dir, STAMP_FILE);
}

/** The CA certificate for strongSwan 5.9 (the same CA without IP name constraints). */
export function ipsecCaFile(s: Scenario): string {
  return path.join(path.dirname(certPaths(s).ca.cert), 'ca-ipsec.crt');
}

/** Every file `init` is responsible for. */
function pkiFiles(s: Scenario): string[] {
  const p = certPaths(s);
  const files = [p.ca.cert, p.ca.key, p.crl, ipsecCaFile(s)];
  for (const spec of leafSpecs(s)) files.push(spec.cert, spec.key, ...(spec.p12 ? [spec.p12] : []));
  for (const k of s.mail.auth.dkim) files.push(certPaths(s).dkim(k.selector).key, certPaths(s).dkim(k.selector).pub);
  return files;
}

function settingsOf(s: Scenario): string {
  // The password enters as a hash only: the stamp file is not a secret.
  const { p12Password, ...pki } = s.pki;
  const text = JSON.stringify({
    id: s.id,
    profile: s.profile,
    pki,
    p12: crypto.createHash('sha256').update(p12Password).digest('hex'),
    leaves: leafSpecs(s),
    dkim: s.mail.auth.dkim.map((k) => [k.selector, k.algorithm]),
  });
  return crypto.createHash('sha256').update(text).digest('hex');
}

function statFiles(files: string[]): Stamp['files'] | undefined {
  const out: Stamp['files'] = {};
  for (const f of files) {
    try {
      const st = fs.statSync(f);
      out[f] = [st.size, st.mtimeMs];
    } catch {
      return undefined;
    }
  }
  return out;
}

/** True when the last `init` for these settings left every file as it is now, and nothing is due. */
export function pkiIsCurrent(s: Scenario, now = new Date()): boolean {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampPath(s), 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (stamp.settings !== settingsOf(s) || now.getTime() >= stamp.recheckAfter) return false;
  const files = statFiles(pkiFiles(s));
  if (!files) return false;
  const keys = Object.keys(files);
  return keys.length === Object.keys(stamp.files).length && keys.every((f) => stamp.files[f]?.[0] === files[f]![0] && stamp.files[f]?.[1] === files[f]![1]);
}

/** Written by `init` once everything is in place; `recheckAfter` is when `init` has work again. */
export function writeStamp(s: Scenario, recheckAfter: Date): void {
  const files = statFiles(pkiFiles(s));
  if (!files) return;
  const stamp: Stamp = { settings: settingsOf(s), files, recheckAfter: recheckAfter.getTime() };
  fs.writeFileSync(stampPath(s), `${JSON.stringify(stamp)}\n`);
}
