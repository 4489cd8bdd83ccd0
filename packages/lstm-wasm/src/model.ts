import { instantiate } from '@assemblyscript/loader';
import { LstmError, checkInt, checkNumber, checkFloats, checkIds, describe } from './errors.js';
import { compileKernels, importsMemory, type WasmSource } from './load.js';
import { capabilities, isNode } from './capabilities.js';
import { startThreads, type Threads } from './threads.js';
import { Rng } from './rng.js';
import { toSafetensors as exportSafetensors, type SafetensorsExportOptions } from './safetensors.js';
import { toONNX as exportONNX, type OnnxExportOptions } from './onnx.js';
import {
  Arena, CELL_KIND, DESCRIPTOR_VERSION, HEADER_SLOTS, JOB, LAYER_SLOTS, LOSS_KIND, LS, OPT_KIND, S,
  layoutParams, layoutWorkspace, parameterSpecs,
  type CellType, type Dims, type LossType, type ParamBlock, type TensorSpec, type Workspace,
} from './layout.js';

export type { CellType, LossType } from './layout.js';

export interface ModelConfig {
  /** Features per time step; with token input, the vocabulary size. */
  inputSize: number;
  hiddenSize: number;
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Classes of the softmax head, or outputs of the regression head. */
  outputSize: number;
  /**
   * The recurrent cell (default 'lstm'): 'lstm' (nn.LSTM), 'gru' (nn.GRU: gates r, z, n,
   * the reset gate applied to W_hn h + b_hn) or 'rnn' (nn.RNN with tanh). Parameters are
   * named after a PyTorch module attribute of that name: 'gru.weight_ih_l0' [3H, X], ...
   */
  cell?: CellType;
  /**
   * LSTM only: peephole connections, diagonal weights from c_{t-1} to the input and
   * forget gates and from c_t to the output gate, as parameters 'lstm.weight_ci_l{k}',
   * 'lstm.weight_cf_l{k}', 'lstm.weight_co_l{k}' [H] each (default false).
   */
  peepholes?: boolean;
  /**
   * The loss and the shape of `targets` (default 'crossEntropy'):
   * - 'crossEntropy': softmax cross-entropy on every step; targets Int32Array [T, B] class ids
   *   (language models);
   * - 'crossEntropyLast': softmax cross-entropy on each sequence's last step; targets
   *   Int32Array [B] (classification of whole sequences);
   * - 'mse': mean squared error of the linear head on every step; targets Float32Array
   *   [T, B, outputSize] (time series regression);
   * - 'mseLast': mean squared error on each sequence's last step; targets Float32Array
   *   [B, outputSize].
   * The mean runs over the positions that take part (and, for MSE, the outputSize values
   * of each, as torch.nn.MSELoss); with `lengths`, over each sequence's own steps.
   */
  loss?: LossType;
  /** Seed of the initialisation (default 1). */
  seed?: number;
  /**
   * Forget-gate bias at initialisation (default 1, as char-rnn): bias_ih's forget
   * block is set to it and bias_hh's to 0. null keeps PyTorch's uniform init.
   */
  forgetBias?: number | null;
  /**
   * Threads sharing each step (default: up to 4, as many as the machine has, when
   * shared memory is available: Node, or a cross-origin isolated page; else 1).
   * Results are bit-identical for every thread count.
   */
  threads?: number;
  /** Use the fused multiply-add build where the runtime has relaxed SIMD (default true). */
  relaxedSimd?: boolean;
  /** Where to load the kernels from; by default the lstm*.wasm files beside this module. */
  wasm?: WasmSource;
}

/**
 * Hidden and cell state, each [numLayers, batchSize, hiddenSize]. GRU and RNN have no
 * cell state: their `c` is empty (length 0).
 */
export interface State { h: Float32Array; c: Float32Array }
/** An initial state: { h, c } for the LSTM, { h } for GRU and RNN. */
export interface InitialState { h: Float32Array; c?: Float32Array }

export interface Batch {
  /** Dense input, time-major [seqLength, batchSize, inputSize]. */
  inputs?: Float32Array;
  /** Token input, [seqLength, batchSize] ids in [0, inputSize). */
  tokens?: Int32Array;
  /**
   * What the loss compares with (see ModelConfig.loss): [seqLength, batchSize] class ids
   * in [0, outputSize) by default; [batchSize] ids for 'crossEntropyLast'; Float32Array
   * [seqLength, batchSize, outputSize] for 'mse', [batchSize, outputSize] for 'mseLast'.
   */
  targets: Int32Array | Float32Array;
  seqLength: number;
  batchSize: number;
  /**
   * Sequences of different lengths in one batch: [batchSize] lengths in [1, seqLength].
   * Steps t >= lengths[b] are padding: they take no part in the loss or the gradients, a
   * sequence's "last step" is lengths[b] - 1, and its final state is the state there.
   * Absent: every sequence has seqLength steps.
   */
  lengths?: Int32Array;
  /** Initial state; zeros when absent (unless `stateful`). */
  initialState?: InitialState;
  /**
   * Truncated BPTT: start from the final state the previous stateful call of the
   * same (seqLength, batchSize) left, and leave this call's final state for the next.
   */
  stateful?: boolean;
}

export type ForwardInput = Omit<Batch, 'targets'> & { targets?: Int32Array | Float32Array };

export interface GradientResult {
  /** The mean loss (ModelConfig.loss) over the positions that take part. */
  loss: number;
  /** Same names and layouts as getParameters(). */
  grads: Record<string, Float32Array>;
  /** Gradient w.r.t. `inputs` [T, B, X], when dense inputs were given. */
  inputGrad?: Float32Array;
  initialStateGrad: State;
  finalState: State;
  /** The head's outputs, [seqLength, batchSize, outputSize] (logits, or predictions for MSE). */
  logits: Float32Array;
  /** The head's outputs at each sequence's last step (lengths[b] - 1, or seqLength - 1), [batchSize, outputSize]. */
  lastOutputs: Float32Array;
}

