// Parity with real PyTorch: loss, logits, final state and every gradient of the
// built package against nn.LSTM / nn.GRU / nn.RNN + nn.Linear + F.cross_entropy or
// F.mse_loss (every step or each sequence's last, optionally packed by lengths) in float64,
// and three steps of each optimizer against torch.optim.
//
// The fixtures are committed; to regenerate them (needs python3-torch):
//   /usr/bin/python3 packages/lstm-wasm/test/fixtures/make_torch_fixtures.py
// Build first: (cd packages/kernels && npm run build) && (cd packages/lstm-wasm && npm run build)

import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, type Batch, type OptimizerConfig } from '../dist/index.js';

/** Tolerance on max|actual - expected| / max|expected|, per tensor. */
const REL_TOL = 1e-4;
/** Floor of the denominator, for a reference tensor that is (nearly) all zeros. */
const TINY = 1e-30;

const FIXTURES = new URL('./fixtures/', import.meta.url);

interface Config {
  inputSize: number; hiddenSize: number; numLayers: number; outputSize: number;
  /** GRU / RNN fixtures: the cell and the loss (ModelConfig.cell, ModelConfig.loss) */
  cell?: 'lstm' | 'gru' | 'rnn';
  loss?: 'crossEntropy' | 'crossEntropyLast' | 'mse' | 'mseLast';
}
/** c only for the LSTM */
interface StateJson { h: number[]; c?: number[] }

interface GradFixture {
  name: string;
  description: string;
  config: Config;
  seqLength: number;
  batchSize: number;
  params: Record<string, number[]>;
  inputs?: number[];
  tokens?: number[];
  targets: number[];
  lengths?: number[];
  initialState: StateJson | null;
  expected: {
    loss: number;
    logits: number[];
    finalState: StateJson;
    grads: Record<string, number[]>;
    inputGrad?: number[];
    initialStateGrad: StateJson;
  };
}

interface OptimFixture {
  name: string;
  description: string;
  config: Config;
  seqLength: number;
  batchSize: number;
  steps: number;
  params: Record<string, number[]>;
  inputs?: number[];
  tokens?: number[];
  targets: number[];
  cases: { name: string; optimizer: OptimizerConfig; torch: string; losses: number[]; params: Record<string, number[]> }[];
}

function load<T>(prefix: string): T[] {
  const files = readdirSync(FIXTURES).filter((f) => f.startsWith(prefix) && f.endsWith('.json')).sort();
  return files.map((f) => JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as T);
}

const gradFixtures = load<GradFixture>('grad_');
const optimFixtures = load<OptimFixture>('optim_');

const f32 = (a: number[]) => Float32Array.from(a);

function toBatch(fx: { config: Config; seqLength: number; batchSize: number; inputs?: number[]; tokens?: number[]; targets: number[]; lengths?: number[] }): Batch {
  const mse = fx.config.loss === 'mse' || fx.config.loss === 'mseLast';
  const batch: Batch = { targets: mse ? f32(fx.targets) : Int32Array.from(fx.targets), seqLength: fx.seqLength, batchSize: fx.batchSize };
  if (fx.inputs) batch.inputs = f32(fx.inputs);
  else batch.tokens = Int32Array.from(fx.tokens!);
  if (fx.lengths) batch.lengths = Int32Array.from(fx.lengths);
  return batch;
}

/**
 * With lengths, only the outputs of steps inside each sequence: PyTorch's packed
 * sequences give zeros past a sequence's end, where @lstm/wasm's outputs are left
 * over from running on (and take no part in the loss).
 */
function unpadded(logits: ArrayLike<number>, fx: GradFixture): number[] {
  const { seqLength: T, batchSize: B } = fx, V = fx.config.outputSize;
  const out: number[] = [];
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
    if (fx.lengths && t >= fx.lengths[b]) continue;
    for (let v = 0; v < V; v++) out.push(logits[(t * B + b) * V + v]);
  }
  return out;
}

function toParams(p: Record<string, number[]>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, f32(v)]));
}

// every measurement, printed together at the end
const report: string[] = [];
afterAll(() => {
  if (report.length) console.log(`torch parity, max|diff| and max|diff| / max|ref| per tensor:\n${report.join('\n')}`);
});

/**
 * Relative difference of one tensor: max|a - b| / max(max|b|, TINY); NaN anywhere counts
 * as Infinity. `scale`, when given, is only printed: max|diff| / scale as well.
 */
function compare(label: string, actual: ArrayLike<number> | number | undefined, expected: number[] | number, scale?: { name: string; value: number }): number {
  const ref = typeof expected === 'number' ? [expected] : expected;
  expect(actual, `${label}: missing`).toBeDefined();
  const got = typeof actual === 'number' ? [actual] : actual!;
  expect(got.length, `${label}: length`).toBe(ref.length);
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  const rel = maxDiff / Math.max(maxRef, TINY);
  const extra = scale ? `  (${(maxDiff / scale.value).toExponential(2)} of ${scale.name})` : '';
  report.push(`  ${label.padEnd(58)} ${maxDiff.toExponential(2).padStart(9)}  rel ${rel.toExponential(2).padStart(9)}${extra}`);
  return rel;
}

/** Compares every tensor first, then asserts, so one failure still prints all the numbers. */
function assertAll(results: [string, number][]): void {
  const bad = results.filter(([, rel]) => !(rel <= REL_TOL)).map(([label, rel]) => `${label}: rel ${rel.toExponential(2)}`);
  expect(bad.length, `over the tolerance ${REL_TOL}: ${bad.join('; ')}`).toBe(0);
}

