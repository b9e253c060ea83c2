// @sstt/pki: the lab's CA, server, client and IPsec certificates, and the CRL.
export { initPki, revokeCertificate, renewCertificates, listCertificates, exportPkcs12, issueLeaf, ipsecCaPath, PkiError, CA_DAYS } from './pki.ts';
export type { PkiOptions, CertInfo, CertStatus } from './pki.ts';
export { leafSpecs, leafNames, caSubject, ipsecSubject, ipsecFileBase, dnString, labOrg, EKU } from './subjects.ts';
export type { DnAttr, LeafSpec, LeafKind } from './subjects.ts';
export { constraintsFor, constraintsOf, outsideConstraints, nameConstraintsAsn1 } from './name-constraints.ts';
export type { NameConstraints } from './name-constraints.ts';
export { buildCrl, parseCrl, buildPkcs12, generateKey, loadKey, signCertificate } from './x509.ts';
export type { CrlInfo, RevokedEntry } from './x509.ts';
export { importHelp } from './help.ts';
export { pkiIsCurrent, stampPath } from './stamp.ts';
export { dkimKeys, dkimName, mintDkimKey } from './dkim.ts';
export type { DkimKeyState } from './dkim.ts';
