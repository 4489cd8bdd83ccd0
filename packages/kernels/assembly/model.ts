import { matmul_ab, matmul_abt, matmul_atb_rows, use_strip_buffer, fill_rows, add_column_sums_range, transpose_rows } from "./matmul";
import { lstm_input_forward, lstm_recurrence_forward, lstm_recurrence_backward, lstm_weight_backward, lstm_peephole_backward, lstm_input_backward } from "./lstm_layer";
import { gru_input_forward, gru_recurrence_forward, gru_recurrence_backward, gru_weight_backward, gru_input_backward } from "./gru_layer";
import { rnn_input_forward, rnn_recurrence_forward, rnn_recurrence_backward, rnn_weight_backward, rnn_input_backward } from "./rnn_layer";
import { softmax_cross_entropy_forward, softmax_cross_entropy_backward, mean_f64 } from "./softmax_cross_entropy";
import { mse_forward_row, mse_backward_row, sum_f64 } from "./mse";
import { sum_of_squares, scale_array, clip_factor, sgd_update, adam_update, rms_update } from "./optimizers";
import { barrier, share_start, start_job, wait_job, C_GEN, C_DESC, JOB_EXIT } from "./parallel";

// The whole model: numLayers stacked recurrent layers (LSTM, optionally with
// peepholes; GRU; or vanilla tanh RNN), a Linear head H -> V and a loss: softmax
// cross-entropy or mean squared error, on every position or on each sequence's
// last one, optionally with per-sequence lengths (positions past a sequence's
// length take no part in the loss, so no gradient either). A descriptor (i32/f32 slots written by the
// TypeScript side, which owns the memory layout) names every buffer, so one call
// runs a whole training step. The slot numbers are mirrored in
// packages/lstm-wasm/src/layout.ts; DESCRIPTOR_VERSION guards the pairing.
//
// Every step function runs on every thread of the model with its thread id
// (tid of nt); see parallel.ts for how work is shared.
// Dimensions: L layers, X input size, H hidden, V output size, T steps, B batch.

export const DESCRIPTOR_VERSION: i32 = 4;

export const S_L = 0;
export const S_X = 1;
export const S_H = 2;
export const S_V = 3;
export const S_T = 4;
export const S_B = 5;
export const S_TOKENS = 6;
export const S_INPUTS = 7;
export const S_TARGETS = 8;
export const S_INPUT_GRAD = 9;
export const S_PARAMS = 10;
export const S_GRADS = 11;
export const S_N_PARAMS = 12;
export const S_HEAD_W = 13;
export const S_HEAD_B = 14;
export const S_HEAD_DW = 15;
export const S_HEAD_DB = 16;
export const S_LOGITS = 17;
export const S_DLOGITS = 18;
export const S_LSE = 19;
export const S_OPT_KIND = 20;
export const S_OPT_M = 21;
export const S_OPT_V = 22;
export const S_LR = 23;       // f32
export const S_BETA1 = 24;    // f32: momentum (SGD), beta1 (Adam), alpha (RMSprop)
export const S_BETA2 = 25;    // f32
export const S_EPS = 26;      // f32
export const S_WD = 27;       // f32
export const S_CLIP = 28;     // f32, 0 = no clipping
export const S_STEP_SIZE = 29; // f32, Adam: lr / (1 - beta1^t)
export const S_INV_BC2 = 30;  // f32, Adam: 1 / (1 - beta2^t)
export const S_GRAD_NORM = 31; // f32 out: global gradient norm before clipping
export const S_LOSS = 32;     // f32 out
export const S_CARRY = 33;    // 1: the final state becomes the next call's initial state
export const S_C1 = 34;       // f32, 1 - beta1 computed in f64
export const S_C2 = 35;       // f32, 1 - beta2 computed in f64
export const S_CTL = 36;      // thread control block (parallel.ts)
export const S_THREADS = 37;  // threads sharing this job
export const S_ROW_LOSS = 38; // [T*B] f64 per-row losses
export const S_SCALE = 39;    // f32: the clipping factor thread 0 computed
export const S_CELL = 40;     // CELL_*
export const S_LOSS_KIND = 41; // LOSS_*
export const S_LENGTHS = 42;  // [B] i32 sequence lengths in [1, T], or 0: every sequence has T steps
export const S_LOSS_COUNT = 43; // positions that take part in the loss (the mean's denominator, times V for MSE)
export const S_ZERO_STATE = 44; // 1: every layer's initial state is zeros, so the products with it are skipped
export const HEADER_SLOTS = 45;

