import { matmul_ab, matmul_abt } from "./matmul";
import { input_forward, weight_backward, input_backward } from "./layer_common";
import { rnn_cell_forward, rnn_cell_backward } from "./rnn_cell";

// One vanilla RNN layer (tanh) over a whole sequence, time-major, in the same
// phases as the LSTM's (lstm_layer.ts). G = H: one pre-activation per unit.
// Weights in PyTorch's nn.RNN layout: wIh [H, X], wHh [H, H], bIh [H], bHh [H].
// hs: [T+1, B, H], slot 0 = h0, slot t+1 = the state after step t.
// pre: [T, B, H] pre-activations, then h_t, then the gradients w.r.t. pre-activations.

// pre = b_ih + b_hh + x W_ih^T for rows [r0, r1), before the time loop.
export function rnn_input_forward(pre: usize, x: usize, tokens: bool, wIh: usize, wIhT: usize,
  bIh: usize, bHh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  input_forward(pre, x, tokens, wIh, wIhT, bIh, bHh, X, H, r0, r1);
}

// The time loop for batch rows [b0, b1).
export function rnn_recurrence_forward(pre: usize, hs: usize, wHh: usize, T: i32, B: i32, H: i32, b0: i32, b1: i32, zeroH0: bool): void {
  const nb = b1 - b0;
  if (nb <= 0) return;
  const ldh = <usize>H << 2;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0), next = <usize>((t + 1) * B + b0);
    const a = pre + row * ldh;
    if (t > 0 || !zeroH0) matmul_abt(a, hs + row * ldh, wHh, nb, H, H);
    rnn_cell_forward(a, hs + next * ldh, nb, H);
  }
}

// Backpropagation through time for batch rows [b0, b1).
// dhs: [T, B, H] gradient w.r.t. the layer's outputs; consumed as the running dh.
// dh0: [B, H] accumulates the gradient w.r.t. h0.
export function rnn_recurrence_backward(pre: usize, dhs: usize, dh0: usize, wHh: usize, T: i32, B: i32, H: i32, b0: i32, b1: i32, wantDh0: bool): void {
  const nb = b1 - b0;
  if (nb <= 0) return;
  const ldh = <usize>H << 2;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    const a = pre + row * ldh;
    rnn_cell_backward(a, dhs + row * ldh, nb, H);
    // dh_{t-1} += dA_t * W_hh
    if (t > 0) matmul_ab(dhs + <usize>((t - 1) * B + b0) * ldh, a, wHh, nb, H, H);
    else if (wantDh0) matmul_ab(dh0 + <usize>b0 * ldh, a, wHh, nb, H, H);
  }
}

// Weight and bias gradients for rows [g0, g1) of the [H, *] weights, after the time loop.
export function rnn_weight_backward(pre: usize, hs: usize, x: usize, tokens: bool,
  dWih: usize, dWhh: usize, dbIh: usize, dbHh: usize, dWihT: usize,
  T: i32, B: i32, X: i32, H: i32, g0: i32, g1: i32, zeroH0: bool): void {
  weight_backward(pre, pre, hs, x, tokens, dWih, dWhh, dbIh, dbHh, dWihT, T * B, zeroH0 ? B : 0, X, H, H, g0, g1);
}

// dx[rows r0..r1) += dA W_ih
export function rnn_input_backward(dx: usize, pre: usize, wIh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  input_backward(dx, pre, wIh, X, H, r0, r1);
}
