#!/usr/bin/env node
// `build` of an app: its entry points bundled with the workspace packages and the npm packages
// they import into dist/ (plain JavaScript, one file each plus shared chunks), so `npm run dev`
// starts them with `node` alone: no TypeScript loader, and a few files to read instead of the
// hundreds of an npm dependency tree (Node's module loader resolving and compiling them file by
// file was most of an app's start-up: 60-80 ms of the DNS app's 190, measured with --cpu-prof).
// Left external: what must stay a file of its own (a native addon, test-only packages, and what
// a module reaches with a computed require). Beside the bundle, meta.json is esbuild's metafile:
// every source file that went in, and every import left external, for a test to check what an
// app carries (apps/dns: no PKI, no node-forge).
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

/**
 * npm packages kept out of the bundle: pino-pretty is reached by a computed require (the logger
 * loads it only for pretty output); the rest are test tools that run-time code must not import.
 */
const EXTERNAL = /^(pino-pretty|fast-check|vitest|playwright-core|esbuild)(\/|$)/;
const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (EXTERNAL.test(args.path) ? { path: args.path, external: true } : undefined));
  },
};

// Chunk names carry a content hash: the chunks of an earlier build would pile up beside the new ones.
if (fs.existsSync(values.outdir))
  for (const f of fs.readdirSync(values.outdir)) if (/\.(js|js\.map)$|^meta\.json$/.test(f)) fs.rmSync(path.join(values.outdir, f));
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
  // CommonJS packages inside an ES module bundle call require() (for node: built-ins and JSON):
  // give the module scope one, as Node gives a CommonJS file.
  banner: { js: "import { createRequire as __sstt_createRequire } from 'node:module'; const require = __sstt_createRequire(import.meta.url);" },
});
fs.writeFileSync(path.join(values.outdir, 'meta.json'), JSON.stringify(result.metafile));
