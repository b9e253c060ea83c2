export * from './keywords.ts';
export * from './layout.ts';
export * from './name.ts';
export * from './received.ts';
export * from './uidlist.ts';
export * from './folders.ts';
export * from './modseq.ts';
