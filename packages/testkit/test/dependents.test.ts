// Programs never depend on the test kit (STYLE.md §23): what an app or a package needs at run
// time (run a program, find a Debian tool, network namespaces) is @sstt/host's. A workspace may
// name @sstt/testkit among its devDependencies only; the test kit itself may build on the rest.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Every workspace's package.json (the root's workspaces globs are `packages/*` and `apps/*`). */
function workspaces(): Array<{ dir: string; pkg: Manifest }> {
  const out: Array<{ dir: string; pkg: Manifest }> = [];
  for (const group of ['packages', 'apps'])
    for (const name of fs.readdirSync(path.join(root, group))) {
      const file = path.join(root, group, name, 'package.json');
      if (fs.existsSync(file)) out.push({ dir: `${group}/${name}`, pkg: JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest });
    }
  return out;
}

describe('@sstt/testkit', () => {
  it('is in no workspace run-time dependencies', () => {
    const all = workspaces();
    // The scan must see the apps and the test kit's users, or it checks nothing.
    expect(all.map((w) => w.dir)).toEqual(expect.arrayContaining(['apps/lab', 'apps/console', 'packages/host', 'packages/testkit']));
    const offenders = all
      .filter(({ pkg }) => [pkg.dependencies, pkg.optionalDependencies, pkg.peerDependencies].some((deps) => deps && '@sstt/testkit' in deps))
      .map(({ dir, pkg }) => `${dir} (${pkg.name}): @sstt/testkit belongs in devDependencies`);
    expect(offenders).toEqual([]);
  });

  it('is imported by no run-time source (a bundle would carry it, and fast-check with it)', () => {
    const offenders: string[] = [];
    const scanned: string[] = [];
    for (const { dir } of workspaces()) {
      if (dir === 'packages/testkit') continue;
      const src = path.join(root, dir, 'src');
      if (!fs.existsSync(src)) continue;
      for (const rel of fs.readdirSync(src, { recursive: true }) as string[]) {
        if (!/\.tsx?$/.test(rel) || /\.test\.tsx?$/.test(rel)) continue;
        scanned.push(`${dir}/src/${rel}`);
        if (/from '@sstt\/testkit(\/[^']*)?'/.test(fs.readFileSync(path.join(src, rel), 'utf8'))) offenders.push(`${dir}/src/${rel}`);
      }
    }
    expect(scanned).toEqual(expect.arrayContaining(['apps/lab/src/network.ts', 'apps/lab/src/ipsec.ts']));
    expect(offenders).toEqual([]);
  });
});
