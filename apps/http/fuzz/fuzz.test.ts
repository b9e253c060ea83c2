// A short run of each HTTP campaign (the long runs: `npm run fuzz`, docs/fuzzing.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzBudget, fuzzTimeout } from '@sstt/testkit';
import { createWorld, type World } from '../test/world.ts';
import { httpLiveCampaign } from './live.fuzz.ts';
import { chunkedCampaign, requestHeadCampaign } from './request.fuzz.ts';

describe('HTTP fuzz campaigns', () => {
  const heads = fuzzBudget(3000);
  it('request heads into the parser', { timeout: fuzzTimeout(heads) }, async () => {
    expect(await requestHeadCampaign(heads)).toBeGreaterThan(0);
  });
  const chunked = fuzzBudget(3000);
  it('chunked bodies into the decoder', { timeout: fuzzTimeout(chunked) }, async () => {
    expect(await chunkedCampaign(chunked)).toBeGreaterThan(0);
  });

  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.cleanup());
  const live = fuzzBudget(100);
  it('the live server, plain and TLS', { timeout: fuzzTimeout(live) }, async () => {
    expect(await httpLiveCampaign(world, live)).toBeGreaterThan(0);
  });
});
