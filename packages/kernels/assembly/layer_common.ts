import { matmul_ab, matmul_abt, matmul_atb_rows, transpose_add, fill_rows, add_column_sums_range, add_row } from "./matmul";

// The parts of a recurrent layer that are the same for every cell (LSTM, GRU,
// vanilla RNN): the input projection of all time steps before the time loop, and
// after it the weight gradients and the input gradient, each one product over all
// T*B rows. G is the width of the gate block: 4H (LSTM), 3H (GRU), H (RNN).
// Weights in PyTorch's layout: wIh [G, X], wHh [G, H].
// Input: dense x [T, B, X] f32, or tokens [T, B] i32 ids in [0, X) (one-hot,
//   never materialised: its product with W_ih is a column of W_ih, which is a
//   row of wIhT [X, G], the transposed copy the caller makes for token input,
//   or read in place when the caller passes wIhT = 0).

// pre[rows r0..r1) = b1 + b2 + x W_ih^T   (b2 may be 0: absent)
export function input_forward(pre: usize, x: usize, tokens: bool, wIh: usize, wIhT: usize,
  b1: usize, b2: usize, X: i32, G: i32, r0: i32, r1: i32): void {
  const ldg = <usize>G << 2;
  if (r1 <= r0) return;
  if (tokens && wIhT) {
    // one pass per row, the same additions as fill_rows then add_row
    for (let r = r0; r < r1; r++) bias_plus_row(pre + <usize>r * ldg, b1, b2, wIhT + <usize>load<i32>(x + (<usize>r << 2)) * ldg, G);
    return;
  }
  fill_rows(pre + <usize>r0 * ldg, b1, b2, r1 - r0, G);
  if (tokens) {
    // wIhT = 0: read the token's column of W_ih in place (the same additions)
    const ldx = <usize>X << 2;
    for (let r = r0; r < r1; r++) {
      const row = pre + <usize>r * ldg;
      let col = wIh + (<usize>load<i32>(x + (<usize>r << 2)) << 2);
      for (let g = 0; g < G; g++) { store<f32>(row + (<usize>g << 2), load<f32>(row + (<usize>g << 2)) + load<f32>(col)); col += ldx; }
    }
  } else {
    matmul_abt(pre + <usize>r0 * ldg, x + <usize>r0 * (<usize>X << 2), wIh, r1 - r0, G, X);
  }
}

// y[G] = (b1 + b2) + w, or b1 + w when b2 = 0
// @ts-ignore: decorator
@inline function bias_plus_row(y: usize, b1: usize, b2: usize, w: usize, G: i32): void {
  let j = 0;
  if (b2) {
    for (; j + 4 <= G; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.add(f32x4.add(v128.load(b1 + o), v128.load(b2 + o)), v128.load(w + o)));
    }
    for (; j < G; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, (load<f32>(b1 + o) + load<f32>(b2 + o)) + load<f32>(w + o));
    }
  } else {
    for (; j + 4 <= G; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.add(v128.load(b1 + o), v128.load(w + o)));
    }
    for (; j < G; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, load<f32>(b1 + o) + load<f32>(w + o));
    }
  }
}

// Weight and bias gradients for gate rows [g0, g1), after the time loop.
// dIh: [T*B, G] gradient w.r.t. the input projection (b_ih + x W_ih^T);
// dHh: [T*B, G] gradient w.r.t. the recurrent projection (b_hh + h W_hh^T). For
//   the LSTM and the RNN they are the same buffer; the GRU's differ in the n block.
// hs: [T+1, B, H], whose first T*B rows are every h_{t-1}.
// dWihT: [X, G] scratch for token input. The gradients must start at zero.
// skip: leading rows of hs that are zeros (h0, B rows, when the initial state
// is zeros), left out of the dW_hh product.
export function weight_backward(dIh: usize, dHh: usize, hs: usize, x: usize, tokens: bool,
  dWih: usize, dWhh: usize, dbIh: usize, dbHh: usize, dWihT: usize,
  rows: i32, skip: i32, X: i32, H: i32, G: i32, g0: i32, g1: i32): void {
  if (g1 <= g0) return;
  const ldg = <usize>G << 2, o = <usize>g0 << 2, n = g1 - g0;
  matmul_atb_rows(dWhh, dHh + <usize>skip * ldg, hs + <usize>skip * (<usize>H << 2), G, H, rows - skip, g0, g1);
  if (tokens) {
    // Each row of dG is added to the bias gradient and scattered into its token's
    // row of dW_ih^T in one pass (the same additions, in the same row order, as
    // two passes: one fewer read of all T*B rows), then dW_ih += dW_ih^T^T.
    for (let v = 0; v < X; v++) memory.fill(dWihT + <usize>v * ldg + o, 0, <usize>n << 2);
    for (let r = 0; r < rows; r++) {
      const row = dIh + <usize>r * ldg + o;
      add_row(dbIh + o, row, n);
      add_row(dWihT + <usize>load<i32>(x + (<usize>r << 2)) * ldg + o, row, n);
    }
    transpose_add(dWih, dWihT, X, G, g0, g1);
  } else {
    add_column_sums_range(dbIh, dIh, rows, G, g0, g1);
    matmul_atb_rows(dWih, dIh, x, G, X, rows, g0, g1);
  }
  // The LSTM's and the RNN's two bias vectors get the same gradient; the model
  // zeroes gradients before a backward pass, so a copy is that same sum (and
  // saves a pass over all T*B rows of dG: 1 ms a step at H=256).
  if (dHh == dIh) memory.copy(dbHh + o, dbIh + o, <usize>n << 2);
  else add_column_sums_range(dbHh, dHh, rows, G, g0, g1);
}

// dx[rows r0..r1) += dIh W_ih  (dense input, or the layer below's output gradient)
export function input_backward(dx: usize, dIh: usize, wIh: usize, X: i32, G: i32, r0: i32, r1: i32): void {
  if (r1 > r0) matmul_ab(dx + <usize>r0 * (<usize>X << 2), dIh + <usize>r0 * (<usize>G << 2), wIh, r1 - r0, X, G);
}
