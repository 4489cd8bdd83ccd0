// The GRU, vanilla RNN and peephole LSTM step kernels against float64 formulas, for
// hidden sizes below, at and around the 4-lane SIMD width (scalar tails included).
import { describe, it, expect } from 'vitest';
import { Wasm, BUILDS, randn, maxRelDiff } from './harness';
import { sigmoid } from './reference';

const HS = [1, 3, 4, 5, 8, 9];

for (const build of BUILDS) describe(`cell kernels against float64 (${build})`, () => {
  for (const H of HS) for (const B of [1, 3]) {
    it(`GRU H=${H} B=${B}`, () => {
      const w = new Wasm(build);
      const G = 3 * H;
      const gi = randn(B * G, H * 7 + B, 2), gh = randn(B * G, H + 11 * B, 2), hp = randn(B * H, 3 + H), dh = randn(B * H, 5 + H), acc = randn(B * H, 9 + B);
      const pgi = w.alloc(B * G, gi), pgh = w.alloc(B * G, gh), php = w.alloc(B * H, hp), ph = w.alloc(B * H);
      w.fn('gru_cell_forward')(pgi, pgh, php, ph, B, H);
      const eh = new Float64Array(B * H), dgi = new Float64Array(B * G), dgh = new Float64Array(B * G), dprev = Float64Array.from(acc);
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
        const r0 = b * G, s = b * H + j;
        const r = sigmoid(gi[r0 + j] + gh[r0 + j]), z = sigmoid(gi[r0 + H + j] + gh[r0 + H + j]);
        const n = Math.tanh(gi[r0 + 2 * H + j] + r * gh[r0 + 2 * H + j]);
        eh[s] = (1 - z) * n + z * hp[s];
        const dan = dh[s] * (1 - z) * (1 - n * n), dar = dan * gh[r0 + 2 * H + j] * r * (1 - r), daz = dh[s] * (hp[s] - n) * z * (1 - z);
        dgi[r0 + j] = dar; dgi[r0 + H + j] = daz; dgi[r0 + 2 * H + j] = dan;
        dgh[r0 + j] = dar; dgh[r0 + H + j] = daz; dgh[r0 + 2 * H + j] = dan * r;
        dprev[s] += dh[s] * z;
      }
      expect(maxRelDiff(w.read(ph, B * H), eh)).toBeLessThan(1e-6);
      const pdh = w.alloc(B * H, dh), pacc = w.alloc(B * H, acc);
      w.fn('gru_cell_backward')(pgi, pgh, php, pdh, pacc, B, H);
      expect(maxRelDiff(w.read(pgi, B * G), dgi)).toBeLessThan(1e-5);
      expect(maxRelDiff(w.read(pgh, B * G), dgh)).toBeLessThan(1e-5);
      expect(maxRelDiff(w.read(pacc, B * H), dprev)).toBeLessThan(1e-6);
    });

    it(`RNN H=${H} B=${B}`, () => {
      const w = new Wasm(build);
      // pre-activations within +-2, as the LSTM cell test: near saturation 1 - y^2 loses float32 digits to cancellation
      const a = randn(B * H, H * 5 + B, 2), dh = randn(B * H, 7 + H);
      const pa = w.alloc(B * H, a), ph = w.alloc(B * H);
      w.fn('rnn_cell_forward')(pa, ph, B, H);
      const eh = Float64Array.from(a, Math.tanh);
      expect(maxRelDiff(w.read(ph, B * H), eh)).toBeLessThan(1e-6);
      expect(maxRelDiff(w.read(pa, B * H), eh)).toBeLessThan(1e-6);
      w.fn('rnn_cell_backward')(pa, w.alloc(B * H, dh), B, H);
      expect(maxRelDiff(w.read(pa, B * H), Float64Array.from(eh, (y, i) => dh[i] * (1 - y * y)))).toBeLessThan(1e-5);
    });

    it(`peephole LSTM H=${H} B=${B}`, () => {
      const w = new Wasm(build);
      const G = 4 * H;
      const a = randn(B * G, H * 3 + B, 2), cp = randn(B * H, 13 + H), peep = randn(3 * H, 17 + H, 0.8), dh = randn(B * H, 19 + H), dc = randn(B * H, 23 + B);
      const pg = w.alloc(B * G, a), pcp = w.alloc(B * H, cp), pc = w.alloc(B * H), pt = w.alloc(B * H), ph = w.alloc(B * H), pp = w.alloc(3 * H, peep);
      w.fn('lstm_cell_forward')(pg, pcp, pc, pt, ph, B, H, pp);
      const ec = new Float64Array(B * H), eh = new Float64Array(B * H), da = new Float64Array(B * G), dcp = new Float64Array(B * H);
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
        const r = b * G, s = b * H + j;
        const i = sigmoid(a[r + j] + peep[j] * cp[s]), f = sigmoid(a[r + H + j] + peep[H + j] * cp[s]), g = Math.tanh(a[r + 2 * H + j]);
        const c = f * cp[s] + i * g, o = sigmoid(a[r + 3 * H + j] + peep[2 * H + j] * c), tc = Math.tanh(c);
        ec[s] = c; eh[s] = o * tc;
        const dao = dh[s] * tc * o * (1 - o);
        const dct = dc[s] + dh[s] * o * (1 - tc * tc) + dao * peep[2 * H + j];
        const dai = dct * g * i * (1 - i), daf = dct * cp[s] * f * (1 - f);
        da[r + j] = dai; da[r + H + j] = daf; da[r + 2 * H + j] = dct * i * (1 - g * g); da[r + 3 * H + j] = dao;
        dcp[s] = dct * f + dai * peep[j] + daf * peep[H + j];
      }
      expect(maxRelDiff(w.read(pc, B * H), ec)).toBeLessThan(1e-6);
      expect(maxRelDiff(w.read(ph, B * H), eh)).toBeLessThan(1e-6);
      const pdc = w.alloc(B * H, dc);
      w.fn('lstm_cell_backward')(pg, pcp, pt, w.alloc(B * H, dh), pdc, B, H, pp);
      expect(maxRelDiff(w.read(pg, B * G), da)).toBeLessThan(1e-5);
      expect(maxRelDiff(w.read(pdc, B * H), dcp)).toBeLessThan(1e-5);
    });
  }
});
