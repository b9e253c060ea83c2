// "Nothing re-types sstt9721.org or a port": no source file outside packages/scenario spells the
// domain, a lab address or a service port. Generated files (infra/) and prose (*.md) are exempt.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAB_FORWARDERS, LAB_NETWORK, PORTS, domainFor, DEFAULT_ID, repoRoot } from '../src/index.ts';

const root = repoRoot({});
const CODE = /\.(ts|mts|mjs|js|cjs|sh|py|json|conf)$/;
const EXEMPT = [/^packages\/scenario\//, /^infra\//, /(^|\/)package(-lock)?\.json$/, /(^|\/)tsconfig[^/]*\.json$/, /^turbo\.json$/];

function sourceFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  return tracked.split('\n').filter((f) => f && CODE.test(f) && !EXEMPT.some((re) => re.test(f)) && fs.existsSync(path.join(root, f)));
}

const ports = new Set([...Object.values(PORTS.dev), ...Object.values(PORTS.lab)].filter((p) => p >= 1000));
const spelled: Array<{ what: string; re: RegExp }> = [
  { what: 'the domain', re: new RegExp(domainFor(DEFAULT_ID).replace('.', '\\.'), 'i') },
  { what: 'the ID', re: new RegExp(`_${DEFAULT_ID}\\b`) },
  { what: 'a lab address', re: new RegExp(`${LAB_NETWORK.server.split('.').slice(0, 3).join('\\.')}\\.\\d`) },
  { what: 'a lab forwarder', re: new RegExp(LAB_FORWARDERS.map((f) => f.replace(/\./g, '\\.')).join('|')) },
  // a service port as a bare number (not part of a longer number)
  { what: 'a service port', re: new RegExp(`(?<![\\d.])(${[...ports].join('|')})(?![\\d])`) },
];

describe('one source of truth', () => {
  it('no source file outside packages/scenario spells the domain, an address or a port', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles()) {
      const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const { what, re } of spelled) if (re.test(line)) offenders.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 100)}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
