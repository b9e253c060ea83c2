import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Minting certificates, update-ca-certificates, NSS's tools and Chromium in a namespace take
    // seconds each on 2 busy cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
