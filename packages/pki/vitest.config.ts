import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // RSA key generation and the openssl runs take a few seconds on 2 busy cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
