import { instantiate } from '@assemblyscript/loader';
import { LstmError, checkInt, checkNumber, checkFloats, checkIds, describe } from './errors.js';
import { compileKernels, importsMemory, type WasmSource } from './load.js';
import { capabilities, isNode } from './capabilities.js';
import { startThreads, type Threads } from './threads.js';
import { Rng } from './rng.js';
import {
  Arena, DESCRIPTOR_VERSION, HEADER_SLOTS, JOB, LAYER_SLOTS, LS, OPT_KIND, S,
  layoutParams, layoutWorkspace, parameterSpecs,
  type Dims, type ParamBlock, type TensorSpec, type Workspace,
} from './layout.js';

export interface ModelConfig {
  /** Features per time step; with token input, the vocabulary size. */
  inputSize: number;
  hiddenSize: number;
  /** Stacked LSTM layers (default 1). */
  numLayers?: number;
  /** Classes of the softmax head. */
  outputSize: number;
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

/** Hidden and cell state, each [numLayers, batchSize, hiddenSize]. */
export interface State { h: Float32Array; c: Float32Array }

export interface Batch {
  /** Dense input, time-major [seqLength, batchSize, inputSize]. */
  inputs?: Float32Array;
  /** Token input, [seqLength, batchSize] ids in [0, inputSize). */
  tokens?: Int32Array;
  /** [seqLength, batchSize] class ids in [0, outputSize). */
  targets: Int32Array;
  seqLength: number;
  batchSize: number;
  /** Initial state; zeros when absent (unless `stateful`). */
  initialState?: State;
  /**
   * Truncated BPTT: start from the final state the previous stateful call of the
   * same (seqLength, batchSize) left, and leave this call's final state for the next.
   */
  stateful?: boolean;
}

export type ForwardInput = Omit<Batch, 'targets'> & { targets?: Int32Array };

export interface GradientResult {
  /** Mean cross-entropy over all seqLength * batchSize positions. */
  loss: number;
  /** Same names and layouts as getParameters(). */
  grads: Record<string, Float32Array>;
  /** Gradient w.r.t. `inputs` [T, B, X], when dense inputs were given. */
  inputGrad?: Float32Array;
  initialStateGrad: State;
  finalState: State;
  /** [seqLength, batchSize, outputSize] */
  logits: Float32Array;
}

export interface ForwardResult { logits: Float32Array; finalState: State; loss?: number }

interface OptimizerCommon { lr: number; weightDecay?: number; /** clip gradients to this global L2 norm */ clipNorm?: number }
/** torch.optim semantics and defaults. */
export type OptimizerConfig =
  | ({ type: 'sgd'; momentum?: number } & OptimizerCommon)
  | ({ type: 'adam' | 'adamw'; beta1?: number; beta2?: number; eps?: number } & OptimizerCommon)
  | ({ type: 'rmsprop'; alpha?: number; eps?: number } & OptimizerCommon)
  | ({ type: 'adagrad'; eps?: number } & OptimizerCommon);

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
  const seed = checkInt(where, 'seed', config.seed ?? 1, 0, 2 ** 32 - 1);
  const forgetBias = config.forgetBias === null ? null : checkNumber(where, 'forgetBias', config.forgetBias ?? 1, -1e6, 1e6);
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
  private threadPool: Threads | null = null;
  private readonly maxBytes: number;
  // a browser page's main thread may not block (Atomics.wait); workers and Node may
  private readonly canWait = isNode() || typeof (globalThis as { document?: unknown }).document === 'undefined' ? 1 : 0;

  /** @internal use createModel */
  constructor(kernels: Kernels, dims: Dims, seed: number, forgetBias: number | null, maxBytes: number) {
    this.k = kernels;
    this.maxBytes = maxBytes;
    this.dims = dims;
    this.inputSize = dims.X; this.hiddenSize = dims.H; this.numLayers = dims.L; this.outputSize = dims.V;
    this.specs = parameterSpecs(dims);
    this.arena = new Arena(kernels.heap_base());
    this.pb = layoutParams(this.arena, dims);
    this.parameterCount = this.pb.n;
    this.workspaceStart = this.arena.end;
    this.reserve('createModel', this.arena.end);
    this.initParameters(seed, forgetBias);
  }

