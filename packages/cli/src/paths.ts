// The machine's files `sstt` reads and writes, in one table: the tests point it at a directory of
// their own (unit tests) or run the real paths inside a mount namespace whose /etc is a
// copy-on-write overlay (the namespace tests); the machine's own /etc is never a test's.
import path from 'node:path';
import type { Scenario } from '@sstt/scenario';

export const HOST_PATHS = {
  /** Debian/Ubuntu: local CAs that update-ca-certificates takes in (must end in .crt). */
  debianAnchors: '/usr/local/share/ca-certificates',
  /** Debian: the links and bundle update-ca-certificates makes, and its hooks (Java's keystore, Mono). */
  etcCerts: '/etc/ssl/certs',
  caHooks: '/etc/ca-certificates/update.d',
  /** Fedora/RHEL: local anchors that update-ca-trust takes in. */
  fedoraAnchors: '/etc/pki/ca-trust/source/anchors',
  fedoraBundle: '/etc/pki/tls/certs/ca-bundle.crt',
  hosts: '/etc/hosts',
  resolvConf: '/etc/resolv.conf',
  /** systemd-resolved 258+: per-domain routes to DNS servers (systemd.dns-delegate(5)). */
  dnsDelegates: '/etc/systemd/dns-delegate.d',
  resolvedRun: '/run/systemd/resolve',
  /** NetworkManager: its configuration (dns=dnsmasq) and the dnsmasq it runs reads dnsmasq.d. */
  nmConf: '/etc/NetworkManager/NetworkManager.conf',
  nmConfD: '/etc/NetworkManager/conf.d',
  nmDnsmasqD: '/etc/NetworkManager/dnsmasq.d',
  nmRun: '/run/NetworkManager',
  /** macOS: one file per domain, resolver(5). */
  macResolver: '/etc/resolver',
};

export type HostPaths = typeof HOST_PATHS;

/** The CA's file among the system's anchors. */
export function anchorFile(s: Scenario, flavor: 'debian' | 'fedora', paths: HostPaths = HOST_PATHS): string {
  return path.join(flavor === 'debian' ? paths.debianAnchors : paths.fedoraAnchors, `${s.domain}.crt`);
}

/** The CA's nickname in NSS databases and alias in Java keystores: its CN, as the README's manual steps name it. */
export const caNickname = (s: Scenario): string => `ca.${s.domain}`;
