// The lab's PKI on disk, at the paths of certPaths(s): create what is missing, revoke, renew,
// list, export. Idempotent: an existing CA is never replaced; a leaf is (re)issued only when it is
// missing, does not chain to the CA, or (renew) expires soon.
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { certPaths, type Scenario } from '@sstt/scenario';
import { dkimKeys, dkimSubject, mintDkimKey } from './dkim.ts';
import { constraintsFor, constraintsOf, nameConstraintsAsn1, outsideConstraints } from './name-constraints.ts';
import { caSubject, dnString, leafSpecs, type LeafSpec } from './subjects.ts';
import { ipsecCaFile, writeStamp } from './stamp.ts';
import { ATTR_OID, buildCrl, buildPkcs12, generateKey, keyIdentifier, loadKey, parseCrl, signCertificate, altNames, type CrlInfo } from './x509.ts';

const { asn1, pki } = forge;

const DAY = 86_400_000;
/** The CA outlives every leaf it signs. */
export const CA_DAYS = 3650;
/** Certificates start an hour early so that a peer with a slightly slow clock accepts them. */
const BACKDATE_MS = 3_600_000;
/** `init` re-signs the CRL when its nextUpdate is closer than this. */
const CRL_REFRESH_DAYS = 7;

/** A refusal with a one-line reason (bad name, would replace a CA, outside the constraints). */
export class PkiError extends Error {
  override readonly name = 'PkiError';
}

export interface PkiOptions {
  log?: (line: string) => void;
  now?: Date;
}

interface Ca {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

function writePrivate(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

function writePublic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data, { mode: 0o644 });
}

function readCert(file: string): forge.pki.Certificate | undefined {
  try {
    return pki.certificateFromPem(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PkiError(`${file}: not a readable PEM certificate (${(err as Error).message})`);
  }
}

function ekuExtension(oids: string[]) {
  return {
    id: '2.5.29.37',
    value: asn1.create(
      asn1.Class.UNIVERSAL,
      asn1.Type.SEQUENCE,
      true,
      oids.map((o) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes())),
    ),
  };
}

function akiExtension(ca: forge.pki.Certificate) {
  const kid = keyIdentifier(ca.publicKey as forge.pki.rsa.PublicKey);
  return {
    id: '2.5.29.35',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, kid)]),
  };
}

/**
 * The CA certificate strongSwan gets: the same CA (subject, key, key identifier) re-certified
 * without the iPAddress subtrees. strongSwan before 5.9.13/6.0 cannot parse iPAddress name
 * constraints (strongswan/strongswan#1991: "loading ca certificate ... failed") and Debian 12
 * ships 5.9.8, so the CA certificate that browsers import cannot be loaded by charon. This one
 * keeps the domain's DNS and email constraints, which strongSwan's constraints plugin enforces,
 * and verifies the same leaves and CRL because it carries the same name and key. Only one subtree
 * per name type: strongSwan 5.9 wrongly requires a name to match every permitted subtree of its
 * type, so the dev profile's extra `localhost` would reject the IPsec host certificates.
 */
export function ipsecCaPath(s: Scenario): string {
  return ipsecCaFile(s);
}

function ipsecCaMatches(ca: Ca, cert: forge.pki.Certificate | undefined): boolean {
  const c = cert && constraintsOf(cert);
  if (!c || c.ip.length > 0 || c.dns.length > 1 || c.email.length > 1) return false;
  return !!cert && pki.publicKeyToPem(cert.publicKey) === pki.publicKeyToPem(ca.cert.publicKey) && chainsTo(ca, cert);
}

function createIpsecCa(s: Scenario, ca: Ca): void {
  const limits = constraintsOf(ca.cert) ?? constraintsFor(s);
  const cert = signCertificate(
    {
      subject: caSubject(s),
      publicKey: ca.cert.publicKey as forge.pki.rsa.PublicKey,
      notBefore: ca.cert.validity.notBefore,
      notAfter: ca.cert.validity.notAfter,
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
        { id: '2.5.29.30', critical: true, value: nameConstraintsAsn1({ dns: limits.dns.slice(0, 1), email: limits.email.slice(0, 1), ip: [] }) },
      ],
    },
    { selfKey: ca.key },
  );
  writePublic(ipsecCaPath(s), pki.certificateToPem(cert));
}

