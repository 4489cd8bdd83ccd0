import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Wasm, BUILDS, randn, maxRelDiff } from './harness';
import * as ref from './reference';

// Sizes below, equal to and above each tile (matmul: 4 rows x 8 columns and K
// blocks of 128, or 32 for A^T*B; abt: 2 x 4 entries and K in fours; elementwise:
// 4 lanes).
const MS = [1, 3, 4, 5, 8, 9];
const NS = [1, 3, 4, 5, 7, 8, 9, 12, 17];
const KS = [1, 3, 4, 5, 256, 257];
// Shapes big enough for the blocked walks: abt's L1-sized blocks of B rows (once
// M*K > 8192), several K blocks with A^T*B's strip copies, odd edges everywhere.
const LARGE: [number, number, number][] = [[67, 70, 301], [130, 13, 97], [33, 36, 1024], [2, 65, 9000]];

for (const build of BUILDS) describe(`matrix products against the scalar reference (${build})`, () => {
  const cases: [string, (C: Float64Array, A: Float32Array, B: Float32Array, M: number, N: number, K: number) => void][] = [
    ['matmul_ab', ref.matmulAB], ['matmul_atb', ref.matmulATB], ['matmul_abt', ref.matmulABT],
  ];
  for (const [name, reference] of cases) {
    it(`${name} for every M, N, K around the tiles, accumulating into C`, () => {
      let worst = 0;
      for (const M of MS) for (const N of NS) for (const K of KS) {
        const w = new Wasm(build);
        const A = randn(M * K, M * 131 + K), B = randn(K * N, N * 17 + K + 5), C0 = randn(M * N, 99 + M + N);
        const pa = w.alloc(M * K, A, true), pb = w.alloc(K * N, B), pc = w.alloc(M * N, C0);
        w.fn(name)(pc, pa, pb, M, N, K);
        const expect64 = Float64Array.from(C0);
        reference(expect64, A, B, M, N, K);
        // float32 dot products of length K: error grows like K * eps * sum|a b|
        const got = w.read(pc, M * N);
        for (let i = 0; i < M * N; i++) {
          const err = Math.abs(got[i] - expect64[i]);
          worst = Math.max(worst, err / (K + 1));
          expect(err, `${name} M=${M} N=${N} K=${K} at ${i}`).toBeLessThanOrEqual(1.2e-7 * (K + 2) * (Math.sqrt(K) + 1) + 1e-6);
        }
      }
      console.log(`${name} (${build}): worst |error| / (K+1) = ${worst.toExponential(2)}`);
    });
    it(`${name} on large shapes (blocked walks)`, () => {
      for (const [M, N, K] of LARGE) {
        const w = new Wasm(build);
        const A = randn(M * K, M + 7 * K), B = randn(K * N, N + 3 * K), C0 = randn(M * N, M * N);
        const pc = w.alloc(M * N, C0);
        w.fn(name)(pc, w.alloc(M * K, A, true), w.alloc(K * N, B), M, N, K);
        const expect64 = Float64Array.from(C0);
        reference(expect64, A, B, M, N, K);
        const got = w.read(pc, M * N);
        for (let i = 0; i < M * N; i++) {
          expect(Math.abs(got[i] - expect64[i]), `${name} M=${M} N=${N} K=${K} at ${i}`).toBeLessThanOrEqual(1.2e-7 * (K + 2) * (Math.sqrt(K) + 1) + 1e-6);
        }
      }
    });
  }
});

describe('download budget', () => {
  // issue 5: the wasm a browser fetches is at most 32 KB
  for (const file of ['lstm.wasm', 'lstm-relaxed.wasm', 'lstm-mt.wasm', 'lstm-mt-relaxed.wasm']) {
    it(`${file} is at most 32,000 bytes`, () => {
      expect(readFileSync(new URL(`../build/${file}`, import.meta.url)).length).toBeLessThanOrEqual(32000);
    });
  }
});

