// dovecot (Debian dovecot-core + dovecot-pop3d) as the report configured it: plain-text passwords
// allowed in conf.d/10-auth.conf ("impensable en sistemas finales", needed so Wireshark shows the
// login), the Maildir in each home in conf.d/10-mail.conf, and POP3 on 110 and POP3S on 995 with
// the lab's server certificate. These files replace Debian's of the same names; the users are the
// system's (PAM and /etc/passwd, Debian's auth-system.conf.ext), made by infra/users/install.sh.
import { certPaths, PORTS, type Scenario } from '@sstt/scenario';
import { generatedHeader, inCerts, tlsInstallPaths } from '../common.ts';
import type { GeneratedFiles, Generator } from '../types.ts';

export const DOVECOT_CONF_D = '/etc/dovecot/conf.d';

/** The conf.d files generated here (Debian's other conf.d files stay as installed). */
export const DOVECOT_FILES = ['10-auth.conf', '10-mail.conf', '10-ssl.conf', '20-pop3.conf'] as const;

function authConf(s: Scenario): string {
  return [
    generatedHeader(s, `${DOVECOT_CONF_D}/10-auth.conf`),
    '# The report: passwords in plain text allowed, without TLS too, so the lab can read the login',
    '# (USER/PASS and AUTH PLAIN, RFC 5034) in Wireshark. Never do this on a real server.',
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    '# The system users (PAM, /etc/passwd), as Debian ships it.',
    '!include auth-system.conf.ext',
    '',
  ].join('\n');
}

function mailConf(s: Scenario): string {
  return [
    generatedHeader(s, `${DOVECOT_CONF_D}/10-mail.conf`),
    "# Where exim4 delivers (dc_localdelivery='maildir_home').",
    'mail_location = maildir:~/Maildir',
    'namespace inbox {',
    '  inbox = yes',
    '}',
    "# Debian's default: the group that may lock mail spools.",
    'mail_privileged_group = mail',
    '',
  ].join('\n');
}

function sslConf(s: Scenario): string {
  const p = tlsInstallPaths(s);
  return [
    generatedHeader(s, `${DOVECOT_CONF_D}/10-ssl.conf`),
    '# POP3S (port 995) with the server certificate of the lab CA (every service name of the domain),',
    "# installed by infra/apache/install.sh or this directory's install.sh.",
    'ssl = yes',
    `ssl_cert = <${p.serverCert}`,
    `ssl_key = <${p.serverKey}`,
    'ssl_client_ca_dir = /etc/ssl/certs',
    'ssl_dh = </usr/share/dovecot/dh.pem',
    '',
  ].join('\n');
}

function pop3Conf(s: Scenario): string {
  return [
    generatedHeader(s, `${DOVECOT_CONF_D}/20-pop3.conf`),
    '# POP3 (RFC 1939) in clear and POP3S (RFC 8314 §3.3, TLS from the first byte).',
    'service pop3-login {',
    '  inet_listener pop3 {',
    `    port = ${PORTS.lab.pop3}`,
    '  }',
    '  inet_listener pop3s {',
    `    port = ${PORTS.lab.pop3s}`,
    '    ssl = yes',
    '  }',
    '}',
    'protocol pop3 {',
    "  # Debian's suggested UIDL format, the one older clients (Outlook, Thunderbird) expect.",
    '  pop3_uidl_format = %08Xu%08Xv',
    '}',
    '',
  ].join('\n');
}

function installScript(s: Scenario): string {
  const p = tlsInstallPaths(s);
  const c = certPaths(s);
  return [
    '#!/bin/sh',
    generatedHeader(s, 'infra/dovecot/install.sh'),
    '# Installs the conf.d files and the server certificate on a Debian host with dovecot-pop3d, as',
    '# root, from the repository root after `npx sstt-pki init --profile lab`, then restarts dovecot.',
    '# CERTS=dir picks another certs/; DESTDIR=dir installs below dir and does not touch dovecot.',
    'set -eu',
    'HERE=$(dirname "$0")',
    'CERTS=${CERTS:-certs}',
    'D=${DESTDIR:-}',
    `install -d -m 755 "$D${DOVECOT_CONF_D}" "$D/etc/ssl/certs"`,
    'install -d -m 710 "$D/etc/ssl/private"',
    `install -m 644 "$CERTS/${inCerts(s, c.server.cert)}" "$D${p.serverCert}"`,
    `install -m 600 "$CERTS/${inCerts(s, c.server.key)}" "$D${p.serverKey}"`,
    `for f in ${DOVECOT_FILES.join(' ')}; do install -m 644 "$HERE/conf.d/$f" "$D${DOVECOT_CONF_D}/$f"; done`,
    'if [ -z "$D" ]; then',
    '  doveconf -n >/dev/null',
    '  systemctl restart dovecot',
    'fi',
    '',
  ].join('\n');
}

export const generateDovecot: Generator = (s) => {
  const files: GeneratedFiles = new Map();
  files.set('dovecot/conf.d/10-auth.conf', authConf(s));
  files.set('dovecot/conf.d/10-mail.conf', mailConf(s));
  files.set('dovecot/conf.d/10-ssl.conf', sslConf(s));
  files.set('dovecot/conf.d/20-pop3.conf', pop3Conf(s));
  files.set('dovecot/install.sh', installScript(s));
  return files;
};
