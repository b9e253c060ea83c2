import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The supervisor tests start real child processes: seconds on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
