import { defineConfig } from 'vite';

export default defineConfig({
  // relative URLs: the built dist/ works from any folder of any static file server
  base: './',
  build: {
    target: 'es2022',
    // keep lstm.wasm a file of its own (never a data URL), fetched and compiled as wasm
    assetsInlineLimit: 0,
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1' },
  server: { host: '127.0.0.1' },
});
