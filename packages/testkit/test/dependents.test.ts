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
});
