export * from './logger.ts';
export * from './main.ts';
export * from './raw-tcp.ts';
