// A short run of each mail campaign (the long runs: `npm run fuzz`, docs/fuzzing.md).
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzBudget, fuzzTimeout } from '@sstt/testkit';
import { testScenario } from '../test/helpers.ts';
import { commandReaderCampaign, imapLiveCampaign } from './imap.fuzz.ts';
import { lineReaderCampaign, pop3LiveCampaign } from './pop3.fuzz.ts';
import { smtpLiveCampaign } from './smtp.fuzz.ts';

const w = testScenario();
afterAll(() => w.remove());

describe('mail fuzz campaigns', () => {
  const lines = fuzzBudget(3000);
  it('POP3 command streams into the line reader', { timeout: fuzzTimeout(lines) }, async () => {
    expect(await lineReaderCampaign(lines)).toBeGreaterThan(0);
  });
  const pop3 = fuzzBudget(100);
  it('the live POP3 server', { timeout: fuzzTimeout(pop3) }, async () => {
    expect(await pop3LiveCampaign(w.s, pop3)).toBeGreaterThan(0);
  });
  const imapFraming = fuzzBudget(3000);
  it('IMAP command streams into the command reader (literals, caps)', { timeout: fuzzTimeout(imapFraming) }, async () => {
    expect(await commandReaderCampaign(imapFraming)).toBeGreaterThan(0);
  });
  const imap = fuzzBudget(100);
  it('the live IMAP server', { timeout: fuzzTimeout(imap) }, async () => {
    expect(await imapLiveCampaign(w.s, imap)).toBeGreaterThan(0);
  });
  const smtp = fuzzBudget(100);
  it('the live SMTP server (smtp-server)', { timeout: fuzzTimeout(smtp) }, async () => {
    expect(await smtpLiveCampaign(w.s, smtp)).toBeGreaterThan(0);
  });
});
