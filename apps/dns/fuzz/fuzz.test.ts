// A short run of each DNS campaign (the long runs: `npm run fuzz`, docs/fuzzing.md).
import { describe, expect, it } from 'vitest';
import { fuzzBudget, fuzzTimeout } from '@sstt/testkit';
import { testScenario } from '../test/helpers.ts';
import { dnsMessageCampaign } from './dns-message.fuzz.ts';
import { dnsLiveCampaign } from './live.fuzz.ts';
import { zoneFileCampaign } from './zone-file.fuzz.ts';

const s = testScenario();

describe('DNS fuzz campaigns', () => {
  const messages = fuzzBudget(3000);
  it('DNS messages into the responder', { timeout: fuzzTimeout(messages) }, async () => {
    expect(await dnsMessageCampaign(s, messages)).toBeGreaterThan(0);
  });
  const zones = fuzzBudget(1000);
  it('master files into the zone loader', { timeout: fuzzTimeout(zones) }, async () => {
    expect(await zoneFileCampaign(s, zones)).toBeGreaterThan(0);
  });
  const live = fuzzBudget(100);
  it('the live server over UDP and TCP', { timeout: fuzzTimeout(live) }, async () => {
    expect(await dnsLiveCampaign(s, live)).toBeGreaterThan(0);
  });
});
