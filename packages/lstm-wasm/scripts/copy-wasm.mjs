// The published package carries the kernels' wasm files beside its JS, where
// `new URL('./lstm.wasm', import.meta.url)` finds them in Node, browsers and bundlers.
import { copyFileSync, mkdirSync } from 'node:fs';
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
for (const name of ['lstm.wasm', 'lstm-relaxed.wasm', 'lstm-mt.wasm', 'lstm-mt-relaxed.wasm']) {
  copyFileSync(new URL(`../../kernels/build/${name}`, import.meta.url), new URL(`../dist/${name}`, import.meta.url));
}
