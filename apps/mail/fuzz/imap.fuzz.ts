// IMAP command streams (RFC 9051, RFC 7888 literals). In process, the command reader (framing.ts):
// any bytes split into any reads frame the same commands, literals and verdicts as the bytes in one
// read, and no line is longer than the cap. Live, the server on 127.0.0.1 port 0 with a real
// Maildir: mutated command streams over real sockets, after which a new connection still gets the
// greeting, logs in and selects INBOX.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Scenario } from '@sstt/scenario';
import { commandStream, endings, memoryLogger, pieces, rawTcp, runCampaign, startServer, writeFuzzed, type FuzzBudget } from '@sstt/testkit';
import { AuthPenalty } from '../src/auth-penalty.ts';
import { CommandReader, type Framed } from '../src/imap/framing.ts';
import { createImapServer } from '../src/imap/server.ts';
import { withoutConnectionRate } from '../test/helpers.ts';
import { listMaildir, writeMessage } from '../test/pop3-helpers.ts';

const LIMITS = { maxLineOctets: 24, maxLiteralOctets: 8, appendLimit: 16 };

/** What the reader made of the parts: the items, literals as text (the ids of continuations dropped). */
function frame(parts: Buffer[]): unknown[] {
  const r = new CommandReader(LIMITS);
  const out: unknown[] = [];
  for (const p of parts) {
    for (const f of r.push(p) as Framed[]) {
      if (f.kind === 'command') out.push({ text: f.command.text, literals: f.command.literals.map((l) => l.toString('latin1')) });
      else if (f.kind === 'continue') out.push('continue');
      else out.push(f);
      if (f.kind === 'overflow') return out;
    }
  }
  return out;
}

export function commandReaderCampaign(budget: FuzzBudget): Promise<number> {
  const piece = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('a LOGIN {3}', 'b APPEND x {5+}', 'c X {2-}', '{0}', 'd APPEND y {17}', 'e {9+}', 'NOOP', ''),
  );
  const eol = fc.constantFrom('\r\n', '\n', '\r', '');
  const stream = fc
    .array(
      fc.tuple(piece, eol).map(([l, e]) => l + e),
      { maxLength: 10 },
    )
    .map((ls) => Buffer.from(ls.join(''), 'latin1'));
  const input = fc.tuple(
    fc.oneof(
      stream,
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
    ),
    fc.array(fc.nat(), { maxLength: 6 }),
  );
  const property = fc.property(input, ([bytes, cuts]) => {
    const whole = frame([bytes]);
    assert.deepEqual(frame(pieces(bytes, cuts)), whole, 'the framing depends on how the stream was split');
    for (const f of whole) {
      if (typeof f === 'object' && f !== null && 'text' in f)
        for (const t of (f as { text: string[] }).text) assert.ok(t.length <= LIMITS.maxLineOctets, `a line of ${t.length}`);
      if (typeof f === 'object' && f !== null && 'literals' in f)
        for (const l of (f as { literals: string[] }).literals) assert.ok(l.length <= LIMITS.appendLimit, `a literal of ${l.length}`);
    }
  });
  return runCampaign(property, budget);
}

