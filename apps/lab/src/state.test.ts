// The state file is written where it is asked to be, whatever the checkout path holds: a space
// and a quote (a file: URL's pathname would have percent-encoded them, and `down` found nothing).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LabState, readState, writeState } from './state.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sstt-lab-state-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the state file', () => {
  it('is written below a directory with a space, a quote and a percent sign, and read back', () => {
    const file = path.join(tmp, "home/a b/it's 100%/var/lab/state.json");
    const state: LabState = {
      prefix: 'sstt9721',
      startedAt: '2025-01-01T00:00:00.000Z',
      namespaces: ['sstt9721-lan'],
      etcDirs: [],
      processes: [],
      ipsec: 'off',
      variant: 'stroke',
    };
    writeState(file, state);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.json']);
    expect(readState(file)).toEqual(state);
  });
});
