// Where packages/pki writes each certificate under certs/, so that apps, generators and the
// banner find them without re-spelling the layout.
import path from 'node:path';
import type { HostRole, Scenario } from './scenario.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface CertPaths {
  dir: string;
  ca: KeyPair;
  crl: string;
  server: KeyPair;
  client(user: string): KeyPair & { p12: string };
  ipsec(role: HostRole): KeyPair;
  /** A DKIM key of the domain (RFC 6376): the private key (PKCS#8 PEM) and its public half (SPKI PEM) that the zone publishes. */
  dkim(selector: string): { key: string; pub: string };
}

export function certPaths(s: Scenario): CertPaths {
  const dir = s.paths.certs;
  return {
    dir,
    ca: { cert: path.join(dir, 'ca', 'ca.crt'), key: path.join(dir, 'ca', 'ca.key') },
    crl: path.join(dir, 'crl', 'ca.crl'),
    server: { cert: path.join(dir, 'server', 'server.crt'), key: path.join(dir, 'server', 'server.key') },
    client: (user) => ({
      cert: path.join(dir, 'clients', `${user}.crt`),
      key: path.join(dir, 'clients', `${user}.key`),
      p12: path.join(dir, 'clients', `${user}.p12`),
    }),
    ipsec: (role) => ({ cert: path.join(dir, 'ipsec', `${role}.crt`), key: path.join(dir, 'ipsec', `${role}.key`) }),
    dkim: (selector) => ({ key: path.join(dir, 'dkim', `${selector}.key`), pub: path.join(dir, 'dkim', `${selector}.pub`) }),
  };
}