export const L_W_IH = 0;
export const L_W_HH = 1;
export const L_B_IH = 2;
export const L_B_HH = 3;
export const L_DW_IH = 4;
export const L_DW_HH = 5;
export const L_DB_IH = 6;
export const L_DB_HH = 7;
export const L_W_IHT = 8;   // [X, G] transposed W_ih, token input only
export const L_GATES = 9;   // [T, B, G]; G = 4H (LSTM), 3H (GRU), H (RNN)
export const L_HS = 10;     // [T+1, B, H], slot 0 = h0
export const L_CS = 11;     // [T+1, B, H], slot 0 = c0 (LSTM only)
export const L_TANHC = 12;
export const L_DHS = 13;
export const L_DC = 14;     // [B, H]: after backward, the gradient w.r.t. c0
export const L_DH0 = 15;    // [B, H]: after backward, the gradient w.r.t. h0
export const L_DW_IHT = 16;
export const L_GATES_H = 17; // GRU: [T, B, 3H] recurrent projections, then their gradients
export const L_PEEP = 18;    // LSTM with peepholes: [3H] w_ci, w_cf, w_co; 0 = no peepholes
export const L_DPEEP = 19;   // their gradient
export const LAYER_SLOTS = 20;

export const CELL_LSTM = 0;
export const CELL_GRU = 1;
export const CELL_RNN = 2;

export const LOSS_CE = 0;       // softmax cross-entropy on every position; targets i32 [T, B]
export const LOSS_MSE = 1;      // mean squared error on every position; targets f32 [T, B, V]
export const LOSS_MSE_LAST = 2; // mean squared error on each sequence's last step; targets f32 [B, V]
export const LOSS_CE_LAST = 3;  // softmax cross-entropy on each sequence's last step; targets i32 [B]

export const OPT_NONE = 0;
export const OPT_SGD = 1;
export const OPT_ADAM = 2;
export const OPT_ADAMW = 3;
export const OPT_RMSPROP = 4;
export const OPT_ADAGRAD = 5;

// @ts-ignore: decorator
@inline function slot(d: usize, s: i32): i32 { return load<i32>(d + (<usize>s << 2)); }
// @ts-ignore: decorator
@inline function ptr(d: usize, s: i32): usize { return <usize>load<i32>(d + (<usize>s << 2)); }
// @ts-ignore: decorator
@inline function fslot(d: usize, s: i32): f32 { return load<f32>(d + (<usize>s << 2)); }
// @ts-ignore: decorator
@inline function lptr(d: usize, k: i32, s: i32): usize { return ptr(d, HEADER_SLOTS + k * LAYER_SLOTS + s); }

export const JOB_FORWARD = 1;
export const JOB_FORWARD_LOSS = 2;
export const JOB_GRADIENTS = 3;
export const JOB_TRAIN = 4;

// Shares are cut at multiples of 4 rows: a whole number of matmul tiles (and an
// even row count, which matmul_abt's row pairs need for identical bits).
const ALIGN = 4;

// Width of a layer's gate block.
// @ts-ignore: decorator
@inline function gate_width(cell: i32, H: i32): i32 { return cell == CELL_LSTM ? H << 2 : cell == CELL_GRU ? H * 3 : H; }

