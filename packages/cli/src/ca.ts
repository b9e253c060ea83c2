// The lab CA as `sstt trust` installs it, and the refusals: no CA (no certs/), a CA without name
// constraints (trusting it would let it vouch for any site), a CA of another ID or whose
// constraints reach beyond the lab's domain and addresses. Only a CA whose every permitted subtree
// (RFC 5280 §4.2.1.10) lies within what this project's CAs may name is ever installed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import forge from 'node-forge';
import { constraintsFor, constraintsOf, type NameConstraints, outsideConstraints } from '@sstt/pki';
import { certPaths, domainFor, idOfDomain, type Scenario } from '@sstt/scenario';
import { HostError } from './errors.ts';
import { shown } from './state.ts';

export interface LabCa {
  file: string;
  pem: string;
  der: Buffer;
  /** SHA-256 of the DER, lower-case hex: how a store's copy is recognised as this CA. */
  sha256: string;
  /** The subject's CN (ca.<domain>). */
  name: string;
  constraints: NameConstraints;
}

/** SHA-256 of a certificate's DER, lower-case hex. */
export const derSha256 = (der: Buffer): string => crypto.createHash('sha256').update(der).digest('hex');

/** The DER of every certificate in a PEM text, in order. */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** What any CA of this scenario may name: the dev and the lab profile's constraints together. */
function allowedFor(s: Scenario): NameConstraints {
  const dev = constraintsFor({ ...s, profile: 'dev' });
  const lab = constraintsFor({ ...s, profile: 'lab' });
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return { dns: union(dev.dns, lab.dns), email: union(dev.email, lab.email), ip: union(dev.ip, lab.ip) };
}

/** The permitted subtrees of `c` that `allowed` does not contain. */
function beyond(c: NameConstraints, allowed: NameConstraints): string[] {
  const none = { dns: [], email: [], ip: [] };
  const bad = outsideConstraints({ ...none, dns: c.dns, email: c.email.map((host) => `postmaster@${host}`) }, allowed);
  for (const cidr of c.ip) {
    const [addr, len] = cidr.split('/');
    // A block is inside another when its network address is and its prefix is at least as long.
    const inside = allowed.ip.some(
      (a) => Number(len) >= Number(a.split('/')[1]) && outsideConstraints({ ...none, ip: [addr!] }, { ...none, ip: [a] }).length === 0,
    );
    if (!inside) bad.push(`IP:${cidr}`);
  }
  return bad.map((b) => b.replace(/^email:postmaster@/, 'email:'));
}

/** Reads and judges certs/ca/ca.crt; throws the refusal (a HostError, exit 2) when it must not be trusted. */
export function loadLabCa(s: Scenario): LabCa {
  const paths = certPaths(s);
  const file = paths.ca.cert;
  if (!fs.existsSync(file)) {
    throw new HostError(
      `no lab CA: ${shown(s, file)} is missing (certificates: ${shown(s, paths.dir)}/); run npm run dev or npx sstt-pki init first, they mint it`,
    );
  }
  const pem = fs.readFileSync(file, 'utf8');
  const der = pemCertificates(pem)[0];
  if (!der) throw new HostError(`${shown(s, file)} holds no PEM certificate`);
  const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der.toString('binary')));
  const constraints = constraintsOf(cert);
  if (!constraints || constraints.dns.length + constraints.email.length + constraints.ip.length === 0) {
    throw new HostError(`${shown(s, file)} has no name constraints: trusting it would let it vouch for any site, so sstt does not install it`);
  }
  const other = constraints.dns.map(idOfDomain).find((id) => id !== undefined && id !== s.id);
  if (other !== undefined) {
    throw new HostError(`${shown(s, file)} is the CA of ID ${other} (${domainFor(other)}), not of ${s.domain}: run sstt with --id ${other} to act for it`);
  }
  const bad = beyond(constraints, allowedFor(s));
  if (bad.length > 0) {
    throw new HostError(`${shown(s, file)} may vouch for ${bad.join(', ')}, outside ${s.domain} and the lab's addresses: sstt does not install it`);
  }
  const cn = cert.subject.getField('CN') as { value: string } | null;
  return { file, pem, der, sha256: derSha256(der), name: cn?.value ?? s.domain, constraints };
}