function loadCa(s: Scenario): Ca | undefined {
  const p = certPaths(s).ca;
  const cert = readCert(p.cert);
  const hasKey = fs.existsSync(p.key);
  if (!cert && !hasKey) return undefined;
  if (!cert || !hasKey) {
    throw new PkiError(
      `${cert ? p.key : p.cert} is missing but ${cert ? p.cert : p.key} exists: refusing to replace the CA; restore the file or remove ${path.dirname(p.cert)} to start a new CA`,
    );
  }
  return { cert, key: loadKey(fs.readFileSync(p.key, 'utf8')).privateKey };
}

function requireCa(s: Scenario): Ca {
  const ca = loadCa(s);
  if (!ca) throw new PkiError(`no CA at ${certPaths(s).ca.cert}: run \`sstt-pki init\` first`);
  return ca;
}

function createCa(s: Scenario, now: Date): Ca {
  const key = generateKey(s.pki.keySize);
  const cert = signCertificate(
    {
      subject: caSubject(s),
      publicKey: key.publicKey,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + CA_DAYS * DAY),
      extensions: [
        // pathlen 0: the lab's CA signs leaves only (RFC 5280 §4.2.1.9).
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
        // RFC 5280 §4.2.1.10: conforming CAs MUST mark this extension critical.
        { id: '2.5.29.30', critical: true, value: nameConstraintsAsn1(constraintsFor(s)) },
      ],
    },
    { selfKey: key.privateKey },
  );
  const p = certPaths(s).ca;
  writePrivate(p.key, key.pem);
  writePublic(p.cert, pki.certificateToPem(cert));
  return { cert, key: key.privateKey };
}

/** Signs a leaf after checking its names against the CA's own constraints. */
export function issueLeaf(s: Scenario, ca: Ca, spec: LeafSpec, now: Date): { cert: forge.pki.Certificate; keyPem: string } {
  const limits = constraintsOf(ca.cert) ?? constraintsFor(s);
  const outside = outsideConstraints({ dns: spec.dns, email: spec.email, ip: spec.ip }, limits);
  if (outside.length > 0) {
    throw new PkiError(`refusing to issue ${spec.name}: ${outside.join(', ')} outside the CA's name constraints`);
  }
  const key = generateKey(s.pki.keySize);
  const cert = signCertificate(
    {
      subject: spec.subject,
      publicKey: key.publicKey,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(Math.min(now.getTime() + s.pki.days * DAY, ca.cert.validity.notAfter.getTime())),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        ekuExtension(spec.eku),
        { name: 'subjectAltName', altNames: altNames(spec) },
        { name: 'subjectKeyIdentifier' },
        akiExtension(ca.cert),
      ],
    },
    ca,
  );
  return { cert, keyPem: key.pem };
}

function writeLeaf(s: Scenario, ca: Ca, spec: LeafSpec, issued: { cert: forge.pki.Certificate; keyPem: string }): string[] {
  writePrivate(spec.key, issued.keyPem);
  writePublic(spec.cert, pki.certificateToPem(issued.cert));
  const written = [spec.cert, spec.key];
  if (spec.p12) {
    const p12 = buildPkcs12(loadKey(issued.keyPem).privateKey, [issued.cert, ca.cert], s.pki.p12Password, spec.name);
    writePrivate(spec.p12, p12);
    written.push(spec.p12);
  }
  return written;
}

/** Whether a PKCS#12 file opens with the password (its MAC verifies, RFC 7292 §5). */
function p12OpensWith(file: string, password: string): boolean {
  try {
    const der = fs.readFileSync(file).toString('binary');
    forge.pkcs12.pkcs12FromAsn1(asn1.fromDer(der), true, password);
    return true;
  } catch {
    return false;
  }
}

