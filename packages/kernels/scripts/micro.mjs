// Times the kernels a training step of the standard workload spends its time in,
// one by one, on one build: the matrix products at their real shapes (GFLOP/s),
// the LSTM cell forward over a sequence, and the W_ih transpose. For before/after
// figures of a kernel change; `pnpm bench` is the benchmark of record.
//
//   node --experimental-wasm-relaxed-simd scripts/micro.mjs [build/lstm.wasm] [H]
//
// Medians of 7 runs; check /proc/loadavg first (these machines are shared).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2).filter((a) => a !== '--');
const file = args[0] ?? new URL('../build/lstm.wasm', import.meta.url).pathname;
const H = Number(args[1] ?? 256);
const V = 65, T = 64, B = 32, G = 4 * H, R = T * B;

const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {}).exports;
let top = k.heap_base();
function buffer(n) {
  const p = Math.ceil(top / 64) * 64;
  top = p + 4 * n + 64;
  const grow = top - k.memory.buffer.byteLength;
  if (grow > 0) k.memory.grow(Math.ceil(grow / 65536));
  const f = new Float32Array(k.memory.buffer, p, n);
  for (let i = 0; i < n; i++) f[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  return p;
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
function time(fn, reps) {
  fn();
  const ts = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    ts.push((performance.now() - t0) / reps);
  }
  return median(ts);
}

console.log(`${file}, H=${H} (V=${V}, T=${T}, B=${B}); /proc/loadavg: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
const products = [
  ['matmul_abt', B, G, H, T, 'forward recurrent product, per step (x T)'],
  ['matmul_ab', B, H, G, T, 'backward dh_{t-1} = dG W_hh, per step (x T)'],
  ['matmul_atb', G, H, R, 1, 'dW_hh = dG^T h, once'],
  ['matmul_abt', R, V, H, 2, 'head forward'],
  ['matmul_ab', R, H, V, 2, 'head backward dh'],
  ['matmul_atb', V, H, R, 2, 'head dW'],
];
for (const [name, M, N, K, reps, what] of products) {
  const c = buffer(M * N), a = buffer(M * K), b = buffer(K * N);
  const ms = time(() => k[name](c, a, b, M, N, K), reps);
  console.log(`${name.padEnd(10)} M=${String(M).padEnd(5)} N=${String(N).padEnd(5)} K=${String(K).padEnd(5)} ${ms.toFixed(3).padStart(8)} ms ${(2 * M * N * K / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s  ${what}`);
}
{
  const g = buffer(T * B * G), cs = buffer((T + 1) * B * H), tc = buffer(T * B * H), h = buffer((T + 1) * B * H);
  const ms = time(() => {
    for (let t = 0; t < T; t++) k.lstm_cell_forward(g + 16 * t * B * H, cs + 4 * t * B * H, cs + 4 * (t + 1) * B * H, tc + 4 * t * B * H, h + 4 * (t + 1) * B * H, B, H, 0);
  }, 1);
  console.log(`lstm_cell_forward over the sequence ${ms.toFixed(3).padStart(8)} ms`);
}
{
  const src = buffer(G * V), dst = buffer(G * V);
  console.log(`transpose W_ih [${G}, ${V}] ${(1000 * time(() => k.transpose(dst, src, G, V), 10)).toFixed(0).padStart(8)} us`);
}
