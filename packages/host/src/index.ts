export * from './run.ts';
export * from './tools.ts';
export * from './netns.ts';
export * from './listening.ts';