// Does the position of row r (t = r / B, b = r % B) take part in the loss?
// Every position up to the sequence's length, or only its last one.
// @ts-ignore: decorator
@inline function in_loss(d: usize, r: i32, T: i32, B: i32, last: bool): bool {
  const lengths = ptr(d, S_LENGTHS);
  const t = r / B, len = lengths ? load<i32>(lengths + (<usize>(r % B) << 2)) : T;
  return last ? t == len - 1 : t < len;
}

// @ts-ignore: decorator
@inline function is_last_kind(kind: i32): bool { return kind == LOSS_MSE_LAST || kind == LOSS_CE_LAST; }

// Each row's loss into S_ROW_LOSS (0 for rows outside the loss), rows [r0, r1).
function loss_forward(d: usize, r0: i32, r1: i32): void {
  const T = slot(d, S_T), B = slot(d, S_B), V = slot(d, S_V);
  const kind = slot(d, S_LOSS_KIND);
  const logits = ptr(d, S_LOGITS), targets = ptr(d, S_TARGETS), rowLoss = ptr(d, S_ROW_LOSS), lse = ptr(d, S_LSE);
  const ldv = <usize>V << 2;
  if (kind == LOSS_CE && !ptr(d, S_LENGTHS)) {
    softmax_cross_entropy_forward(lse + (<usize>r0 << 2), rowLoss + (<usize>r0 << 3), logits + <usize>r0 * ldv,
      targets + (<usize>r0 << 2), r1 - r0, V);
    return;
  }
  const last = is_last_kind(kind);
  for (let r = r0; r < r1; r++) {
    const rl = rowLoss + (<usize>r << 3);
    if (!in_loss(d, r, T, B, last)) { store<f64>(rl, 0); continue; }
    const tr = <usize>(last ? r % B : r); // the target's row
    if (kind == LOSS_CE || kind == LOSS_CE_LAST) softmax_cross_entropy_forward(lse + (<usize>r << 2), rl, logits + <usize>r * ldv, targets + (tr << 2), 1, V);
    else mse_forward_row(rl, logits + <usize>r * ldv, targets + tr * ldv, V);
  }
}

// The gradient w.r.t. the head's outputs into S_DLOGITS, rows [r0, r1): zero for rows outside the loss.
function loss_backward(d: usize, r0: i32, r1: i32): void {
  const T = slot(d, S_T), B = slot(d, S_B), V = slot(d, S_V);
  const kind = slot(d, S_LOSS_KIND), count = slot(d, S_LOSS_COUNT);
  const logits = ptr(d, S_LOGITS), targets = ptr(d, S_TARGETS), dlogits = ptr(d, S_DLOGITS), lse = ptr(d, S_LSE);
  const ldv = <usize>V << 2;
  if (kind == LOSS_CE && !ptr(d, S_LENGTHS)) {
    softmax_cross_entropy_backward(dlogits + <usize>r0 * ldv, logits + <usize>r0 * ldv, lse + (<usize>r0 << 2),
      targets + (<usize>r0 << 2), r1 - r0, V, T * B);
    return;
  }
  const last = is_last_kind(kind);
  const scale = <f32>(2.0 / (<f64>count * <f64>V));
  for (let r = r0; r < r1; r++) {
    const dl = dlogits + <usize>r * ldv, y = logits + <usize>r * ldv;
    if (!in_loss(d, r, T, B, last)) { memory.fill(dl, 0, ldv); continue; }
    const tr = <usize>(last ? r % B : r);
    if (kind == LOSS_CE || kind == LOSS_CE_LAST) softmax_cross_entropy_backward(dl, y, lse + (<usize>r << 2), targets + (tr << 2), 1, V, count);
    else mse_backward_row(dl, y, targets + tr * ldv, V, scale);
  }
}

