// The Debian package list cannot drift from what the suites run: every program a test starts is
// either in debian-packages.json (and installed by `npm run setup`) or part of every Debian
// system; and on this machine every listed package is installed (else: run npm run setup).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEBIAN_PACKAGES, setupPackages, TOOLS } from '../src/tools.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Programs of Debian's essential set (and our own toolchain): present on every machine the README targets. */
const BASE_SYSTEM = new Set([
  'sh',
  'bash',
  'git',
  'node',
  'npm',
  'npx',
  'chown',
  'mkfifo',
  'timeout',
  'runuser',
  'mount',
  'umount',
  'kill',
  'sleep',
  'cat',
  'id',
  'env',
  'true',
  'false',
  'dpkg-query',
]);

/** Test sources: test folders, *.test.ts, the testkit and the tool finder's own package. */
function testSources(): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: root, encoding: 'utf8' }).split('\n');
  return files.filter(
    (f) =>
      f &&
      (/\/test\//.test(f) || f.endsWith('.test.ts') || f.startsWith('packages/testkit/src/') || f.startsWith('packages/host/src/')) &&
      !f.includes('node_modules'),
  );
}

/** Programs named literally in requireTool/findTool calls and as the command of run/spawn/execFile. */
function programsUsed(): Map<string, string> {
  const used = new Map<string, string>();
  const patterns = [/\b(?:requireTool|findTool)\(\s*'([a-z0-9][a-z0-9.-]*)'/g, /\b(?:run|spawn|spawnSync|execFile|execFileSync)\(\s*'([a-z0-9][a-z0-9.-]*)'/g];
  for (const file of testSources()) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) if (!used.has(m[1]!)) used.set(m[1]!, file);
  }
  return used;
}

describe('the Debian package list', () => {
  it('names a package for every tool the tool finder knows, and the other way round', () => {
    expect(Object.keys(DEBIAN_PACKAGES.tools).sort()).toEqual([...TOOLS].sort());
    for (const t of DEBIAN_PACKAGES.benchOnly) expect(TOOLS as readonly string[]).toContain(t);
  });

  it('covers every program a test runs (bench-only tools are not enough for a test)', () => {
    const used = programsUsed();
    // The scan must find the well-known ones, or it is not scanning at all.
    expect([...used.keys()]).toEqual(expect.arrayContaining(['dig', 'curl', 'swaks', 'openssl']));
    const uncovered = [...used].filter(([p]) => p !== 'no-such-tool-sstt' && !BASE_SYSTEM.has(p) && !(p in DEBIAN_PACKAGES.tools));
    expect(uncovered.map(([p, f]) => `${p} (run by ${f})`)).toEqual([]);
    const benchOnly = [...used].filter(([p]) => DEBIAN_PACKAGES.benchOnly.includes(p));
    expect(benchOnly.map(([p, f]) => `${p} (run by ${f}) is bench-only: npm run setup does not install it`)).toEqual([]);
  });

  // One test for both: setup.mjs asks dpkg-query once for the whole list; a missing package shows
  // in the diff as "setup: installing N Debian package(s): <names>" (run npm run setup).
  it('is what scripts/setup.mjs installs, and all of it is installed on this machine', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/setup.mjs'), '--dry-run'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`setup: all ${setupPackages().length} Debian packages the tests use are installed\n`);
  });
});

describe('the README', () => {
  it('starts with the two command lines, and CI runs exactly the second one', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const lines = block
      .trim()
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim());
    expect(lines).toEqual(['npm install && npm run dev', 'npm run setup && npm install && npm test']);
    const ci = fs.readFileSync(path.join(root, '.ci/run'), 'utf8');
    expect(ci).toContain(`{ ${lines[1]}; } 2>&1`);
  });
});
