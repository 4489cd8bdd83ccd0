import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Node 20 has relaxed SIMD only behind this flag; the relaxed builds are tested with it
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
