// The live HTTP server (plain on our raw transport and on node:net, and HTTPS) on 127.0.0.1
// port 0 under mutated request streams over real sockets, cut into reads at generated places
// and ended by FIN, reset or not at all. Whatever came back on such a connection starts with a
// status line; a well-formed request on a new connection still gets 200 afterwards; and no
// byte of the secret outside the web root ever appears (the world watches every connection).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { endings, mutated, runCampaign, writeFuzzed, type FuzzBudget } from '@sstt/testkit';
import type { Running, World } from '../test/world.ts';
import { pipeline } from './seeds.ts';

async function probe(world: World, server: Running, transport: 'tcp' | 'net' | 'tls'): Promise<string> {
  const c = await server.byName(transport).connect();
  try {
    c.write(`GET /index.html HTTP/1.1\r\nHost: ${world.www}\r\nConnection: close\r\n\r\n`);
    return await c.readLine(5000);
  } finally {
    c.destroy();
  }
}

export async function httpLiveCampaign(world: World, budget: FuzzBudget): Promise<number> {
  // The fuzzer reconnects as fast as it can: the connection rate is off (the parser is under test).
  const scenario = { ...world.s, http: { ...world.s.http, limits: { ...world.s.http.limits, connectionRatePerSecond: 0 } } };
  const server = await world.start({ scenario }, { net: true });
  try {
    const input = fc.record({
      transport: fc.constantFrom('tcp' as const, 'net' as const, 'tls' as const),
      stream: fc.oneof({ weight: 4, arbitrary: mutated(pipeline, 8) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) }),
      cuts: fc.array(fc.nat(), { maxLength: 5 }),
      ending: endings(),
    });
    const property = fc.asyncProperty(input, async ({ transport, stream, cuts, ending }) => {
      const c = await server.byName(transport).connect();
      writeFuzzed(c, stream, cuts, ending);
      assert.equal(await probe(world, server, transport), 'HTTP/1.1 200 OK\r\n', `probe over ${transport}`);
      const got = c.buffered.toString('latin1');
      c.destroy();
      if (got.length) assert.match(got, /^HTTP\/1\.1 [1-5]\d\d /, `reply on the fuzzed connection: ${JSON.stringify(got.slice(0, 200))}`);
      assert.deepEqual(world.leaks(), []);
    });
    return await runCampaign(property, budget);
  } finally {
    await server.close();
  }
}
