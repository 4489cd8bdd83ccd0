import { sigmoid4, tanh4, sigmoid1, tanh1 } from "./simd_math";

// One LSTM time step for B rows, the elementwise part (the matrix products are
// done by the caller). Gate order is PyTorch's: i, f, g, o, each a block of H in a
// row of 4H.
//   i = s(a_i)  f = s(a_f)  g = tanh(a_g)  o = s(a_o)
//   c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)

// gates: [B, 4H] pre-activations in, activations out (backward needs them)
// cPrev, c, tanhC, h: [B, H]
export function lstm_cell_forward(gates: usize, cPrev: usize, c: usize, tanhC: usize, h: usize, B: i32, H: i32): void {
  const H4 = <usize>H << 2;
  for (let b = 0; b < B; b++) {
    const gi = gates + <usize>b * (H4 << 2), gf = gi + H4, gg = gf + H4, go = gg + H4;
    const row = <usize>b * H4;
    const pcp = cPrev + row, pc = c + row, pt = tanhC + row, ph = h + row;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const i = sigmoid4(v128.load(gi + o));
      const f = sigmoid4(v128.load(gf + o));
      const g = tanh4(v128.load(gg + o));
      const og = sigmoid4(v128.load(go + o));
      const ct = f32x4.add(f32x4.mul(f, v128.load(pcp + o)), f32x4.mul(i, g));
      const tc = tanh4(ct);
      v128.store(gi + o, i); v128.store(gf + o, f); v128.store(gg + o, g); v128.store(go + o, og);
      v128.store(pc + o, ct); v128.store(pt + o, tc); v128.store(ph + o, f32x4.mul(og, tc));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const i = sigmoid1(load<f32>(gi + o));
      const f = sigmoid1(load<f32>(gf + o));
      const g = tanh1(load<f32>(gg + o));
      const og = sigmoid1(load<f32>(go + o));
      const ct = f * load<f32>(pcp + o) + i * g;
      const tc = tanh1(ct);
      store<f32>(gi + o, i); store<f32>(gf + o, f); store<f32>(gg + o, g); store<f32>(go + o, og);
      store<f32>(pc + o, ct); store<f32>(pt + o, tc); store<f32>(ph + o, og * tc);
    }
  }
}

// Backward of the same step, the seeds' equations:
//   do = dh * tanh(c_t)          dc = dc_next + dh * o * (1 - tanh(c_t)^2)
//   di = dc * g   dg = dc * i    df = dc * c_{t-1}      dc_{t-1} = dc * f
// then through the nonlinearities: s' = s(1-s), tanh' = 1 - tanh^2.
// gates: [B, 4H] activations in, gradients w.r.t. pre-activations out.
// dh: [B, H] total gradient w.r.t. h_t. dc: [B, H] gradient w.r.t. c_t in,
// w.r.t. c_{t-1} out.
export function lstm_cell_backward(gates: usize, cPrev: usize, tanhC: usize, dh: usize, dc: usize, B: i32, H: i32): void {
  const H4 = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const gi = gates + <usize>b * (H4 << 2), gf = gi + H4, gg = gf + H4, go = gg + H4;
    const row = <usize>b * H4;
    const pcp = cPrev + row, pt = tanhC + row, pdh = dh + row, pdc = dc + row;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const i = v128.load(gi + o), f = v128.load(gf + o), g = v128.load(gg + o), og = v128.load(go + o);
      const tc = v128.load(pt + o), d = v128.load(pdh + o);
      const dct = f32x4.add(v128.load(pdc + o), f32x4.mul(f32x4.mul(d, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      v128.store(gi + o, f32x4.mul(f32x4.mul(dct, g), f32x4.mul(i, f32x4.sub(one, i))));
      v128.store(gf + o, f32x4.mul(f32x4.mul(dct, v128.load(pcp + o)), f32x4.mul(f, f32x4.sub(one, f))));
      v128.store(gg + o, f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g))));
      v128.store(go + o, f32x4.mul(f32x4.mul(d, tc), f32x4.mul(og, f32x4.sub(one, og))));
      v128.store(pdc + o, f32x4.mul(dct, f));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const i = load<f32>(gi + o), f = load<f32>(gf + o), g = load<f32>(gg + o), og = load<f32>(go + o);
      const tc = load<f32>(pt + o), d = load<f32>(pdh + o);
      const dct = load<f32>(pdc + o) + d * og * (1 - tc * tc);
      store<f32>(gi + o, dct * g * (i * (1 - i)));
      store<f32>(gf + o, dct * load<f32>(pcp + o) * (f * (1 - f)));
      store<f32>(gg + o, dct * i * (1 - g * g));
      store<f32>(go + o, d * tc * (og * (1 - og)));
      store<f32>(pdc + o, dct * f);
    }
  }
}