export interface ForwardResult {
  /** The head's outputs, [seqLength, batchSize, outputSize] (logits, or predictions for MSE). */
  logits: Float32Array;
  /** The head's outputs at each sequence's last step, [batchSize, outputSize]. */
  lastOutputs: Float32Array;
  finalState: State;
  loss?: number;
}

interface OptimizerCommon { lr: number; weightDecay?: number; /** clip gradients to this global L2 norm */ clipNorm?: number }
/** torch.optim semantics and defaults. */
export type OptimizerConfig =
  | ({ type: 'sgd'; momentum?: number } & OptimizerCommon)
  | ({ type: 'adam' | 'adamw'; beta1?: number; beta2?: number; eps?: number } & OptimizerCommon)
  | ({ type: 'rmsprop'; alpha?: number; eps?: number } & OptimizerCommon)
  | ({ type: 'adagrad'; eps?: number } & OptimizerCommon);

type CheckedOptimizer = Required<OptimizerCommon> & { type: OptimizerConfig['type']; b1: number; b2: number; eps: number };

/** Moments in the flat parameter layout, and the step count, to checkpoint training. */
export interface OptimizerState { type: OptimizerConfig['type'] | 'none'; step: number; m: Float32Array; v: Float32Array }

type Kernels = {
  memory: WebAssembly.Memory;
  DESCRIPTOR_VERSION: WebAssembly.Global;
  heap_base(): number;
  run(d: number, job: number, canWait: number): number;
};

const MAX_SIZE = 1 << 20;
const MAX_SHAPES = 8;
// the threads build declares a 2 GiB maximum; a private memory can reach 4 GiB
const SHARED_MAX_PAGES = 32768;
// Below this many rows per step, waking other threads costs more than it saves.
const MIN_ROWS_PER_THREAD = 32;

export async function createModel(config: ModelConfig): Promise<LstmModel> {
  const where = 'createModel';
  if (config === null || typeof config !== 'object') throw new LstmError(`${where}: config must be an object, got ${describe(config)}`);
  const dims: Dims = {
    X: checkInt(where, 'inputSize', config.inputSize, 1, MAX_SIZE),
    H: checkInt(where, 'hiddenSize', config.hiddenSize, 1, MAX_SIZE),
    L: checkInt(where, 'numLayers', config.numLayers ?? 1, 1, 64),
    V: checkInt(where, 'outputSize', config.outputSize, 1, MAX_SIZE),
  };
  const cell = config.cell ?? 'lstm';
  if (typeof cell !== 'string' || !Object.hasOwn(CELL_KIND, cell)) throw new LstmError(`${where}: cell must be one of ${Object.keys(CELL_KIND).join(', ')}, got ${describe(cell)}`);
  const peepholes = config.peepholes ?? false;
  if (typeof peepholes !== 'boolean') throw new LstmError(`${where}: peepholes must be true or false, got ${describe(peepholes)}`);
  if (peepholes && cell !== 'lstm') throw new LstmError(`${where}: peepholes are an option of the LSTM cell only, not of cell '${cell}'`);
  const loss = config.loss ?? 'crossEntropy';
  if (typeof loss !== 'string' || !Object.hasOwn(LOSS_KIND, loss)) throw new LstmError(`${where}: loss must be one of ${Object.keys(LOSS_KIND).join(', ')}, got ${describe(loss)}`);
  dims.cell = cell; dims.peepholes = peepholes; dims.loss = loss;
  const seed = checkInt(where, 'seed', config.seed ?? 1, 0, 2 ** 32 - 1);
  if (cell !== 'lstm' && config.forgetBias !== undefined && config.forgetBias !== null) {
    throw new LstmError(`${where}: forgetBias sets the LSTM's forget-gate bias; cell '${cell}' has no forget gate`);
  }
  const forgetBias = cell !== 'lstm' || config.forgetBias === null ? null : checkNumber(where, 'forgetBias', config.forgetBias ?? 1, -1e6, 1e6);
  const caps = await capabilities();
  if (!caps.simd) {
    throw new LstmError(`${where}: this runtime has no WebAssembly SIMD; @lstm/wasm needs Node >= 16.4, Chrome >= 91, Firefox >= 89 or Safari >= 16.4`);
  }
  let threads = config.threads === undefined ? caps.threadCount : checkInt(where, 'threads', config.threads, 1, 64);
  if (!caps.threads) threads = 1;
  const relaxed = (config.relaxedSimd ?? true) && caps.relaxedSimd;
  const module = config.wasm !== undefined
    ? await compileKernels(config.wasm)
    : await compileKernels(undefined, threads > 1 ? (relaxed ? 'mt-relaxed' : 'mt') : (relaxed ? 'relaxed' : 'simd'));
  const shared = importsMemory(module);
  if (!shared) threads = 1;
  const memory = shared
    ? new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true } as WebAssembly.MemoryDescriptor)
    : undefined;
  const { exports } = await instantiate<Kernels>(module, memory ? { env: { memory } } : {});
  const kernels = (memory ? { ...exports, memory } : exports) as Kernels;
  if ((kernels.DESCRIPTOR_VERSION as unknown as { value: number }).value !== DESCRIPTOR_VERSION) {
    throw new LstmError(`${where}: the wasm's descriptor version does not match this package; rebuild both`);
  }
  const model = new LstmModel(kernels, dims, seed, forgetBias, memory ? SHARED_MAX_PAGES * 65536 : 2 ** 32 - 65536);
  if (threads > 1) await model.startThreads(module, threads);
  return model;
}

