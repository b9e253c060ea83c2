#!/usr/bin/env node
// `build` of an app: its entry points bundled with the workspace packages they import into
// dist/ (plain JavaScript, one file each plus shared chunks), so `npm run dev` starts them with
// `node` alone: no TypeScript loader process, no loader thread, one module graph read from disk.
// npm dependencies stay external (loaded from node_modules as usual).
// Usage (from a workspace): node ../../scripts/bundle.mjs src/main.ts [src/other.ts ...]
import { build } from 'esbuild';

const entryPoints = process.argv.slice(2);
if (entryPoints.length === 0) {
  console.error('usage: bundle.mjs ENTRY.ts [ENTRY.ts ...]');
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

await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [externalNpm],
});
