// Builds the libFuzzer harness of the addon's datagram path (datagram_fuzzer.c, ASan + UBSan)
// with Debian's clang and runs it for a bounded time and count. Used by the test suite's short
// run (fuzz.test.ts) and by `npm run fuzz -w @sstt/udp-batch` (this file run by tsx).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@sstt/testkit';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = path.dirname(here);
export const SEEDS_DIR = path.join(here, 'seeds');
export const REGRESSIONS_DIR = path.join(here, 'regressions');

/** Node's headers: where node-gyp took them for the addon (build/config.gypi), else beside node. */
export function nodeIncludeDir(): string {
  const candidates: string[] = [];
  try {
    const gypi = fs.readFileSync(path.join(PACKAGE_DIR, 'build', 'config.gypi'), 'utf8');
    const m = /"nodedir":\s*"([^"]+)"/.exec(gypi);
    if (m) candidates.push(path.join(m[1]!, 'include', 'node'));
  } catch {
    // the addon was not built here
  }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'include', 'node'));
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) throw new Error(`no Node headers (node_api.h) in ${candidates.join(' or ')}: run \`npm rebuild -w @sstt/udp-batch\``);
  return found;
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Compiles the harness into `outDir`; resolves the binary's path. */
export async function buildFuzzer(outDir: string): Promise<string> {
  const clang = requireTool('clang');
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'datagram_fuzzer');
  const args = [
    '-g',
    '-O1',
    '-fsanitize=fuzzer,address,undefined',
    '-fno-sanitize-recover=all',
    '-Wall',
    '-Wextra',
    '-Wno-unused-parameter',
    '-Werror',
    `-I${nodeIncludeDir()}`,
    '-D_GNU_SOURCE',
    '-DNAPI_VERSION=8',
    '-DNODE_GYP_MODULE_NAME=udp_batch',
    path.join(here, 'datagram_fuzzer.c'),
    '-o',
    out,
  ];
  const r = await run(clang, args, 120_000);
  if (r.code !== 0) throw new Error(`clang failed (${r.code}):\n${r.output}`);
  return out;
}

export interface FuzzRun {
  code: number;
  /** Inputs executed, from libFuzzer's "Done N runs". */
  runs: number;
  output: string;
}

/**
 * A bounded campaign: at most `runs` inputs and `seconds` of time, growing `corpus` (seeded from
 * fuzz/seeds). A crash leaves its input in `artifacts` and a non-zero code.
 */
export async function runFuzzer(bin: string, opts: { corpus: string; artifacts: string; seconds: number; runs: number }): Promise<FuzzRun> {
  fs.mkdirSync(opts.corpus, { recursive: true });
  fs.mkdirSync(opts.artifacts, { recursive: true });
  const args = [`-max_total_time=${opts.seconds}`, `-runs=${opts.runs}`, `-artifact_prefix=${opts.artifacts}/`, '-print_final_stats=1', opts.corpus, SEEDS_DIR];
  const r = await run(bin, args, (opts.seconds + 60) * 1000);
  const m = /Done (\d+) runs/.exec(r.output);
  return { ...r, runs: m ? Number(m[1]) : 0 };
}

/** Replays the inputs that once crashed (fuzz/regressions); resolves libFuzzer's exit code and output. */
export async function replayRegressions(bin: string): Promise<{ code: number; output: string; count: number }> {
  const files = fs
    .readdirSync(REGRESSIONS_DIR)
    .filter((f) => !f.endsWith('.md'))
    .map((f) => path.join(REGRESSIONS_DIR, f));
  if (files.length === 0) return { code: 0, output: '', count: 0 };
  return { ...(await run(bin, files, 60_000)), count: files.length };
}

// `npm run fuzz`: SSTT_FUZZ_SECONDS (default 60) of fuzzing; the corpus stays in build/ between runs.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.env.SSTT_FUZZ_SECONDS ?? 60);
  const outDir = path.join(PACKAGE_DIR, 'build', 'fuzz');
  const bin = await buildFuzzer(outDir);
  const replay = await replayRegressions(bin);
  if (replay.code !== 0) {
    process.stderr.write(replay.output);
    process.exit(1);
  }
  const r = await runFuzzer(bin, { corpus: path.join(outDir, 'corpus'), artifacts: path.join(outDir, 'artifacts'), seconds, runs: 2 ** 31 - 1 });
  const summary = r.output.split('\n').filter((l) => /^(Done|stat::|#\d+\s+DONE|==\d+==|SUMMARY|datagram_fuzzer:|artifact_prefix|Test unit)/.test(l));
  process.stderr.write(`${summary.join('\n')}\n`);
  process.exit(r.code === 0 ? 0 : 1);
}
