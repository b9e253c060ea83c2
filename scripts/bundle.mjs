#!/usr/bin/env node
// `build` of an app: its entry points bundled with the workspace packages they import into
// dist/ (plain JavaScript, one file each plus shared chunks), so `npm run dev` starts them with
// `node` alone: no TypeScript loader process, no loader thread, one module graph read from disk.
// npm dependencies stay external (loaded from node_modules as usual). Beside the bundle,
// meta.json is esbuild's metafile: every source file that went in, and every import left
// external, for a test to check what an app carries (apps/dns: no PKI, no node-forge).
// Usage (from a workspace): node ../../scripts/bundle.mjs [--outdir DIR] src/main.ts [src/other.ts ...]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values, positionals: entryPoints } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } }, allowPositionals: true });
if (entryPoints.length === 0) {
  console.error('usage: bundle.mjs [--outdir DIR] ENTRY.ts [ENTRY.ts ...]');
  process.exit(2);
}

/** Bundle @sstt/* (TypeScript sources) and relative imports; leave every npm package external. */
const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@sstt/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const result = await build({
  entryPoints,
  outdir: values.outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [externalNpm],
  metafile: true,
});
fs.writeFileSync(path.join(values.outdir, 'meta.json'), JSON.stringify(result.metafile));
