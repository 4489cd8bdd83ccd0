import { sigmoid4, tanh4, sigmoid1, tanh1 } from "./simd_math";

// One GRU time step for B rows, the elementwise part, in PyTorch's nn.GRU
// semantics. Gate order r, z, n, each a block of H in a row of 3H. The input
// projection gi = x W_ih^T + b_ih and the recurrent one gh = h W_hh^T + b_hh are
// kept apart, because the reset gate multiplies the recurrent part of n only:
//   r = s(gi_r + gh_r)   z = s(gi_z + gh_z)   n = tanh(gi_n + r * gh_n)
//   h_t = (1 - z) * n + z * h_{t-1}

// gi: [B, 3H] pre-activations in, the activations r, z, n out (backward needs them).
// gh: [B, 3H] recurrent pre-activations; its n block (gh_n) is kept for backward.
// hPrev, h: [B, H]
export function gru_cell_forward(gi: usize, gh: usize, hPrev: usize, h: usize, B: i32, H: i32): void {
  const H4 = <usize>H << 2, ld = H4 * 3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const ir = gi + <usize>b * ld, iz = ir + H4, iN = iz + H4;
    const hr = gh + <usize>b * ld, hz = hr + H4, hn = hz + H4;
    const php = hPrev + <usize>b * H4, ph = h + <usize>b * H4;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const r = sigmoid4(f32x4.add(v128.load(ir + o), v128.load(hr + o)));
      const z = sigmoid4(f32x4.add(v128.load(iz + o), v128.load(hz + o)));
      const n = tanh4(f32x4.add(v128.load(iN + o), f32x4.mul(r, v128.load(hn + o))));
      const hp = v128.load(php + o);
      v128.store(ir + o, r); v128.store(iz + o, z); v128.store(iN + o, n);
      v128.store(ph + o, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, hp)));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const r = sigmoid1(load<f32>(ir + o) + load<f32>(hr + o));
      const z = sigmoid1(load<f32>(iz + o) + load<f32>(hz + o));
      const n = tanh1(load<f32>(iN + o) + r * load<f32>(hn + o));
      const hp = load<f32>(php + o);
      store<f32>(ir + o, r); store<f32>(iz + o, z); store<f32>(iN + o, n);
      store<f32>(ph + o, (1 - z) * n + z * hp);
    }
  }
}

// Backward of the same step:
//   dn = dh * (1 - z)        dz = dh * (h_{t-1} - n)       dh_{t-1} += dh * z
//   dA_n = dn * (1 - n^2)    dA_r = dA_n * gh_n * r(1-r)   dA_z = dz * z(1-z)
// The gradient w.r.t. gi is (dA_r, dA_z, dA_n); w.r.t. gh it is (dA_r, dA_z, dA_n * r).
// gi: activations in, d gi out. gh: gh_n in its n block, d gh out.
// dh: [B, H] total gradient w.r.t. h_t. dhPrev: [B, H] accumulates the direct part
// dh * z of the gradient w.r.t. h_{t-1} (the caller adds d gh W_hh).
export function gru_cell_backward(gi: usize, gh: usize, hPrev: usize, dh: usize, dhPrev: usize, B: i32, H: i32): void {
  const H4 = <usize>H << 2, ld = H4 * 3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const ir = gi + <usize>b * ld, iz = ir + H4, iN = iz + H4;
    const hr = gh + <usize>b * ld, hz = hr + H4, hn = hz + H4;
    const php = hPrev + <usize>b * H4, pdh = dh + <usize>b * H4, pdp = dhPrev + <usize>b * H4;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(ir + o), z = v128.load(iz + o), n = v128.load(iN + o);
      const d = v128.load(pdh + o);
      const dan = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dar = f32x4.mul(f32x4.mul(dan, v128.load(hn + o)), f32x4.mul(r, f32x4.sub(one, r)));
      const daz = f32x4.mul(f32x4.mul(d, f32x4.sub(v128.load(php + o), n)), f32x4.mul(z, f32x4.sub(one, z)));
      v128.store(ir + o, dar); v128.store(iz + o, daz); v128.store(iN + o, dan);
      v128.store(hr + o, dar); v128.store(hz + o, daz); v128.store(hn + o, f32x4.mul(dan, r));
      v128.store(pdp + o, f32x4.add(v128.load(pdp + o), f32x4.mul(d, z)));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(ir + o), z = load<f32>(iz + o), n = load<f32>(iN + o);
      const d = load<f32>(pdh + o);
      const dan = d * (1 - z) * (1 - n * n);
      const dar = dan * load<f32>(hn + o) * (r * (1 - r));
      const daz = d * (load<f32>(php + o) - n) * (z * (1 - z));
      store<f32>(ir + o, dar); store<f32>(iz + o, daz); store<f32>(iN + o, dan);
      store<f32>(hr + o, dar); store<f32>(hz + o, daz); store<f32>(hn + o, dan * r);
      store<f32>(pdp + o, load<f32>(pdp + o) + d * z);
    }
  }
}
