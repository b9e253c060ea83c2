// Bounded fuzz campaigns with fast-check: the same campaign runs briefly in the test suite (so
// CI runs it) and for as long as asked under `npm run fuzz`. No coverage-guided fuzzer for
// JavaScript installs here from npm alone (@jazzer.js builds its libFuzzer with cmake-js or
// downloads a prebuilt binary), so the campaigns are property-based: generated and mutated
// inputs, with shrinking to a minimal failing case and a seed to replay it.
import fc from 'fast-check';

export interface FuzzBudget {
  /** Most inputs tried. */
  numRuns: number;
  /** Wall-clock cap; the campaign stops by itself (not a failure) when it is spent. */
  timeMs: number;
  /** Replays a campaign (fast-check prints the seed and path of a failure). */
  seed?: number;
  path?: string;
}

/** Cap of one campaign's short run inside the test suite (the whole repo's set stays under a minute). */
export const SHORT_FUZZ_MS = 4000;

/**
 * The budget of one campaign: `short` in the test suite; with SSTT_FUZZ_SECONDS set (what
 * `npm run fuzz` does), that many seconds and no count limit worth the name. SSTT_FUZZ_SEED
 * and SSTT_FUZZ_PATH replay a reported failure.
 */
export function fuzzBudget(shortRuns: number, env: NodeJS.ProcessEnv = process.env): FuzzBudget {
  const seconds = Number(env.SSTT_FUZZ_SECONDS ?? 0);
  const budget: FuzzBudget = seconds > 0 ? { numRuns: 1e9, timeMs: seconds * 1000 } : { numRuns: shortRuns, timeMs: SHORT_FUZZ_MS };
  if (env.SSTT_FUZZ_SEED) budget.seed = Number(env.SSTT_FUZZ_SEED);
  if (env.SSTT_FUZZ_PATH) budget.path = env.SSTT_FUZZ_PATH;
  return budget;
}

/** A vitest timeout for a campaign with this budget: its time cap plus room to shrink a failure. */
export function fuzzTimeout(b: FuzzBudget): number {
  return b.timeMs + 30_000;
}

/**
 * Runs a property within the budget. Resolves with the number of inputs tried; rejects with
 * fast-check's report (counterexample, seed, path) on the first failing input.
 */
export async function runCampaign<Ts extends [unknown, ...unknown[]]>(property: fc.IRawProperty<Ts>, budget: FuzzBudget): Promise<number> {
  const started = Date.now();
  const details = await fc.check(property, {
    numRuns: budget.numRuns,
    interruptAfterTimeLimit: budget.timeMs,
    markInterruptAsFailure: false,
    ...(budget.seed !== undefined ? { seed: budget.seed } : {}),
    ...(budget.path !== undefined ? { path: budget.path } : {}),
  });
  if (details.failed) {
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${fc.defaultReportMessage(details) ?? 'fuzz campaign failed'}\nBecause: ${why}`, { cause: details.errorInstance });
  }
  // A long run says how much it did (the short runs in the test suite stay quiet).
  if (budget.timeMs > SHORT_FUZZ_MS) process.stderr.write(`fuzz: ${details.numRuns} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return details.numRuns;
}

/**
 * Byte strings near `seed`: the seed with a few byte flips, insertions, deletions, duplicated
 * ranges or a cut, the mutations a coverage-guided fuzzer would start from.
 */
export function mutated(seed: fc.Arbitrary<Uint8Array>, maxMutations = 6): fc.Arbitrary<Buffer> {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  );
  return fc.tuple(seed, fc.array(mutation, { maxLength: maxMutations })).map(([bytes, ops]) => {
    let b = Buffer.from(bytes);
    for (const m of ops) {
      const at = b.length ? m.at % (b.length + 1) : 0;
      if (m.op === 'flip' && b.length) b[at % b.length] = m.value;
      else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
      else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
      else if (m.op === 'repeat') b = Buffer.concat([b.subarray(0, at), ...Array(m.times).fill(b.subarray(at, at + m.length)), b.subarray(at)]);
      else if (m.op === 'cut') b = b.subarray(0, at);
    }
    return b;
  });
}

/** Splits bytes into 1..n pieces at generated places: how a stream may arrive in `data` events. */
export function pieces(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** How a fuzzed connection is left once its bytes are written: closed (FIN), reset, or open. */
export type Ending = 'end' | 'destroy' | 'wait';
export const endings = (): fc.Arbitrary<Ending> => fc.constantFrom<Ending>('end', 'destroy', 'wait');

/** Writes `stream` in the pieces `cuts` makes, then leaves the connection as `ending` says. */
export function writeFuzzed(conn: { write(b: Buffer): unknown; end(): unknown; destroy(): unknown }, stream: Buffer, cuts: number[], ending: Ending): void {
  for (const p of pieces(stream, cuts)) conn.write(p);
  if (ending === 'end') conn.end();
  else if (ending === 'destroy') conn.destroy();
}

/** A line protocol's command stream (CRLF after each), mutated after it is framed. */
export function commandStream(command: fc.Arbitrary<string>, maxCommands = 12, maxMutations = 4): fc.Arbitrary<Buffer> {
  return mutated(
    fc.array(command, { maxLength: maxCommands }).map((cs) => new Uint8Array(Buffer.from(cs.map((c) => `${c}\r\n`).join(''), 'utf8'))),
    maxMutations,
  );
}
