import { matmul_ab, matmul_abt, matmul_atb_rows, transpose_add, fill_rows, add_column_sums_range, add_row } from "./matmul";
import { lstm_cell_forward, lstm_cell_backward } from "./lstm_cell";

// One LSTM layer over a whole sequence, time-major, in the phases the model
// runs between thread barriers. Each phase takes the share of the work it is
// given: rows [r0, r1) of the T*B input rows, batch rows [b0, b1) of the time
// loop (batch rows never interact, so the time loop needs no barrier at all),
// or gate rows [g0, g1) of the weight gradients.
//
// Dimensions: T steps, B batch rows, X input features, H hidden units, G = 4H.
// Weights in PyTorch's layout: wIh [G, X], wHh [G, H], bIh [G], bHh [G].
// hs, cs: [T+1, B, H]. Slot 0 holds h0 / c0 and slot t+1 the state after step t,
//   so hs[0..T) is every h_{t-1} as one contiguous block for the dW_hh product.
// gates: [T, B, G]; tanhC: [T, B, H].
// Input: dense x [T, B, X] f32, or tokens [T, B] i32 ids in [0, X) (one-hot,
//   never materialised: its product with W_ih is a column of W_ih, which is a
//   row of wIhT [X, G], the transposed copy the caller makes for token input).

// gates = b_ih + b_hh + x W_ih^T for rows [r0, r1): the input projection of all
// time steps as one product, before the time loop.
export function lstm_input_forward(gates: usize, x: usize, tokens: bool, wIh: usize, wIhT: usize,
  bIh: usize, bHh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  const G = H << 2;
  const ldg = <usize>G << 2;
  if (r1 <= r0) return;
  fill_rows(gates + <usize>r0 * ldg, bIh, bHh, r1 - r0, G);
  if (tokens) {
    for (let r = r0; r < r1; r++) add_row(gates + <usize>r * ldg, wIhT + <usize>load<i32>(x + (<usize>r << 2)) * ldg, G);
  } else {
    matmul_abt(gates + <usize>r0 * ldg, x + <usize>r0 * (<usize>X << 2), wIh, r1 - r0, G, X);
  }
}

// The time loop for batch rows [b0, b1): per step one recurrent product and one
// fused gate kernel.
export function lstm_recurrence_forward(gates: usize, hs: usize, cs: usize, tanhC: usize, wHh: usize,
  T: i32, B: i32, H: i32, b0: i32, b1: i32): void {
  const G = H << 2, nb = b1 - b0;
  if (nb <= 0) return;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0), next = <usize>((t + 1) * B + b0);
    const g = gates + row * (<usize>G << 2);
    const hRow = row * (<usize>H << 2), nRow = next * (<usize>H << 2);
    matmul_abt(g, hs + hRow, wHh, nb, G, H);
    lstm_cell_forward(g, cs + hRow, cs + nRow, tanhC + hRow, hs + nRow, nb, H);
  }
}

// Backpropagation through time for batch rows [b0, b1).
// gates: activations in, gradients w.r.t. pre-activations out.
// dhs: [T, B, H] gradient w.r.t. the layer's outputs; consumed as the running
//   dh (each step's recurrent product adds into the slot of the step before).
// dc: [B, H] gradient w.r.t. c_T in (zero: the loss sees only h), w.r.t. c0 out.
// dh0: [B, H] accumulates the gradient w.r.t. h0.
export function lstm_recurrence_backward(gates: usize, cs: usize, tanhC: usize, dhs: usize, dh0: usize, dc: usize,
  wHh: usize, T: i32, B: i32, H: i32, b0: i32, b1: i32): void {
  const G = H << 2, nb = b1 - b0;
  if (nb <= 0) return;
  const ldh = <usize>H << 2;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    const g = gates + row * (<usize>G << 2);
    lstm_cell_backward(g, cs + row * ldh, tanhC + row * ldh, dhs + row * ldh, dc + <usize>b0 * ldh, nb, H);
    // dh_{t-1} += dG_t * W_hh
    matmul_ab(t > 0 ? dhs + <usize>((t - 1) * B + b0) * ldh : dh0 + <usize>b0 * ldh, g, wHh, nb, H, G);
  }
}

// Weight and bias gradients for gate rows [g0, g1), after the time loop: dW_hh and
// dW_ih each one product over all T*B rows, the biases column sums of dG.
// dWihT: [X, G] scratch for token input.
export function lstm_weight_backward(gates: usize, hs: usize, x: usize, tokens: bool,
  dWih: usize, dWhh: usize, dbIh: usize, dbHh: usize, dWihT: usize,
  T: i32, B: i32, X: i32, H: i32, g0: i32, g1: i32): void {
  const G = H << 2, rows = T * B;
  if (g1 <= g0) return;
  matmul_atb_rows(dWhh, gates, hs, G, H, rows, g0, g1);
  add_column_sums_range(dbIh, gates, rows, G, g0, g1);
  add_column_sums_range(dbHh, gates, rows, G, g0, g1);
  if (tokens) {
    // scatter dG rows into the token's row of dW_ih^T, then transpose-add
    const ldg = <usize>G << 2, o = <usize>g0 << 2, n = g1 - g0;
    for (let v = 0; v < X; v++) memory.fill(dWihT + <usize>v * ldg + o, 0, <usize>n << 2);
    for (let r = 0; r < rows; r++) add_row(dWihT + <usize>load<i32>(x + (<usize>r << 2)) * ldg + o, gates + <usize>r * ldg + o, n);
    transpose_add(dWih, dWihT, X, G, g0, g1);
  } else {
    matmul_atb_rows(dWih, gates, x, G, X, rows, g0, g1);
  }
}

// dx[rows r0..r1] += dG W_ih  (dense input, or the layer below's output gradient)
export function lstm_input_backward(dx: usize, gates: usize, wIh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  const G = H << 2;
  if (r1 > r0) matmul_ab(dx + <usize>r0 * (<usize>X << 2), gates + <usize>r0 * (<usize>G << 2), wIh, r1 - r0, X, G);
}
