import { matmul_ab, matmul_atb, matmul_abt, fill_rows, add_column_sums } from "./matmul";
import { lstm_layer_forward, lstm_layer_backward } from "./lstm_layer";
import { softmax_cross_entropy_forward, softmax_cross_entropy_backward } from "./softmax_cross_entropy";
import { clip_grad_norm, sgd_update, adam_update, rms_update } from "./optimizers";

// The whole model: numLayers stacked LSTM layers, a Linear head H -> V, softmax
// cross-entropy on every position. A descriptor (i32/f32 slots written by the
// TypeScript side, which owns the memory layout) names every buffer, so one call
// runs a whole training step. The slot numbers are mirrored in
// packages/lstm-wasm/src/layout.ts; DESCRIPTOR_VERSION guards the pairing.
//
// Dimensions: L layers, X input size, H hidden, V output size, T steps, B batch.

export const DESCRIPTOR_VERSION: i32 = 1;

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
export const HEADER_SLOTS = 36;

export const L_W_IH = 0;
export const L_W_HH = 1;
export const L_B_IH = 2;
export const L_B_HH = 3;
export const L_DW_IH = 4;
export const L_DW_HH = 5;
export const L_DB_IH = 6;
export const L_DB_HH = 7;
export const L_W_IHT = 8;
export const L_W_HHT = 9;
export const L_GATES = 10;
export const L_HS = 11;     // [T+1, B, H], slot 0 = h0
export const L_CS = 12;     // [T+1, B, H], slot 0 = c0
export const L_TANHC = 13;
export const L_DHS = 14;
export const L_DC = 15;     // [B, H]: after backward, the gradient w.r.t. c0
export const L_DH0 = 16;    // [B, H]: after backward, the gradient w.r.t. h0
export const L_DW_IHT = 17;
export const LAYER_SLOTS = 18;

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

// Forward through every layer and the head; with targets, the mean loss.
export function model_forward(d: usize, withLoss: bool): f32 {
  const L = slot(d, S_L), X = slot(d, S_X), H = slot(d, S_H), V = slot(d, S_V);
  const T = slot(d, S_T), B = slot(d, S_B);
  const rows = T * B;
  const stepState = <usize>B * <usize>H << 2;
  for (let k = 0; k < L; k++) {
    const input = k == 0 ? ptr(d, S_INPUTS) : lptr(d, k - 1, L_HS) + stepState;
    lstm_layer_forward(lptr(d, k, L_GATES), lptr(d, k, L_HS), lptr(d, k, L_CS), lptr(d, k, L_TANHC),
      input, k == 0 && slot(d, S_TOKENS) != 0,
      lptr(d, k, L_W_IH), lptr(d, k, L_W_HH), lptr(d, k, L_B_IH), lptr(d, k, L_B_HH),
      lptr(d, k, L_W_IHT), lptr(d, k, L_W_HHT), T, B, k == 0 ? X : H, H);
  }
  // head: logits = h W^T + b, PyTorch's Linear with its [V, H] weight as stored
  const logits = ptr(d, S_LOGITS);
  fill_rows(logits, ptr(d, S_HEAD_B), 0, rows, V);
  matmul_abt(logits, lptr(d, L - 1, L_HS) + stepState, ptr(d, S_HEAD_W), rows, V, H);
  let loss: f32 = 0;
  if (withLoss) loss = <f32>softmax_cross_entropy_forward(ptr(d, S_LSE), logits, ptr(d, S_TARGETS), rows, V);
  store<f32>(d + (<usize>S_LOSS << 2), loss);
  return loss;
}

