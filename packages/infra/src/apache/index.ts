// Apache 2.4 (Debian apache2 + mod_ssl) configuration of the lab: the two virtual hosts of the
// seed, `servicio-practica-final.conf` (HTTP) and `servicio-practica-final-ssl.conf` (HTTPS
// demanding a client certificate from the lab's CA, checked against its CRL), and install.sh,
// which copies them and the certificates of packages/pki to the Debian locations below.
import path from 'node:path';
import { certPaths, PORTS, type Scenario } from '@sstt/scenario';
import { generatedHeader, inCerts, tlsInstallPaths } from '../common.ts';
import type { GeneratedFiles, Generator } from '../types.ts';

/** The site name the seed used for both vhosts. */
export const APACHE_SITE = 'servicio-practica-final';

/** Where each file lives on a Debian host (absolute paths, as the generated configs name them). */
export function apacheInstallPaths(s: Scenario) {
  return {
    sitesAvailable: '/etc/apache2/sites-available',
    documentRoot: `/var/www/${APACHE_SITE}`,
    ...tlsInstallPaths(s),
  } as const;
}

function directoryBlock(root: string): string[] {
  return [
    `    DocumentRoot ${root}`,
    `    <Directory ${root}>`,
    '        Options -Indexes +FollowSymLinks',
    '        AllowOverride None',
    '        Require all granted',
    '    </Directory>',
  ];
}

function httpVhost(s: Scenario): string {
  const p = apacheInstallPaths(s);
  return [
    generatedHeader(s, `${p.sitesAvailable}/${APACHE_SITE}.conf`),
    `# The plain HTTP site of the lab (port ${PORTS.lab.http}). Enable with: a2ensite ${APACHE_SITE}`,
    `<VirtualHost *:${PORTS.lab.http}>`,
    `    ServerName www.${s.domain}`,
    `    ServerAlias web.${s.domain} ${s.domain}`,
    `    ServerAdmin webmaster@${s.domain}`,
    ...directoryBlock(p.documentRoot),
    `    ErrorLog \${APACHE_LOG_DIR}/${APACHE_SITE}-error.log`,
    `    CustomLog \${APACHE_LOG_DIR}/${APACHE_SITE}-access.log combined`,
    '</VirtualHost>',
    '',
  ].join('\n');
}

function httpsVhost(s: Scenario): string {
  const p = apacheInstallPaths(s);
  return [
    generatedHeader(s, `${p.sitesAvailable}/${APACHE_SITE}-ssl.conf`),
    `# The HTTPS site (port ${PORTS.lab.https}): TLS with the server certificate of the lab's CA, and a client`,
    '# certificate from the same CA required of every browser (the .p12 of `npx sstt-pki init`).',
    `# Enable with: a2enmod ssl && a2ensite ${APACHE_SITE}-ssl`,
    '<IfModule mod_ssl.c>',
    `<VirtualHost *:${PORTS.lab.https}>`,
    `    ServerName www.${s.domain}`,
    `    ServerAlias web.${s.domain} ${s.domain}`,
    `    ServerAdmin webmaster@${s.domain}`,
    ...directoryBlock(p.documentRoot),
    `    ErrorLog \${APACHE_LOG_DIR}/${APACHE_SITE}-ssl-error.log`,
    '    # Who came in with which certificate.',
    `    CustomLog \${APACHE_LOG_DIR}/${APACHE_SITE}-ssl-access.log "%h %{SSL_CLIENT_S_DN}x %t \\"%r\\" %>s %b"`,
    '',
    '    SSLEngine on',
    `    SSLCertificateFile ${p.serverCert}`,
    `    SSLCertificateKeyFile ${p.serverKey}`,
    '    # Client certificates must chain to the lab CA and must not be in its CRL.',
    `    SSLCACertificateFile ${p.caCert}`,
    `    SSLCARevocationFile ${p.crl}`,
    '    # Without this Apache 2.4 loads the CRL but never consults it.',
    '    SSLCARevocationCheck chain',
    '    SSLVerifyClient require',
    '    SSLVerifyDepth 10',
    '    SSLOptions +StdEnvVars',
    '</VirtualHost>',
    '</IfModule>',
    '',
  ].join('\n');
}

