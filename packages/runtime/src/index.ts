export * from './logger.ts';
export * from './main.ts';
export * from './tcp.ts';
export { errnoException, rawTcpBindings, WRITE_HIGH_WATER_MARK } from './raw-tcp.ts';
export { wrapSocket } from './net-tcp.ts';
export * from './tls-profile.ts';
export * from './connection-limits.ts';
export * from './cjs.ts';
