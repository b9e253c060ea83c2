import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // bind-diff and the reference helpers belong to the differential test's own run.
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'fuzz/**/*.test.ts'],
  },
});
