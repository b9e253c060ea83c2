// The libFuzzer harness of the datagram path, built with ASan and UBSan: every input that once
// crashed replays clean, and a short bounded campaign finds nothing (the long run: `npm run
// fuzz`, docs/fuzzing.md).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@sstt/testkit';
import { buildFuzzer, replayRegressions, runFuzzer } from './fuzz.ts';

const work = tempDir('sstt-udp-fuzz-');
afterAll(() => work.remove());
let bin: string;

describe('datagram path under libFuzzer', () => {
  beforeAll(async () => {
    bin = await buildFuzzer(work.dir);
  }, 120_000);

  it('replays the inputs that once crashed', async () => {
    const r = await replayRegressions(bin);
    expect(r.code, r.output).toBe(0);
  });

  it('survives a bounded campaign (20,000 inputs, at most 8 s)', { timeout: 60_000 }, async () => {
    const r = await runFuzzer(bin, { corpus: path.join(work.dir, 'corpus'), artifacts: path.join(work.dir, 'artifacts'), seconds: 8, runs: 20_000 });
    expect(r.code, r.output.slice(-4000)).toBe(0);
    expect(fs.readdirSync(path.join(work.dir, 'artifacts'))).toEqual([]);
    expect(r.runs).toBeGreaterThan(1000);
  });
});
