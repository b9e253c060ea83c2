// Certificates for the HTTPS tests: minted by packages/pki at test time (short-lived, in a
// temporary directory), never committed. One client certificate is revoked through the CRL.
import fs from 'node:fs';
import { certPaths, type CertPaths, type Scenario } from '@sstt/scenario';
import { requireTool, run } from '@sstt/testkit';
import path from 'node:path';

export interface TestCerts {
  paths: CertPaths;
  /** The user whose certificate is valid. */
  good: string;
  /** The user whose certificate is on the CRL. */
  revoked: string;
}

interface PkiApi {
  initPki(s: Scenario): unknown;
  revokeCertificate(s: Scenario, user: string): unknown;
}

/** Mints the CA, the server and client certificates and a CRL revoking the second user. */
export async function mintCerts(s: Scenario): Promise<TestCerts> {
  const good = s.users[0]!.name;
  const revoked = s.users[1]!.name;
  const pki = (await import('@sstt/pki')) as Partial<PkiApi>;
  if (typeof pki.initPki === 'function' && typeof pki.revokeCertificate === 'function') {
    await pki.initPki(s);
    await pki.revokeCertificate(s, revoked);
  } else {
    await opensslCerts(s, [good, revoked], revoked);
  }
  const paths = certPaths(s);
  for (const f of [paths.ca.cert, paths.server.cert, paths.server.key, paths.crl, paths.client(good).cert, paths.client(good).key]) {
    if (!fs.existsSync(f)) throw new Error(`certificate file missing after minting: ${f}`);
  }
  return { paths, good, revoked };
}

/** Stand-in used only while packages/pki has no initPki: the same layout, made with openssl. */
async function opensslCerts(s: Scenario, users: string[], revoked: string): Promise<void> {
  const openssl = requireTool('openssl');
  const p = certPaths(s);
  const www = s.names.find((n) => n.label === 'www')!.fqdn;
  for (const f of [p.ca.cert, p.crl, p.server.cert, p.client(users[0]!).cert]) fs.mkdirSync(path.dirname(f), { recursive: true });
  const work = path.join(p.dir, 'openssl-ca');
  fs.mkdirSync(work, { recursive: true });
  const ossl = async (args: string[]) => {
    const r = await run(openssl, args, { cwd: work });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  await ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p.ca.key, '-out', p.ca.cert, '-days', '2', '-subj', `/C=ES/ST=Murcia/O=UMU/OU=SSTT/CN=ca.${s.domain}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = async (kp: { cert: string; key: string }, subj: string, ext: string, serial: number) => {
    const csr = `${kp.cert}.csr`;
    const extFile = path.join(work, `ext-${serial}.cnf`);
    fs.writeFileSync(extFile, ext);
    await ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', kp.key, '-out', csr, '-subj', subj]);
    await ossl(['x509', '-req', '-in', csr, '-CA', p.ca.cert, '-CAkey', p.ca.key, '-set_serial', String(serial), '-days', '2', '-out', kp.cert, '-extfile', extFile]);
    fs.rmSync(csr);
  };
  await leaf(p.server, `/C=ES/ST=Murcia/O=UMU/OU=SSTT/CN=${www}`, `subjectAltName=DNS:${www}\nextendedKeyUsage=serverAuth\n`, 2);
  let serial = 3;
  for (const u of users) {
    const user = s.users.find((x) => x.name === u)!;
    await leaf(p.client(u), `/C=ES/ST=Murcia/O=UMU/OU=SSTT/CN=${user.firstName} ${u}`, 'extendedKeyUsage=clientAuth\n', serial++);
  }
  fs.writeFileSync(path.join(work, 'index.txt'), '');
  fs.writeFileSync(path.join(work, 'crlnumber'), '01\n');
  fs.writeFileSync(
    path.join(work, 'ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${work}/index.txt\ncrlnumber = ${work}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\ncertificate = ${p.ca.cert}\nprivate_key = ${p.ca.key}\n`,
  );
  await ossl(['ca', '-config', 'ca.cnf', '-revoke', p.client(revoked).cert]);
  await ossl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', p.crl]);
}
