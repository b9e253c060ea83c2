// POP3 command streams (RFC 1939, RFC 2449, RFC 5034). In process, the line reader: any bytes
// split into any reads give the same lines and the same overflow verdict as the bytes in one
// read, and no line is longer than the cap. Live, the server on 127.0.0.1 port 0 with a real
// Maildir: mutated command streams over real sockets, after which a new connection still gets
// the greeting and a CAPA listing.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Scenario } from '@sstt/scenario';
import { commandStream, endings, pieces, rawTcp, runCampaign, startServer, writeFuzzed, type FuzzBudget } from '@sstt/testkit';
import { AuthPenalty } from '../src/auth-penalty.ts';
import { LineReader } from '../src/pop3/line-reader.ts';
import { createPop3Server, POP3_GREETING } from '../src/pop3/server.ts';
import { listMaildir, writeMessage } from '../test/pop3-helpers.ts';
import { withoutConnectionRate } from '../test/helpers.ts';

function read(parts: Buffer[], max: number): { lines: string[]; overflow: boolean } {
  const r = new LineReader(max);
  const lines: string[] = [];
  for (const p of parts) {
    const b = r.push(p);
    lines.push(...b.lines);
    if (b.overflow) return { lines, overflow: true };
  }
  return { lines, overflow: false };
}

export function lineReaderCampaign(budget: FuzzBudget): Promise<number> {
  const line = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('USER a', 'PASS b', 'RETR 1', ''));
  const eol = fc.constantFrom('\r\n', '\n', '\r', '');
  const stream = fc
    .array(
      fc.tuple(line, eol).map(([l, e]) => l + e),
      { maxLength: 10 },
    )
    .map((ls) => Buffer.from(ls.join(''), 'utf8'));
  const input = fc.tuple(
    fc.oneof(
      stream,
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
    ),
    fc.array(fc.nat(), { maxLength: 6 }),
    fc.integer({ min: 1, max: 16 }),
  );
  const property = fc.property(input, ([bytes, cuts, max]) => {
    const whole = read([bytes], max);
    const split = read(pieces(bytes, cuts), max);
    assert.deepEqual(split, whole, 'the lines depend on how the stream was split');
    for (const l of whole.lines) assert.ok(Buffer.byteLength(l, 'utf8') <= max || l.includes('\ufffd'), `a line of ${l.length} > ${max}`);
  });
  return runCampaign(property, budget);
}

/** Commands as clients send them, valid and not, in every state. */
function command(s: Scenario): fc.Arbitrary<string> {
  const u = s.users[0]!;
  const n = fc.oneof(fc.integer({ min: 0, max: 4 }).map(String), fc.constantFrom('-1', '99999999999', '1.5', 'x', ''));
  return fc.oneof(
    fc.constantFrom(
      `USER ${u.name}`,
      `PASS ${u.password}`,
      'PASS wrong',
      'USER',
      'PASS',
      'CAPA',
      'STLS',
      'STAT',
      'UIDL',
      'LIST',
      'RSET',
      'NOOP',
      'QUIT',
      'AUTH',
      'AUTH PLAIN',
      'AUTH LOGIN',
      '*',
      'APOP a b',
      'user lower',
    ),
    fc.constantFrom('RETR', 'DELE', 'LIST', 'UIDL', 'TOP').chain((v) => fc.tuple(n, n).map(([a, b]) => (v === 'TOP' ? `TOP ${a} ${b}` : `${v} ${a}`))),
    fc.constant(`AUTH PLAIN ${Buffer.from(`\0${u.name}\0${u.password}`).toString('base64')}`),
    fc.string({ maxLength: 20 }),
  );
}

export async function pop3LiveCampaign(s: Scenario, budget: FuzzBudget): Promise<number> {
  const user = s.users[0]!.name;
  const server = await startServer(
    // (the fuzzer reconnects as fast as it can: the connection rate is off, the parser is under test)
    createPop3Server({
      scenario: withoutConnectionRate(s),
      host: '127.0.0.1',
      port: 0,
      plaintextAuth: true,
      closeGraceMs: 100,
      penalty: new AuthPenalty({ baseMs: 1, maxMs: 2 }),
    }),
  );
  try {
    const stream = commandStream(command(s));
    const input = fc.record({ stream, cuts: fc.array(fc.nat(), { maxLength: 4 }), ending: endings() });
    const property = fc.asyncProperty(input, async ({ stream, cuts, ending }) => {
      // DELE and QUIT empty the mailbox now and then; keep something to RETR.
      if (listMaildir(s, user, 'new').length + listMaildir(s, user, 'cur').length < 2) writeMessage(s, user, 'Subject: x\r\n\r\nbody\r\n.\r\n..dots\r\n');
      const c = await rawTcp(server.port);
      writeFuzzed(c, stream, cuts, ending);
      const probe = await rawTcp(server.port);
      try {
        assert.equal(await probe.readLine(5000), `${POP3_GREETING}\r\n`);
        probe.write('CAPA\r\n');
        assert.match(await probe.readUntil(/\r\n\.\r\n/, 5000), /^\+OK[^\r]*\r\n(?:[^\r]*\r\n)*USER\r\n/);
        probe.write('QUIT\r\n');
        assert.match(await probe.readLine(5000), /^\+OK/);
      } finally {
        probe.destroy();
      }
      const got = c.buffered.toString('utf8');
      c.destroy();
      if (got.length) assert.match(got, /^\+OK/, `the fuzzed connection starts with the greeting, got ${JSON.stringify(got.slice(0, 200))}`);
    });
    return await runCampaign(property, budget);
  } finally {
    await server.close();
  }
}
