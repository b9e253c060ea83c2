// strongSwan configuration of the lab's host-to-host tunnel, one directory per machine
// (infra/ipsec/server, infra/ipsec/client): the classic ipsec.conf + ipsec.secrets of the seed
// (starter/stroke, Debian strongswan-starter) and the equivalent swanctl.conf (vici, Debian
// strongswan-swanctl), plus install.sh, which copies them and the host's certificates to the
// Debian locations below. Left is always the machine itself, right the peer.
import { certPaths, type HostRole, type Scenario } from '@sstt/scenario';
import { dnString, ipsecCaPath, ipsecFileBase, ipsecSubject } from '@sstt/pki';
import { generatedHeader, inCerts } from '../common.ts';
import type { GeneratedFiles, Generator } from '../types.ts';

/** The lab's `conn %default` (SCENARIO.md, IPsec): IKEv2, certificates, integrity only. */
export const IPSEC_DEFAULTS = {
  ikelifetime: '60m',
  keylife: '20m',
  rekeymargin: '3m',
  keyingtries: '1',
  mobike: 'no',
  keyexchange: 'ikev2',
  authby: 'pubkey',
  // ESP with the NULL cipher and HMAC-SHA1-96 (RFC 2410, RFC 2404): authenticated but readable,
  // so the payload can be seen in Wireshark. `!` makes the proposal strict.
  esp: 'null-sha1!',
} as const;

export const CONN_NAME = 'host-host';

/** Where each file lives on a Debian host. */
export function ipsecInstallPaths(s: Scenario, role: HostRole) {
  const base = ipsecFileBase(s, role);
  return {
    ipsecConf: '/etc/ipsec.conf',
    ipsecSecrets: '/etc/ipsec.secrets',
    ipsecD: '/etc/ipsec.d',
    caCert: `/etc/ipsec.d/cacerts/ca.${s.domain}.crt`,
    crl: `/etc/ipsec.d/crls/ca.${s.domain}.crl`,
    /** leftcert= and `: RSA` name these relative to ipsec.d/certs and ipsec.d/private. */
    certName: `${base}.crt`,
    keyName: `${base}.key`,
    cert: `/etc/ipsec.d/certs/${base}.crt`,
    key: `/etc/ipsec.d/private/${base}.key`,
    swanctlConf: `/etc/swanctl/conf.d/${CONN_NAME}.conf`,
    swanctlCaCert: `/etc/swanctl/x509ca/ca.${s.domain}.crt`,
    swanctlCrl: `/etc/swanctl/x509crl/ca.${s.domain}.crl`,
    swanctlCert: `/etc/swanctl/x509/${base}.crt`,
    swanctlKey: `/etc/swanctl/private/${base}.key`,
  } as const;
}

function peers(s: Scenario, role: HostRole) {
  const other: HostRole = role === 'server' ? 'client' : 'server';
  const addr = (r: HostRole) => (r === 'server' ? s.network.server : s.network.client);
  return {
    other,
    left: addr(role),
    right: addr(other),
    leftid: dnString(ipsecSubject(s, role)),
    rightid: dnString(ipsecSubject(s, other)),
    // The client brings the tunnel up; the server waits for it (the seed's "auto=start" on the
    // client; both initiating at once would race into two SAs).
    initiates: role === 'client',
  };
}

function ipsecConf(s: Scenario, role: HostRole): string {
  const p = ipsecInstallPaths(s, role);
  const x = peers(s, role);
  const d = IPSEC_DEFAULTS;
  return [
    generatedHeader(s, `${p.ipsecConf} on the ${role} (${x.left})`),
    'config setup',
    '    # Check peers against the CRL in ipsec.d/crls when there is one.',
    '    strictcrlpolicy=no',
    '',
    'conn %default',
    `    ikelifetime=${d.ikelifetime}`,
    `    keylife=${d.keylife}`,
    `    rekeymargin=${d.rekeymargin}`,
    `    keyingtries=${d.keyingtries}`,
    `    mobike=${d.mobike}`,
    `    keyexchange=${d.keyexchange}`,
    `    authby=${d.authby}`,
    `    esp=${d.esp}`,
    '',
    `conn ${CONN_NAME}`,
    `    left=${x.left}`,
    `    leftcert=${p.certName}`,
    `    leftid="${x.leftid}"`,
    `    right=${x.right}`,
    `    rightid="${x.rightid}"`,
    '    type=tunnel',
    `    auto=${x.initiates ? 'start' : 'add'}`,
    '',
  ].join('\n');
}

function ipsecSecrets(s: Scenario, role: HostRole): string {
  const p = ipsecInstallPaths(s, role);
  return [
    generatedHeader(s, `${p.ipsecSecrets} on the ${role}`),
    `# The host's private key, relative to ${p.ipsecD}/private (install it 0600).`,
    `: RSA ${p.keyName}`,
    '',
  ].join('\n');
}

