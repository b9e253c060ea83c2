#!/usr/bin/env node
// `npx sstt-lab ...`: the bundle when `npm run build` made it, else the TypeScript source through tsx.
import fs from 'node:fs';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (fs.existsSync(bundle)) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