/** Commands as clients send them, valid and not, in every state. */
function command(s: Scenario): fc.Arbitrary<string> {
  const u = s.users[0]!;
  const set = fc.oneof(fc.constantFrom('1', '1:*', '*', '2,1', '0', '1:x', '4294967296', ''), fc.string({ maxLength: 6 }));
  const tag = fc.constantFrom('a', 'b1', '*', '+', '');
  const body = fc.oneof(
    fc.constantFrom(
      `LOGIN ${u.name} ${u.password}`,
      'LOGIN x y',
      `AUTHENTICATE PLAIN ${Buffer.from(`\0${u.name}\0${u.password}`).toString('base64')}`,
      'AUTHENTICATE PLAIN',
      'CAPABILITY',
      'NOOP',
      'STARTTLS',
      'SELECT INBOX',
      'EXAMINE Trash',
      'SELECT "unterminated',
      'LIST "" *',
      'LIST (SPECIAL-USE) "" "*" RETURN (STATUS (MESSAGES SIZE))',
      'STATUS INBOX (MESSAGES UNSEEN SIZE)',
      'CREATE Fuzz',
      'RENAME Fuzz Fuzz2',
      'DELETE Fuzz2',
      'ENABLE IMAP4rev2',
      'ENABLE CONDSTORE',
      'SELECT INBOX (CONDSTORE)',
      'STATUS INBOX (HIGHESTMODSEQ)',
      'SEARCH MODSEQ "/flags/\\\\seen" all 1',
      'IDLE',
      'DONE',
      'CLOSE',
      'UNSELECT',
      'EXPUNGE',
      'APPEND INBOX {11+}\r\nSubject: x\r\n',
      'APPEND INBOX (\\Seen) {3}',
      'ID NIL',
      'NAMESPACE',
      'LOGOUT',
    ),
    set.map((x) => `FETCH ${x} (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODYSTRUCTURE ENVELOPE)`),
    set.map((x) => `UID FETCH ${x} BODY[]<0.5>`),
    set.map((x) => `STORE ${x} +FLAGS (\\Seen $Fuzz)`),
    set.map((x) => `UID MOVE ${x} Trash`),
    set.map((x) => `COPY ${x} Junk`),
    set.map((x) => `SEARCH OR UNSEEN ${x} NOT SUBJECT x`),
    set.map((x) => `FETCH ${x} (FLAGS MODSEQ) (CHANGEDSINCE ${x.length})`),
    set.map((x) => `STORE ${x} (UNCHANGEDSINCE ${x.length}) -FLAGS.SILENT (\\Seen)`),
    set.map((x) => `UID EXPUNGE ${x}`),
    fc.string({ maxLength: 20 }),
  );
  return fc.tuple(tag, body).map(([t, b]) => (t === '' ? b : `${t} ${b}`));
}

export async function imapLiveCampaign(s: Scenario, budget: FuzzBudget): Promise<number> {
  const user = s.users[0]!;
  // No input may make a command fail inside the server ("imap command failed", "* BYE Internal error").
  const logger = memoryLogger();
  const server = await startServer(
    // (the fuzzer reconnects as fast as it can: the connection rate is off, the parser is under test)
    createImapServer({
      scenario: withoutConnectionRate(s),
      host: '127.0.0.1',
      port: 0,
      plaintextAuth: true,
      closeGraceMs: 100,
      penalty: new AuthPenalty({ baseMs: 1, maxMs: 2 }),
      log: logger.log,
    }),
  );
  try {
    const stream = commandStream(command(s));
    const input = fc.record({ stream, cuts: fc.array(fc.nat(), { maxLength: 4 }), ending: endings() });
    const property = fc.asyncProperty(input, async ({ stream, cuts, ending }) => {
      // MOVE and EXPUNGE empty the inbox now and then; keep something to fetch.
      if (listMaildir(s, user.name, 'new').length + listMaildir(s, user.name, 'cur').length < 2) writeMessage(s, user.name, 'Subject: x\r\n\r\nbody\r\n');
      const c = await rawTcp(server.port);
      writeFuzzed(c, stream, cuts, ending);
      const probe = await rawTcp(server.port);
      try {
        assert.match(await probe.readLine(5000), /^\* OK \[CAPABILITY [^\]]*\] sstt ready\.\r\n$/);
        probe.write(`p1 LOGIN ${user.name} ${user.password}\r\np2 SELECT INBOX\r\n`);
        assert.match(await probe.readUntil(/p2 (OK|NO|BAD)[^\r]*\r\n/, 5000), /p1 OK [^\r]*\r\n(?:[^\r]*\r\n)*p2 OK \[READ-WRITE\]/);
      } finally {
        probe.destroy();
      }
      const got = c.buffered.toString('latin1');
      c.destroy();
      if (got.length) assert.match(got, /^\* OK /, `the fuzzed connection starts with the greeting, got ${JSON.stringify(got.slice(0, 200))}`);
      assert.doesNotMatch(got, /Internal error/, 'a command failed inside the server');
      const failed = logger.lines.filter((l) => l.level === 'error');
      assert.deepEqual(failed, [], 'the server logged an error');
    });
    return await runCampaign(property, budget);
  } finally {
    await server.close();
  }
}
