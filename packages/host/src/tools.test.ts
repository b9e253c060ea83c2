import { describe, expect, it } from 'vitest';
import { findTool, requireTool } from './tools.ts';

describe('the tool finder', () => {
  it('finds a tool on PATH or in the sbin directories', () => {
    expect(findTool('sh')).toMatch(/\/sh$/);
    expect(findTool('no-such-tool-sstt')).toBeUndefined();
  });

  it('a missing tool fails with the apt-get command that installs it', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      // swaks lives in /usr/bin, which is not among the extra sbin directories searched
      expect(() => requireTool('swaks')).toThrow('swaks is not installed: run `apt-get install -y swaks`');
    } finally {
      process.env.PATH = saved;
    }
  });
});