function chainsTo(ca: Ca, cert: forge.pki.Certificate): boolean {
  try {
    return ca.cert.verify(cert);
  } catch {
    return false;
  }
}

function readCrl(s: Scenario): CrlInfo | undefined {
  try {
    return parseCrl(fs.readFileSync(certPaths(s).crl, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function writeCrl(s: Scenario, ca: Ca, revoked: CrlInfo['revoked'], previous: CrlInfo | undefined, now: Date): void {
  const info: CrlInfo = {
    number: (previous?.number ?? 0) + 1,
    thisUpdate: new Date(now.getTime() - BACKDATE_MS),
    nextUpdate: new Date(now.getTime() + s.pki.days * DAY),
    revoked,
  };
  writePublic(certPaths(s).crl, buildCrl(ca, info));
}

/**
 * Creates whatever is missing at certPaths(s): CA, CRL (empty at first), server certificate, one
 * client certificate + .p12 per user, IPsec host certificates. Never replaces an existing CA.
 * Also reissues leaves that have expired or no longer chain to the CA, and re-signs a CRL whose
 * nextUpdate is near, so that `npm run dev` a year later still works.
 */
export async function initPki(s: Scenario, opts: PkiOptions = {}): Promise<{ created: string[] }> {
  const now = opts.now ?? new Date();
  const log = opts.log ?? (() => {});
  const created: string[] = [];
  let ca = loadCa(s);
  if (!ca) {
    ca = createCa(s, now);
    const p = certPaths(s).ca;
    created.push(p.cert, p.key);
    log(`created CA ${dnString(caSubject(s))} in ${p.cert}`);
  }
  if (!ipsecCaMatches(ca, readCert(ipsecCaPath(s)))) {
    createIpsecCa(s, ca);
    created.push(ipsecCaPath(s));
    log(`wrote the CA certificate for strongSwan 5.9 (no IP constraints) to ${ipsecCaPath(s)}`);
  }
  const crl = readCrl(s);
  // The first moment `init` would have work again (for the stamp `npm run dev` checks).
  let due = Math.min(ca.cert.validity.notAfter.getTime(), (crl?.nextUpdate.getTime() ?? now.getTime() + s.pki.days * DAY) - CRL_REFRESH_DAYS * DAY);
  if (!crl || crl.nextUpdate.getTime() - now.getTime() < CRL_REFRESH_DAYS * DAY) {
    writeCrl(s, ca, crl?.revoked ?? [], crl, now);
    created.push(certPaths(s).crl);
    log(`${crl ? 're-signed' : 'created'} CRL ${certPaths(s).crl}`);
    due = Math.min(ca.cert.validity.notAfter.getTime(), now.getTime() + (s.pki.days - CRL_REFRESH_DAYS) * DAY);
  }
  for (const spec of leafSpecs(s)) {
    const cert = readCert(spec.cert);
    // An expired leaf is as useless as a missing one: reissue it (renew handles "expires soon").
    if (cert && fs.existsSync(spec.key) && chainsTo(ca, cert) && cert.validity.notAfter > now) {
      due = Math.min(due, cert.validity.notAfter.getTime());
      // A missing bundle, or one protected by another password than the configured one, is rewritten.
      if (spec.p12 && (!fs.existsSync(spec.p12) || !p12OpensWith(spec.p12, s.pki.p12Password))) {
        const existed = fs.existsSync(spec.p12);
        const key = loadKey(fs.readFileSync(spec.key, 'utf8')).privateKey;
        writePrivate(spec.p12, buildPkcs12(key, [cert, ca.cert], s.pki.p12Password, spec.name));
        created.push(spec.p12);
        if (existed) log(`rewrote ${spec.p12} with the configured password`);
      }
      continue;
    }
    const issued = issueLeaf(s, ca, spec, now);
    const files = writeLeaf(s, ca, spec, issued);
    due = Math.min(due, issued.cert.validity.notAfter.getTime());
    created.push(...files);
    log(`issued ${spec.name}: ${dnString(spec.subject)} -> ${spec.cert}`);
  }
  // The DKIM keys: minted when missing, unusable or past their lifetime (dkim.ts).
  for (const d of dkimKeys(s)) {
    if (d.notAfter && d.notAfter > now) {
      due = Math.min(due, d.notAfter.getTime());
      continue;
    }
    created.push(...mintDkimKey(s, d.key, now));
    due = Math.min(due, now.getTime() + s.pki.days * DAY);
    log(`${d.created ? 'renewed' : 'created'} DKIM key ${d.name}: ${dkimSubject(s, d.key)} -> ${d.file.key}`);
  }
  writeStamp(s, new Date(due));
  return { created };
}

function specByName(s: Scenario, name: string): LeafSpec {
  const spec = leafSpecs(s).find((l) => l.name === name);
  if (!spec && dkimKeys(s).some((d) => d.name === name)) throw new PkiError(`${name} is a DKIM key, not a certificate: \`renew ${name}\` replaces it`);
  if (!spec)
    throw new PkiError(
      `no certificate called ${JSON.stringify(name)}: expected one of ${leafSpecs(s)
        .map((l) => l.name)
        .join(', ')}`,
    );
  return spec;
}

/** Adds a leaf certificate to the CRL (re-signed). `name`: a user, 'server', 'ipsec-server' or 'ipsec-client'. */
export async function revokeCertificate(s: Scenario, name: string, opts: PkiOptions = {}): Promise<void> {
  const now = opts.now ?? new Date();
  const spec = specByName(s, name);
  const ca = requireCa(s);
  const cert = readCert(spec.cert);
  if (!cert) throw new PkiError(`${name}: no certificate at ${spec.cert}`);
  const crl = readCrl(s);
  const revoked = crl?.revoked ?? [];
  if (!revoked.some((r) => r.serial === cert.serialNumber)) revoked.push({ serial: cert.serialNumber, date: now });
  writeCrl(s, ca, revoked, crl, now);
  opts.log?.(`revoked ${name} (serial ${cert.serialNumber}); CRL ${certPaths(s).crl}`);
}

export type CertStatus = 'valid' | 'revoked' | 'expired' | 'missing' | 'not-yet-valid';

export interface CertInfo {
  name: string;
  kind: LeafSpec['kind'] | 'ca' | 'dkim';
  file: string;
  status: CertStatus;
  subject?: string;
  sans?: string[];
  serial?: string;
  notAfter?: Date;
  p12?: string;
}

function describeSans(cert: forge.pki.Certificate): string[] {
  const ext = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value: string; ip?: string }> } | null;
  return (ext?.altNames ?? []).map((a) =>
    a.type === 2 ? `DNS:${a.value}` : a.type === 1 ? `email:${a.value}` : a.type === 7 ? `IP:${a.ip}` : `type${a.type}:${a.value}`,
  );
}

const SHORT_NAME = new Map(Object.entries(ATTR_OID).map(([short, oid]) => [oid, short]));

function subjectText(cert: forge.pki.Certificate): string {
  return cert.subject.attributes.map((a) => `${SHORT_NAME.get(a.type ?? '') ?? a.shortName ?? a.type}=${forge.util.decodeUtf8(String(a.value))}`).join(', ');
}

/** Every certificate with subject, SANs, expiry and status. */
export function listCertificates(s: Scenario, now: Date = new Date()): CertInfo[] {
  const out: CertInfo[] = [];
  const caFile = certPaths(s).ca.cert;
  const caCert = readCert(caFile);
  const status = (cert: forge.pki.Certificate, revoked: Set<string>): CertStatus =>
    revoked.has(cert.serialNumber) ? 'revoked' : cert.validity.notAfter < now ? 'expired' : cert.validity.notBefore > now ? 'not-yet-valid' : 'valid';
  const revoked = new Set((readCrl(s)?.revoked ?? []).map((r) => r.serial));
  out.push(
    caCert
      ? {
          name: 'ca',
          kind: 'ca',
          file: caFile,
          status: status(caCert, new Set()),
          subject: subjectText(caCert),
          sans: [],
          serial: caCert.serialNumber,
          notAfter: caCert.validity.notAfter,
        }
      : { name: 'ca', kind: 'ca', file: caFile, status: 'missing' },
  );
  for (const spec of leafSpecs(s)) {
    const cert = readCert(spec.cert);
    if (!cert) {
      out.push({ name: spec.name, kind: spec.kind, file: spec.cert, status: 'missing' });
      continue;
    }
    out.push({
      name: spec.name,
      kind: spec.kind,
      file: spec.cert,
      status: status(cert, revoked),
      subject: subjectText(cert),
      sans: describeSans(cert),
      serial: cert.serialNumber,
      notAfter: cert.validity.notAfter,
      ...(spec.p12 ? { p12: spec.p12 } : {}),
    });
  }
  for (const d of dkimKeys(s)) {
    out.push({
      name: d.name,
      kind: 'dkim',
      file: d.file.pub,
      subject: dkimSubject(s, d.key),
      ...(d.notAfter ? { status: d.notAfter < now ? 'expired' : 'valid', notAfter: d.notAfter } : { status: 'missing' }),
    });
  }
  return out;
}

/**
 * Reissues leaf certificates that expire within `withinDays` days (or are revoked or missing, or
 * the ones named). Returns the names reissued.
 */
export async function renewCertificates(s: Scenario, opts: PkiOptions & { withinDays?: number; names?: string[] } = {}): Promise<string[]> {
  const now = opts.now ?? new Date();
  const ca = requireCa(s);
  const within = (opts.withinDays ?? 30) * DAY;
  const revoked = new Set((readCrl(s)?.revoked ?? []).map((r) => r.serial));
  const dkim = dkimKeys(s);
  const wanted = opts.names?.map((n) => dkim.find((d) => d.name === n)?.name ?? specByName(s, n).name);
  const renewed: string[] = [];
  for (const spec of leafSpecs(s)) {
    const cert = readCert(spec.cert);
    const due = wanted
      ? wanted.includes(spec.name)
      : !cert || revoked.has(cert.serialNumber) || cert.validity.notAfter.getTime() - now.getTime() < within || !chainsTo(ca, cert);
    if (!due) continue;
    writeLeaf(s, ca, spec, issueLeaf(s, ca, spec, now));
    renewed.push(spec.name);
    opts.log?.(`renewed ${spec.name} -> ${spec.cert}`);
  }
  for (const d of dkim) {
    const due = wanted ? wanted.includes(d.name) : !d.notAfter || d.notAfter.getTime() - now.getTime() < within;
    if (!due) continue;
    mintDkimKey(s, d.key, now);
    renewed.push(d.name);
    opts.log?.(`renewed ${d.name} -> ${d.file.key} (publish it: restart the DNS and mail apps)`);
  }
  return renewed;
}

/**
 * Writes a fresh PKCS#12 bundle for a leaf (key, certificate, CA) with the given password to
 * `out` (default: beside the certificate as <name>.p12).
 */
export function exportPkcs12(s: Scenario, name: string, opts: { password?: string; out?: string } = {}): string {
  const spec = specByName(s, name);
  const ca = requireCa(s);
  const cert = readCert(spec.cert);
  if (!cert || !fs.existsSync(spec.key)) throw new PkiError(`${name}: no certificate/key at ${spec.cert}: run \`sstt-pki init\``);
  const key = loadKey(fs.readFileSync(spec.key, 'utf8')).privateKey;
  const out = opts.out ?? spec.p12 ?? spec.cert.replace(/\.crt$/, '.p12');
  writePrivate(out, buildPkcs12(key, [cert, ca.cert], opts.password ?? s.pki.p12Password, spec.name));
  return out;
}
