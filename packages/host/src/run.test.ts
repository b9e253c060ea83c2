import { describe, expect, it } from 'vitest';
import { run } from './run.ts';

describe('run', () => {
  it('collects output and exit status without throwing', async () => {
    const r = await run('sh', ['-c', 'cat; echo err >&2; exit 3'], { input: 'hello' });
    expect(r).toEqual({ code: 3, signal: null, stdout: 'hello', stderr: 'err\n' });
  });
});

describe('run as another user', () => {
  it('runs with that uid and gid and without root supplementary groups (the caller is root)', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (it switches users): run it as root, as CI does');
    const r = await run('sh', ['-c', 'id -u; id -g; id -G'], { uid: 65534, gid: 65534 });
    expect(r.stdout).toBe('65534\n65534\n65534\n');
  });
});
