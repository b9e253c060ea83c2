// systemd units that run the domain on a real Debian server with the lab profile: one service per
// app (restarted on a crash like `npm run dev`'s supervisor, never after a configuration error,
// exit 2) and a target that groups them; install.sh puts them in place for the checkout it is run
// from. The apps run as an unprivileged user that may bind the standard ports below 1024.
import type { Scenario } from '@sstt/scenario';
import { generatedHeader } from '../common.ts';
import type { GeneratedFiles, Generator } from '../types.ts';

export const SYSTEMD_APPS = [
  { app: 'dns', what: 'DNS (authoritative for the domain, forwarding the rest)' },
  { app: 'mail', what: 'mail (SMTP, submission, POP3, POP3S, IMAP, IMAPS)' },
  { app: 'http', what: 'web_sstt (HTTP, HTTPS with client certificates)' },
] as const;

/** Where the checkout is assumed to be; install.sh rewrites it to the real one. */
export const SYSTEMD_ROOT = '/opt/sstt';
export const SYSTEMD_USER = 'sstt';
export const SYSTEMD_TARGET = 'sstt.target';

function unit(s: Scenario, app: string, what: string): string {
  return [
    generatedHeader(s, `/etc/systemd/system/sstt-${app}.service`),
    '[Unit]',
    `Description=sstt ${what} for ${s.domain}, lab profile`,
    'Documentation=file:///opt/sstt/infra/README.md',
    'After=network-online.target',
    'Wants=network-online.target',
    `PartOf=${SYSTEMD_TARGET}`,
    '',
    '[Service]',
    'Type=simple',
    `User=${SYSTEMD_USER}`,
    `Group=${SYSTEMD_USER}`,
    `WorkingDirectory=${SYSTEMD_ROOT}`,
    'Environment=SSTT_PROFILE=lab',
    `Environment=SSTT_ID=${s.id}`,
    `Environment=SSTT_CERTS_DIR=${SYSTEMD_ROOT}/certs`,
    'Environment=SSTT_DATA_DIR=/var/lib/sstt',
    'Environment=SSTT_LOG_DIR=/var/log/sstt',
    'StateDirectory=sstt',
    'LogsDirectory=sstt',
    `ExecStart=/usr/bin/env node ${SYSTEMD_ROOT}/apps/${app}/dist/main.js`,
    // Like npm run dev's supervisor: a crash is restarted, a configuration error (exit 2) is not.
    'Restart=on-failure',
    'RestartSec=1',
    'RestartPreventExitStatus=2',
    // The standard ports (53, 25, 110, 80, ...) without running as root.
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    '',
    '[Install]',
    `WantedBy=${SYSTEMD_TARGET}`,
    '',
  ].join('\n');
}

function target(s: Scenario): string {
  return [
    generatedHeader(s, `/etc/systemd/system/${SYSTEMD_TARGET}`),
    '[Unit]',
    `Description=sstt: the whole domain ${s.domain} (lab profile)`,
    `Wants=${SYSTEMD_APPS.map((a) => `sstt-${a.app}.service`).join(' ')}`,
    'After=network-online.target',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function installScript(s: Scenario): string {
  const units = [...SYSTEMD_APPS.map((a) => `sstt-${a.app}.service`), SYSTEMD_TARGET];
  return [
    '#!/bin/sh',
    generatedHeader(s, 'infra/systemd/install.sh'),
    '# Installs the units for the checkout this is run from (as root, from the repository root, after',
    '# `npm install && npm run build` and `npx sstt-pki init --profile lab`), then starts the domain.',
    '# DESTDIR=dir installs below dir and does not touch systemd or users (for tests).',
    'set -eu',
    'HERE=$(dirname "$0")',
    'ROOT=$(pwd)',
    'D=${DESTDIR:-}',
    'install -d -m 755 "$D/etc/systemd/system"',
    `for u in ${units.join(' ')}; do`,
    `  sed "s|${SYSTEMD_ROOT}|$ROOT|g" "$HERE/$u" > "$D/etc/systemd/system/$u"`,
    '  chmod 644 "$D/etc/systemd/system/$u"',
    'done',
    'if [ -z "$D" ]; then',
    `  id -u ${SYSTEMD_USER} >/dev/null 2>&1 || useradd --system --home-dir /var/lib/sstt --shell /usr/sbin/nologin ${SYSTEMD_USER}`,
    '  systemctl daemon-reload',
    `  systemctl enable --now ${SYSTEMD_TARGET}`,
    'fi',
    '',
  ].join('\n');
}

export const generateSystemd: Generator = (s) => {
  const files: GeneratedFiles = new Map();
  for (const a of SYSTEMD_APPS) files.set(`systemd/sstt-${a.app}.service`, unit(s, a.app, a.what));
  files.set(`systemd/${SYSTEMD_TARGET}`, target(s));
  files.set('systemd/install.sh', installScript(s));
  return files;
};
