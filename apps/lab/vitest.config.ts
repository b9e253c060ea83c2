import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The lab takes ~10-20 s to come up (namespaces, strongSwan, the domain) on 2 cores.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // One lab at a time: the lab test files share this checkout's var/lab.
    fileParallelism: false,
  },
});
