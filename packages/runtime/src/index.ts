export * from './logger.ts';
export * from './main.ts';
export * from './raw-tcp.ts';
export * from './tls-profile.ts';
export * from './connection-limits.ts';
