import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '@sstt/scenario';
import { generateAll, staleFiles, writeInfra } from '../src/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-infra-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const emptyConfig = path.join(tmp, 'empty.json');
fs.writeFileSync(emptyConfig, '{}');
// The CLI generates infra/ for the lab profile (the real hosts), as these tests do, and without
// this machine's DKIM keys (the committed zone publishes none).
const scenario = (env: Record<string, string> = {}) =>
  loadScenario({ env: { SSTT_PROFILE: 'lab', ...env }, configFile: emptyConfig, resolvConfPath: emptyConfig, dkimKeys: false });

describe('infra/ in the repository', () => {
  it('is exactly what the generators produce for the default scenario (run `npm run infra` and commit)', () => {
    const s = scenario();
    const files = generateAll(s);
    expect(staleFiles(files, s.paths.infra)).toEqual([]);
  });

  it('regenerating for another ID rewrites every file for that domain and nothing for the default one', () => {
    const other = scenario({ SSTT_ID: '1234' });
    const dir = path.join(tmp, 'out');
    const written = writeInfra(generateAll(other), dir);
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBe(generateAll(scenario()).size);
    for (const rel of written) {
      const text = fs.readFileSync(path.join(dir, rel), 'utf8');
      expect(text, rel).not.toContain(scenario().domain);
    }
    // Generating again over its own output gives byte-identical files.
    expect(staleFiles(generateAll(other), dir)).toEqual([]);
  });
});