export class LstmModel {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly outputSize: number;
  /** The recurrent cell. */
  readonly cell: CellType;
  /** LSTM peephole connections. */
  readonly peepholes: boolean;
  /** The loss, which decides the shape of targets. */
  readonly loss: LossType;
  readonly parameterCount: number;
  private k: Kernels | null;
  private readonly dims: Dims;
  private readonly specs: TensorSpec[];
  private readonly pb: ParamBlock;
  private readonly workspaceStart: number;
  private arena: Arena;
  private shapes = new Map<string, Workspace>();
  private buffer: ArrayBuffer | null = null;
  private f32v!: Float32Array;
  private i32v!: Int32Array;
  private optType: OptimizerState['type'] = 'none';
  private optStep = 0;
  /** the lengths of the last prepared batch, or null (every sequence has T steps) */
  private lengths: Int32Array | null = null;
  private threadPool: Threads | null = null;
  private readonly checkedOpt: CheckedOptimizer = { type: 'sgd', lr: 0, weightDecay: 0, clipNorm: 0, b1: 0, b2: 0, eps: 0 };
  // the last shape used, found again without building its key
  private lastShape: Workspace | null = null;
  private readonly maxBytes: number;
  // a browser page's main thread may not block (Atomics.wait); workers and Node may
  private readonly canWait = isNode() || typeof (globalThis as { document?: unknown }).document === 'undefined' ? 1 : 0;

  /** @internal use createModel */
  constructor(kernels: Kernels, dims: Dims, seed: number, forgetBias: number | null, maxBytes: number) {
    this.k = kernels;
    this.maxBytes = maxBytes;
    this.dims = dims;
    this.inputSize = dims.X; this.hiddenSize = dims.H; this.numLayers = dims.L; this.outputSize = dims.V;
    this.cell = dims.cell ?? 'lstm'; this.peepholes = dims.peepholes ?? false; this.loss = dims.loss ?? 'crossEntropy';
    this.specs = parameterSpecs(dims);
    this.arena = new Arena(kernels.heap_base());
    this.pb = layoutParams(this.arena, dims);
    this.parameterCount = this.pb.n;
    this.workspaceStart = this.arena.end;
    this.reserve('createModel', this.arena.end);
    this.initParameters(seed, forgetBias);
  }

  /**
   * The configuration, as createModel would take it back. cell, peepholes and loss
   * appear only when they are not the defaults (an LSTM language model's config has
   * just the four sizes).
   */
  get config(): Required<Pick<ModelConfig, 'inputSize' | 'hiddenSize' | 'numLayers' | 'outputSize'>> & Pick<ModelConfig, 'cell' | 'peepholes' | 'loss'> {
    const c: ReturnType<() => LstmModel['config']> = { inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, outputSize: this.outputSize };
    if (this.cell !== 'lstm') c.cell = this.cell;
    if (this.peepholes) c.peepholes = true;
    if (this.loss !== 'crossEntropy') c.loss = this.loss;
    return c;
  }

  /** Threads that share each step (1 without shared memory). */
  get threads(): number { return this.threadPool ? this.threadPool.count + 1 : 1; }

  /** @internal starts the worker threads of a threads build */
  async startThreads(module: WebAssembly.Module, threads: number): Promise<void> {
    this.threadPool = await startThreads(module, this.kernels('createModel').memory, this.pb.ctl, threads - 1);
  }

  /** Bytes of wasm linear memory this model holds. */
  get memoryBytes(): number { return this.kernels('memoryBytes').memory.buffer.byteLength; }

  /** Names, shapes and flat offsets of every parameter tensor, in the flat order. */
  get parameterSpecs(): readonly TensorSpec[] { return this.specs; }

  getParameters(): Record<string, Float32Array> {
    this.kernels('getParameters');
    return this.readTensors(this.pb.params);
  }

  setParameters(params: Record<string, Float32Array>): void {
    const where = 'setParameters';
    this.kernels(where);
    if (params === null || typeof params !== 'object') throw new LstmError(`${where}: params must be an object of Float32Arrays, got ${describe(params)}`);
    const known = new Set(this.specs.map((s) => s.name));
    for (const name of Object.keys(params)) {
      if (!known.has(name)) throw new LstmError(`${where}: unknown parameter '${name}'; expected ${[...known].join(', ')}`);
    }
    for (const s of this.specs) {
      if (!(s.name in params)) throw new LstmError(`${where}: missing parameter '${s.name}' [${s.shape.join(', ')}]`);
      checkFloats(where, `params['${s.name}']`, params[s.name], s.length, `[${s.shape.join(', ')}]`);
    }
    const f = this.f32();
    for (const s of this.specs) f.set(params[s.name], this.pb.params / 4 + s.offset);
  }

  /** All parameters as one vector in the flat order of parameterSpecs (a copy). */
  getFlatParameters(): Float32Array {
    this.kernels('getFlatParameters');
    return this.f32().slice(this.pb.params / 4, this.pb.params / 4 + this.pb.n);
  }

  setFlatParameters(flat: Float32Array): void {
    this.kernels('setFlatParameters');
    checkFloats('setFlatParameters', 'flat', flat, this.pb.n, `[${this.pb.n}] (parameterCount)`);
    this.f32().set(flat, this.pb.params / 4);
  }

