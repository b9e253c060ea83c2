// `sstt-lab --reference`: servidor runs the real programs the lab report configured, from the
// files packages/infra generates (the same text infra/ commits), instead of sstt's apps:
// BIND 9 (53), exim4 (25), dovecot (110, 995), Apache with the SSL vhost on 443, strongSwan as
// always; sstt's apps/http keeps port 80 in the role of the student's web_sstt (the report's plain
// HTTP trace is web_sstt's: its cookie counter), and Apache's plain vhost listens on
// REFERENCE_APACHE_HTTP_PORT (the scenario's), where it collides with nothing.
//
// Nothing of the machine changes: the scenario's users exist only inside servidor, in its own
// /etc/passwd, /etc/shadow, /etc/group (the /etc/netns files `ip netns exec` mounts over /etc) and
// a /home of the lab's; exim's configuration (/etc/exim4 with its DKIM keys), spool and log, and
// every daemon's run directory, are the lab's too (bind mounts seen only by servidor's processes).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { APACHE_SITE, EXIM_INSTALL_PATHS, generateApache, generateBind, generateDovecot, generateExim, privateApacheConf } from '@sstt/infra';
import { requireTool } from '@sstt/host';
import { certPaths, PORTS, REFERENCE_APACHE_HTTP_PORT, type Scenario, SERVICE_TRANSPORTS } from '@sstt/scenario';
import type { LabProcess, Mount } from './topology.ts';

/**
 * Where servidor's Apache finds the site: web_sstt's files bound over Debian's own document root
 * (it exists wherever apache2 is installed), in servidor's mounts only. Apache's workers (www-data)
 * must reach it without passing through the checkout's parents, which may be closed to them (a
 * clone under /root: 403 Forbidden).
 */
const SITE_ROOT = '/var/www/html';

/** The first uid of the scenario's users inside servidor (Debian's first regular uid is 1000). */
const FIRST_UID = 2001;

/** Debian's exim4 configuration directory (update-exim4.conf's confdir). */
const ETC_EXIM4 = '/etc/exim4';

/** coreutils' install(1): a directory or file with its owner and mode in one step. */
const INSTALL = '/usr/bin/install';

export interface ReferenceServer {
  processes: LabProcess[];
  /** servidor's own /etc files (over the machine's, inside servidor only). */
  etc: Record<string, string>;
  mounts: Mount[];
}

/** SHA-512 crypt (the shadow format Debian's PAM reads) of a lab password, salted by the ID: a function of the scenario. */
function shadowHash(s: Scenario, password: string): string {
  return execFileSync(requireTool('openssl'), ['passwd', '-6', '-salt', `sstt${s.id}lab`, '-stdin'], { input: password })
    .toString()
    .trim();
}

/** The machine's account file with the scenario's users added (or its own lines only, when the machine has none). */
function withUsers(file: string, lines: string[]): string {
  const own = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return `${own}${own.endsWith('\n') || own === '' ? '' : '\n'}${lines.join('\n')}\n`;
}

