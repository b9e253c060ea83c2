// What the DNS app's bundle (scripts/bundle.mjs, the dist/main.js `npm run dev` runs) carries:
// its zones come from the scenario's data, so neither the config generators (packages/infra) nor
// the PKI (packages/pki) nor node-forge may be in it. Read from esbuild's metafile of a build made
// here, the same script and options as `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, tempDir } from '@sstt/testkit';

const APP = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.resolve(APP, '../../scripts/bundle.mjs');

const tmp = tempDir('sstt-dns-bundle-');
afterAll(() => tmp.remove());

interface Metafile {
  inputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
}

/** Source files bundled from these places (paths as esbuild writes them, relative to the app). */
const FORBIDDEN_INPUT = /(^|\/)(packages\/(pki|infra)|node_modules\/node-forge)\//;
/** Imports left external to these packages (npm dependencies stay external: node-forge would show here). */
const FORBIDDEN_EXTERNAL = /^node-forge(\/|$)/;

describe('the DNS bundle', () => {
  it('holds neither packages/infra, packages/pki nor node-forge', async () => {
    const out = path.join(tmp.dir, 'dist');
    const r = await run(process.execPath, [BUNDLE, '--outdir', out, 'src/main.ts'], { cwd: APP, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'meta.json'), 'utf8')) as Metafile;
    const inputs = Object.keys(meta.inputs);
    // The metafile lists the workspace sources that went in (else the check below proves nothing).
    expect(inputs).toContain('src/main.ts');
    expect(inputs).toContain('../../packages/scenario/src/zone.ts');
    expect(inputs.filter((i) => FORBIDDEN_INPUT.test(i))).toEqual([]);
    const externals = new Set(Object.values(meta.inputs).flatMap((i) => i.imports.filter((im) => im.external).map((im) => im.path)));
    expect([...externals].filter((e) => FORBIDDEN_EXTERNAL.test(e))).toEqual([]);
  });
});
