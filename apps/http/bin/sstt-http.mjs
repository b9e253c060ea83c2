#!/usr/bin/env node
// `npx sstt-http [<port> [<dir>]] [flags]`: runs the TypeScript server from source through tsx
// (no build step in this repo).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
