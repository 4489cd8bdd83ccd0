export { createModel, LstmModel } from './model.js';
export type { ModelConfig, Batch, ForwardInput, ForwardResult, GradientResult, OptimizerConfig, OptimizerState, State } from './model.js';
export type { TensorSpec } from './layout.js';
export { parameterSpecs } from './layout.js';
export { LstmError } from './errors.js';
export { Rng } from './rng.js';
export { compileKernels, type WasmSource } from './load.js';
export { capabilities, type Capabilities } from './capabilities.js';
