import { matmul_ab, matmul_abt, matmul_atb_rows, fill_rows, add_column_sums_range, transpose_rows } from "./matmul";
import { lstm_input_forward, lstm_recurrence_forward, lstm_recurrence_backward, lstm_weight_backward, lstm_input_backward } from "./lstm_layer";
import { softmax_cross_entropy_forward, softmax_cross_entropy_backward, mean_f64 } from "./softmax_cross_entropy";
import { sum_of_squares, scale_array, sgd_update, adam_update, rms_update } from "./optimizers";
import { barrier, share_start, start_job, wait_job, C_GEN, C_DESC, JOB_EXIT } from "./parallel";

// The whole model: numLayers stacked LSTM layers, a Linear head H -> V, softmax
// cross-entropy on every position. A descriptor (i32/f32 slots written by the
// TypeScript side, which owns the memory layout) names every buffer, so one call
// runs a whole training step. The slot numbers are mirrored in
// packages/lstm-wasm/src/layout.ts; DESCRIPTOR_VERSION guards the pairing.
//
// Every step function runs on every thread of the model with its thread id
// (tid of nt); see parallel.ts for how work is shared.
// Dimensions: L layers, X input size, H hidden, V output size, T steps, B batch.

export const DESCRIPTOR_VERSION: i32 = 2;

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
export const HEADER_SLOTS = 40;

export const L_W_IH = 0;
export const L_W_HH = 1;
export const L_B_IH = 2;
export const L_B_HH = 3;
export const L_DW_IH = 4;
export const L_DW_HH = 5;
export const L_DB_IH = 6;
export const L_DB_HH = 7;
export const L_W_IHT = 8;   // [X, G] transposed W_ih, token input only
export const L_GATES = 9;
export const L_HS = 10;     // [T+1, B, H], slot 0 = h0
export const L_CS = 11;     // [T+1, B, H], slot 0 = c0
export const L_TANHC = 12;
export const L_DHS = 13;
export const L_DC = 14;     // [B, H]: after backward, the gradient w.r.t. c0
export const L_DH0 = 15;    // [B, H]: after backward, the gradient w.r.t. h0
export const L_DW_IHT = 16;
export const LAYER_SLOTS = 17;

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

// Forward through every layer and the head; with targets, the mean loss into S_LOSS.
function forward(d: usize, tid: i32, nt: i32, w: bool, withLoss: bool): void {
  const L = slot(d, S_L), X = slot(d, S_X), H = slot(d, S_H), V = slot(d, S_V);
  const T = slot(d, S_T), B = slot(d, S_B), G = H << 2;
  const ctl = ptr(d, S_CTL);
  const rows = T * B;
  const r0 = share_start(rows, tid, nt, ALIGN), r1 = share_start(rows, tid + 1, nt, ALIGN);
  const b0 = share_start(B, tid, nt, ALIGN), b1 = share_start(B, tid + 1, nt, ALIGN);
  const stepState = <usize>B * <usize>H << 2;
  const tokens = slot(d, S_TOKENS) != 0;
  for (let k = 0; k < L; k++) {
    const Xk = k == 0 ? X : H;
    const tok = k == 0 && tokens;
    const input = k == 0 ? ptr(d, S_INPUTS) : lptr(d, k - 1, L_HS) + stepState;
    if (tok) {
      transpose_rows(lptr(d, k, L_W_IHT), lptr(d, k, L_W_IH), G, Xk, share_start(G, tid, nt, ALIGN), share_start(G, tid + 1, nt, ALIGN));
      barrier(ctl, nt, w);
    }
    lstm_input_forward(lptr(d, k, L_GATES), input, tok, lptr(d, k, L_W_IH), lptr(d, k, L_W_IHT),
      lptr(d, k, L_B_IH), lptr(d, k, L_B_HH), Xk, H, r0, r1);
    barrier(ctl, nt, w);
    lstm_recurrence_forward(lptr(d, k, L_GATES), lptr(d, k, L_HS), lptr(d, k, L_CS), lptr(d, k, L_TANHC),
      lptr(d, k, L_W_HH), T, B, H, b0, b1);
    barrier(ctl, nt, w);
  }
  // head: logits = h W^T + b, PyTorch's Linear with its [V, H] weight as stored
  if (r1 > r0) {
    const logits = ptr(d, S_LOGITS) + <usize>r0 * (<usize>V << 2);
    fill_rows(logits, ptr(d, S_HEAD_B), 0, r1 - r0, V);
    matmul_abt(logits, lptr(d, L - 1, L_HS) + stepState + <usize>r0 * (<usize>H << 2), ptr(d, S_HEAD_W), r1 - r0, V, H);
    if (withLoss) softmax_cross_entropy_forward(ptr(d, S_LSE) + (<usize>r0 << 2), ptr(d, S_ROW_LOSS) + (<usize>r0 << 3),
      logits, ptr(d, S_TARGETS) + (<usize>r0 << 2), r1 - r0, V);
  }
  barrier(ctl, nt, w);
  if (tid == 0) store<f32>(d + (<usize>S_LOSS << 2), withLoss ? <f32>mean_f64(ptr(d, S_ROW_LOSS), rows) : 0);
}

// zero a buffer of n floats, this thread's part
// @ts-ignore: decorator
@inline function zero_share(p: usize, n: i32, tid: i32, nt: i32): void {
  const a = share_start(n, tid, nt, ALIGN), b = share_start(n, tid + 1, nt, ALIGN);
  if (b > a) memory.fill(p + (<usize>a << 2), 0, <usize>(b - a) << 2);
}

