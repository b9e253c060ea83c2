// exim4 as the report configured it, through Debian's debconf answers file
// (`/etc/exim4/update-exim4.conf.conf`, read by update-exim4.conf into the running config): the
// mail name is the domain (`/etc/mailname`), mail is accepted only for the users of this system,
// relayed only for clients of the LAN and to the university's domain, and delivered into each
// user's ~/Maildir. The report's Thunderbird sends on port 25 only (its traces), so exim listens
// on 25 alone, as Debian's default does; the submission port 587 stays sstt's own addition.
// What exim sends by SMTP (its remote_smtp transport: relayed mail, never local deliveries) is
// DKIM-signed with the domain's keys, as sstt signs (RFC 6376; Ed25519 per RFC 8463), through the
// DKIM_* macros Debian's template reads in remote_smtp, set in exim4.conf.localmacros.
import { certPaths, type Scenario, UNIVERSITY_DOMAIN } from '@sstt/scenario';
import { generatedHeader, inCerts } from '../common.ts';
import type { GeneratedFiles, Generator } from '../types.ts';

export const EXIM_INSTALL_PATHS = {
  debconf: '/etc/exim4/update-exim4.conf.conf',
  mailname: '/etc/mailname',
  /** Read by update-exim4.conf in front of the template (update-exim4.conf(8), non-split config). */
  localmacros: '/etc/exim4/exim4.conf.localmacros',
  /** The DKIM private keys, <selector>.key, readable by exim's transport (it runs as Debian-exim). */
  dkim: '/etc/exim4/dkim',
} as const;

/**
 * The debconf answers, in the order and syntax of Debian's own file (shell assignments, single
 * quotes; lists separated by ' ; ', see update-exim4.conf(8)). Each value with its reason.
 */
export function eximDebconf(s: Scenario): Array<{ key: string; value: string; why: string }> {
  return [
    { key: 'dc_eximconfig_configtype', value: 'internet', why: 'mail is sent and received directly by SMTP' },
    // Debian puts /etc/mailname into the local domains (dc_mailname_in_oh); naming the domain here
    // too keeps the list right on a machine whose /etc/mailname is something else.
    { key: 'dc_other_hostnames', value: s.domain, why: 'the domain whose mail is ours (local_domains): mail only for our users' },
    { key: 'dc_local_interfaces', value: '', why: 'empty: listen on every interface, the LAN address included' },
    { key: 'dc_readhost', value: '', why: 'no masquerading of outgoing mail' },
    { key: 'dc_relay_domains', value: UNIVERSITY_DOMAIN, why: "the university's mail domain, the other domain the report relays to" },
    { key: 'dc_minimaldns', value: 'false', why: 'the host name comes from DNS as usual' },
    { key: 'dc_relay_nets', value: s.network.lan, why: "relay only for the clients of the server's LAN (relay_from_hosts)" },
    { key: 'dc_smarthost', value: '', why: 'no smarthost: the lab delivers directly' },
    { key: 'CFILEMODE', value: '644', why: "Debian's mode of the generated config" },
    { key: 'dc_use_split_config', value: 'false', why: "one file from Debian's template" },
    { key: 'dc_hide_mailname', value: '', why: 'only meaningful with a smarthost' },
    { key: 'dc_mailname_in_oh', value: 'true', why: 'the mail name is a local domain' },
    { key: 'dc_localdelivery', value: 'maildir_home', why: 'delivery into ~/Maildir, where dovecot reads it' },
  ];
}

/**
 * The DKIM macros of Debian's template (exim4.conf.template, transport remote_smtp: DKIM_DOMAIN,
 * DKIM_SELECTOR, DKIM_PRIVATE_KEY, DKIM_CANON), each with its reason. exim 4.96 takes a list of
 * selectors and signs once per selector, expanding dkim_private_key with $dkim_selector set to
 * each in turn (spec, "DKIM signing"), so one path pattern names every key. Unset on purpose:
 * DKIM_SIGN_HEADERS (exim's default list is RFC 6376 §5.4.1's recommendation, as sstt's is) and
 * DKIM_STRICT (a key exim cannot read sends the mail unsigned, Debian's default, not deferred).
 */
