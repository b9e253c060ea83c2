// Certificates for the HTTPS tests: minted by packages/pki at test time in a temporary
// directory, never committed. The second user's certificate is revoked through the CRL. A
// foreign CA (made with openssl) issues a client certificate the server must refuse.
import fs from 'node:fs';
import path from 'node:path';
import { initPki, revokeCertificate } from '@sstt/pki';
import { certPaths, type CertPaths, type Scenario } from '@sstt/scenario';
import { requireTool, run } from '@sstt/testkit';

export interface TestCerts {
  paths: CertPaths;
  /** The user whose certificate is valid. */
  good: string;
  /** The user whose certificate is on the CRL (revoked before the server starts). */
  revoked: string;
}

/** Mints the CA, the server and client certificates and a CRL revoking the second user. */
export async function mintCerts(s: Scenario): Promise<TestCerts> {
  const good = s.users[0]!.name;
  const revoked = s.users[1]!.name;
  await initPki(s);
  await revokeCertificate(s, revoked);
  const paths = certPaths(s);
  for (const f of [
    paths.ca.cert,
    paths.server.cert,
    paths.server.key,
    paths.crl,
    paths.client(good).cert,
    paths.client(good).key,
    paths.client(revoked).cert,
  ]) {
    if (!fs.existsSync(f)) throw new Error(`certificate file missing after initPki: ${f}`);
  }
  return { paths, good, revoked };
}

/** A work directory for openssl: `f(name)` is a path in it, `ossl(args)` runs openssl there and throws on failure. */
function opensslIn(dir: string): { f: (name: string) => string; ossl: (args: string[]) => Promise<void> } {
  const openssl = requireTool('openssl');
  fs.mkdirSync(dir, { recursive: true });
  return {
    f: (name) => path.join(dir, name),
    async ossl(args) {
      const r = await run(openssl, args, { cwd: dir });
      if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    },
  };
}

/**
 * A client certificate with the same subject as a lab user but issued by another CA (openssl,
 * in `dir`): the server must refuse it at the TLS layer.
 */
export async function foreignClientCert(dir: string, subject: string): Promise<{ cert: string; key: string; ca: string }> {
  const { f, ossl } = opensslIn(dir);
  await ossl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/C=ES/O=Elsewhere/CN=Foreign CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  fs.writeFileSync(f('ext.cnf'), 'extendedKeyUsage=clientAuth\n');
  await ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', subject]);
  await ossl([
    'x509',
    '-req',
    '-in',
    f('client.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    '7',
    '-days',
    '2',
    '-out',
    f('client.crt'),
    '-extfile',
    f('ext.cnf'),
  ]);
  return { cert: f('client.crt'), key: f('client.key'), ca: f('ca.crt') };
}

/**
 * The valid user's certificate re-issued by the lab CA with the same subject and key but a
 * validity that ended yesterday (openssl ca -startdate/-enddate): the only thing wrong with it
 * is the date.
 */
export async function expiredClientCert(dir: string, paths: CertPaths, user: string): Promise<{ cert: string; key: string }> {
  const { f, ossl } = opensslIn(dir);
  const client = paths.client(user);
  await ossl(['x509', '-x509toreq', '-in', client.cert, '-signkey', client.key, '-out', f('req.csr')]);
  fs.writeFileSync(f('index.txt'), '');
  fs.writeFileSync(f('serial'), '7E57\n');
  fs.writeFileSync(f('ext.cnf'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  fs.writeFileSync(
    f('ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${f('index.txt')}\nnew_certs_dir = ${dir}\nserial = ${f('serial')}\ndefault_md = sha256\npolicy = any\n` +
      `certificate = ${paths.ca.cert}\nprivate_key = ${paths.ca.key}\nunique_subject = no\n[any]\ncommonName = supplied\n`,
  );
  const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  await ossl([
    'ca',
    '-batch',
    '-config',
    f('ca.cnf'),
    '-in',
    f('req.csr'),
    '-out',
    f('expired.crt'),
    '-preserveDN',
    '-notext',
    '-startdate',
    day(-10),
    '-enddate',
    day(-1),
    '-extfile',
    f('ext.cnf'),
  ]);
  return { cert: f('expired.crt'), key: client.key };
}
