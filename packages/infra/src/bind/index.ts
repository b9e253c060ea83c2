import type { Generator } from '../types.ts';

/** Placeholder until its issue lands: generates nothing yet. */
export const generateBind: Generator = () => new Map();
