// SMTP command streams (RFC 5321) against a live smtp-server instance built by createSmtpServer
// on 127.0.0.1 port 0: envelopes to local users, postmaster and relays, DATA with dot lines and
// the smuggling spellings (bare LF and CR around the dot), AUTH, BDAT, pipelined and mutated,
// cut into reads at generated places. Afterwards a new connection still gets 220, EHLO and 221.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Scenario } from '@sstt/scenario';
import { commandStream, endings, rawTcp, runCampaign, writeFuzzed, type FuzzBudget } from '@sstt/testkit';
import { startSmtp, withoutConnectionRate } from '../test/helpers.ts';

function command(s: Scenario): fc.Arbitrary<string> {
  const u = s.users[0]!;
  const addr = fc.constantFrom(u.email, `postmaster@${s.domain}`, 'postmaster', 'someone@example.com', '', '@a,@b:x@y', 'a b@c', `"quoted"@${s.domain}`);
  const param = fc.constantFrom('', ' SIZE=10', ' SIZE=99999999999', ' BODY=8BITMIME', ' SMTPUTF8', ' AUTH=<>', ' X=Y');
  const body = fc
    .array(fc.constantFrom('Subject: x', '', '.', '..', '.x', 'line', '\n.\n', '\r.\r', '.\r\nRCPT TO:<a@b>'), { maxLength: 5 })
    .map((ls) => `${ls.join('\r\n')}\r\n.`);
  return fc.oneof(
    fc.constantFrom(
      'EHLO client',
      'HELO client',
      'EHLO',
      'LHLO x',
      'RSET',
      'NOOP',
      'QUIT',
      'VRFY postmaster',
      'EXPN x',
      'HELP',
      'STARTTLS',
      'AUTH LOGIN',
      'AUTH PLAIN',
      'AUTH CRAM-MD5',
      'DATA',
      'BDAT 5 LAST',
      'XCLIENT ADDR=1.2.3.4',
      'TURN',
    ),
    fc.tuple(addr, param).map(([a, p]) => `MAIL FROM:<${a}>${p}`),
    fc.tuple(addr, param).map(([a, p]) => `RCPT TO:<${a}>${p}`),
    body.map((b) => `DATA\r\n${b}`),
    fc.constant(`AUTH PLAIN ${Buffer.from(`\0${u.name}\0${u.password}`).toString('base64')}`),
    fc.string({ maxLength: 30 }),
  );
}

export async function smtpLiveCampaign(s: Scenario, budget: FuzzBudget): Promise<number> {
  // (the fuzzer reconnects as fast as it can: the connection rate is off, the parser is under test)
  const server = await startSmtp({ scenario: withoutConnectionRate(s), closeGraceMs: 100 });
  try {
    const stream = commandStream(command(s));
    const input = fc.record({ stream, cuts: fc.array(fc.nat(), { maxLength: 4 }), ending: endings() });
    const property = fc.asyncProperty(input, async ({ stream, cuts, ending }) => {
      const c = await rawTcp(server.port);
      writeFuzzed(c, stream, cuts, ending);
      const probe = await rawTcp(server.port);
      try {
        assert.match(await probe.readLine(5000), /^220 /);
        probe.write('EHLO probe\r\n');
        assert.match(await probe.readUntil(/^250 [^\r]*\r\n/m, 5000), /^250-/);
        probe.write('QUIT\r\n');
        assert.match(await probe.readLine(5000), /^221 /);
      } finally {
        probe.destroy();
      }
      const got = c.buffered.toString('utf8');
      c.destroy();
      // An early talker is told 421 (smtp-server's greeting delay check) and cut.
      if (got.length) assert.match(got, /^(?:220|421) /, `the fuzzed connection starts with the greeting, got ${JSON.stringify(got.slice(0, 200))}`);
    });
    return await runCampaign(property, budget);
  } finally {
    await server.close();
  }
}
