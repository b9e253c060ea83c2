// The two reference servers of the differential test: an upstream stub (a second named,
// authoritative only, for fake outside zones) and the reference BIND, authoritative for the lab's
// zones with `minimal-responses no`, forwarding everything else to the stub only.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '@sstt/testkit';
import { startNamed, type Named } from './named.ts';
import { outsideZoneTexts, type ZoneFile } from './zones.ts';

export const LOOPBACK = '127.0.0.1';

/** The upstream stub: named, recursion off, authoritative for the outside zones. */
export async function startUpstream(dir: string): Promise<Named> {
  fs.mkdirSync(dir, { recursive: true });
  const zones = outsideZoneTexts().map(({ origin, text }) => {
    const file = path.join(dir, `src.${origin}.zone`);
    fs.writeFileSync(file, text);
    return { origin, file };
  });
  return startNamed({
    dir,
    host: LOOPBACK,
    port: await freePort(LOOPBACK),
    zones,
    options: ['recursion no;', 'allow-query { any; };', 'dnssec-validation no;', 'minimal-responses no;'],
  });
}

/**
 * The options of the generated named.conf.options, minus what only makes sense on the lab's
 * machine (directory, listen-on, the university's forwarders): the reference replaces those
 * with its own directory, a free loopback port and the upstream stub.
 */
export function referenceOptions(generated: string): string[] {
  const body = /options\s*\{([\s\S]*)\};/.exec(generated)?.[1];
  if (!body) throw new Error(`no options { } block in the generated named.conf.options:\n${generated}`);
  const withoutComments = body.replace(/\/\/.*$/gm, '').replace(/#.*$/gm, '');
  const statements: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of withoutComments) {
    cur += ch;
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ';' && depth === 0) {
      statements.push(cur.trim().replace(/\s+/g, ' '));
      cur = '';
    }
  }
  const dropped = /^(directory|listen-on|listen-on-v6|forwarders|pid-file|session-keyfile|managed-keys-directory)\b/;
  return statements.filter((st) => st && !dropped.test(st));
}

/**
 * The reference BIND: the generated named.conf.options (recursion for the allowed clients,
 * forward only, `minimal-responses no`) with the lab's resolvers replaced by the stub.
 */
export async function startReferenceBind(dir: string, zones: ZoneFile[], generatedOptions: string, upstream: { host: string; port: number }): Promise<Named> {
  const options = referenceOptions(generatedOptions);
  for (const needed of ['forward only;', 'minimal-responses no;', 'recursion yes;']) {
    if (!options.includes(needed)) throw new Error(`the generated named.conf.options lacks "${needed}" (got: ${options.join(' ')})`);
  }
  return startNamed({
    dir,
    host: LOOPBACK,
    port: await freePort(LOOPBACK),
    zones,
    options: [...options, `forwarders { ${upstream.host} port ${upstream.port}; };`],
  });
}