function installScript(s: Scenario): string {
  const p = apacheInstallPaths(s);
  const c = certPaths(s);
  const web = path.relative(s.paths.root, s.http.root);
  return [
    '#!/bin/sh',
    generatedHeader(s, 'infra/apache/install.sh'),
    '# Installs the two vhosts and the certificates on a Debian host with apache2, as root, from the',
    '# repository root after `npx sstt-pki init --profile lab`. CERTS=dir picks another certs/;',
    '# DESTDIR=dir installs below dir and skips a2enmod/a2ensite/reload (the tests use that).',
    'set -eu',
    'HERE=$(dirname "$0")',
    'CERTS=${CERTS:-certs}',
    'D=${DESTDIR:-}',
    `install -d -m 755 "$D${p.sitesAvailable}" "$D${path.dirname(p.caCert)}" "$D${path.dirname(p.crl)}" "$D${p.documentRoot}"`,
    `install -d -m 710 "$D${path.dirname(p.serverKey)}"`,
    `install -m 644 "$CERTS/${inCerts(s, c.ca.cert)}" "$D${p.caCert}"`,
    `install -m 644 "$CERTS/${inCerts(s, c.crl)}" "$D${p.crl}"`,
    `install -m 644 "$CERTS/${inCerts(s, c.server.cert)}" "$D${p.serverCert}"`,
    `install -m 600 "$CERTS/${inCerts(s, c.server.key)}" "$D${p.serverKey}"`,
    `install -m 644 "$HERE/${APACHE_SITE}.conf" "$HERE/${APACHE_SITE}-ssl.conf" "$D${p.sitesAvailable}/"`,
    `if [ -d "${web}" ]; then cp -R "${web}/." "$D${p.documentRoot}/"; fi`,
    'if [ -z "$D" ]; then',
    '  a2enmod -q ssl',
    `  a2ensite -q ${APACHE_SITE} ${APACHE_SITE}-ssl`,
    '  apache2ctl configtest',
    '  systemctl reload apache2',
    'fi',
    '',
  ].join('\n');
}

/**
 * A private Apache server around the generated vhosts (its own config, not /etc/apache2): run
 * files in `dir`, the modules the vhosts need, one `Listen` per address. The reference lab and
 * the tests run Apache 2.4 this way. (No `LoadModule log_config_module`: it is built in.)
 */
export function privateApacheConf(o: { dir: string; serverName: string; errorLog: string; logDir: string; listen: string[]; vhosts: string[] }): string {
  const modules = '/usr/lib/apache2/modules';
  return [
    `ServerRoot "${o.dir}"`,
    `ServerName ${o.serverName}`,
    `PidFile "${o.dir}/httpd.pid"`,
    `DefaultRuntimeDir "${o.dir}"`,
    `Mutex file:${o.dir} default`,
    `ErrorLog "${o.errorLog}"`,
    'LogLevel info ssl:info',
    `Define APACHE_LOG_DIR ${o.logDir}`,
    ...['mpm_event', 'authz_core', 'mime', 'dir', 'socache_shmcb', 'ssl'].map((m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`),
    'TypesConfig /etc/mime.types',
    'DirectoryIndex index.html',
    'User www-data',
    'Group www-data',
    ...o.listen.map((l) => `Listen ${l}`),
    `SSLSessionCache shmcb:${o.dir}/ssl_scache(512000)`,
    ...o.vhosts,
    '',
  ].join('\n');
}

export const generateApache: Generator = (s) => {
  const files: GeneratedFiles = new Map();
  files.set(`apache/${APACHE_SITE}.conf`, httpVhost(s));
  files.set(`apache/${APACHE_SITE}-ssl.conf`, httpsVhost(s));
  files.set('apache/install.sh', installScript(s));
  return files;
};
