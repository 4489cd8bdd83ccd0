import { describe, it, expect, beforeAll } from 'vitest';
import { createModel, LstmError, type LstmModel, type Batch } from '../dist/index.js';
import { expectError, expectRejection } from './helpers';

const X = 5, H = 6, V = 7, T = 4, B = 3, L = 2;
const good = (): Batch => ({
  tokens: Int32Array.from({ length: T * B }, (_, i) => i % X),
  targets: Int32Array.from({ length: T * B }, (_, i) => (i * 3) % V),
  seqLength: T, batchSize: B,
});


describe('createModel rejects bad configs with the argument named', () => {
  const base = { inputSize: X, hiddenSize: H, outputSize: V };
  const cases: [string, unknown, RegExp][] = [
    ['null config', null, /config must be an object/],
    ['hiddenSize 0', { ...base, hiddenSize: 0 }, /hiddenSize must be an integer in \[1, /],
    ['hiddenSize -3', { ...base, hiddenSize: -3 }, /hiddenSize/],
    ['hiddenSize 2.5', { ...base, hiddenSize: 2.5 }, /hiddenSize .* got 2.5/],
    ['hiddenSize NaN', { ...base, hiddenSize: NaN }, /hiddenSize .* got NaN/],
    ['hiddenSize as string', { ...base, hiddenSize: '8' }, /hiddenSize .* got "8"/],
    ['inputSize missing', { hiddenSize: H, outputSize: V }, /inputSize .* got undefined/],
    ['outputSize 1e9', { ...base, outputSize: 1e9 }, /outputSize/],
    ['numLayers 0', { ...base, numLayers: 0 }, /numLayers/],
    ['seed -1', { ...base, seed: -1 }, /seed/],
    ['forgetBias NaN', { ...base, forgetBias: NaN }, /forgetBias/],
    ['more than wasm memory holds', { inputSize: 65, hiddenSize: 40000, outputSize: 65 }, /hold|memory/],
  ];
  for (const [name, cfg, pattern] of cases) {
    it(name, () => expectRejection(createModel(cfg as never), pattern));
  }
  it('a wasm that is not there', async () => {
    await expect(createModel({ ...base, wasm: new URL('./no-such.wasm', import.meta.url) })).rejects.toThrow(/cannot read the wasm/);
  });
  it('bytes that are not wasm', async () => {
    await expect(createModel({ ...base, wasm: new Uint8Array([1, 2, 3]) })).rejects.toThrow(/did not compile.*SIMD/);
  });
});

describe('bad batches, parameters and optimizers throw and leave the model usable', () => {
  let m: LstmModel;
  let baseline: number;
  beforeAll(async () => {
    m = await createModel({ inputSize: X, hiddenSize: H, numLayers: L, outputSize: V, seed: 2 });
    baseline = m.computeGradients(good()).loss;
  });
  const state = (n = L * B * H) => ({ h: new Float32Array(n), c: new Float32Array(n) });
  const batchCases: [string, () => unknown, RegExp][] = [
    ['batch null', () => null, /batch must be an object/],
    ['neither inputs nor tokens', () => ({ ...good(), tokens: undefined }), /exactly one of inputs .* or tokens/],
    ['both inputs and tokens', () => ({ ...good(), inputs: new Float32Array(T * B * X) }), /exactly one of/],
    ['tokens too short', () => ({ ...good(), tokens: new Int32Array(T * B - 1) }), /tokens must have 12 values \[seqLength=4, batchSize=3\]/],
    ['tokens as a plain array', () => ({ ...good(), tokens: [0, 1] }), /tokens must be an Int32Array/],
    ['token id -1', () => { const b = good(); b.tokens![3] = -1; return b; }, /tokens\[3\] is -1; ids must be in \[0, 5\)/],
    ['token id = inputSize', () => { const b = good(); b.tokens![0] = X; return b; }, /tokens\[0\] is 5/],
    ['target id = outputSize', () => { const b = good(); b.targets[11] = V; return b; }, /targets\[11\] is 7; ids must be in \[0, 7\)/],
    ['targets missing', () => ({ ...good(), targets: undefined }), /targets .* is required/],
    ['inputs of the wrong length', () => ({ ...good(), tokens: undefined, inputs: new Float32Array(T * B * X + 1) }), /inputs must have 60 values/],
    ['NaN in inputs', () => { const x = new Float32Array(T * B * X); x[7] = NaN; return { ...good(), tokens: undefined, inputs: x }; }, /inputs\[7\] is NaN/],
    ['Infinity in inputs', () => { const x = new Float32Array(T * B * X); x[2] = -Infinity; return { ...good(), tokens: undefined, inputs: x }; }, /inputs\[2\] is -Infinity/],
    ['seqLength 0', () => ({ ...good(), seqLength: 0 }), /seqLength must be an integer/],
    ['batchSize 1.5', () => ({ ...good(), batchSize: 1.5 }), /batchSize must be an integer/],
    ['initialState of the wrong shape', () => ({ ...good(), initialState: state(5) }), /initialState.h must have 36 values \[numLayers=2, batchSize=3, hiddenSize=6\]/],
    ['NaN in initialState.c', () => { const s = state(); s.c[4] = NaN; return { ...good(), initialState: s }; }, /initialState.c\[4\] is NaN/],
    ['a sequence too long for wasm memory', () => ({ ...good(), seqLength: 1_000_000, batchSize: 1000, tokens: new Int32Array(0) }), /tokens must have/],
  ];
  for (const [name, make, pattern] of batchCases) {
    it(`computeGradients: ${name}`, () => {
      expectError(() => m.computeGradients(make() as Batch), pattern);
      expect(m.computeGradients(good()).loss).toBe(baseline);
    });
  }
  it('forward: a shape needing more than 4 GiB', () => {
    const n = 1 << 20;
    expectError(() => m.forward({ tokens: new Int32Array(n * 64), seqLength: n, batchSize: 64 }), /more than the [24] GiB/);
    expect(m.computeGradients(good()).loss).toBe(baseline);
  });

  const paramCases: [string, (p: Record<string, Float32Array>) => unknown, RegExp][] = [
    ['not an object', () => 5, /params must be an object/],
    ['a missing tensor', (p) => { delete p['head.bias']; return p; }, /missing parameter 'head.bias' \[7\]/],
    ['an unknown name', (p) => ({ ...p, 'lstm.weight_ih_l9': new Float32Array(1) }), /unknown parameter 'lstm.weight_ih_l9'/],
    ['a wrong length', (p) => ({ ...p, 'lstm.weight_hh_l1': new Float32Array(5) }), /weight_hh_l1'\] must have 144 values \[24, 6\]/],
    ['a NaN', (p) => { p['lstm.bias_ih_l0'][3] = NaN; return p; }, /bias_ih_l0'\]\[3\] is NaN/],
    ['a Float64Array', (p) => ({ ...p, 'head.bias': new Float64Array(V) }), /head.bias'\] must be a Float32Array/],
  ];
  for (const [name, make, pattern] of paramCases) {
    it(`setParameters: ${name}`, () => {
      const before = m.getParameters();
      expectError(() => m.setParameters(make(m.getParameters()) as never), pattern);
      expect(m.getParameters()).toEqual(before);
      expect(m.computeGradients(good()).loss).toBe(baseline);
    });
  }

  const optCases: [string, unknown, RegExp][] = [
    ['no optimizer', undefined, /optimizer must be an object/],
    ['an unknown type', { type: 'lbfgs', lr: 1 }, /optimizer.type must be one of sgd, adam, adamw, rmsprop, adagrad, got "lbfgs"/],
    ['an inherited property name as type', { type: 'toString', lr: 1 }, /optimizer.type must be one of .* got "toString"/],
    ['a negative lr', { type: 'sgd', lr: -1 }, /optimizer.lr must be a finite number/],
    ['a NaN lr', { type: 'adam', lr: NaN }, /optimizer.lr .* got NaN/],
    ['momentum 2', { type: 'sgd', lr: 0.1, momentum: 2 }, /optimizer.momentum/],
    ['beta2 1', { type: 'adam', lr: 0.1, beta2: 1 }, /optimizer.beta2/],
    ['a negative clipNorm', { type: 'adam', lr: 0.1, clipNorm: -1 }, /optimizer.clipNorm/],
  ];
  for (const [name, opt, pattern] of optCases) {
    it(`trainStep: ${name}`, () => {
      const before = m.getParameters();
      expectError(() => m.trainStep(good(), opt as never), pattern);
      expect(m.getParameters()).toEqual(before);
    });
  }
});

describe('after dispose()', () => {
  it('every call throws, naming the call', async () => {
    const m = await createModel({ inputSize: X, hiddenSize: H, outputSize: V });
    m.dispose();
    expect(m.disposed).toBe(true);
    const calls: [string, () => unknown][] = [
      ['getParameters', () => m.getParameters()],
      ['setParameters', () => m.setParameters({})],
      ['computeGradients', () => m.computeGradients(good())],
      ['trainStep', () => m.trainStep(good(), { type: 'sgd', lr: 0.1 })],
      ['forward', () => m.forward(good())],
      ['step', () => m.step([1])],
      ['resetState', () => m.resetState()],
      ['getFlatParameters', () => m.getFlatParameters()],
      ['getOptimizerState', () => m.getOptimizerState()],
      ['memoryBytes', () => m.memoryBytes],
    ];
    for (const [name, call] of calls) expectError(call, new RegExp(`^${name}: the model was disposed`));
  });
});
