// HTTP request heads and chunked bodies (RFC 9112 §2-3, §5, §7.1) into the parsers, in process.
// Heads: any bytes give incomplete, a request or one of the statuses the server sends (400,
// 414, 431, 505), never an exception; a head that parses is unchanged by what follows it
// (pipelining) and every shorter prefix of it is "incomplete" (the server re-parses as bytes
// arrive). Chunked bodies: the same verdict and the same data however the bytes are split
// into reads, and a well-formed body decodes to exactly its chunks.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mutated, pieces, runCampaign, type FuzzBudget } from '@sstt/testkit';
import { bodyFraming, ChunkedDecoder, parseRequestHead } from '../src/request.ts';
import { chunkList, encodeChunked, pipeline } from './seeds.ts';

const STATUSES = new Set([400, 414, 431, 505]);

export function requestHeadCampaign(budget: FuzzBudget): Promise<number> {
  const bytes = fc.oneof(
    { weight: 4, arbitrary: mutated(pipeline, 8) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  );
  const property = fc.property(bytes, fc.nat(), fc.uint8Array({ maxLength: 20 }), (buf, cut, extra) => {
    const r = parseRequestHead(buf);
    if (r.kind === 'error') {
      assert.ok(STATUSES.has(r.status), `status ${r.status}`);
      return;
    }
    if (r.kind === 'incomplete') return;
    assert.ok(r.consumed > 0 && r.consumed <= buf.length, `consumed ${r.consumed} of ${buf.length}`);
    const framing = bodyFraming(r.head);
    if (framing.kind === 'error') assert.ok(framing.status === 400 || framing.status === 501, `framing ${framing.status}`);
    else if (framing.kind === 'length') assert.ok(Number.isSafeInteger(framing.length) && framing.length >= 0);
    const head = buf.subarray(0, r.consumed);
    const again = parseRequestHead(Buffer.concat([head, extra]));
    assert.equal(again.kind, 'request');
    assert.equal(again.kind === 'request' && again.consumed, r.consumed, 'bytes after the head changed it');
    const prefix = cut % r.consumed;
    assert.equal(parseRequestHead(head.subarray(0, prefix)).kind, 'incomplete', `prefix of ${prefix} octets`);
  });
  return runCampaign(property, budget);
}

type Verdict = { kind: 'done'; at: number; data: string } | { kind: 'more' } | { kind: 'error'; status: number };

/** Feeds `parts` in order; where it stopped and what it decoded. */
function decode(parts: Buffer[], limit: number): Verdict {
  const d = new ChunkedDecoder(limit, true);
  let offset = 0;
  for (const p of parts) {
    const r = d.push(p);
    if (r.kind === 'error') return { kind: 'error', status: r.status };
    if (r.kind === 'done') return { kind: 'done', at: offset + r.consumed, data: Buffer.concat(d.chunks).toString('hex') };
    assert.equal(r.consumed, p.length);
    offset += p.length;
  }
  return { kind: 'more' };
}

export function chunkedCampaign(budget: FuzzBudget): Promise<number> {
  const trailers = fc.array(fc.constantFrom('Expires: 0', 'X-Sum: 1', 'bad trailer', ': x'), { maxLength: 2 });
  const encoded = fc.tuple(chunkList, trailers).map(([c, t]) => ({ chunks: c, bytes: encodeChunked(c, t), clean: t.every((x) => /^[A-Za-z-]+:/.test(x)) }));
  const input = fc.tuple(
    encoded,
    fc.option(
      mutated(
        encoded.map((x) => new Uint8Array(x.bytes)),
        6,
      ),
      { freq: 2 },
    ),
    fc.array(fc.nat(), { maxLength: 6 }),
    fc.integer({ min: 0, max: 300 }),
  );
  const prop = fc.property(input, ([e, mutant, cuts, limit]) => {
    const bytes = mutant ?? e.bytes;
    const whole = decode([bytes], limit);
    const split = decode(pieces(bytes, cuts), limit);
    assert.deepEqual(split, whole, 'the verdict depends on how the body was split');
    if (whole.kind === 'error') assert.ok(whole.status === 400 || whole.status === 413);
    if (mutant === null && e.clean) {
      const total = e.chunks.reduce((n, c) => n + c.data.length, 0);
      if (total > limit) assert.deepEqual(whole, { kind: 'error', status: 413 });
      else assert.deepEqual(whole, { kind: 'done', at: bytes.length, data: Buffer.concat(e.chunks.map((c) => c.data)).toString('hex') });
    }
  });
  return runCampaign(prop, budget);
}
