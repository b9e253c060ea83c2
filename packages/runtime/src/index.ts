export * from './logger.ts';
export * from './main.ts';