// Forward through every layer and the head; with targets, the mean loss into S_LOSS.
function forward(d: usize, tid: i32, nt: i32, w: bool, withLoss: bool): void {
  const L = slot(d, S_L), X = slot(d, S_X), H = slot(d, S_H), V = slot(d, S_V);
  const T = slot(d, S_T), B = slot(d, S_B), cell = slot(d, S_CELL), G = gate_width(cell, H);
  const ctl = ptr(d, S_CTL);
  const rows = T * B;
  const r0 = share_start(rows, tid, nt, ALIGN), r1 = share_start(rows, tid + 1, nt, ALIGN);
  const b0 = share_start(B, tid, nt, ALIGN), b1 = share_start(B, tid + 1, nt, ALIGN);
  const stepState = <usize>B * <usize>H << 2;
  const tokens = slot(d, S_TOKENS) != 0;
  const zeroState = slot(d, S_ZERO_STATE) != 0;
  for (let k = 0; k < L; k++) {
    const Xk = k == 0 ? X : H;
    const tok = k == 0 && tokens;
    const input = k == 0 ? ptr(d, S_INPUTS) : lptr(d, k - 1, L_HS) + stepState;
    // Token input adds a column of W_ih per row. With many rows (training) a
    // transposed copy makes those columns contiguous; with fewer rows than
    // tokens (generation: one row) reading the columns in place is cheaper than
    // the transpose (which cost 0.25 ms a token at H=256).
    const wIhT = tok && rows > Xk ? lptr(d, k, L_W_IHT) : 0;
    if (wIhT) {
      transpose_rows(wIhT, lptr(d, k, L_W_IH), G, Xk, share_start(G, tid, nt, ALIGN), share_start(G, tid + 1, nt, ALIGN));
      barrier(ctl, nt, w);
    }
    if (cell == CELL_LSTM) {
      lstm_input_forward(lptr(d, k, L_GATES), input, tok, lptr(d, k, L_W_IH), wIhT,
        lptr(d, k, L_B_IH), lptr(d, k, L_B_HH), Xk, H, r0, r1);
      barrier(ctl, nt, w);
      lstm_recurrence_forward(lptr(d, k, L_GATES), lptr(d, k, L_HS), lptr(d, k, L_CS), lptr(d, k, L_TANHC),
        lptr(d, k, L_W_HH), lptr(d, k, L_PEEP), T, B, H, b0, b1, zeroState);
    } else if (cell == CELL_GRU) {
      gru_input_forward(lptr(d, k, L_GATES), input, tok, lptr(d, k, L_W_IH), wIhT,
        lptr(d, k, L_B_IH), Xk, H, r0, r1);
      barrier(ctl, nt, w);
      gru_recurrence_forward(lptr(d, k, L_GATES), lptr(d, k, L_GATES_H), lptr(d, k, L_HS),
        lptr(d, k, L_W_HH), lptr(d, k, L_B_HH), T, B, H, b0, b1, zeroState);
    } else {
      rnn_input_forward(lptr(d, k, L_GATES), input, tok, lptr(d, k, L_W_IH), wIhT,
        lptr(d, k, L_B_IH), lptr(d, k, L_B_HH), Xk, H, r0, r1);
      barrier(ctl, nt, w);
      rnn_recurrence_forward(lptr(d, k, L_GATES), lptr(d, k, L_HS), lptr(d, k, L_W_HH), T, B, H, b0, b1, zeroState);
    }
    barrier(ctl, nt, w);
  }
  // head: logits = h W^T + b, PyTorch's Linear with its [V, H] weight as stored
  if (r1 > r0) {
    const logits = ptr(d, S_LOGITS) + <usize>r0 * (<usize>V << 2);
    fill_rows(logits, ptr(d, S_HEAD_B), 0, r1 - r0, V);
    matmul_abt(logits, lptr(d, L - 1, L_HS) + stepState + <usize>r0 * (<usize>H << 2), ptr(d, S_HEAD_W), r1 - r0, V, H);
    if (withLoss) loss_forward(d, r0, r1);
  }
  barrier(ctl, nt, w);
  if (tid == 0) {
    let loss: f64 = 0;
    if (withLoss) {
      const kind = slot(d, S_LOSS_KIND);
      if (kind == LOSS_CE && !ptr(d, S_LENGTHS)) loss = mean_f64(ptr(d, S_ROW_LOSS), rows);
      else {
        const per = kind == LOSS_MSE || kind == LOSS_MSE_LAST ? <f64>V : 1;
        loss = sum_f64(ptr(d, S_ROW_LOSS), rows) / (<f64>slot(d, S_LOSS_COUNT) * per);
      }
    }
    store<f32>(d + (<usize>S_LOSS << 2), <f32>loss);
  }
}

