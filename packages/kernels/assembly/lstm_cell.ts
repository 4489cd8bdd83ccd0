import { sigmoid4, tanh4, sigmoid1, tanh1 } from "./simd_math";

// One LSTM time step for B rows, the elementwise part (the matrix products are
// done by the caller). Gate order is PyTorch's: i, f, g, o, each a block of H in a
// row of 4H.
//   i = s(a_i)  f = s(a_f)  g = tanh(a_g)  o = s(a_o)
//   c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)
// With peephole connections (peep != 0: [3H] diagonal weights w_ci, w_cf, w_co),
// the gates also see the cell state, as in Gers & Schmidhuber:
//   i = s(a_i + w_ci * c_{t-1})   f = s(a_f + w_cf * c_{t-1})   o = s(a_o + w_co * c_t)

// gates: [B, 4H] pre-activations in, activations out (backward needs them)
// cPrev, c, tanhC, h: [B, H]
export function lstm_cell_forward(gates: usize, cPrev: usize, c: usize, tanhC: usize, h: usize, B: i32, H: i32, peep: usize): void {
  const H4 = <usize>H << 2;
  // a branch, not multiplies by zero weights: 3.4 -> 2.8 ms a sequence at H=256
  const hasPeep = peep != 0;
  for (let b = 0; b < B; b++) {
    const gi = gates + <usize>b * (H4 << 2), gf = gi + H4, gg = gf + H4, go = gg + H4;
    const row = <usize>b * H4;
    const pcp = cPrev + row, pc = c + row, pt = tanhC + row, ph = h + row;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const cp = v128.load(pcp + o);
      let ai = v128.load(gi + o), af = v128.load(gf + o);
      if (hasPeep) {
        ai = f32x4.add(ai, f32x4.mul(v128.load(peep + o), cp));
        af = f32x4.add(af, f32x4.mul(v128.load(peep + H4 + o), cp));
      }
      const i = sigmoid4(ai);
      const f = sigmoid4(af);
      const g = tanh4(v128.load(gg + o));
      const ct = f32x4.add(f32x4.mul(f, cp), f32x4.mul(i, g));
      let ao = v128.load(go + o);
      if (hasPeep) ao = f32x4.add(ao, f32x4.mul(v128.load(peep + 2 * H4 + o), ct));
      const og = sigmoid4(ao);
      const tc = tanh4(ct);
      v128.store(gi + o, i); v128.store(gf + o, f); v128.store(gg + o, g); v128.store(go + o, og);
      v128.store(pc + o, ct); v128.store(pt + o, tc); v128.store(ph + o, f32x4.mul(og, tc));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const cp = load<f32>(pcp + o);
      const wci: f32 = peep ? load<f32>(peep + o) : 0;
      const wcf: f32 = peep ? load<f32>(peep + H4 + o) : 0;
      const i = sigmoid1(load<f32>(gi + o) + wci * cp);
      const f = sigmoid1(load<f32>(gf + o) + wcf * cp);
      const g = tanh1(load<f32>(gg + o));
      const ct = f * cp + i * g;
      const wco: f32 = peep ? load<f32>(peep + 2 * H4 + o) : 0;
      const og = sigmoid1(load<f32>(go + o) + wco * ct);
      const tc = tanh1(ct);
      store<f32>(gi + o, i); store<f32>(gf + o, f); store<f32>(gg + o, g); store<f32>(go + o, og);
      store<f32>(pc + o, ct); store<f32>(pt + o, tc); store<f32>(ph + o, og * tc);
    }
  }
}

// Backward of the same step, the seeds' equations:
//   dA_o = dh * tanh(c_t) * o(1-o)
//   dc = dc_next + dh * o * (1 - tanh(c_t)^2) + dA_o * w_co
//   dA_i = dc * g * i(1-i)   dA_g = dc * i * (1-g^2)   dA_f = dc * c_{t-1} * f(1-f)
//   dc_{t-1} = dc * f + dA_i * w_ci + dA_f * w_cf
// (the w terms only with peepholes).
// gates: [B, 4H] activations in, gradients w.r.t. pre-activations out.
// dh: [B, H] total gradient w.r.t. h_t. dc: [B, H] gradient w.r.t. c_t in,
// w.r.t. c_{t-1} out.
export function lstm_cell_backward(gates: usize, cPrev: usize, tanhC: usize, dh: usize, dc: usize, B: i32, H: i32, peep: usize): void {
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
      const dao = f32x4.mul(f32x4.mul(d, tc), f32x4.mul(og, f32x4.sub(one, og)));
      let dct = f32x4.add(v128.load(pdc + o), f32x4.mul(f32x4.mul(d, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      if (peep) dct = f32x4.add(dct, f32x4.mul(dao, v128.load(peep + 2 * H4 + o)));
      const cp = v128.load(pcp + o);
      const dai = f32x4.mul(f32x4.mul(dct, g), f32x4.mul(i, f32x4.sub(one, i)));
      const daf = f32x4.mul(f32x4.mul(dct, cp), f32x4.mul(f, f32x4.sub(one, f)));
      v128.store(gi + o, dai);
      v128.store(gf + o, daf);
      v128.store(gg + o, f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g))));
      v128.store(go + o, dao);
      let dcp = f32x4.mul(dct, f);
      if (peep) dcp = f32x4.add(f32x4.add(dcp, f32x4.mul(dai, v128.load(peep + o))), f32x4.mul(daf, v128.load(peep + H4 + o)));
      v128.store(pdc + o, dcp);
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const i = load<f32>(gi + o), f = load<f32>(gf + o), g = load<f32>(gg + o), og = load<f32>(go + o);
      const tc = load<f32>(pt + o), d = load<f32>(pdh + o);
      const dao = d * tc * (og * (1 - og));
      let dct = load<f32>(pdc + o) + d * og * (1 - tc * tc);
      if (peep) dct += dao * load<f32>(peep + 2 * H4 + o);
      const cp = load<f32>(pcp + o);
      const dai = dct * g * (i * (1 - i));
      const daf = dct * cp * (f * (1 - f));
      store<f32>(gi + o, dai);
      store<f32>(gf + o, daf);
      store<f32>(gg + o, dct * i * (1 - g * g));
      store<f32>(go + o, dao);
      let dcp = dct * f;
      if (peep) dcp = dcp + dai * load<f32>(peep + o) + daf * load<f32>(peep + H4 + o);
      store<f32>(pdc + o, dcp);
    }
  }
}
