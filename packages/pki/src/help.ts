// What `sstt-pki init` prints after minting (and `npm run dev` the first time): where the CA and the bundles are,
// and how to import them into the programs the lab uses.
import path from 'node:path';
import { certPaths, type Scenario } from '@sstt/scenario';
import { constraintsFor } from './name-constraints.ts';

export function importHelp(s: Scenario): string {
  const p = certPaths(s);
  // Absolute paths: they go into a browser's file dialog, and `npm run dev` runs this from the
  // workspace directory, where a relative path would mislead.
  const rel = (f: string) => path.resolve(f);
  const ca = rel(p.ca.cert);
  const c = constraintsFor(s);
  const bundles = s.users.map((u) => `    ${rel(p.client(u.name).p12)}  (${u.email})`);
  const first = rel(p.client(s.users[0]!.name).p12);
  return [
    `Certificates of ${s.domain} in ${rel(p.dir)}/`,
    `  CA certificate (import as an authority): ${ca}`,
    `    it can only vouch for ${c.dns.join(', ')} and ${c.ip.join(', ')} (name constraints), nothing else you browse`,
    `  client certificates for the browser and Thunderbird (PKCS#12, password "${s.pki.p12Password}"):`,
    ...bundles,
    `  server certificate ${rel(p.server.cert)}, IPsec host certificates in ${rel(path.dirname(p.ipsec('server').cert))}/, CRL ${rel(p.crl)}`,
    '',
    'Firefox: Settings > Privacy & Security > Certificates > View Certificates...',
    `  Authorities > Import... ${ca}, tick "Trust this CA to identify websites";`,
    `  Your Certificates > Import... ${first}, password "${s.pki.p12Password}".`,
    'Chromium/Chrome: Settings > Privacy and security > Security > Manage certificates',
    `  (Linux: "Authorities" > Import ${ca}, tick "Trust this certificate for identifying websites";`,
    `  "Your certificates" > Import ${first}). Or from a shell (libnss3-tools):`,
    `    certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n ca.${s.domain} -i ${ca}`,
    `    pk12util -d sql:$HOME/.pki/nssdb -i ${first} -W '${s.pki.p12Password}'`,
    'Thunderbird: Settings > Privacy & Security > Security > Manage Certificates...',
    `  Authorities > Import... ${ca} (tick "identify websites" for STARTTLS/POP3S and "identify email users");`,
    `  Your Certificates > Import... ${first} to sign mail as that user.`,
    `Other commands: npx sstt-pki list | revoke <name> | renew [--days N] | export <name> [--password P]`,
  ].join('\n');
}