// zero a buffer of n floats, this thread's part
// @ts-ignore: decorator
@inline function zero_share(p: usize, n: i32, tid: i32, nt: i32): void {
  const a = share_start(n, tid, nt, ALIGN), b = share_start(n, tid + 1, nt, ALIGN);
  if (b > a) memory.fill(p + (<usize>a << 2), 0, <usize>(b - a) << 2);
}

// Backward in exact reverse order of forward. Gradient buffers are zeroed here,
// then every kernel accumulates.
// stateGrad: whether the gradient w.r.t. the initial state is wanted (a training
// step does not read it: its last recurrent product is skipped).
function backward(d: usize, tid: i32, nt: i32, w: bool, stateGrad: bool): void {
  const L = slot(d, S_L), X = slot(d, S_X), H = slot(d, S_H), V = slot(d, S_V);
  const T = slot(d, S_T), B = slot(d, S_B), cell = slot(d, S_CELL), G = gate_width(cell, H);
  const ctl = ptr(d, S_CTL);
  const rows = T * B;
  const r0 = share_start(rows, tid, nt, ALIGN), r1 = share_start(rows, tid + 1, nt, ALIGN);
  const b0 = share_start(B, tid, nt, ALIGN), b1 = share_start(B, tid + 1, nt, ALIGN);
  const g0 = share_start(G, tid, nt, ALIGN), g1 = share_start(G, tid + 1, nt, ALIGN);
  const j0 = share_start(H, tid, nt, ALIGN), j1 = share_start(H, tid + 1, nt, ALIGN);
  const stepState = <usize>B * <usize>H << 2;
  const tokens = slot(d, S_TOKENS) != 0;
  const inputGrad = ptr(d, S_INPUT_GRAD);
  const zeroState = slot(d, S_ZERO_STATE) != 0;
  zero_share(ptr(d, S_GRADS), slot(d, S_N_PARAMS), tid, nt);
  for (let k = 0; k < L; k++) {
    zero_share(lptr(d, k, L_DHS), rows * H, tid, nt);
    if (cell == CELL_LSTM) zero_share(lptr(d, k, L_DC), B * H, tid, nt);
    zero_share(lptr(d, k, L_DH0), B * H, tid, nt);
  }
  if (inputGrad && !tokens) zero_share(inputGrad, rows * X, tid, nt);
  barrier(ctl, nt, w);

  // head: the loss and the Linear layer
  const dlogits = ptr(d, S_DLOGITS);
  const top = lptr(d, L - 1, L_HS) + stepState;
  if (r1 > r0) {
    const ldv = <usize>V << 2;
    loss_backward(d, r0, r1);
    matmul_ab(lptr(d, L - 1, L_DHS) + <usize>r0 * (<usize>H << 2), dlogits + <usize>r0 * ldv, ptr(d, S_HEAD_W), r1 - r0, H, V);
  }
  barrier(ctl, nt, w);
  const v0 = share_start(V, tid, nt, ALIGN), v1 = share_start(V, tid + 1, nt, ALIGN);
  matmul_atb_rows(ptr(d, S_HEAD_DW), dlogits, top, V, H, rows, v0, v1);
  add_column_sums_range(ptr(d, S_HEAD_DB), dlogits, rows, V, v0, v1);

  // layers, top to bottom; each one's input gradient is the output gradient of the one below
  for (let k = L - 1; k >= 0; k--) {
    const Xk = k == 0 ? X : H;
    const tok = k == 0 && tokens;
    const input = k == 0 ? ptr(d, S_INPUTS) : lptr(d, k - 1, L_HS) + stepState;
    const dx: usize = k == 0 ? (tok ? 0 : inputGrad) : lptr(d, k - 1, L_DHS);
    const gates = lptr(d, k, L_GATES);
    if (cell == CELL_LSTM) {
      lstm_recurrence_backward(gates, lptr(d, k, L_CS), lptr(d, k, L_TANHC), lptr(d, k, L_DHS),
        lptr(d, k, L_DH0), lptr(d, k, L_DC), lptr(d, k, L_W_HH), lptr(d, k, L_PEEP), T, B, H, b0, b1, stateGrad);
      barrier(ctl, nt, w);
      lstm_weight_backward(gates, lptr(d, k, L_HS), input, tok,
        lptr(d, k, L_DW_IH), lptr(d, k, L_DW_HH), lptr(d, k, L_DB_IH), lptr(d, k, L_DB_HH), lptr(d, k, L_DW_IHT),
        T, B, Xk, H, g0, g1, zeroState);
      if (lptr(d, k, L_PEEP)) lstm_peephole_backward(lptr(d, k, L_DPEEP), gates, lptr(d, k, L_CS), T, B, H, j0, j1);
      if (dx) lstm_input_backward(dx, gates, lptr(d, k, L_W_IH), Xk, H, r0, r1);
    } else if (cell == CELL_GRU) {
      gru_recurrence_backward(gates, lptr(d, k, L_GATES_H), lptr(d, k, L_HS), lptr(d, k, L_DHS), lptr(d, k, L_DH0),
        lptr(d, k, L_W_HH), T, B, H, b0, b1, stateGrad);
      barrier(ctl, nt, w);
      gru_weight_backward(gates, lptr(d, k, L_GATES_H), lptr(d, k, L_HS), input, tok,
        lptr(d, k, L_DW_IH), lptr(d, k, L_DW_HH), lptr(d, k, L_DB_IH), lptr(d, k, L_DB_HH), lptr(d, k, L_DW_IHT),
        T, B, Xk, H, g0, g1, zeroState);
      if (dx) gru_input_backward(dx, gates, lptr(d, k, L_W_IH), Xk, H, r0, r1);
    } else {
      rnn_recurrence_backward(gates, lptr(d, k, L_DHS), lptr(d, k, L_DH0), lptr(d, k, L_W_HH), T, B, H, b0, b1, stateGrad);
      barrier(ctl, nt, w);
      rnn_weight_backward(gates, lptr(d, k, L_HS), input, tok,
        lptr(d, k, L_DW_IH), lptr(d, k, L_DW_HH), lptr(d, k, L_DB_IH), lptr(d, k, L_DB_HH), lptr(d, k, L_DW_IHT),
        T, B, Xk, H, g0, g1, zeroState);
      if (dx) rnn_input_backward(dx, gates, lptr(d, k, L_W_IH), Xk, H, r0, r1);
    }
    barrier(ctl, nt, w);
  }
}

