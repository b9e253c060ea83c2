// Building certificates and the CRL with node-forge. Keys come from Node's native RSA keygen
// (OpenSSL underneath), never from forge's pure-JS prime search.
import crypto from 'node:crypto';
import forge from 'node-forge';
import type { DnAttr } from './subjects.ts';

const { asn1, pki } = forge;

export interface KeyMaterial {
  /** PKCS#1 PEM ("RSA PRIVATE KEY"): read by Apache, strongSwan, OpenSSL and forge alike. */
  pem: string;
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

export function generateKey(bits: number): KeyMaterial {
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return loadKey(privateKey);
}

export function loadKey(pem: string): KeyMaterial {
  const privateKey = pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  const publicKey = pki.setRsaPublicKey(privateKey.n, privateKey.e);
  return { pem, privateKey, publicKey };
}

export const ATTR_OID: Record<DnAttr['short'], string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  GN: '2.5.4.42',
  serialNumber: '2.5.4.5',
};

/** forge attributes: UTF8String as OpenSSL writes them, PrintableString where X.520 demands it. */
export function forgeDn(dn: DnAttr[]): forge.pki.CertificateField[] {
  return dn.map((a) => ({
    type: ATTR_OID[a.short],
    value: forge.util.encodeUtf8(a.value),
    valueTagClass: (a.short === 'C' || a.short === 'serialNumber' ? asn1.Type.PRINTABLESTRING : asn1.Type.UTF8) as unknown as forge.asn1.Class,
  }));
}

/** A random positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets). */
export function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex');
}

export interface CertRequest {
  subject: DnAttr[];
  publicKey: forge.pki.rsa.PublicKey;
  notBefore: Date;
  notAfter: Date;
  serial?: string;
  extensions: object[];
}

/** Signs a certificate with SHA-256. With no issuer it is self-signed. */
export function signCertificate(
  req: CertRequest,
  issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | { selfKey: forge.pki.rsa.PrivateKey },
): forge.pki.Certificate {
  const cert = pki.createCertificate();
  cert.publicKey = req.publicKey;
  cert.serialNumber = req.serial ?? randomSerial();
  cert.validity.notBefore = req.notBefore;
  cert.validity.notAfter = req.notAfter;
  cert.setSubject(forgeDn(req.subject));
  if ('cert' in issuer) cert.setIssuer(issuer.cert.subject.attributes);
  else cert.setIssuer(forgeDn(req.subject));
  cert.setExtensions(req.extensions);
  cert.sign('cert' in issuer ? issuer.key : issuer.selfKey, forge.md.sha256.create());
  return cert;
}

/** subjectAltName entries (RFC 5280 §4.2.1.6). */
export function altNames(names: { dns: string[]; email: string[]; ip: string[] }): object[] {
  return [...names.dns.map((value) => ({ type: 2, value })), ...names.email.map((value) => ({ type: 1, value })), ...names.ip.map((ip) => ({ type: 7, ip }))];
}

/** The subjectKeyIdentifier forge computes (SHA-1 of the public key), as bytes. */
export function keyIdentifier(publicKey: forge.pki.rsa.PublicKey): string {
  return pki.getPublicKeyFingerprint(publicKey, { type: 'RSAPublicKey', md: forge.md.sha1.create() }).getBytes();
}

// ---------------------------------------------------------------------------------------------
// CRL (RFC 5280 §5). forge has no CRL support: the structure is built with forge.asn1.

export interface RevokedEntry {
  /** Hex serial, as forge writes certificate serials. */
  serial: string;
  date: Date;
}

export interface CrlInfo {
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: RevokedEntry[];
}

const OID = {
  sha256WithRSA: '1.2.840.113549.1.1.11',
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  cRLReason: '2.5.29.21',
};

function oid(o: string) {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
}

function integerFromHex(hex: string) {
  let bytes = forge.util.hexToBytes(hex.length % 2 ? `0${hex}` : hex);
  if (bytes.charCodeAt(0) & 0x80) bytes = `\x00${bytes}`;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes);
}

function integerFromNumber(n: number) {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
}