export function eximDkimMacros(s: Scenario): Array<{ name: string; value: string; why: string }> {
  return [
    { name: 'DKIM_DOMAIN', value: s.domain, why: "the signing domain (d=): the domain's, whose zone publishes the keys" },
    {
      name: 'DKIM_SELECTOR',
      value: s.mail.auth.dkim.map((k) => k.selector).join(' : '),
      why: `one signature per selector (s=), as sstt signs: ${s.mail.auth.dkim.map((k) => `${k.selector} (${k.algorithm})`).join(', ')}`,
    },
    {
      name: 'DKIM_PRIVATE_KEY',
      value: `${EXIM_INSTALL_PATHS.dkim}/\${dkim_selector}.key`,
      why: "each selector's private key (PKCS#8 PEM, minted by sstt-pki); the algorithm (a=) follows the key's type",
    },
    { name: 'DKIM_CANON', value: 'relaxed', why: 'relaxed/relaxed canonicalization (c=, RFC 6376 §3.4.2 and §3.4.4), as sstt signs' },
  ];
}

function localMacrosFile(s: Scenario): string {
  return [
    generatedHeader(s, EXIM_INSTALL_PATHS.localmacros),
    "# Macros read by update-exim4.conf in front of Debian's template: DKIM signing in remote_smtp.",
    ...eximDkimMacros(s).flatMap(({ name, value, why }) => [`# ${why}`, `${name} = ${value}`]),
    '',
  ].join('\n');
}

function debconfFile(s: Scenario): string {
  return [
    generatedHeader(s, EXIM_INSTALL_PATHS.debconf),
    '# Read by update-exim4.conf (run by install.sh), which writes the configuration exim runs.',
    ...eximDebconf(s).flatMap(({ key, value, why }) => [`# ${why}`, `${key}='${value}'`]),
    '',
  ].join('\n');
}

function installScript(s: Scenario): string {
  const p = EXIM_INSTALL_PATHS;
  return [
    '#!/bin/sh',
    generatedHeader(s, 'infra/exim4/install.sh'),
    '# Installs the debconf answers, the DKIM macros and keys and the mail name on a Debian host with',
    '# exim4, as root, from the repository root after `npx sstt-pki init --profile lab`, then',
    '# regenerates the configuration and restarts exim. The users must exist (infra/users/install.sh).',
    '# CERTS=dir picks another certs/; DESTDIR=dir installs below dir and does not touch exim.',
    'set -eu',
    'HERE=$(dirname "$0")',
    'CERTS=${CERTS:-certs}',
    'D=${DESTDIR:-}',
    'install -d -m 755 "$D/etc/exim4"',
    `install -m 644 "$HERE/update-exim4.conf.conf" "$D${p.debconf}"`,
    `install -m 644 "$HERE/exim4.conf.localmacros" "$D${p.localmacros}"`,
    `install -m 644 "$HERE/mailname" "$D${p.mailname}"`,
    "# The private keys: root's, readable by exim's transport, which runs as Debian-exim.",
    `install -d -o root -g Debian-exim -m 750 "$D${p.dkim}"`,
    ...s.mail.auth.dkim.map(
      (k) => `install -o root -g Debian-exim -m 640 "$CERTS/${inCerts(s, certPaths(s).dkim(k.selector).key)}" "$D${p.dkim}/${k.selector}.key"`,
    ),
    'if [ -z "$D" ]; then',
    '  update-exim4.conf',
    '  systemctl restart exim4',
    'fi',
    '',
  ].join('\n');
}

export const generateExim: Generator = (s) => {
  const files: GeneratedFiles = new Map();
  files.set('exim4/update-exim4.conf.conf', debconfFile(s));
  files.set('exim4/exim4.conf.localmacros', localMacrosFile(s));
  // /etc/mailname has no comment syntax: the domain alone (Debian policy §11.6).
  files.set('exim4/mailname', `${s.domain}\n`);
  files.set('exim4/install.sh', installScript(s));
  return files;
};