  /** The configuration, as createModel would take it back. */
  get config(): Required<Omit<ModelConfig, 'wasm' | 'seed' | 'forgetBias' | 'threads' | 'relaxedSimd'>> {
    return { inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, outputSize: this.outputSize };
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
    if (state.type !== 'none' && !(state.type in OPT_KIND)) throw new LstmError(`${where}: state.type must be one of ${Object.keys(OPT_KIND).join(', ')}, got ${describe(state.type)}`);
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
    const k = this.kernels(where);
    const loss = this.call(where, () => k.run(this.pb.desc, JOB.gradients, this.canWait));
    const f = this.f32();
    const { T, B } = ws;
    const { L, H, X, V } = this.dims;
    const stateLen = B * H;
    const initialStateGrad = { h: new Float32Array(L * stateLen), c: new Float32Array(L * stateLen) };
    for (let l = 0; l < L; l++) {
      initialStateGrad.h.set(f.subarray(ws.layers[l].DH0 / 4, ws.layers[l].DH0 / 4 + stateLen), l * stateLen);
      initialStateGrad.c.set(f.subarray(ws.layers[l].DC / 4, ws.layers[l].DC / 4 + stateLen), l * stateLen);
    }
    const result: GradientResult = {
      loss,
      grads: this.readTensors(this.pb.grads),
      initialStateGrad,
      finalState: this.readFinalState(ws),
      logits: f.slice(ws.logits / 4, ws.logits / 4 + T * B * V),
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
    const k = this.kernels(where);
    return this.call(where, () => k.run(this.pb.desc, JOB.train, this.canWait));
  }

  /** Forward only: logits and final state, and the loss when targets are given. */
  forward(input: ForwardInput): ForwardResult {
    const where = 'forward';
    const ws = this.prepare(where, input, input.targets !== undefined);
    const k = this.kernels(where);
    const loss = this.call(where, () => k.run(this.pb.desc, input.targets !== undefined ? JOB.forwardLoss : JOB.forward, this.canWait));
    const f = this.f32();
    const out: ForwardResult = {
      logits: f.slice(ws.logits / 4, ws.logits / 4 + ws.T * ws.B * this.dims.V),
      finalState: this.readFinalState(ws),
    };
    if (input.targets !== undefined) out.loss = loss;
    return out;
  }

  /**
   * Generation: feed one token per stream (batch = tokens.length), carrying the
   * state inside the model from call to call. Returns the logits [batch, outputSize].
   * resetState() starts over from zeros.
   */
  step(tokens: ArrayLike<number>): Float32Array {
    const where = 'step';
    this.kernels(where);
    const B = checkInt(where, 'tokens.length', tokens?.length, 1, MAX_SIZE);
    const ids = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    const ws = this.prepare(where, { tokens: ids, seqLength: 1, batchSize: B, stateful: true }, false);
    const k = this.kernels(where);
    this.call(where, () => k.run(this.pb.desc, JOB.forward, this.canWait));
    return this.f32().slice(ws.logits / 4, ws.logits / 4 + B * this.dims.V);
  }

  /** Zeros the carried state of every shape (stateful training and step()). */
  resetState(): void {
    this.kernels('resetState');
    const f = this.f32();
    for (const ws of this.shapes.values()) {
      for (const l of ws.layers) {
        f.fill(0, l.HS / 4, l.HS / 4 + ws.B * this.dims.H);
        f.fill(0, l.CS / 4, l.CS / 4 + ws.B * this.dims.H);
      }
    }
  }

  /** Frees the wasm instance; every later call throws. */
  dispose(): void {
    this.threadPool?.stop();
    this.threadPool = null;
    this.k = null;
    this.buffer = null;
    this.shapes.clear();
  }

  get disposed(): boolean { return this.k === null; }

  // ---- internals ----

  private kernels(where: string): Kernels {
    if (this.k === null) throw new LstmError(`${where}: the model was disposed; create a new one`);
    return this.k;
  }

  /** Runs a kernel, turning any trap into an LstmError (validation should make that unreachable). */
  private call(where: string, fn: () => number): number {
    try {
      return fn();
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
    const key = `${T}x${B}`;
    let ws = this.shapes.get(key);
    if (ws) return ws;
    if (this.shapes.size >= MAX_SHAPES) {
      // too many shapes kept: start the workspace area over
      this.shapes.clear();
      this.arena = new Arena(this.workspaceStart);
    }
    const arena = new Arena(this.arena.end);
    ws = layoutWorkspace(arena, this.dims, T, B);
    this.reserve(where, arena.end);
    this.arena = arena;
    // memory from grow is zero, but a restarted arena reuses old bytes: zero the state slots
    const f = this.f32();
    for (const l of ws.layers) {
      f.fill(0, l.HS / 4, l.HS / 4 + B * this.dims.H);
      f.fill(0, l.CS / 4, l.CS / 4 + B * this.dims.H);
    }
    this.shapes.set(key, ws);
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
    if (needTargets || batch.targets !== undefined) {
      if (batch.targets === undefined) throw new LstmError(`${where}: targets (Int32Array [seqLength, batchSize]) is required`);
      checkIds(where, 'targets', batch.targets, rows, V, `[seqLength=${T}, batchSize=${B}] (ids in [0, outputSize=${V}))`);
    }
    const st = batch.initialState;
    if (st !== undefined) {
      if (st === null || typeof st !== 'object') throw new LstmError(`${where}: initialState must be { h, c }, got ${describe(st)}`);
      const shape = `[numLayers=${L}, batchSize=${B}, hiddenSize=${H}]`;
      checkFloats(where, 'initialState.h', st.h, L * B * H, shape);
      checkFloats(where, 'initialState.c', st.c, L * B * H, shape);
    }
    const ws = this.workspace(where, T, B);
    const f = this.f32(), i = this.i32();
    if (hasInputs) f.set(batch.inputs!, ws.inputs / 4);
    else i.set(batch.tokens!, ws.inputs / 4);
    if (batch.targets !== undefined) i.set(batch.targets, ws.targets / 4);
    const stateLen = B * H;
    for (let l = 0; l < L; l++) {
      const hs = ws.layers[l].HS / 4, cs = ws.layers[l].CS / 4;
      if (st) {
        f.set(st.h.subarray(l * stateLen, (l + 1) * stateLen), hs);
        f.set(st.c.subarray(l * stateLen, (l + 1) * stateLen), cs);
      } else if (!batch.stateful) {
        f.fill(0, hs, hs + stateLen);
        f.fill(0, cs, cs + stateLen);
      }
    }
    this.writeDescriptor(ws, hasTokens, hasInputs, batch.stateful === true);
    return ws;
  }

  private writeDescriptor(ws: Workspace, tokens: boolean, wantInputGrad: boolean, carry: boolean): void {
    const d = this.pb.desc / 4, i = this.i32();
    const { L, X, H, V } = this.dims;
    const spec = (name: string) => this.specs.find((s) => s.name === name)!.offset * 4;
    i[d + S.L] = L; i[d + S.X] = X; i[d + S.H] = H; i[d + S.V] = V; i[d + S.T] = ws.T; i[d + S.B] = ws.B;
    i[d + S.TOKENS] = tokens ? 1 : 0;
    i[d + S.INPUTS] = ws.inputs; i[d + S.TARGETS] = ws.targets;
    i[d + S.INPUT_GRAD] = wantInputGrad ? ws.inputGrad : 0;
    i[d + S.PARAMS] = this.pb.params; i[d + S.GRADS] = this.pb.grads; i[d + S.N_PARAMS] = this.pb.n;
    i[d + S.HEAD_W] = this.pb.params + spec('head.weight'); i[d + S.HEAD_B] = this.pb.params + spec('head.bias');
    i[d + S.HEAD_DW] = this.pb.grads + spec('head.weight'); i[d + S.HEAD_DB] = this.pb.grads + spec('head.bias');
    i[d + S.LOGITS] = ws.logits; i[d + S.DLOGITS] = ws.dlogits; i[d + S.LSE] = ws.lse;
    i[d + S.OPT_M] = this.pb.m; i[d + S.OPT_V] = this.pb.v;
    i[d + S.CARRY] = carry ? 1 : 0;
    i[d + S.CTL] = this.pb.ctl;
    i[d + S.ROW_LOSS] = ws.rowLoss;
    i[d + S.THREADS] = ws.T * ws.B >= MIN_ROWS_PER_THREAD * this.threads ? this.threads : 1;
    for (let l = 0; l < L; l++) {
      const base = d + HEADER_SLOTS + l * LAYER_SLOTS;
      const lw = ws.layers[l];
      for (const [name, s] of Object.entries(LS)) i[base + s] = lw[name as keyof typeof LS];
      const p = (what: string) => spec(`lstm.${what}_l${l}`);
      i[base + LS.W_IH] = this.pb.params + p('weight_ih'); i[base + LS.W_HH] = this.pb.params + p('weight_hh');
      i[base + LS.B_IH] = this.pb.params + p('bias_ih'); i[base + LS.B_HH] = this.pb.params + p('bias_hh');
      i[base + LS.DW_IH] = this.pb.grads + p('weight_ih'); i[base + LS.DW_HH] = this.pb.grads + p('weight_hh');
      i[base + LS.DB_IH] = this.pb.grads + p('bias_ih'); i[base + LS.DB_HH] = this.pb.grads + p('bias_hh');
    }
  }

  private checkOptimizer(where: string, o: OptimizerConfig): Required<OptimizerCommon> & { type: OptimizerConfig['type']; b1: number; b2: number; eps: number } {
    if (o === null || typeof o !== 'object') throw new LstmError(`${where}: optimizer must be an object like { type: 'adam', lr: 1e-3 }, got ${describe(o)}`);
    if (!(o.type in OPT_KIND) || o.type === ('none' as string)) {
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
    return { type: o.type, lr, weightDecay, clipNorm, b1, b2, eps };
  }

  private writeOptimizer(o: ReturnType<LstmModel['checkOptimizer']>): void {
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

  private readFinalState(ws: Workspace): State {
    const f = this.f32();
    const { L, H } = this.dims;
    const n = ws.B * H;
    const st = { h: new Float32Array(L * n), c: new Float32Array(L * n) };
    for (let l = 0; l < L; l++) {
      const hs = ws.layers[l].HS / 4 + ws.T * n, cs = ws.layers[l].CS / 4 + ws.T * n;
      st.h.set(f.subarray(hs, hs + n), l * n);
      st.c.set(f.subarray(cs, cs + n), l * n);
    }
    return st;
  }

  private initParameters(seed: number, forgetBias: number | null): void {
    const rng = new Rng(seed);
    const f = this.f32();
    const bound = 1 / Math.sqrt(this.dims.H);
    // PyTorch's init: every LSTM tensor and the head (fan-in H) uniform in +-1/sqrt(H)
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
