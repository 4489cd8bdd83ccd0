import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // the browser test drives one Chromium; keep files one at a time on 2 cores
    fileParallelism: false,
  },
});
