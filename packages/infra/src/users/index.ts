// The lab's mail users as system users of the server (the report: exim4 delivers to, and dovecot
// logs in, the accounts of the system), each with its home and ~/Maildir.
import type { Scenario } from '@sstt/scenario';
import { generatedHeader } from '../common.ts';
import type { Generator } from '../types.ts';

function installScript(s: Scenario): string {
  return [
    '#!/bin/sh',
    generatedHeader(s, 'infra/users/install.sh'),
    "# Creates the scenario's users (a home, no login shell, the lab's password) and their Maildir,",
    '# as root; a user that exists keeps its home and gets the password again.',
    'set -eu',
    // The pairs are data of the scenario; the loop reads them as values, never as shell text.
    'while read -r user password; do',
    '  id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /usr/sbin/nologin "$user"',
    '  printf \'%s:%s\\n\' "$user" "$password" | chpasswd',
    '  home=$(getent passwd "$user" | cut -d: -f6)',
    '  for d in Maildir Maildir/cur Maildir/new Maildir/tmp; do install -d -m 700 -o "$user" -g "$user" "$home/$d"; done',
    'done <<EOF',
    ...s.users.map((u) => `${u.name} ${u.password}`),
    'EOF',
    '',
  ].join('\n');
}

export const generateUsers: Generator = (s) => new Map([['users/install.sh', installScript(s)]]);