export function referenceServer(s: Scenario, dir: string, logFile: (name: string) => string): ReferenceServer {
  const S = s.network.server;
  const c = certPaths(s);
  const ref = (...p: string[]) => path.join(dir, 'reference', ...p);
  const home = ref('home');
  const users = s.users.map((u, i) => ({ ...u, uid: FIRST_UID + i }));
  const exim = generateExim(s);

  const etc = {
    passwd: withUsers(
      '/etc/passwd',
      users.map((u) => `${u.name}:x:${u.uid}:${u.uid}:${u.firstName}:/home/${u.name}:/usr/sbin/nologin`),
    ),
    group: withUsers(
      '/etc/group',
      users.map((u) => `${u.name}:x:${u.uid}:`),
    ),
    // exim qualifies addresses and names its local domain from /etc/mailname (the generated one).
    mailname: exim.get('exim4/mailname')!,
    shadow: withUsers(
      '/etc/shadow',
      users.map((u) => `${u.name}:${shadowHash(s, u.password)}:19000:0:99999:7:::`),
    ),
  };

  // BIND: the generated named.conf.options and .local, the zones beside them, run files here.
  const bind = generateBind(s);
  const bindDir = ref('bind');
  const options = bind
    .get('bind/named.conf.options')!
    .replace('directory "/var/cache/bind";', `directory "${bindDir}";\n\tpid-file "${bindDir}/named.pid";\n\tsession-keyfile "${bindDir}/session.key";`);
  const zones = [...bind].filter(([rel]) => /^bind\/db\./.test(rel));
  const local = bind.get('bind/named.conf.local')!.replaceAll('"/etc/bind/', `"${bindDir}/`);
  const named: LabProcess = {
    name: 'servidor: named (BIND 9)',
    host: 'servidor',
    argv: ['named', '-g', '-c', path.join(bindDir, 'named.conf')],
    env: {},
    files: {
      [path.join(bindDir, 'named.conf')]: `${options}\n${local}\n// No rndc in the lab.\ncontrols { };\n`,
      ...Object.fromEntries(zones.map(([rel, text]) => [path.join(bindDir, path.basename(rel)), text])),
    },
    requires: [],
    prepare: [],
    log: logFile('named'),
    summary: `BIND 9 :${PORTS.lab.dns}`,
    sockets: SERVICE_TRANSPORTS.dns.map((transport) => ({ service: 'dns', transport, address: S, port: PORTS.lab.dns })),
  };

  // exim4: the generated debconf answers and DKIM macros made into exim's configuration by
  // Debian's own update-exim4.conf, as install.sh does on a Debian host. servidor's /etc/exim4 is
  // the lab's directory (a mount seen only by servidor's processes): the generated files and a
  // copy of Debian's template at their Debian paths, and the lab's DKIM keys in /etc/exim4/dkim,
  // root's and readable by Debian-exim, which exim's remote_smtp transport runs as (through the
  // mount the lab directory's parents need not be open to it). update-exim4.conf runs inside
  // servidor, because it reads ${confdir}/exim4.conf.localmacros only when
  // /etc/exim4/exim4.conf.localmacros exists (its non-split branch), and /etc/mailname: both are
  // servidor's there, as on the report's server. Its output is the lab's file that is mounted
  // where exim reads it (-o: a mount point cannot be renamed onto), with the spool and the log.
  const eximConf = ref('exim4', 'etc');
  const eximOut = ref('exim4', 'config.autogenerated');
  const spool = ref('exim4', 'spool');
  const eximLog = ref('exim4', 'log');
  const inConf = (debianPath: string) => path.join(eximConf, path.relative(ETC_EXIM4, debianPath));
  const dkimDir = inConf(EXIM_INSTALL_PATHS.dkim);
  const eximD: LabProcess = {
    name: 'servidor: exim4',
    host: 'servidor',
    argv: ['exim4', '-bdf', '-q30m'],
    env: {},
    files: {
      [inConf(EXIM_INSTALL_PATHS.debconf)]: exim.get('exim4/update-exim4.conf.conf')!,
      [inConf(EXIM_INSTALL_PATHS.localmacros)]: exim.get('exim4/exim4.conf.localmacros')!,
    },
    requires: [],
    prepare: [
      [INSTALL, '-m', '644', path.join(ETC_EXIM4, 'exim4.conf.template'), path.join(eximConf, 'exim4.conf.template')],
      [INSTALL, '-d', '-o', 'root', '-g', 'Debian-exim', '-m', '750', dkimDir],
      ...s.mail.auth.dkim.map((k) => [
        INSTALL,
        '-o',
        'root',
        '-g',
        'Debian-exim',
        '-m',
        '640',
        c.dkim(k.selector).key,
        path.join(dkimDir, `${k.selector}.key`),
      ]),
      [INSTALL, '-d', '-o', 'Debian-exim', '-g', 'Debian-exim', '-m', '750', spool, eximLog],
    ],
    setup: [['update-exim4.conf', '-o', eximOut]],
    log: logFile('exim4'),
    summary: `exim4 :${PORTS.lab.smtp}`,
    sockets: [{ service: 'smtp', transport: 'tcp', address: '0.0.0.0', port: PORTS.lab.smtp }],
  };

  // dovecot: the generated conf.d files (the TLS files are the lab's), Debian's auth-system include,
  // and a main file that keeps its state and sockets here.
  const dove = generateDovecot(s);
  const doveDir = ref('dovecot');
  const confD = Object.fromEntries(
    [...dove]
      .filter(([rel]) => rel.startsWith('dovecot/conf.d/'))
      .map(([rel, text]) => [
        path.join(doveDir, 'conf.d', path.basename(rel)),
        text.replace(/^ssl_cert = <.*$/m, `ssl_cert = <${c.server.cert}`).replace(/^ssl_key = <.*$/m, `ssl_key = <${c.server.key}`),
      ]),
  );
  const dovecot: LabProcess = {
    name: 'servidor: dovecot',
    host: 'servidor',
    argv: ['dovecot', '-F', '-c', path.join(doveDir, 'dovecot.conf')],
    env: {},
    files: {
      ...confD,
      [path.join(doveDir, 'dovecot.conf')]: [
        `# dovecot for ${s.domain} in the reference lab: Debian's layout, the generated conf.d files.`,
        'protocols = pop3',
        `listen = ${S}`,
        `base_dir = ${path.join(doveDir, 'run')}`,
        `state_dir = ${path.join(doveDir, 'state')}`,
        `instance_name = sstt${s.id}-dovecot`,
        'log_path = /dev/stderr',
        `!include ${path.join(doveDir, 'conf.d')}/*.conf`,
        '',
      ].join('\n'),
    },
    requires: [],
    prepare: [[INSTALL, '-m', '644', '/etc/dovecot/conf.d/auth-system.conf.ext', path.join(doveDir, 'conf.d', 'auth-system.conf.ext')]],
    log: logFile('dovecot'),
    summary: `dovecot :${PORTS.lab.pop3} :${PORTS.lab.pop3s}`,
    sockets: (['pop3', 'pop3s'] as const).map((service) => ({ service, transport: 'tcp' as const, address: S, port: PORTS.lab[service] })),
  };

  // Apache: a private server config with the two generated vhosts, their Debian paths moved to the
  // lab's certificates and site, on servidor's address.
  const apacheDir = ref('apache');
  const vhost = (text: string, port: number) =>
    text
      .replace(/<VirtualHost \*:\d+>/, `<VirtualHost ${S}:${port}>`)
      .replace(/^( +DocumentRoot ).*$/m, `$1${SITE_ROOT}`)
      .replace(/^( +<Directory ).*>$/m, `$1${SITE_ROOT}>`)
      .replace(/^( +SSLCertificateFile ).*$/m, `$1${c.server.cert}`)
      .replace(/^( +SSLCertificateKeyFile ).*$/m, `$1${c.server.key}`)
      .replace(/^( +SSLCACertificateFile ).*$/m, `$1${c.ca.cert}`)
      .replace(/^( +SSLCARevocationFile ).*$/m, `$1${c.crl}`);
  const apacheFiles = generateApache(s);
  const apache: LabProcess = {
    name: 'servidor: apache2',
    host: 'servidor',
    argv: ['apache2', '-f', path.join(apacheDir, 'httpd.conf'), '-DFOREGROUND'],
    env: {},
    files: {
      [path.join(apacheDir, 'httpd.conf')]: privateApacheConf({
        dir: apacheDir,
        serverName: `www.${s.domain}`,
        errorLog: '/dev/stderr',
        logDir: apacheDir,
        listen: [`${S}:${PORTS.lab.https}`, `${S}:${REFERENCE_APACHE_HTTP_PORT}`],
        vhosts: [
          vhost(apacheFiles.get(`apache/${APACHE_SITE}.conf`)!, REFERENCE_APACHE_HTTP_PORT),
          vhost(apacheFiles.get(`apache/${APACHE_SITE}-ssl.conf`)!, PORTS.lab.https),
        ],
      }),
    },
    requires: [],
    prepare: [],
    log: logFile('apache2'),
    summary: `Apache 2.4 :${PORTS.lab.https} (SSL vhost, client certificate) :${REFERENCE_APACHE_HTTP_PORT} (plain vhost)`,
    sockets: [PORTS.lab.https, REFERENCE_APACHE_HTTP_PORT].map((port) => ({
      service: port === PORTS.lab.https ? 'https' : 'http',
      transport: 'tcp',
      address: S,
      port,
    })),
  };

  // The users' homes with their Maildir, owned by them (exim delivers there, dovecot reads there).
  for (const u of users) {
    const d = path.join(home, u.name);
    const own = ['-o', String(u.uid), '-g', String(u.uid)];
    eximD.prepare!.push([INSTALL, '-d', ...own, '-m', '700', d, ...['cur', 'new', 'tmp'].map((x) => path.join(d, 'Maildir', x))]);
    eximD.prepare!.push([INSTALL, '-d', ...own, '-m', '700', path.join(d, 'Maildir')]);
  }

  return {
    processes: [named, eximD, dovecot, apache],
    etc,
    mounts: [
      { source: home, target: '/home' },
      { source: eximConf, target: ETC_EXIM4 },
      { source: eximOut, target: '/var/lib/exim4/config.autogenerated' },
      { source: spool, target: '/var/spool/exim4' },
      { source: eximLog, target: '/var/log/exim4' },
      { source: s.http.root, target: SITE_ROOT },
    ],
  };
}
