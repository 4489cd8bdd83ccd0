import { matmul_ab, matmul_atb, transpose, transpose_add, fill_rows, add_column_sums, add_row } from "./matmul";
import { lstm_cell_forward, lstm_cell_backward } from "./lstm_cell";

// One LSTM layer over a whole sequence, time-major.
// Dimensions: T steps, B batch rows, X input features, H hidden units, G = 4H.
// Weights in PyTorch's layout: wIh [G, X], wHh [G, H], bIh [G], bHh [G].
// hs, cs: [T+1, B, H]. Slot 0 holds h0 / c0 and slot t+1 the state after step t,
//   so hs[0..T) is every h_{t-1} as one contiguous block for the dW_hh product.
// gates: [T, B, G]; tanhC: [T, B, H].
// Input: dense x [T, B, X] f32, or tokens [T, B] i32 ids in [0, X) (one-hot,
//   never materialised: its product with W_ih is a column of W_ih).

// wIhT [X, G] and wHhT [H, G] are scratch for transposed weights: with them every
// forward product is the broadcast-A form, and the transposes cost O(G*(X+H)),
// nothing next to the O(T*B*G*(X+H)) products.
export function lstm_layer_forward(
  gates: usize, hs: usize, cs: usize, tanhC: usize, x: usize, tokens: bool,
  wIh: usize, wHh: usize, bIh: usize, bHh: usize, wIhT: usize, wHhT: usize,
  T: i32, B: i32, X: i32, H: i32,
): void {
  const G = H << 2;
  const rows = T * B;
  const stepGates = <usize>B * <usize>G << 2;
  const stepState = <usize>B * <usize>H << 2;
  transpose(wIhT, wIh, G, X);
  transpose(wHhT, wHh, G, H);
  // the input projection for all T*B rows at once, before the time loop
  fill_rows(gates, bIh, bHh, rows, G);
  if (tokens) {
    for (let r = 0; r < rows; r++) {
      const tok = load<i32>(x + (<usize>r << 2));
      add_row(gates + <usize>r * (<usize>G << 2), wIhT + <usize>tok * (<usize>G << 2), G);
    }
  } else {
    matmul_ab(gates, x, wIhT, rows, G, X);
  }
  for (let t = 0; t < T; t++) {
    const g = gates + <usize>t * stepGates;
    matmul_ab(g, hs + <usize>t * stepState, wHhT, B, G, H);
    lstm_cell_forward(g, cs + <usize>t * stepState, cs + <usize>(t + 1) * stepState,
      tanhC + <usize>t * stepState, hs + <usize>(t + 1) * stepState, B, H);
  }
}

// Full backpropagation through time. Gradients accumulate into dW*/db*/dh0/dx.
// gates: activations in, gradients w.r.t. pre-activations out.
// dhs: [T, B, H] gradient w.r.t. the layer's outputs; consumed as the running
//   dh (each step's recurrent product adds into the slot of the step before).
// dc: [B, H] gradient w.r.t. c_T in (zero for a loss on outputs only), w.r.t. c0 out.
// dx: [T, B, X] or 0 when the input gradient is not wanted (or input is tokens).
// dWihT: [X, G] scratch for token input.
export function lstm_layer_backward(
  gates: usize, hs: usize, cs: usize, tanhC: usize, dhs: usize, dh0: usize, dc: usize,
  x: usize, tokens: bool, dx: usize,
  wIh: usize, wHh: usize, dWih: usize, dWhh: usize, dbIh: usize, dbHh: usize, dWihT: usize,
  T: i32, B: i32, X: i32, H: i32,
): void {
  const G = H << 2;
  const rows = T * B;
  const stepGates = <usize>B * <usize>G << 2;
  const stepState = <usize>B * <usize>H << 2;
  for (let t = T - 1; t >= 0; t--) {
    const g = gates + <usize>t * stepGates;
    lstm_cell_backward(g, cs + <usize>t * stepState, tanhC + <usize>t * stepState,
      dhs + <usize>t * stepState, dc, B, H);
    // dh_{t-1} += dG_t * W_hh
    matmul_ab(t > 0 ? dhs + <usize>(t - 1) * stepState : dh0, g, wHh, B, H, G);
  }
  // weight gradients: one product each over all T*B rows, after the loop
  matmul_atb(dWhh, gates, hs, G, H, rows);
  add_column_sums(dbIh, gates, rows, G);
  add_column_sums(dbHh, gates, rows, G);
  if (tokens) {
    memory.fill(dWihT, 0, <usize>X * <usize>G << 2);
    for (let r = 0; r < rows; r++) {
      const tok = load<i32>(x + (<usize>r << 2));
      add_row(dWihT + <usize>tok * (<usize>G << 2), gates + <usize>r * (<usize>G << 2), G);
    }
    transpose_add(dWih, dWihT, X, G);
  } else {
    matmul_atb(dWih, gates, x, G, X, rows);
    if (dx) matmul_ab(dx, gates, wIh, rows, X, G);
  }
}