// Each sequence's final state (slot T, or slot lengths[b] when sequences have
// their own lengths) becomes the initial state (slot 0) of the next call:
// truncated BPTT across chunks, and generation one step at a time.
function carry_state(d: usize, tid: i32, nt: i32): void {
  const L = slot(d, S_L), H = slot(d, S_H), T = slot(d, S_T), B = slot(d, S_B);
  const b0 = share_start(B, tid, nt, ALIGN), b1 = share_start(B, tid + 1, nt, ALIGN);
  if (b1 <= b0) return;
  const lstm = slot(d, S_CELL) == CELL_LSTM;
  const lengths = ptr(d, S_LENGTHS);
  const ldh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const t = lengths ? load<i32>(lengths + (<usize>b << 2)) : T;
    const from = (<usize>t * <usize>B + <usize>b) * ldh, to = <usize>b * ldh;
    for (let k = 0; k < L; k++) {
      memory.copy(lptr(d, k, L_HS) + to, lptr(d, k, L_HS) + from, ldh);
      if (lstm) memory.copy(lptr(d, k, L_CS) + to, lptr(d, k, L_CS) + from, ldh);
    }
  }
}

// Clip by global norm, then one optimizer loop over this thread's share.
function update(d: usize, tid: i32, nt: i32, w: bool): void {
  const ctl = ptr(d, S_CTL);
  const p = ptr(d, S_PARAMS), g = ptr(d, S_GRADS), n = slot(d, S_N_PARAMS);
  if (tid == 0) {
    // the norm on one thread (a fixed summation order), the scaling on every thread's share
    const norm = Math.sqrt(sum_of_squares(g, n));
    store<f32>(d + (<usize>S_GRAD_NORM << 2), <f32>norm);
    store<f32>(d + (<usize>S_SCALE << 2), clip_factor(norm, fslot(d, S_CLIP)));
  }
  barrier(ctl, nt, w);
  const i0 = share_start(n, tid, nt, ALIGN), i1 = share_start(n, tid + 1, nt, ALIGN);
  if (i1 <= i0) return;
  const o = <usize>i0 << 2, m = i1 - i0;
  const scale = fslot(d, S_SCALE);
  if (scale != 1) scale_array(g + o, m, scale);
  const kind = slot(d, S_OPT_KIND);
  const lr = fslot(d, S_LR), b1 = fslot(d, S_BETA1), b2 = fslot(d, S_BETA2), eps = fslot(d, S_EPS), wd = fslot(d, S_WD);
  if (kind == OPT_SGD) sgd_update(p + o, g + o, ptr(d, S_OPT_M) + o, m, lr, b1, wd);
  else if (kind == OPT_ADAM || kind == OPT_ADAMW)
    adam_update(p + o, g + o, ptr(d, S_OPT_M) + o, ptr(d, S_OPT_V) + o, m, lr, b1, b2, fslot(d, S_C1), fslot(d, S_C2), eps, wd,
      fslot(d, S_STEP_SIZE), fslot(d, S_INV_BC2), kind == OPT_ADAMW);
  else if (kind == OPT_RMSPROP) rms_update(p + o, g + o, ptr(d, S_OPT_V) + o, m, lr, b1, fslot(d, S_C1), eps, wd);
  else if (kind == OPT_ADAGRAD) rms_update(p + o, g + o, ptr(d, S_OPT_V) + o, m, lr, 1, 1, eps, wd);
}

