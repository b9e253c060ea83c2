export * from './journal.ts';
export * from './reader.ts';