function time(d: Date) {
  // UTCTime up to 2049, GeneralizedTime after (RFC 5280 §5.1.2.4).
  return d.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

function extension(id: string, value: forge.asn1.Asn1) {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    oid(id),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

/** A v2 CRL signed by the CA, PEM. */
export function buildCrl(ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }, info: CrlInfo): string {
  const seq = (v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v);
  const algorithm = seq([oid(OID.sha256WithRSA), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]);
  const tbs: forge.asn1.Asn1[] = [
    integerFromNumber(1), // v2
    algorithm,
    pki.distinguishedNameToAsn1(ca.cert.subject),
    time(info.thisUpdate),
    time(info.nextUpdate),
  ];
  if (info.revoked.length > 0) {
    tbs.push(seq(info.revoked.map((r) => seq([integerFromHex(r.serial), time(r.date)]))));
  }
  const aki = seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIdentifier(ca.cert.publicKey as forge.pki.rsa.PublicKey))]);
  tbs.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      seq([extension(OID.authorityKeyIdentifier, aki), extension(OID.cRLNumber, integerFromNumber(info.number))]),
    ]),
  );
  const tbsAsn1 = seq(tbs);
  const md = forge.md.sha256.create();
  md.update(asn1.toDer(tbsAsn1).getBytes());
  const signature = ca.key.sign(md);
  const crl = seq([tbsAsn1, algorithm, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${signature}`)]);
  const der = asn1.toDer(crl).getBytes();
  return forge.pem.encode({ type: 'X509 CRL', body: der }, { maxline: 64 });
}

/** Reads back what buildCrl wrote (numbers, dates, revoked serials). Does not check the signature. */
export function parseCrl(pem: string): CrlInfo {
  const msg = forge.pem.decode(pem)[0];
  if (msg?.type !== 'X509 CRL') throw new Error('not a PEM X509 CRL');
  const root = asn1.fromDer(msg.body);
  const tbs = (root.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  let i = tbs[0]!.type === asn1.Type.INTEGER ? 1 : 0;
  i += 2; // signature algorithm, issuer
  const readTime = (a: forge.asn1.Asn1) =>
    a.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(a.value as string) : asn1.generalizedTimeToDate(a.value as string);
  const thisUpdate = readTime(tbs[i++]!);
  let nextUpdate = thisUpdate;
  if (tbs[i] && (tbs[i]!.type === asn1.Type.UTCTIME || tbs[i]!.type === asn1.Type.GENERALIZEDTIME) && tbs[i]!.tagClass === asn1.Class.UNIVERSAL) {
    nextUpdate = readTime(tbs[i++]!);
  }
  const revoked: RevokedEntry[] = [];
  if (tbs[i] && tbs[i]!.tagClass === asn1.Class.UNIVERSAL && tbs[i]!.type === asn1.Type.SEQUENCE) {
    for (const entry of tbs[i++]!.value as forge.asn1.Asn1[]) {
      const [serial, date] = entry.value as forge.asn1.Asn1[];
      revoked.push({ serial: forge.util.bytesToHex(serial!.value as string).replace(/^(00)+(?=[0-9a-f])/, ''), date: readTime(date!) });
    }
  }
  let number = 0;
  const exts = tbs[i];
  if (exts && exts.tagClass === asn1.Class.CONTEXT_SPECIFIC) {
    for (const ext of (exts.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]) {
      const [id, value] = ext.value as forge.asn1.Asn1[];
      if (asn1.derToOid(id!.value as string) === OID.cRLNumber) {
        number = asn1.derToInteger(asn1.fromDer(value!.value as string).value as string);
      }
    }
  }
  return { number, thisUpdate, nextUpdate, revoked };
}

// ---------------------------------------------------------------------------------------------
// PKCS#12

/**
 * A PKCS#12 bundle (key + certificate + CA chain) for browsers and Thunderbird. The key bag is
 * encrypted with PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, which OpenSSL 3 opens without
 * `-legacy` and which Firefox (NSS) and Chromium import; the MAC is HMAC-SHA1 (RFC 7292 §B).
 */
export function buildPkcs12(key: forge.pki.rsa.PrivateKey, chain: forge.pki.Certificate[], password: string, friendlyName: string): Buffer {
  const p12 = forge.pkcs12.toPkcs12Asn1(key, chain, password, {
    algorithm: 'aes256',
    friendlyName,
    generateLocalKeyId: true,
    count: 10000,
    prfAlgorithm: 'sha256',
  } as Parameters<typeof forge.pkcs12.toPkcs12Asn1>[3]);
  return Buffer.from(asn1.toDer(p12).getBytes(), 'binary');
}
