import { defineConfig } from 'vite';

// Cross-origin isolation gives the page SharedArrayBuffer, so @lstm/wasm can run
// its threads build (one shared wasm memory, a worker per core). Served without
// these headers the page still works, on one thread.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // relative URLs: the built dist/ works from any folder of any static file server
  base: './',
  build: {
    target: 'es2022',
    // keep lstm.wasm a file of its own (never a data URL), fetched and compiled as wasm
    assetsInlineLimit: 0,
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', headers: isolation },
  server: { host: '127.0.0.1', headers: isolation },
});
