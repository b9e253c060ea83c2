// A short run of the config loader campaign (the long run: `npm run fuzz`, docs/fuzzing.md).
import { describe, expect, it } from 'vitest';
import { fuzzBudget, fuzzTimeout } from '@sstt/testkit';
import { configCampaign } from './load.fuzz.ts';

describe('config fuzz campaign', () => {
  const budget = fuzzBudget(500);
  it('any JSON into the loader', { timeout: fuzzTimeout(budget) }, async () => {
    expect(await configCampaign(budget)).toBeGreaterThan(0);
  });
});
