import { describe, expect, it } from 'vitest';
import { run } from './run.ts';

describe('run', () => {
  it('collects output and exit status without throwing', async () => {
    const r = await run('sh', ['-c', 'cat; echo err >&2; exit 3'], { input: 'hello' });
    expect(r).toEqual({ code: 3, signal: null, stdout: 'hello', stderr: 'err\n' });
  });
});
