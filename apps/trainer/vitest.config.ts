import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // the end-to-end tests spawn the built CLI (dist/), a few seconds each at most
    testTimeout: 60_000,
    include: ['test/**/*.test.ts'],
  },
});
