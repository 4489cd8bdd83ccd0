import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // the examples train small models for a few seconds
    testTimeout: 120_000,
    include: ['test/**/*.test.ts'],
  },
});
