import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Apache and two charons start for real; IKE and the pings take a few seconds.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