// Both builds: the relaxed one evaluates the polynomials with fused multiply-add.
for (const build of BUILDS) describe(`SIMD exp, sigmoid, tanh accurate to float32 (${build})`, () => {
  const n = 200003; // not a multiple of 4: the scalar tail runs too
  function measure(name: string, f: (x: number) => number, lo: number, hi: number) {
    const w = new Wasm(build);
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = lo + ((hi - lo) * i) / (n - 1);
    const px = w.alloc(n, xs), py = w.alloc(n);
    w.fn(`${name}_array`)(py, px, n);
    const ys = w.f32(py, n);
    let rel = 0, abs = 0;
    for (let i = 0; i < n; i++) {
      const t = f(xs[i]);
      abs = Math.max(abs, Math.abs(ys[i] - t));
      if (Math.abs(t) > 1e-30) rel = Math.max(rel, Math.abs(ys[i] - t) / Math.abs(t));
    }
    return { rel, abs };
  }
  // float32 machine epsilon is 2^-23 = 1.19e-7: these bounds are 2-3 ulp
  it('exp: relative error below 2.5e-7 on [-87, 88]', () => {
    const { rel } = measure('exp', Math.exp, -87, 88);
    console.log(`exp (${build}) max relative error ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(2.5e-7);
  });
  it('sigmoid: relative error below 2.5e-7 on [-80, 40]', () => {
    const { rel } = measure('sigmoid', ref.sigmoid, -80, 40);
    console.log(`sigmoid (${build}) max relative error ${rel.toExponential(3)}`);
    expect(rel).toBeLessThan(2.5e-7);
  });
  it('tanh: relative error below 3.6e-7 on [-12, 12] and near zero', () => {
    const wide = measure('tanh', Math.tanh, -12, 12);
    const small = measure('tanh', Math.tanh, -1e-3, 1e-3);
    console.log(`tanh (${build}) max relative error ${wide.rel.toExponential(3)} on [-12, 12], ${small.rel.toExponential(3)} on [-1e-3, 1e-3]`);
    expect(wide.rel).toBeLessThan(3.6e-7);
    expect(small.rel).toBeLessThan(3.6e-7);
  });
  it('passes NaN through, so a diverging model shows it', () => {
    const w = new Wasm(build);
    const xs = Float32Array.from([NaN, 1, NaN, -2, NaN]);
    const px = w.alloc(5, xs), py = w.alloc(5);
    for (const f of ['exp_array', 'sigmoid_array', 'tanh_array']) {
      w.fn(f)(py, px, 5);
      expect(Array.from(w.f32(py, 5)).map(Number.isNaN), f).toEqual([true, false, true, false, true]);
    }
  });
  it('saturates cleanly far outside the range', () => {
    const w = new Wasm(build);
    const xs = Float32Array.from([-1000, -100, 100, 1000, -Infinity, Infinity]);
    const px = w.alloc(6, xs), py = w.alloc(6);
    w.fn('sigmoid_array')(py, px, 6);
    expect(Array.from(w.f32(py, 6)).map((v) => Math.round(v))).toEqual([0, 0, 1, 1, 0, 1]);
    w.fn('tanh_array')(py, px, 6);
    expect(Array.from(w.f32(py, 6))).toEqual([-1, -1, 1, 1, -1, 1]);
  });
});

describe('LSTM cell forward and backward against the scalar reference', () => {
  for (const H of [1, 3, 4, 5, 8, 9]) for (const B of [1, 3]) {
    it(`H=${H} B=${B}`, () => {
      const w = new Wasm();
      const a = randn(B * 4 * H, H * 7 + B, 2), cPrev = randn(B * H, H + 3 * B), dh = randn(B * H, 5 + H), dc = randn(B * H, 11 + B);
      const pg = w.alloc(B * 4 * H, a), pcp = w.alloc(B * H, cPrev), pc = w.alloc(B * H), pt = w.alloc(B * H), ph = w.alloc(B * H);
      w.fn('lstm_cell_forward')(pg, pcp, pc, pt, ph, B, H);
      const r = ref.cellForward(a, cPrev, B, H);
      expect(maxRelDiff(w.read(pg, B * 4 * H), r.gates)).toBeLessThan(1e-6);
      expect(maxRelDiff(w.read(pc, B * H), r.c)).toBeLessThan(1e-6);
      expect(maxRelDiff(w.read(ph, B * H), r.h)).toBeLessThan(1e-6);
      const pdh = w.alloc(B * H, dh), pdc = w.alloc(B * H, dc);
      w.fn('lstm_cell_backward')(pg, pcp, pt, pdh, pdc, B, H);
      const rb = ref.cellBackward(r.gates, cPrev, r.tc, dh, dc, B, H);
      expect(maxRelDiff(w.read(pg, B * 4 * H), rb.da)).toBeLessThan(1e-5);
      expect(maxRelDiff(w.read(pdc, B * H), rb.dcPrev)).toBeLessThan(1e-5);
    });
  }
});

describe('softmax cross-entropy against the scalar reference', () => {
  for (const V of [1, 3, 4, 5, 65]) {
    it(`V=${V}`, () => {
      const M = 7;
      const w = new Wasm();
      const z = randn(M * V, V + 1, 6);
      const targets = Array.from({ length: M }, (_, r) => (r * 5) % V);
      const pz = w.alloc(M * V, z), pl = w.alloc(M), pr = w.alloc(2 * M), pt = w.allocI32(targets), pd = w.alloc(M * V);
      w.fn('softmax_cross_entropy_forward')(pl, pr, pz, pt, M, V);
      const loss = w.fn('mean_f64')(pr, M);
      w.fn('softmax_cross_entropy_backward')(pd, pz, pl, pt, M, V, M);
      let expLoss = 0;
      const dz = new Float64Array(M * V);
      for (let r = 0; r < M; r++) {
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(z[r * V + v]);
        expLoss += Math.log(s) - z[r * V + targets[r]];
        for (let v = 0; v < V; v++) dz[r * V + v] = (Math.exp(z[r * V + v]) / s - (v === targets[r] ? 1 : 0)) / M;
      }
      expect(Math.abs(loss - expLoss / M)).toBeLessThan(1e-6 * Math.max(1, expLoss / M));
      expect(maxRelDiff(w.read(pd, M * V), dz)).toBeLessThan(1e-6);
    });
  }
});

describe('optimizers against torch.optim formulas', () => {
  for (const n of [1, 3, 4, 5, 13]) {
    it(`n=${n}: SGD momentum, Adam, AdamW, RMSprop, Adagrad over 3 steps`, () => {
      const p0 = randn(n, n + 1), grads = [randn(n, n + 2), randn(n, n + 3), randn(n, n + 4)];
      const lr = 0.05, wd = 0.1;
      const run = (step: (w: Wasm, p: number, g: number, m: number, v: number, t: number) => void) => {
        const w = new Wasm();
        const p = w.alloc(n, p0), g = w.alloc(n), m = w.alloc(n, new Float32Array(n)), v = w.alloc(n, new Float32Array(n));
        grads.forEach((gr, t) => { w.f32(g, n).set(gr); step(w, p, g, m, v, t + 1); });
        return w.read(p, n);
      };
      const sgd = run((w, p, g, m) => w.fn('sgd_update')(p, g, m, n, lr, 0.9, wd));
      const adam = (dec: number) => run((w, p, g, m, v, t) =>
        w.fn('adam_update')(p, g, m, v, n, lr, 0.9, 0.999, 0.1, 0.001, 1e-8, wd, lr / (1 - 0.9 ** t), 1 / (1 - 0.999 ** t), dec));
      const rms = run((w, p, g, _m, v) => w.fn('rms_update')(p, g, v, n, lr, 0.9, 0.1, 1e-8, 0));
      const ada = run((w, p, g, _m, v) => w.fn('rms_update')(p, g, v, n, lr, 1, 1, 1e-10, 0));
      // the same updates written out in float64
      const e = { sgd: Float64Array.from(p0), adam: Float64Array.from(p0), adamw: Float64Array.from(p0), rms: Float64Array.from(p0), ada: Float64Array.from(p0) };
      const st = { sm: new Float64Array(n), am: new Float64Array(n), av: new Float64Array(n), wm: new Float64Array(n), wv: new Float64Array(n), rv: new Float64Array(n), gv: new Float64Array(n) };
      grads.forEach((g, t0) => {
        const t = t0 + 1;
        for (let i = 0; i < n; i++) {
          const gs = g[i] + wd * e.sgd[i];
          st.sm[i] = 0.9 * st.sm[i] + gs; e.sgd[i] -= lr * st.sm[i];
          const ga = g[i] + wd * e.adam[i];
          st.am[i] = 0.9 * st.am[i] + 0.1 * ga; st.av[i] = 0.999 * st.av[i] + 0.001 * ga * ga;
          e.adam[i] -= lr * (st.am[i] / (1 - 0.9 ** t)) / (Math.sqrt(st.av[i] / (1 - 0.999 ** t)) + 1e-8);
          e.adamw[i] *= 1 - lr * wd;
          st.wm[i] = 0.9 * st.wm[i] + 0.1 * g[i]; st.wv[i] = 0.999 * st.wv[i] + 0.001 * g[i] * g[i];
          e.adamw[i] -= lr * (st.wm[i] / (1 - 0.9 ** t)) / (Math.sqrt(st.wv[i] / (1 - 0.999 ** t)) + 1e-8);
          st.rv[i] = 0.9 * st.rv[i] + 0.1 * g[i] * g[i]; e.rms[i] -= lr * g[i] / (Math.sqrt(st.rv[i]) + 1e-8);
          st.gv[i] += g[i] * g[i]; e.ada[i] -= lr * g[i] / (Math.sqrt(st.gv[i]) + 1e-10);
        }
      });
      expect(maxRelDiff(sgd, e.sgd)).toBeLessThan(1e-6);
      expect(maxRelDiff(adam(0), e.adam)).toBeLessThan(1e-5);
      expect(maxRelDiff(adam(1), e.adamw)).toBeLessThan(1e-5);
      expect(maxRelDiff(rms, e.rms)).toBeLessThan(1e-5);
      expect(maxRelDiff(ada, e.ada)).toBeLessThan(1e-5);
    });
  }
  it('clip_grad_norm scales to maxNorm / (norm + 1e-6) only above the threshold', () => {
    const w = new Wasm();
    const g = randn(37, 4);
    const norm = Math.hypot(...g);
    const p = w.alloc(37, g);
    expect(w.fn('clip_grad_norm')(p, 37, norm * 2)).toBeCloseTo(norm, 5);
    expect(maxRelDiff(w.read(p, 37), Float64Array.from(g))).toBe(0);
    w.fn('clip_grad_norm')(p, 37, 0.5);
    expect(maxRelDiff(w.read(p, 37), Float64Array.from(g, (x) => (x * 0.5) / (norm + 1e-6)))).toBeLessThan(1e-6);
  });
});
