// infra/: the configuration files of the reference programs (BIND, Apache, strongSwan, exim4,
// dovecot) and of the users they serve, generated here from the scenario and committed for the
// default ID.
import fs from 'node:fs';
import path from 'node:path';
import type { Scenario } from '@sstt/scenario';
import { generateApache } from './apache/index.ts';
import { generateBind } from './bind/index.ts';
import { generateDovecot } from './dovecot/index.ts';
import { generateExim } from './exim4/index.ts';
import { generateIpsec } from './ipsec/index.ts';
import { generateSystemd } from './systemd/index.ts';
import { generateUsers } from './users/index.ts';
import type { GeneratedFiles, Generator } from './types.ts';

export type { GeneratedFiles, Generator } from './types.ts';

export const GENERATORS: Record<string, Generator> = {
  bind: generateBind,
  apache: generateApache,
  ipsec: generateIpsec,
  systemd: generateSystemd,
  exim4: generateExim,
  dovecot: generateDovecot,
  users: generateUsers,
};

/** Every generated file for the scenario. */
export function generateAll(s: Scenario): GeneratedFiles {
  const all: GeneratedFiles = new Map();
  for (const gen of Object.values(GENERATORS)) for (const [rel, text] of gen(s)) all.set(rel, text);
  return all;
}

/** Writes the generated files below `dir`; returns the relative paths written. */
export function writeInfra(files: GeneratedFiles, dir: string): string[] {
  for (const [rel, text] of files) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return [...files.keys()];
}

/** Paths whose committed content differs from what the generator produces now. */
export function staleFiles(files: GeneratedFiles, dir: string): string[] {
  const stale: string[] = [];
  for (const [rel, text] of files) {
    let current: string | undefined;
    try {
      current = fs.readFileSync(path.join(dir, rel), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) stale.push(rel);
  }
  return stale;
}
export { bindZones, generateBind, masterFile, type ZoneFile } from './bind/index.ts';
export { APACHE_SITE, apacheInstallPaths, generateApache, privateApacheConf } from './apache/index.ts';
export { CONN_NAME, generateIpsec, ipsecInstallPaths } from './ipsec/index.ts';
export { generateSystemd, SYSTEMD_APPS, SYSTEMD_TARGET } from './systemd/index.ts';
export { EXIM_INSTALL_PATHS, eximDebconf, eximDkimMacros, generateExim } from './exim4/index.ts';
export { DOVECOT_CONF_D, DOVECOT_FILES, generateDovecot } from './dovecot/index.ts';
export { generateUsers } from './users/index.ts';
export { tlsInstallPaths } from './common.ts';
