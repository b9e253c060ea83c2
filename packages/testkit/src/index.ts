export * from './tools.ts';
export * from './run.ts';
export * from './servers.ts';
export * from './raw.ts';
export * from './netns.ts';
export * from './listening.ts';
export * from './fuzz.ts';
