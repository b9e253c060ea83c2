export * from './errors.ts';
export * from './schema.ts';
export * from './scenario.ts';
export * from './load.ts';
export * from './certs.ts';
export * from './services.ts';
export * from './autoconfig.ts';
export * from './zone.ts';