// Every build of the kernels must hold parity: plain and relaxed SIMD (fused
// multiply-add; Node needs --experimental-wasm-relaxed-simd, set in
// vitest.config.ts), one thread and several.
const BUILDS = [
  { name: 'simd, 1 thread', options: { threads: 1, relaxedSimd: false } },
  { name: 'simd, 2 threads', options: { threads: 2, relaxedSimd: false } },
  { name: 'relaxed simd, 1 thread', options: { threads: 1, relaxedSimd: true } },
  { name: 'relaxed simd, 2 threads', options: { threads: 2, relaxedSimd: true } },
];

for (const build of BUILDS) {
describe(`[${build.name}]`, () => {
describe('torch parity: gradients', () => {
  it('has the fixtures', () => {
    // one and two layers, with and without initial state, dense and token input
    expect(gradFixtures.length).toBeGreaterThanOrEqual(4);
    expect(gradFixtures.some((f) => f.config.numLayers === 1) && gradFixtures.some((f) => f.config.numLayers === 2)).toBe(true);
    expect(gradFixtures.some((f) => f.initialState) && gradFixtures.some((f) => !f.initialState)).toBe(true);
    expect(gradFixtures.some((f) => f.inputs) && gradFixtures.some((f) => f.tokens)).toBe(true);
    // nn.GRU and nn.RNN, every loss, variable lengths
    for (const cell of ['gru', 'rnn']) expect(gradFixtures.filter((f) => f.config.cell === cell).length, cell).toBeGreaterThanOrEqual(2);
    for (const loss of ['mse', 'mseLast', 'crossEntropyLast']) expect(gradFixtures.some((f) => f.config.loss === loss), loss).toBe(true);
    expect(gradFixtures.some((f) => f.lengths)).toBe(true);
  });

  for (const fx of gradFixtures) {
    it(fx.name, async () => {
      const model = await createModel({ ...fx.config, seed: 1, ...build.options });
      try {
        model.setParameters(toParams(fx.params));
        const batch = toBatch(fx);
        if (fx.initialState) {
          batch.initialState = { h: f32(fx.initialState.h) };
          if (fx.initialState.c) batch.initialState.c = f32(fx.initialState.c);
        }
        const r = model.computeGradients(batch);
        const e = fx.expected;
        const n = (what: string) => `${fx.name} ${what}`;
        const results: [string, number][] = [];
        const check = (what: string, a: ArrayLike<number> | number | undefined, b: number[] | number) => results.push([n(what), compare(n(what), a, b)]);
        check('loss', r.loss, e.loss);
        check('logits', unpadded(r.logits, fx), unpadded(e.logits, fx));
        check('finalState.h', r.finalState.h, e.finalState.h);
        if (e.finalState.c) check('finalState.c', r.finalState.c, e.finalState.c);
        else expect(r.finalState.c.length).toBe(0);
        expect(Object.keys(r.grads).sort()).toEqual(Object.keys(e.grads).sort());
        for (const name of Object.keys(e.grads)) check(`grad ${name}`, r.grads[name], e.grads[name]);
        if (e.inputGrad) check('inputGrad', r.inputGrad, e.inputGrad);
        else expect(r.inputGrad).toBeUndefined();
        check('initialStateGrad.h', r.initialStateGrad.h, e.initialStateGrad.h);
        if (e.initialStateGrad.c) check('initialStateGrad.c', r.initialStateGrad.c, e.initialStateGrad.c);
        else expect(r.initialStateGrad.c.length).toBe(0);
        assertAll(results);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('torch parity: optimizers (3 steps of torch.optim)', () => {
  it('has the fixtures', () => {
    const names = optimFixtures.flatMap((f) => f.cases.map((c) => c.optimizer.type + (c.optimizer.clipNorm ? '+clip' : '')));
    for (const t of ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad']) expect(names).toContain(t);
    expect(names.some((t) => t.endsWith('+clip'))).toBe(true);
  });

  for (const fx of optimFixtures) {
    for (const c of fx.cases) {
      it(`${fx.name} ${c.name}: ${c.torch}`, async () => {
        const model = await createModel({ ...fx.config, seed: 1, ...build.options });
        try {
          model.setParameters(toParams(fx.params));
          const batch = toBatch(fx);
          const losses: number[] = [];
          for (let s = 0; s < fx.steps; s++) losses.push(model.trainStep(batch, c.optimizer));
          const n = (what: string) => `${fx.name} ${c.name} ${what}`;
          const results: [string, number][] = [];
          for (let s = 0; s < fx.steps; s++) results.push([n(`loss ${s + 1}`), compare(n(`loss ${s + 1}`), losses[s], c.losses[s])]);
          const after = model.getParameters();
          expect(Object.keys(after).sort()).toEqual(Object.keys(c.params).sort());
          for (const name of Object.keys(c.params)) {
            // also printed: the difference as a fraction of how far torch moved the tensor
            const start = fx.params[name], end = c.params[name];
            const moved = end.reduce((m, v, i) => Math.max(m, Math.abs(v - start[i])), 0);
            results.push([n(name), compare(n(name), after[name], end, { name: 'max|update|', value: moved })]);
          }
          assertAll(results);
        } finally {
          model.dispose();
        }
      });
    }
  }
});
});
}