function swanctlConf(s: Scenario, role: HostRole): string {
  const p = ipsecInstallPaths(s, role);
  const x = peers(s, role);
  return [
    generatedHeader(s, `${p.swanctlConf} on the ${role} (${x.left})`),
    '# The same tunnel as ipsec.conf for the vici/swanctl interface: `swanctl --load-all`.',
    '# Lifetimes: ikelifetime=60m / keylife=20m with rekeymargin=3m become rekey 3 minutes early.',
    'connections {',
    `    ${CONN_NAME} {`,
    '        version = 2',
    `        local_addrs = ${x.left}`,
    `        remote_addrs = ${x.right}`,
    '        mobike = no',
    `        keyingtries = ${IPSEC_DEFAULTS.keyingtries}`,
    '        reauth_time = 57m',
    '        over_time = 3m',
    '        local {',
    '            auth = pubkey',
    `            certs = ${p.certName}`,
    `            id = "${x.leftid}"`,
    '        }',
    '        remote {',
    '            auth = pubkey',
    `            id = "${x.rightid}"`,
    '        }',
    '        children {',
    `            ${CONN_NAME} {`,
    '                mode = tunnel',
    '                esp_proposals = null-sha1',
    '                rekey_time = 17m',
    '                life_time = 20m',
    `                start_action = ${x.initiates ? 'start' : 'none'}`,
    '            }',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

function installScript(s: Scenario, role: HostRole): string {
  const p = ipsecInstallPaths(s, role);
  const c = certPaths(s);
  const host = c.ipsec(role);
  const dir = (f: string) => f.slice(0, f.lastIndexOf('/'));
  return [
    '#!/bin/sh',
    generatedHeader(s, `infra/ipsec/${role}/install.sh`),
    `# Installs the ${role}'s strongSwan configuration and certificates on a Debian host, as root, from`,
    '# the repository root after `npx sstt-pki init --profile lab` (copy certs/ to the other machine too).',
    '# CERTS=dir picks another certs/; DESTDIR=dir installs below dir and does not restart anything.',
    '# The CA goes in as ca-ipsec.crt: the lab CA without its IP name constraints, which strongSwan',
    '# 5.9 (Debian 12) cannot parse (strongswan/strongswan#1991); see packages/pki ipsecCaPath.',
    'set -eu',
    'HERE=$(dirname "$0")',
    'CERTS=${CERTS:-certs}',
    'D=${DESTDIR:-}',
    `install -d -m 755 "$D/etc" "$D${dir(p.caCert)}" "$D${dir(p.crl)}" "$D${dir(p.cert)}" "$D${dir(p.swanctlConf)}" "$D${dir(p.swanctlCaCert)}" "$D${dir(p.swanctlCrl)}" "$D${dir(p.swanctlCert)}"`,
    `install -d -m 700 "$D${dir(p.key)}" "$D${dir(p.swanctlKey)}"`,
    `install -m 644 "$HERE/ipsec.conf" "$D${p.ipsecConf}"`,
    `install -m 600 "$HERE/ipsec.secrets" "$D${p.ipsecSecrets}"`,
    `install -m 644 "$HERE/swanctl.conf" "$D${p.swanctlConf}"`,
    `for ca in "$D${p.caCert}" "$D${p.swanctlCaCert}"; do install -m 644 "$CERTS/${inCerts(s, ipsecCaPath(s))}" "$ca"; done`,
    `for crl in "$D${p.crl}" "$D${p.swanctlCrl}"; do install -m 644 "$CERTS/${inCerts(s, c.crl)}" "$crl"; done`,
    `for crt in "$D${p.cert}" "$D${p.swanctlCert}"; do install -m 644 "$CERTS/${inCerts(s, host.cert)}" "$crt"; done`,
    `for key in "$D${p.key}" "$D${p.swanctlKey}"; do install -m 600 "$CERTS/${inCerts(s, host.key)}" "$key"; done`,
    'if [ -z "$D" ]; then',
    '  # Classic starter (ipsec.conf) by default; with strongswan-swanctl use `swanctl --load-all` instead.',
    '  ipsec restart',
    'fi',
    '',
  ].join('\n');
}

export const generateIpsec: Generator = (s) => {
  const files: GeneratedFiles = new Map();
  for (const role of ['server', 'client'] as const) {
    files.set(`ipsec/${role}/ipsec.conf`, ipsecConf(s, role));
    files.set(`ipsec/${role}/ipsec.secrets`, ipsecSecrets(s, role));
    files.set(`ipsec/${role}/swanctl.conf`, swanctlConf(s, role));
    files.set(`ipsec/${role}/install.sh`, installScript(s, role));
  }
  return files;
};
