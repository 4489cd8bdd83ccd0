import { matmul_ab, matmul_abt } from "./matmul";
import { input_forward, weight_backward, input_backward } from "./layer_common";
import { lstm_cell_forward, lstm_cell_backward } from "./lstm_cell";

// One LSTM layer over a whole sequence, time-major, in the phases the model
// runs between thread barriers. Each phase takes the share of the work it is
// given: rows [r0, r1) of the T*B input rows, batch rows [b0, b1) of the time
// loop (batch rows never interact, so the time loop needs no barrier at all),
// gate rows [g0, g1) of the weight gradients, or hidden units [j0, j1) of the
// peephole gradients.
//
// Dimensions: T steps, B batch rows, X input features, H hidden units, G = 4H.
// Weights in PyTorch's layout: wIh [G, X], wHh [G, H], bIh [G], bHh [G].
// peep: 0 (no peepholes) or [3H], the diagonal weights w_ci, w_cf, w_co.
// hs, cs: [T+1, B, H]. Slot 0 holds h0 / c0 and slot t+1 the state after step t,
//   so hs[0..T) is every h_{t-1} as one contiguous block for the dW_hh product.
// gates: [T, B, G]; tanhC: [T, B, H].

// gates = b_ih + b_hh + x W_ih^T for rows [r0, r1): the input projection of all
// time steps as one product, before the time loop.
export function lstm_input_forward(gates: usize, x: usize, tokens: bool, wIh: usize, wIhT: usize,
  bIh: usize, bHh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  input_forward(gates, x, tokens, wIh, wIhT, bIh, bHh, X, H << 2, r0, r1);
}

// The time loop for batch rows [b0, b1): per step one recurrent product and one
// fused gate kernel. zeroH0: h0 is zeros, so step 0's product adds nothing.
export function lstm_recurrence_forward(gates: usize, hs: usize, cs: usize, tanhC: usize, wHh: usize, peep: usize,
  T: i32, B: i32, H: i32, b0: i32, b1: i32, zeroH0: bool): void {
  const G = H << 2, nb = b1 - b0;
  if (nb <= 0) return;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0), next = <usize>((t + 1) * B + b0);
    const g = gates + row * (<usize>G << 2);
    const hRow = row * (<usize>H << 2), nRow = next * (<usize>H << 2);
    if (t > 0 || !zeroH0) matmul_abt(g, hs + hRow, wHh, nb, G, H);
    lstm_cell_forward(g, cs + hRow, cs + nRow, tanhC + hRow, hs + nRow, nb, H, peep);
  }
}

// Backpropagation through time for batch rows [b0, b1).
// gates: activations in, gradients w.r.t. pre-activations out.
// dhs: [T, B, H] gradient w.r.t. the layer's outputs; consumed as the running
//   dh (each step's recurrent product adds into the slot of the step before).
// dc: [B, H] gradient w.r.t. c_T in (zero: the loss sees only h), w.r.t. c0 out.
// dh0: [B, H] accumulates the gradient w.r.t. h0 (when wantDh0; dc's c0 part is cheap and always there).
export function lstm_recurrence_backward(gates: usize, cs: usize, tanhC: usize, dhs: usize, dh0: usize, dc: usize,
  wHh: usize, peep: usize, T: i32, B: i32, H: i32, b0: i32, b1: i32, wantDh0: bool): void {
  const G = H << 2, nb = b1 - b0;
  if (nb <= 0) return;
  const ldh = <usize>H << 2;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    const g = gates + row * (<usize>G << 2);
    lstm_cell_backward(g, cs + row * ldh, tanhC + row * ldh, dhs + row * ldh, dc + <usize>b0 * ldh, nb, H, peep);
    // dh_{t-1} += dG_t * W_hh
    if (t > 0) matmul_ab(dhs + <usize>((t - 1) * B + b0) * ldh, g, wHh, nb, H, G);
    else if (wantDh0) matmul_ab(dh0 + <usize>b0 * ldh, g, wHh, nb, H, G);
  }
}

// Weight and bias gradients for gate rows [g0, g1), after the time loop: dW_hh and
// dW_ih each one product over all T*B rows, the biases column sums of dG.
// dWihT: [X, G] scratch for token input. zeroH0: h0 is zeros (its rows add nothing to dW_hh).
export function lstm_weight_backward(gates: usize, hs: usize, x: usize, tokens: bool,
  dWih: usize, dWhh: usize, dbIh: usize, dbHh: usize, dWihT: usize,
  T: i32, B: i32, X: i32, H: i32, g0: i32, g1: i32, zeroH0: bool): void {
  weight_backward(gates, gates, hs, x, tokens, dWih, dWhh, dbIh, dbHh, dWihT, T * B, zeroH0 ? B : 0, X, H, H << 2, g0, g1);
}

// Peephole gradients for hidden units [j0, j1), after the time loop:
//   dw_ci = sum dA_i * c_{t-1}   dw_cf = sum dA_f * c_{t-1}   dw_co = sum dA_o * c_t
// over all T*B rows in row order (the same bits for any split of the units).
// dPeep: [3H] accumulates; gates hold the gradients w.r.t. pre-activations.
export function lstm_peephole_backward(dPeep: usize, gates: usize, cs: usize, T: i32, B: i32, H: i32, j0: i32, j1: i32): void {
  if (j1 <= j0) return;
  const rows = T * B, ldh = <usize>H << 2, ldg = ldh << 2;
  const next = <usize>B * ldh; // c_t is B rows after c_{t-1}
  for (let r = 0; r < rows; r++) {
    const g = gates + <usize>r * ldg, cp = cs + <usize>r * ldh;
    column_dot_add(dPeep, g, cp, j0, j1);                   // input gate
    column_dot_add(dPeep + ldh, g + ldh, cp, j0, j1);       // forget gate
    column_dot_add(dPeep + 2 * ldh, g + 3 * ldh, cp + next, j0, j1); // output gate
  }
}

// out[j] += a[j] * c[j] for j in [j0, j1)
// @ts-ignore: decorator
@inline function column_dot_add(out: usize, a: usize, c: usize, j0: i32, j1: i32): void {
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const o = <usize>j << 2;
    v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.mul(v128.load(a + o), v128.load(c + o))));
  }
  for (; j < j1; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, load<f32>(out + o) + load<f32>(a + o) * load<f32>(c + o));
  }
}

// dx[rows r0..r1] += dG W_ih  (dense input, or the layer below's output gradient)
export function lstm_input_backward(dx: usize, gates: usize, wIh: usize, X: i32, H: i32, r0: i32, r1: i32): void {
  input_backward(dx, gates, wIh, X, H << 2, r0, r1);
}