// Backward in exact reverse order of forward. Gradient buffers are zeroed here,
// then every kernel accumulates.
function backward(d: usize, tid: i32, nt: i32, w: bool): void {
  const L = slot(d, S_L), X = slot(d, S_X), H = slot(d, S_H), V = slot(d, S_V);
  const T = slot(d, S_T), B = slot(d, S_B), G = H << 2;
  const ctl = ptr(d, S_CTL);
  const rows = T * B;
  const r0 = share_start(rows, tid, nt, ALIGN), r1 = share_start(rows, tid + 1, nt, ALIGN);
  const b0 = share_start(B, tid, nt, ALIGN), b1 = share_start(B, tid + 1, nt, ALIGN);
  const g0 = share_start(G, tid, nt, ALIGN), g1 = share_start(G, tid + 1, nt, ALIGN);
  const stepState = <usize>B * <usize>H << 2;
  const tokens = slot(d, S_TOKENS) != 0;
  const inputGrad = ptr(d, S_INPUT_GRAD);
  zero_share(ptr(d, S_GRADS), slot(d, S_N_PARAMS), tid, nt);
  for (let k = 0; k < L; k++) {
    zero_share(lptr(d, k, L_DHS), rows * H, tid, nt);
    zero_share(lptr(d, k, L_DC), B * H, tid, nt);
    zero_share(lptr(d, k, L_DH0), B * H, tid, nt);
  }
  if (inputGrad && !tokens) zero_share(inputGrad, rows * X, tid, nt);
  barrier(ctl, nt, w);

  // head: softmax cross-entropy and the Linear layer
  const dlogits = ptr(d, S_DLOGITS);
  const top = lptr(d, L - 1, L_HS) + stepState;
  if (r1 > r0) {
    const ldv = <usize>V << 2;
    softmax_cross_entropy_backward(dlogits + <usize>r0 * ldv, ptr(d, S_LOGITS) + <usize>r0 * ldv, ptr(d, S_LSE) + (<usize>r0 << 2),
      ptr(d, S_TARGETS) + (<usize>r0 << 2), r1 - r0, V, rows);
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
    lstm_recurrence_backward(lptr(d, k, L_GATES), lptr(d, k, L_CS), lptr(d, k, L_TANHC), lptr(d, k, L_DHS),
      lptr(d, k, L_DH0), lptr(d, k, L_DC), lptr(d, k, L_W_HH), T, B, H, b0, b1);
    barrier(ctl, nt, w);
    const input = k == 0 ? ptr(d, S_INPUTS) : lptr(d, k - 1, L_HS) + stepState;
    lstm_weight_backward(lptr(d, k, L_GATES), lptr(d, k, L_HS), input, tok,
      lptr(d, k, L_DW_IH), lptr(d, k, L_DW_HH), lptr(d, k, L_DB_IH), lptr(d, k, L_DB_HH), lptr(d, k, L_DW_IHT),
      T, B, Xk, H, g0, g1);
    const dx: usize = k == 0 ? (tok ? 0 : inputGrad) : lptr(d, k - 1, L_DHS);
    if (dx) lstm_input_backward(dx, lptr(d, k, L_GATES), lptr(d, k, L_W_IH), Xk, H, r0, r1);
    barrier(ctl, nt, w);
  }
}

// The final state (slot T) becomes the initial state (slot 0) of the next call:
// truncated BPTT across chunks, and generation one token at a time.
function carry_state(d: usize, tid: i32, nt: i32): void {
  const L = slot(d, S_L), H = slot(d, S_H), T = slot(d, S_T), B = slot(d, S_B);
  const b0 = share_start(B, tid, nt, ALIGN), b1 = share_start(B, tid + 1, nt, ALIGN);
  if (b1 <= b0) return;
  const ldh = <usize>H << 2, n = <usize>(b1 - b0) * ldh;
  const from = (<usize>T * <usize>B + <usize>b0) * ldh, to = <usize>b0 * ldh;
  for (let k = 0; k < L; k++) {
    memory.copy(lptr(d, k, L_HS) + to, lptr(d, k, L_HS) + from, n);
    memory.copy(lptr(d, k, L_CS) + to, lptr(d, k, L_CS) + from, n);
  }
}

// Clip by global norm, then one optimizer loop over this thread's share.
function update(d: usize, tid: i32, nt: i32, w: bool): void {
  const ctl = ptr(d, S_CTL);
  const p = ptr(d, S_PARAMS), g = ptr(d, S_GRADS), n = slot(d, S_N_PARAMS);
  if (tid == 0) {
    // torch.nn.utils.clip_grad_norm_: scale by maxNorm / (norm + 1e-6) above maxNorm
    const norm = Math.sqrt(sum_of_squares(g, n));
    const maxNorm = fslot(d, S_CLIP);
    store<f32>(d + (<usize>S_GRAD_NORM << 2), <f32>norm);
    store<f32>(d + (<usize>S_SCALE << 2), maxNorm > 0 && norm > <f64>maxNorm ? <f32>(<f64>maxNorm / (norm + 1e-6)) : 1);
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
  forward(d, tid, nt, w, job != JOB_FORWARD);
  if (job == JOB_GRADIENTS || job == JOB_TRAIN) backward(d, tid, nt, w);
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
