import { matmul_ab, matmul_abt, fill_rows } from "./matmul";
import { input_forward, weight_backward, input_backward } from "./layer_common";
import { gru_cell_forward, gru_cell_backward } from "./gru_cell";

// One GRU layer over a whole sequence, time-major, in the same phases as the
// LSTM's (lstm_layer.ts): rows [r0, r1) of the input projection, batch rows
// [b0, b1) of the time loop, gate rows [g0, g1) of the weight gradients.
//
// Dimensions: T steps, B batch rows, X input features, H hidden units, G = 3H.
// Weights in PyTorch's nn.GRU layout: wIh [G, X], wHh [G, H], bIh [G], bHh [G].
// hs: [T+1, B, H], slot 0 = h0, slot t+1 = the state after step t.
// gi: [T, B, G] input projections, then the gate activations, then their gradients.
// gh: [T, B, G] recurrent projections (with b_hh), then their gradients.

// gi = b_ih + x W_ih^T for rows [r0, r1), before the time loop. (b_hh goes
// with the recurrent projection: the reset gate multiplies its n block.)
export function gru_input_forward(gi: usize, x: usize, tokens: bool, wIh: usize, wIhT: usize,
  bIh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  input_forward(gi, x, tokens, wIh, wIhT, bIh, 0, X, H * 3, r0, r1);
}

// The time loop for batch rows [b0, b1): per step gh = b_hh + h W_hh^T, then the cell.
export function gru_recurrence_forward(gi: usize, gh: usize, hs: usize, wHh: usize, bHh: usize,
  T: i32, B: i32, H: i32, b0: i32, b1: i32, zeroH0: bool): void {
  const G = H * 3, nb = b1 - b0;
  if (nb <= 0) return;
  const ldg = <usize>G << 2, ldh = <usize>H << 2;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0), next = <usize>((t + 1) * B + b0);
    const ghRow = gh + row * ldg;
    fill_rows(ghRow, bHh, 0, nb, G);
    if (t > 0 || !zeroH0) matmul_abt(ghRow, hs + row * ldh, wHh, nb, G, H);
    gru_cell_forward(gi + row * ldg, ghRow, hs + row * ldh, hs + next * ldh, nb, H);
  }
}

// Backpropagation through time for batch rows [b0, b1).
// dhs: [T, B, H] gradient w.r.t. the layer's outputs; consumed as the running dh.
// dh0: [B, H] accumulates the gradient w.r.t. h0.
export function gru_recurrence_backward(gi: usize, gh: usize, hs: usize, dhs: usize, dh0: usize, wHh: usize,
  T: i32, B: i32, H: i32, b0: i32, b1: i32, wantDh0: bool): void {
  const G = H * 3, nb = b1 - b0;
  if (nb <= 0) return;
  const ldg = <usize>G << 2, ldh = <usize>H << 2;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    const dPrev = t > 0 ? dhs + <usize>((t - 1) * B + b0) * ldh : dh0 + <usize>b0 * ldh;
    gru_cell_backward(gi + row * ldg, gh + row * ldg, hs + row * ldh, dhs + row * ldh, dPrev, nb, H);
    // dh_{t-1} += d gh_t * W_hh
    if (t > 0 || wantDh0) matmul_ab(dPrev, gh + row * ldg, wHh, nb, H, G);
  }
}

// Weight and bias gradients for gate rows [g0, g1), after the time loop.
export function gru_weight_backward(gi: usize, gh: usize, hs: usize, x: usize, tokens: bool,
  dWih: usize, dWhh: usize, dbIh: usize, dbHh: usize, dWihT: usize,
  T: i32, B: i32, X: i32, H: i32, g0: i32, g1: i32, zeroH0: bool): void {
  weight_backward(gi, gh, hs, x, tokens, dWih, dWhh, dbIh, dbHh, dWihT, T * B, zeroH0 ? B : 0, X, H, H * 3, g0, g1);
}

// dx[rows r0..r1) += d gi W_ih
export function gru_input_backward(dx: usize, gi: usize, wIh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  input_backward(dx, gi, wIh, X, H * 3, r0, r1);
}
