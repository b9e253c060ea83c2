import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test starts a tsx child process: a few seconds on a loaded 2-core machine.
    testTimeout: 30_000,
  },
});
