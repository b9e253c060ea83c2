#!/usr/bin/env node
// `npx sstt ...` (also under sudo): runs the TypeScript CLI from source through tsx (no build step in this repo).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
