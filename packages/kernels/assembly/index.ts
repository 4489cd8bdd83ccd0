// Entry point of lstm.wasm: every export is a raw-pointer kernel over the one
// linear memory. The TypeScript package owns the layout; see packages/lstm-wasm.
export { matmul_ab, matmul_atb, matmul_atb_rows, matmul_abt, transpose, add_column_sums } from "./matmul";
export { exp_array, sigmoid_array, tanh_array } from "./simd_math";
export { lstm_cell_forward, lstm_cell_backward } from "./lstm_cell";
export { lstm_input_forward, lstm_recurrence_forward, lstm_recurrence_backward, lstm_weight_backward, lstm_peephole_backward, lstm_input_backward } from "./lstm_layer";
export { gru_cell_forward, gru_cell_backward } from "./gru_cell";
export { rnn_cell_forward, rnn_cell_backward } from "./rnn_cell";
export { softmax_cross_entropy_forward, softmax_cross_entropy_backward, mean_f64 } from "./softmax_cross_entropy";
export { mse_forward_row, mse_backward_row } from "./mse";
export { clip_grad_norm, sgd_update, adam_update, rms_update } from "./optimizers";
export { DESCRIPTOR_VERSION, run, worker_loop } from "./model";

// heap_base(): the first free byte; the TypeScript side lays its buffers out from there.
export { heap_base } from "./matmul";