// Backward in exact reverse order of model_forward. Gradient buffers are zeroed
// here, then every kernel accumulates.
export function model_backward(d: usize): void {
  const L = slot(d, S_L), X = slot(d, S_X), H = slot(d, S_H), V = slot(d, S_V);
  const T = slot(d, S_T), B = slot(d, S_B);
  const rows = T * B;
  const stepState = <usize>B * <usize>H << 2;
  const seqState = <usize>rows * <usize>H << 2;
  memory.fill(ptr(d, S_GRADS), 0, <usize>slot(d, S_N_PARAMS) << 2);
  for (let k = 0; k < L; k++) {
    memory.fill(lptr(d, k, L_DHS), 0, seqState);
    memory.fill(lptr(d, k, L_DC), 0, stepState);
    memory.fill(lptr(d, k, L_DH0), 0, stepState);
  }
  const inputGrad = ptr(d, S_INPUT_GRAD);
  const tokens = slot(d, S_TOKENS) != 0;
  if (inputGrad && !tokens) memory.fill(inputGrad, 0, <usize>rows * <usize>X << 2);

  // head
  const dlogits = ptr(d, S_DLOGITS);
  const top = lptr(d, L - 1, L_HS) + stepState;
  softmax_cross_entropy_backward(dlogits, ptr(d, S_LOGITS), ptr(d, S_LSE), ptr(d, S_TARGETS), rows, V);
  matmul_ab(lptr(d, L - 1, L_DHS), dlogits, ptr(d, S_HEAD_W), rows, H, V);
  matmul_atb(ptr(d, S_HEAD_DW), dlogits, top, V, H, rows);
  add_column_sums(ptr(d, S_HEAD_DB), dlogits, rows, V);

  // layers, top to bottom; each one's input gradient is the output gradient of the one below
  for (let k = L - 1; k >= 0; k--) {
    const input = k == 0 ? ptr(d, S_INPUTS) : lptr(d, k - 1, L_HS) + stepState;
    const dx = k == 0 ? inputGrad : lptr(d, k - 1, L_DHS);
    lstm_layer_backward(lptr(d, k, L_GATES), lptr(d, k, L_HS), lptr(d, k, L_CS), lptr(d, k, L_TANHC),
      lptr(d, k, L_DHS), lptr(d, k, L_DH0), lptr(d, k, L_DC),
      input, k == 0 && tokens, dx,
      lptr(d, k, L_W_IH), lptr(d, k, L_W_HH), lptr(d, k, L_DW_IH), lptr(d, k, L_DW_HH),
      lptr(d, k, L_DB_IH), lptr(d, k, L_DB_HH), lptr(d, k, L_DW_IHT), T, B, k == 0 ? X : H, H);
  }
}

// The final state (slot T) becomes the initial state (slot 0) of the next call:
// truncated BPTT across chunks, and generation one token at a time.
export function carry_state(d: usize): void {
  const L = slot(d, S_L), H = slot(d, S_H), T = slot(d, S_T), B = slot(d, S_B);
  const stepState = <usize>B * <usize>H << 2;
  for (let k = 0; k < L; k++) {
    memory.copy(lptr(d, k, L_HS), lptr(d, k, L_HS) + <usize>T * stepState, stepState);
    memory.copy(lptr(d, k, L_CS), lptr(d, k, L_CS) + <usize>T * stepState, stepState);
  }
}

export function compute_gradients(d: usize): f32 {
  const loss = model_forward(d, true);
  model_backward(d);
  return loss;
}

// Inference: forward (loss when targets are given), then carry the state if asked.
export function run_forward(d: usize, withLoss: bool): f32 {
  const loss = model_forward(d, withLoss);
  if (slot(d, S_CARRY)) carry_state(d);
  return loss;
}

// One training step in one call: forward, backward, clip, update.
export function train_step(d: usize): f32 {
  const loss = compute_gradients(d);
  if (slot(d, S_CARRY)) carry_state(d);
  apply_update(d);
  return loss;
}

// Clip and update from the gradients already in place.
export function apply_update(d: usize): void {
  const p = ptr(d, S_PARAMS), g = ptr(d, S_GRADS), n = slot(d, S_N_PARAMS);
  const norm = clip_grad_norm(g, n, fslot(d, S_CLIP));
  store<f32>(d + (<usize>S_GRAD_NORM << 2), norm);
  const kind = slot(d, S_OPT_KIND);
  const lr = fslot(d, S_LR), b1 = fslot(d, S_BETA1), b2 = fslot(d, S_BETA2), eps = fslot(d, S_EPS), wd = fslot(d, S_WD);
  if (kind == OPT_SGD) sgd_update(p, g, ptr(d, S_OPT_M), n, lr, b1, wd);
  else if (kind == OPT_ADAM || kind == OPT_ADAMW)
    adam_update(p, g, ptr(d, S_OPT_M), ptr(d, S_OPT_V), n, lr, b1, b2, fslot(d, S_C1), fslot(d, S_C2), eps, wd,
      fslot(d, S_STEP_SIZE), fslot(d, S_INV_BC2), kind == OPT_ADAMW);
  else if (kind == OPT_RMSPROP) rms_update(p, g, ptr(d, S_OPT_V), n, lr, b1, fslot(d, S_C1), eps, wd);
  else if (kind == OPT_ADAGRAD) rms_update(p, g, ptr(d, S_OPT_V), n, lr, 1, 1, eps, wd);
}