  getOptimizerState(): OptimizerState {
    this.kernels('getOptimizerState');
    const f = this.f32();
    return {
      type: this.optType, step: this.optStep,
      m: f.slice(this.pb.m / 4, this.pb.m / 4 + this.pb.n), v: f.slice(this.pb.v / 4, this.pb.v / 4 + this.pb.n),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    const where = 'setOptimizerState';
    this.kernels(where);
    if (state === null || typeof state !== 'object') throw new LstmError(`${where}: state must be an object, got ${describe(state)}`);
    if (state.type !== 'none' && !Object.hasOwn(OPT_KIND, state.type)) throw new LstmError(`${where}: state.type must be one of ${Object.keys(OPT_KIND).join(', ')}, got ${describe(state.type)}`);
    checkInt(where, 'state.step', state.step, 0, Number.MAX_SAFE_INTEGER);
    checkFloats(where, 'state.m', state.m, this.pb.n, `[${this.pb.n}]`);
    checkFloats(where, 'state.v', state.v, this.pb.n, `[${this.pb.n}]`);
    const f = this.f32();
    f.set(state.m, this.pb.m / 4);
    f.set(state.v, this.pb.v / 4);
    this.optType = state.type;
    this.optStep = state.step;
  }

  /** Loss, gradients of every parameter, of the inputs and of the initial state. Parameters are unchanged. */
  computeGradients(batch: Batch): GradientResult {
    const where = 'computeGradients';
    const ws = this.prepare(where, batch, true);
    const loss = this.run(where, JOB.gradients);
    const f = this.f32();
    const { T, B } = ws;
    const { L, H, X, V } = this.dims;
    const stateLen = B * H;
    const lstm = this.cell === 'lstm';
    const initialStateGrad = { h: new Float32Array(L * stateLen), c: new Float32Array(lstm ? L * stateLen : 0) };
    for (let l = 0; l < L; l++) {
      initialStateGrad.h.set(f.subarray(ws.layers[l].DH0 / 4, ws.layers[l].DH0 / 4 + stateLen), l * stateLen);
      if (lstm) initialStateGrad.c.set(f.subarray(ws.layers[l].DC / 4, ws.layers[l].DC / 4 + stateLen), l * stateLen);
    }
    const logits = f.slice(ws.logits / 4, ws.logits / 4 + T * B * V);
    const result: GradientResult = {
      loss,
      grads: this.readTensors(this.pb.grads),
      initialStateGrad,
      finalState: this.readFinalState(ws),
      logits,
      lastOutputs: this.lastOutputs(logits, T, B),
    };
    if (batch.inputs) result.inputGrad = f.slice(ws.inputGrad / 4, ws.inputGrad / 4 + T * B * X);
    return result;
  }

  /** One training step (forward, backward, clipping, update) in one call into wasm. Returns the loss before the update. */
  trainStep(batch: Batch, optimizer: OptimizerConfig): number {
    const where = 'trainStep';
    this.kernels(where);
    const opt = this.checkOptimizer(where, optimizer);
    this.prepare(where, batch, true);
    if (opt.type !== this.optType) {
      // a different optimizer starts from fresh moments
      const f = this.f32();
      f.fill(0, this.pb.m / 4, this.pb.m / 4 + this.pb.n);
      f.fill(0, this.pb.v / 4, this.pb.v / 4 + this.pb.n);
      this.optType = opt.type;
      this.optStep = 0;
    }
    this.optStep++;
    this.writeOptimizer(opt);
    return this.run(where, JOB.train);
  }

  /** Forward only: logits and final state, and the loss when targets are given. */
  forward(input: ForwardInput): ForwardResult {
    const where = 'forward';
    const ws = this.prepare(where, input, input.targets !== undefined);
    const loss = this.run(where, input.targets !== undefined ? JOB.forwardLoss : JOB.forward);
    const f = this.f32();
    const logits = f.slice(ws.logits / 4, ws.logits / 4 + ws.T * ws.B * this.dims.V);
    const out: ForwardResult = { logits, lastOutputs: this.lastOutputs(logits, ws.T, ws.B), finalState: this.readFinalState(ws) };
    if (input.targets !== undefined) out.loss = loss;
    return out;
  }

  /**
   * One time step, carrying the state inside the model from call to call (generation,
   * and running a time series on). A Float32Array is dense input [batch, inputSize]
   * (batch = length / inputSize); any other array of numbers is one token id per stream
   * (batch = its length). Returns the head's outputs [batch, outputSize]. resetState()
   * starts over from zeros.
   */
  step(input: ArrayLike<number>): Float32Array {
    const where = 'step';
    this.kernels(where);
    let ws: Workspace;
    if (input instanceof Float32Array) {
      const X = this.dims.X;
      if (input.length === 0 || input.length % X !== 0) {
        throw new LstmError(`${where}: dense input must be a Float32Array [batch, inputSize=${X}], a whole number of rows of ${X}; got ${input.length} values`);
      }
      const B = checkInt(where, 'batch', input.length / X, 1, MAX_SIZE);
      ws = this.prepare(where, { inputs: input, seqLength: 1, batchSize: B, stateful: true }, false);
    } else {
      const B = checkInt(where, 'tokens.length', input?.length, 1, MAX_SIZE);
      const ids = input instanceof Int32Array ? input : Int32Array.from(input);
      ws = this.prepare(where, { tokens: ids, seqLength: 1, batchSize: B, stateful: true }, false);
    }
    this.run(where, JOB.forward);
    return this.f32().slice(ws.logits / 4, ws.logits / 4 + ws.B * this.dims.V);
  }

  /**
   * Forecasts a time series by feeding the model's own predictions back as inputs
   * (needs outputSize = inputSize, a model that predicts its next input). Starts from
   * zero state, runs `history` ([T, batchSize, inputSize], time-major) through step(),
   * then predicts `steps` more steps. Returns [steps, batchSize, outputSize]: the
   * prediction after the history, then the prediction from that one, and so on. The
   * carried state of this batch size is left where the last step left it, so
   * step(lastPrediction) continues the forecast.
   */
  forecast(history: Float32Array, steps: number, batchSize = 1): Float32Array {
    const where = 'forecast';
    this.kernels(where);
    const { X, V } = this.dims;
    if (X !== V) throw new LstmError(`${where}: forecasting feeds predictions back as inputs, so outputSize (${V}) must equal inputSize (${X})`);
    const B = checkInt(where, 'batchSize', batchSize, 1, MAX_SIZE);
    const n = checkInt(where, 'steps', steps, 1, MAX_SIZE);
    if (!(history instanceof Float32Array) || history.length === 0 || history.length % (B * X) !== 0) {
      throw new LstmError(`${where}: history must be a Float32Array [T >= 1, batchSize=${B}, inputSize=${X}], got ${describe(history)}`);
    }
    checkFloats(where, 'history', history, history.length, `[T, batchSize=${B}, inputSize=${X}]`);
    const T = history.length / (B * X);
    this.zeroState(this.workspace(where, 1, B));
    let pred: Float32Array = new Float32Array(0);
    for (let t = 0; t < T; t++) pred = this.step(history.subarray(t * B * X, (t + 1) * B * X));
    const out = new Float32Array(n * B * V);
    out.set(pred, 0);
    for (let i = 1; i < n; i++) {
      pred = this.step(pred);
      out.set(pred, i * B * V);
    }
    return out;
  }

  /** Zeros the carried state of every shape (stateful training and step()), or of one (seqLength, batchSize). */
  resetState(seqLength?: number, batchSize?: number): void {
    const where = 'resetState';
    this.kernels(where);
    if (seqLength === undefined && batchSize === undefined) {
      for (const ws of this.shapes.values()) this.zeroState(ws);
      return;
    }
    const ws = this.shapes.get(`${checkInt(where, 'seqLength', seqLength, 1, MAX_SIZE)}x${checkInt(where, 'batchSize', batchSize, 1, MAX_SIZE)}`);
    if (ws) this.zeroState(ws);
  }

  /**
   * The state that stateful calls of this (seqLength, batchSize) carry into the
   * next one (a copy; zeros before the first call). Saved with a checkpoint and
   * restored by setCarriedState, truncated-BPTT training resumes exactly.
   */
  getCarriedState(seqLength: number, batchSize: number): State {
    const where = 'getCarriedState';
    this.kernels(where);
    const T = checkInt(where, 'seqLength', seqLength, 1, MAX_SIZE), B = checkInt(where, 'batchSize', batchSize, 1, MAX_SIZE);
    const ws = this.workspace(where, T, B);
    const f = this.f32(), { L, H } = this.dims, n = B * H;
    const lstm = this.cell === 'lstm';
    const st = { h: new Float32Array(L * n), c: new Float32Array(lstm ? L * n : 0) };
    for (let l = 0; l < L; l++) {
      st.h.set(f.subarray(ws.layers[l].HS / 4, ws.layers[l].HS / 4 + n), l * n);
      if (lstm) st.c.set(f.subarray(ws.layers[l].CS / 4, ws.layers[l].CS / 4 + n), l * n);
    }
    return st;
  }

  /** Sets the state the next stateful call of this (seqLength, batchSize) starts from. */
  setCarriedState(seqLength: number, batchSize: number, state: InitialState): void {
    const where = 'setCarriedState';
    this.kernels(where);
    const T = checkInt(where, 'seqLength', seqLength, 1, MAX_SIZE), B = checkInt(where, 'batchSize', batchSize, 1, MAX_SIZE);
    const { L, H } = this.dims, n = B * H;
    const lstm = this.cell === 'lstm';
    const want = lstm ? '{ h, c }' : '{ h }';
    if (state === null || typeof state !== 'object') throw new LstmError(`${where}: state must be ${want}, got ${describe(state)}`);
    const shape = `[numLayers=${L}, batchSize=${B}, hiddenSize=${H}]`;
    checkFloats(where, 'state.h', state.h, L * n, shape);
    if (lstm) checkFloats(where, 'state.c', state.c, L * n, shape);
    else if (state.c !== undefined && state.c.length !== 0) throw new LstmError(`${where}: state.c: a ${this.cell.toUpperCase()} has no cell state; give { h }`);
    const ws = this.workspace(where, T, B);
    const f = this.f32();
    for (let l = 0; l < L; l++) {
      f.set(state.h.subarray(l * n, (l + 1) * n), ws.layers[l].HS / 4);
      if (lstm) f.set(state.c!.subarray(l * n, (l + 1) * n), ws.layers[l].CS / 4);
    }
  }

  /** Zeros the initial-state slots of one shape. */
  private zeroState(ws: Workspace): void {
    const f = this.f32();
    for (const l of ws.layers) {
      f.fill(0, l.HS / 4, l.HS / 4 + ws.B * this.dims.H);
      if (l.CS) f.fill(0, l.CS / 4, l.CS / 4 + ws.B * this.dims.H);
    }
  }

  /** The parameters as a safetensors file with PyTorch's state_dict names (see safetensors.ts). */
  toSafetensors(options?: SafetensorsExportOptions): Uint8Array { return exportSafetensors(this, options); }

  /** The inference graph as an ONNX model (LSTM/GRU/RNN nodes, the head, Softmax; see onnx.ts). */
  toONNX(options?: OnnxExportOptions): Uint8Array { return exportONNX(this, options); }

  /** Frees the wasm instance; every later call throws. */
  dispose(): void {
    this.threadPool?.stop();
    this.threadPool = null;
    this.k = null;
    this.buffer = null;
    this.shapes.clear();
    this.lastShape = null;
  }

  get disposed(): boolean { return this.k === null; }

  // ---- internals ----

  private kernels(where: string): Kernels {
    if (this.k === null) throw new LstmError(`${where}: the model was disposed; create a new one`);
    return this.k;
  }

  /** Runs a kernel, turning any trap into an LstmError (validation should make that unreachable). */
  /** Runs one job in the kernels (no closure: this is the per-step hot path), turning a trap into an LstmError. */
  private run(where: string, job: number): number {
    const k = this.kernels(where);
    try {
      return k.run(this.pb.desc, job, this.canWait);
    } catch (e) {
      throw new LstmError(`${where}: the kernel failed (${(e as Error).message})`);
    }
  }

  private f32(): Float32Array {
    const buf = this.kernels('memory').memory.buffer;
    if (buf !== this.buffer) {
      // views die when memory grows: re-derive them
      this.buffer = buf;
      this.f32v = new Float32Array(buf);
      this.i32v = new Int32Array(buf);
    }
    return this.f32v;
  }

  private i32(): Int32Array { this.f32(); return this.i32v; }

  private reserve(where: string, bytes: number): void {
    if (bytes > this.maxBytes) {
      throw new LstmError(`${where}: this model and shape need ${bytes} bytes, more than the ${this.maxBytes >= 2 ** 32 - 65536 ? '4 GiB a wasm32 memory' : '2 GiB the threads build\'s memory'} can hold; use smaller sizes`);
    }
    const mem = this.kernels(where).memory;
    const have = mem.buffer.byteLength;
    if (bytes <= have) return;
    try {
      mem.grow(Math.ceil((bytes - have) / 65536));
    } catch (e) {
      throw new LstmError(`${where}: could not grow wasm memory to ${bytes} bytes (${(e as Error).message}); use smaller sizes`);
    }
  }

  private workspace(where: string, T: number, B: number): Workspace {
    if (this.lastShape && this.lastShape.T === T && this.lastShape.B === B) return this.lastShape;
    const key = `${T}x${B}`;
    let ws = this.shapes.get(key);
    if (ws) return (this.lastShape = ws);
    if (this.shapes.size >= MAX_SHAPES) {
      // too many shapes kept: start the workspace area over
      this.shapes.clear();
      this.lastShape = null;
      this.arena = new Arena(this.workspaceStart);
    }
    const arena = new Arena(this.arena.end);
    ws = layoutWorkspace(arena, this.dims, T, B);
    this.reserve(where, arena.end);
    this.arena = arena;
    // memory from grow is zero, but a restarted arena reuses old bytes: zero the state slots
    this.zeroState(ws);
    this.shapes.set(key, ws);
    this.lastShape = ws;
    return ws;
  }

  /** Validates a batch, copies it into its workspace and writes the descriptor. Nothing is written before validation passes. */
  private prepare(where: string, batch: ForwardInput, needTargets: boolean): Workspace {
    this.kernels(where);
    if (batch === null || typeof batch !== 'object') throw new LstmError(`${where}: batch must be an object, got ${describe(batch)}`);
    const { L, X, H, V } = this.dims;
    const T = checkInt(where, 'seqLength', batch.seqLength, 1, MAX_SIZE);
    const B = checkInt(where, 'batchSize', batch.batchSize, 1, MAX_SIZE);
    const rows = T * B;
    const hasInputs = batch.inputs !== undefined, hasTokens = batch.tokens !== undefined;
    if (hasInputs === hasTokens) throw new LstmError(`${where}: give exactly one of inputs (Float32Array [T, B, X]) or tokens (Int32Array [T, B])`);
    if (hasInputs) checkFloats(where, 'inputs', batch.inputs, rows * X, `[seqLength=${T}, batchSize=${B}, inputSize=${X}]`);
    else checkIds(where, 'tokens', batch.tokens, rows, X, `[seqLength=${T}, batchSize=${B}] (ids in [0, inputSize=${X}))`);
    const lengths = batch.lengths;
    if (lengths !== undefined) {
      if (!(lengths instanceof Int32Array)) throw new LstmError(`${where}: lengths must be an Int32Array [batchSize=${B}], got ${describe(lengths)}`);
      if (lengths.length !== B) throw new LstmError(`${where}: lengths must have ${B} values [batchSize=${B}], one per sequence, got ${lengths.length}`);
      for (let b = 0; b < B; b++) {
        if (lengths[b] < 1 || lengths[b] > T) {
          throw new LstmError(`${where}: lengths[${b}] is ${lengths[b]}; every length must be in [1, seqLength=${T}]`);
        }
      }
    }
    const loss = this.loss;
    if (needTargets || batch.targets !== undefined) {
      const tg = batch.targets;
      if (loss === 'crossEntropy') {
        if (tg === undefined) throw new LstmError(`${where}: targets (Int32Array [seqLength, batchSize]) is required`);
        checkIds(where, 'targets', tg, rows, V, `[seqLength=${T}, batchSize=${B}] (ids in [0, outputSize=${V}))`);
      } else if (loss === 'crossEntropyLast') {
        if (tg === undefined) throw new LstmError(`${where}: targets (Int32Array [batchSize], one class per sequence) is required`);
        checkIds(where, 'targets', tg, B, V, `[batchSize=${B}] (one class per sequence, ids in [0, outputSize=${V}))`);
      } else if (loss === 'mse') {
        if (tg === undefined) throw new LstmError(`${where}: targets (Float32Array [seqLength, batchSize, outputSize]) is required`);
        checkFloats(where, 'targets', tg, rows * V, `[seqLength=${T}, batchSize=${B}, outputSize=${V}] (loss 'mse')`);
      } else {
        if (tg === undefined) throw new LstmError(`${where}: targets (Float32Array [batchSize, outputSize]) is required`);
        checkFloats(where, 'targets', tg, B * V, `[batchSize=${B}, outputSize=${V}] (loss 'mseLast': one target per sequence)`);
      }
    }
    const st = batch.initialState;
    const lstm = this.cell === 'lstm';
    if (st !== undefined) {
      const want = lstm ? '{ h, c }' : '{ h }';
      if (st === null || typeof st !== 'object') throw new LstmError(`${where}: initialState must be ${want}, got ${describe(st)}`);
      const shape = `[numLayers=${L}, batchSize=${B}, hiddenSize=${H}]`;
      checkFloats(where, 'initialState.h', st.h, L * B * H, shape);
      if (lstm) checkFloats(where, 'initialState.c', st.c, L * B * H, shape);
      else if (st.c !== undefined) throw new LstmError(`${where}: initialState.c: a ${this.cell.toUpperCase()} has no cell state; give initialState as { h }`);
    }
    const ws = this.workspace(where, T, B);
    const f = this.f32(), i = this.i32();
    if (hasInputs) f.set(batch.inputs!, ws.inputs / 4);
    else i.set(batch.tokens!, ws.inputs / 4);
    if (batch.targets instanceof Int32Array) i.set(batch.targets, ws.targets / 4);
    else if (batch.targets !== undefined) f.set(batch.targets, ws.targets / 4);
    if (lengths) i.set(lengths, ws.lengths / 4);
    this.lengths = lengths ?? null;
    const stateLen = B * H;
    for (let l = 0; l < L; l++) {
      const hs = ws.layers[l].HS / 4, cs = ws.layers[l].CS / 4;
      if (st) {
        f.set(st.h.subarray(l * stateLen, (l + 1) * stateLen), hs);
        if (lstm) f.set(st.c!.subarray(l * stateLen, (l + 1) * stateLen), cs);
      } else if (!batch.stateful) {
        f.fill(0, hs, hs + stateLen);
        if (lstm) f.fill(0, cs, cs + stateLen);
      }
    }
    // positions that take part in the loss
    const last = loss === 'mseLast' || loss === 'crossEntropyLast';
    const count = last ? B : lengths ? lengths.reduce((a, n) => a + n, 0) : rows;
    this.writeDescriptor(ws, hasTokens, hasInputs, batch.stateful === true, lengths !== undefined, count, !st && !batch.stateful);
    return ws;
  }

  /**
   * Per call, the descriptor is the shape's prebuilt image plus a few slots that
   * change from call to call: no allocation on the hot path.
   */
  private writeDescriptor(ws: Workspace, tokens: boolean, wantInputGrad: boolean, carry: boolean, lengths: boolean, count: number, zeroState: boolean): void {
    const d = this.pb.desc / 4, i = this.i32();
    ws.image ??= this.descriptorImage(ws);
    i.set(ws.image, d);
    i[d + S.TOKENS] = tokens ? 1 : 0;
    i[d + S.INPUT_GRAD] = wantInputGrad ? ws.inputGrad : 0;
    i[d + S.CARRY] = carry ? 1 : 0;
    i[d + S.LENGTHS] = lengths ? ws.lengths : 0;
    i[d + S.LOSS_COUNT] = count;
    // the state was just filled with zeros: the kernels skip the products with it
    i[d + S.ZERO_STATE] = zeroState ? 1 : 0;
  }

  private descriptorImage(ws: Workspace): Int32Array {
    const i = new Int32Array(HEADER_SLOTS + LAYER_SLOTS * this.dims.L), d = 0;
    const { L, X, H, V } = this.dims;
    const spec = (name: string) => this.specs.find((s) => s.name === name)!.offset * 4;
    i[d + S.L] = L; i[d + S.X] = X; i[d + S.H] = H; i[d + S.V] = V; i[d + S.T] = ws.T; i[d + S.B] = ws.B;
    i[d + S.INPUTS] = ws.inputs; i[d + S.TARGETS] = ws.targets;
    i[d + S.PARAMS] = this.pb.params; i[d + S.GRADS] = this.pb.grads; i[d + S.N_PARAMS] = this.pb.n;
    i[d + S.HEAD_W] = this.pb.params + spec('head.weight'); i[d + S.HEAD_B] = this.pb.params + spec('head.bias');
    i[d + S.HEAD_DW] = this.pb.grads + spec('head.weight'); i[d + S.HEAD_DB] = this.pb.grads + spec('head.bias');
    i[d + S.LOGITS] = ws.logits; i[d + S.DLOGITS] = ws.dlogits; i[d + S.LSE] = ws.lse;
    i[d + S.OPT_M] = this.pb.m; i[d + S.OPT_V] = this.pb.v;
    i[d + S.CTL] = this.pb.ctl;
    i[d + S.ROW_LOSS] = ws.rowLoss;
    i[d + S.THREADS] = ws.T * ws.B >= MIN_ROWS_PER_THREAD * this.threads ? this.threads : 1;
    i[d + S.CELL] = CELL_KIND[this.cell];
    i[d + S.LOSS_KIND] = LOSS_KIND[this.loss];
    for (let l = 0; l < L; l++) {
      const base = d + HEADER_SLOTS + l * LAYER_SLOTS;
      const lw = ws.layers[l];
      for (const [name, s] of Object.entries(LS)) i[base + s] = lw[name as keyof typeof LS];
      const p = (what: string) => spec(`${this.cell}.${what}_l${l}`);
      if (this.peepholes) {
        // w_ci, w_cf, w_co are contiguous: one [3H] block
        i[base + LS.PEEP] = this.pb.params + p('weight_ci'); i[base + LS.DPEEP] = this.pb.grads + p('weight_ci');
      }
      i[base + LS.W_IH] = this.pb.params + p('weight_ih'); i[base + LS.W_HH] = this.pb.params + p('weight_hh');
      i[base + LS.B_IH] = this.pb.params + p('bias_ih'); i[base + LS.B_HH] = this.pb.params + p('bias_hh');
      i[base + LS.DW_IH] = this.pb.grads + p('weight_ih'); i[base + LS.DW_HH] = this.pb.grads + p('weight_hh');
      i[base + LS.DB_IH] = this.pb.grads + p('bias_ih'); i[base + LS.DB_HH] = this.pb.grads + p('bias_hh');
    }
    return i;
  }


  /** Validates an optimizer config into a reused record: a training step allocates nothing. */
  private checkOptimizer(where: string, o: OptimizerConfig): CheckedOptimizer {
    if (o === null || typeof o !== 'object') throw new LstmError(`${where}: optimizer must be an object like { type: 'adam', lr: 1e-3 }, got ${describe(o)}`);
    if (typeof o.type !== 'string' || !Object.hasOwn(OPT_KIND, o.type) || o.type === ('none' as string)) {
      throw new LstmError(`${where}: optimizer.type must be one of sgd, adam, adamw, rmsprop, adagrad, got ${describe(o.type)}`);
    }
    const lr = checkNumber(where, 'optimizer.lr', o.lr, 0, 1e6);
    const weightDecay = checkNumber(where, 'optimizer.weightDecay', o.weightDecay ?? (o.type === 'adamw' ? 0.01 : 0), 0, 1e6);
    const clipNorm = checkNumber(where, 'optimizer.clipNorm', o.clipNorm ?? 0, 0, 1e30);
    let b1 = 0, b2 = 0, eps = 0;
    if (o.type === 'sgd') b1 = checkNumber(where, 'optimizer.momentum', o.momentum ?? 0, 0, 1);
    else if (o.type === 'adam' || o.type === 'adamw') {
      b1 = checkNumber(where, 'optimizer.beta1', o.beta1 ?? 0.9, 0, 0.999999);
      b2 = checkNumber(where, 'optimizer.beta2', o.beta2 ?? 0.999, 0, 0.999999999);
      eps = checkNumber(where, 'optimizer.eps', o.eps ?? 1e-8, 0, 1);
    } else if (o.type === 'rmsprop') {
      b1 = checkNumber(where, 'optimizer.alpha', o.alpha ?? 0.99, 0, 1);
      eps = checkNumber(where, 'optimizer.eps', o.eps ?? 1e-8, 0, 1);
    } else {
      eps = checkNumber(where, 'optimizer.eps', o.eps ?? 1e-10, 0, 1);
    }
    const c = this.checkedOpt;
    c.type = o.type; c.lr = lr; c.weightDecay = weightDecay; c.clipNorm = clipNorm; c.b1 = b1; c.b2 = b2; c.eps = eps;
    return c;
  }

  private writeOptimizer(o: CheckedOptimizer): void {
    const d = this.pb.desc / 4, i = this.i32(), f = this.f32();
    i[d + S.OPT_KIND] = OPT_KIND[o.type];
    f[d + S.LR] = o.lr; f[d + S.BETA1] = o.b1; f[d + S.BETA2] = o.b2; f[d + S.EPS] = o.eps;
    f[d + S.WD] = o.weightDecay; f[d + S.CLIP] = o.clipNorm;
    f[d + S.C1] = 1 - o.b1; f[d + S.C2] = 1 - o.b2;
    f[d + S.STEP_SIZE] = o.lr / (1 - Math.pow(o.b1, this.optStep));
    f[d + S.INV_BC2] = 1 / (1 - Math.pow(o.b2, this.optStep));
  }

  private readTensors(base: number): Record<string, Float32Array> {
    const f = this.f32(), out: Record<string, Float32Array> = {};
    for (const s of this.specs) out[s.name] = f.slice(base / 4 + s.offset, base / 4 + s.offset + s.length);
    return out;
  }

  /** Each sequence's state after its last step (slot lengths[b], or T). */
  private readFinalState(ws: Workspace): State {
    const f = this.f32();
    const { L, H } = this.dims;
    const { T, B } = ws;
    const n = B * H;
    const lstm = this.cell === 'lstm';
    const st = { h: new Float32Array(L * n), c: new Float32Array(lstm ? L * n : 0) };
    for (let l = 0; l < L; l++) {
      for (let b = 0; b < B; b++) {
        const t = this.lengths ? this.lengths[b] : T;
        const o = (t * B + b) * H, to = l * n + b * H;
        st.h.set(f.subarray(ws.layers[l].HS / 4 + o, ws.layers[l].HS / 4 + o + H), to);
        if (lstm) st.c.set(f.subarray(ws.layers[l].CS / 4 + o, ws.layers[l].CS / 4 + o + H), to);
      }
    }
    return st;
  }

  /** The outputs at each sequence's last step, [B, V], from all outputs [T, B, V]. */
  private lastOutputs(logits: Float32Array, T: number, B: number): Float32Array {
    const V = this.dims.V;
    const out = new Float32Array(B * V);
    for (let b = 0; b < B; b++) {
      const t = (this.lengths ? this.lengths[b] : T) - 1;
      out.set(logits.subarray((t * B + b) * V, (t * B + b + 1) * V), b * V);
    }
    return out;
  }

  private initParameters(seed: number, forgetBias: number | null): void {
    const rng = new Rng(seed);
    const f = this.f32();
    const bound = 1 / Math.sqrt(this.dims.H);
    // PyTorch's init: every tensor of the recurrent layers and the head (fan-in H)
    // uniform in +-1/sqrt(H); the peepholes the same
    for (const s of this.specs) {
      const o = this.pb.params / 4 + s.offset;
      for (let j = 0; j < s.length; j++) f[o + j] = rng.uniform(-bound, bound);
      if (forgetBias !== null && s.name.startsWith('lstm.bias_')) {
        const H = this.dims.H;
        f.fill(s.name.startsWith('lstm.bias_ih') ? forgetBias : 0, o + H, o + 2 * H);
      }
    }
  }

  /** Bias correction needs the step count; exposed for checkpoints. */
  get optimizerStep(): number { return this.optStep; }
}
