// Entry point of lstm.wasm: every export is a raw-pointer kernel over the one
// linear memory. The TypeScript package owns the layout; see packages/lstm-wasm.
export { matmul_ab, matmul_atb, matmul_abt, transpose, add_column_sums } from "./matmul";
export { exp_array, sigmoid_array, tanh_array } from "./simd_math";
export { lstm_cell_forward, lstm_cell_backward } from "./lstm_cell";
export { lstm_layer_forward, lstm_layer_backward } from "./lstm_layer";
export { softmax_cross_entropy_forward, softmax_cross_entropy_backward } from "./softmax_cross_entropy";
export { clip_grad_norm, sgd_update, adam_update, rms_update } from "./optimizers";
export { DESCRIPTOR_VERSION, model_forward, model_backward, compute_gradients, train_step, run_forward, carry_state, apply_update } from "./model";

// First free byte after static data: the TypeScript side lays its buffers out from here.
export function heap_base(): usize { return __heap_base; }
