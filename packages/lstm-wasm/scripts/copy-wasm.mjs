// The published package carries the kernels' wasm beside its JS, where
// `new URL('./lstm.wasm', import.meta.url)` finds it in Node, browsers and bundlers.
import { copyFileSync, mkdirSync } from 'node:fs';
const from = new URL('../../kernels/build/lstm.wasm', import.meta.url);
const to = new URL('../dist/lstm.wasm', import.meta.url);
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
copyFileSync(from, to);
