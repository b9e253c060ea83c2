// Relaying through a smarthost: mail for other domains is queued in the outbound Maildir, then
// forwarded over SMTP to scenario.mail.smarthost (here a second instance of our server, for
// another student's domain); a permanent refusal leaves the message flagged in cur/.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run, type Started } from '@sstt/testkit';
import { outboundMaildir } from '../src/smtp-outbound.ts';
import { maildirFiles, startSmtp, testScenario, userNew, withoutTrace, type TestWorld } from './helpers.ts';

let remote: TestWorld;
let local: TestWorld;
let remoteSmtp: Started;
let localSmtp: Started;

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  requireTool('swaks');
  remote = testScenario({ SSTT_ID: '1234' });
  remoteSmtp = await startSmtp({ scenario: remote.s });
  local = testScenario({ SSTT_MAIL_SMARTHOST: `127.0.0.1:${remoteSmtp.port}` });
  localSmtp = await startSmtp({ scenario: local.s });
});

afterAll(async () => {
  await localSmtp?.close();
  await remoteSmtp?.close();
  local?.remove();
  remote?.remove();
});

describe('smarthost', () => {
  it('forwards relayed mail and removes it from the queue', async () => {
    const to = remote.s.users[0]!;
    const body = `Subject: via smarthost\r\n\r\n.punto\r\nhola\r\n`;
    const r = await run('swaks', ['--server', `127.0.0.1:${localSmtp.port}`, '--from', local.s.users[0]!.email, '--to', to.email, '--data', '-'], {
      input: `${body}.\r\n`,
    });
    expect(r.code, r.stdout).toBe(0);
    const file = await until('the forwarded message', () => userNew(remote.s, to.name)[0]);
    const text = fs.readFileSync(file, 'latin1');
    // the remote's trace first, then ours (forwarded), then the message unchanged
    expect(text.startsWith(`Return-Path: <${local.s.users[0]!.email}>\r\nReceived: from [127.0.0.1] (helo=${local.s.hostname}.${local.s.domain})`)).toBe(true);
    expect(text).toContain(`\tby ${local.s.hostname}.${local.s.domain} with esmtp (sstt-mail)`);
    expect(text).not.toContain('X-Envelope-To');
    expect(withoutTrace(file).toString('latin1')).toMatch(/^Received: [\s\S]*\r\nSubject: via smarthost\r\n/);
    expect(withoutTrace(file).toString('latin1').endsWith(body), text).toBe(true);
    await until('the queue to empty', () => (maildirFiles(outboundMaildir(local.s, remote.s.domain)).length === 0 ? true : undefined));
  });

  it('keeps a message the smarthost refuses for good in cur/, flagged', async () => {
    const r = await run('swaks', [
      '--server',
      `127.0.0.1:${localSmtp.port}`,
      '--from',
      local.s.users[0]!.email,
      '--to',
      `nadie@${remote.s.domain}`,
      '--header',
      'Subject: rebota',
    ]);
    expect(r.code, r.stdout).toBe(0);
    const dir = outboundMaildir(local.s, remote.s.domain);
    const flagged = await until('the refused message in cur/', () => maildirFiles(dir, 'cur').find((f) => f.endsWith(':2,F')));
    expect(fs.readFileSync(flagged, 'latin1')).toContain('Subject: rebota');
    expect(maildirFiles(dir)).toEqual([]);
    expect(path.basename(flagged)).toMatch(/,S=\d+,W=\d+:2,F$/);
  });
});
