import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Starting the whole domain through turbo takes a few seconds on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
