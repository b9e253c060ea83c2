// The live DNS server on 127.0.0.1 port 0 under mutated traffic over real sockets: datagrams
// over UDP, and TCP streams whose 2-byte framing (RFC 1035 §4.2.2) is itself mutated, cut
// short or half-closed. After every input a well-formed query must still be answered over
// both transports.
import dgram from 'node:dgram';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Scenario } from '@sstt/scenario';
import { endings, mutated, rawTcp, runCampaign, writeFuzzed, type FuzzBudget } from '@sstt/testkit';
import { ask, rcode, startDns } from '../test/helpers.ts';
import { query } from './seeds.ts';

function framed(msgs: Buffer[]): Buffer {
  return Buffer.concat(
    msgs.flatMap((m) => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(m.length);
      return [len, m];
    }),
  );
}

export async function dnsLiveCampaign(s: Scenario, budget: FuzzBudget): Promise<number> {
  // The fuzzer reconnects as fast as it can: the connection rate is off (the parser is under test).
  const server = await startDns({ scenario: { ...s, dns: { ...s.dns, limits: { ...s.dns.limits, connectionRatePerSecond: 0 } } } });
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const probeName = `www.${s.domain}`;
  try {
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      mutated(query(s)),
    );
    const input = fc.record({
      datagrams: fc.array(message, { maxLength: 8 }),
      // The TCP stream: well-framed messages with the stream mutated after framing.
      stream: mutated(
        fc.array(message, { maxLength: 6 }).map((ms) => new Uint8Array(framed(ms))),
        4,
      ),
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
      ending: endings(),
    });
    const property = fc.asyncProperty(input, async ({ datagrams, stream, cuts, ending }) => {
      for (const d of datagrams) udp.send(d, server.port, '127.0.0.1');
      const c = await rawTcp(server.port);
      writeFuzzed(c, stream, cuts, ending);
      const u = await ask('udp', server.port, { name: probeName, type: 'A' });
      assert.equal(rcode(u), 'NOERROR', 'UDP probe');
      assert.equal(u.answers?.[0]?.name, probeName, 'UDP probe answer');
      const t = await ask('tcp', server.port, { name: probeName, type: 'A' });
      assert.equal(rcode(t), 'NOERROR', 'TCP probe');
      assert.equal(t.answers?.[0]?.name, probeName, 'TCP probe answer');
      c.destroy();
    });
    return await runCampaign(property, budget);
  } finally {
    udp.close();
    await server.close();
  }
}
