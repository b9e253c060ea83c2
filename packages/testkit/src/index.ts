// What the suites share: test-only helpers here, and (re-exported) what programs use at run time
// too (@sstt/host: run a program, find a Debian tool, network namespaces).
export * from '@sstt/host';
export * from './spawn-watched.ts';
export * from './servers.ts';
export * from './raw.ts';
export * from './fuzz.ts';
export * from './logger.ts';
export * from './sandbox.ts';
export * from './chromium.ts';
export * from './mail-user.ts';
