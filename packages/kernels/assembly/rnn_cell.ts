import { tanh4, tanh1 } from "./simd_math";

// One step of a vanilla (Elman) RNN with tanh, PyTorch's nn.RNN, the elementwise
// part: h_t = tanh(a), a = x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (the products
// are done by the caller).

// a: [B, H] pre-activations in, h_t out (backward needs it); h: [B, H] h_t as well.
export function rnn_cell_forward(a: usize, h: usize, B: i32, H: i32): void {
  const n = B * H;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    const y = tanh4(v128.load(a + o));
    v128.store(a + o, y); v128.store(h + o, y);
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const y = tanh1(load<f32>(a + o));
    store<f32>(a + o, y); store<f32>(h + o, y);
  }
}

// dA = dh * (1 - h_t^2). a: [B, H] h_t in, dA out. dh: [B, H] total gradient w.r.t. h_t.
export function rnn_cell_backward(a: usize, dh: usize, B: i32, H: i32): void {
  const n = B * H;
  const one = f32x4.splat(1);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    const y = v128.load(a + o);
    v128.store(a + o, f32x4.mul(v128.load(dh + o), f32x4.sub(one, f32x4.mul(y, y))));
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const y = load<f32>(a + o);
    store<f32>(a + o, load<f32>(dh + o) * (1 - y * y));
  }
}