// One job on one thread. Ends at a barrier, so when the main thread returns
// every thread is done.
function run_job(d: usize, job: i32, tid: i32, nt: i32, w: bool): void {
  use_strip_buffer(tid);
  forward(d, tid, nt, w, job != JOB_FORWARD);
  if (job == JOB_GRADIENTS || job == JOB_TRAIN) backward(d, tid, nt, w, job == JOB_GRADIENTS);
  if (slot(d, S_CARRY)) carry_state(d, tid, nt);
  if (job == JOB_TRAIN) update(d, tid, nt, w);
  barrier(ptr(d, S_CTL), nt, w);
}

// The main thread's entry for every job: forward (JOB_FORWARD, JOB_FORWARD_LOSS),
// forward + backward (JOB_GRADIENTS), or a whole training step (JOB_TRAIN).
// canWait: false on a browser's main thread, which may not block.
// Returns the loss (0 without targets).
export function run(d: usize, job: i32, canWait: bool): f32 {
  const nt = max(1, slot(d, S_THREADS));
  start_job(ptr(d, S_CTL), job, d, nt);
  run_job(d, job, 0, nt, canWait);
  return fslot(d, S_LOSS);
}

// A worker thread's whole life: sleep until a job, run its share, repeat until told to exit.
export function worker_loop(ctl: usize, tid: i32): void {
  let seen = 0;
  while (true) {
    const job = wait_job(ctl, seen);
    seen = atomic.load<i32>(ctl + (<usize>C_GEN << 2));
    if (job == JOB_EXIT) return;
    const d = <usize>atomic.load<i32>(ctl + (<usize>C_DESC << 2));
    const nt = slot(d, S_THREADS);
    if (tid < nt) run_job(d, job, tid, nt, true);
  }
}
