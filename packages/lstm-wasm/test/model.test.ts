import { describe, it, expect } from 'vitest';
import { createModel, LstmError, type LstmModel, type Batch } from '../dist/index.js';
import { randomizeWeights, expectFiniteDifferences } from './helpers';
import { modelReference } from '../../kernels/test/reference';
import { randn, maxRelDiff } from '../../kernels/test/harness';

interface Shape { L: number; X: number; H: number; V: number; T: number; B: number; tokens: boolean; state: boolean }

function makeBatch(s: Shape, seed: number): Batch {
  const rows = s.T * s.B;
  const batch: Batch = {
    targets: Int32Array.from({ length: rows }, (_, i) => (i * 7 + seed) % s.V),
    seqLength: s.T, batchSize: s.B,
  };
  if (s.tokens) batch.tokens = Int32Array.from({ length: rows }, (_, i) => (i * 5 + 3 * seed) % s.X);
  else batch.inputs = randn(rows * s.X, seed, 1);
  if (s.state) batch.initialState = { h: randn(s.L * s.B * s.H, seed + 1, 0.5), c: randn(s.L * s.B * s.H, seed + 2, 1) };
  return batch;
}

async function modelFor(s: Shape, seed = 3): Promise<LstmModel> {
  return randomizeWeights(await createModel({ inputSize: s.X, hiddenSize: s.H, numLayers: s.L, outputSize: s.V, seed }));
}

const SHAPES: Shape[] = [
  { L: 1, X: 5, H: 6, V: 7, T: 4, B: 3, tokens: false, state: false },
  { L: 2, X: 5, H: 6, V: 7, T: 4, B: 3, tokens: false, state: true },
  { L: 1, X: 3, H: 5, V: 4, T: 3, B: 1, tokens: true, state: true },
  { L: 2, X: 9, H: 9, V: 5, T: 2, B: 5, tokens: true, state: false },
  { L: 1, X: 8, H: 8, V: 8, T: 3, B: 4, tokens: false, state: true },
];
const label = (s: Shape) => `L=${s.L} X=${s.X} H=${s.H} V=${s.V} T=${s.T} B=${s.B} ${s.tokens ? 'tokens' : 'dense'}${s.state ? ' +h0/c0' : ''}`;

describe('gradients against the float64 scalar reference', () => {
  for (const s of [...SHAPES, { L: 1, X: 65, H: 33, V: 65, T: 7, B: 4, tokens: true, state: false }]) {
    it(label(s), async () => {
      const m = await modelFor(s);
      const batch = makeBatch(s, 2);
      const r = m.computeGradients(batch);
      const p = m.getParameters();
      const f64 = (a: Float32Array) => Float64Array.from(a);
      const e = modelReference({
        wIh: [...Array(s.L).keys()].map((l) => f64(p[`lstm.weight_ih_l${l}`])),
        wHh: [...Array(s.L).keys()].map((l) => f64(p[`lstm.weight_hh_l${l}`])),
        bIh: [...Array(s.L).keys()].map((l) => f64(p[`lstm.bias_ih_l${l}`])),
        bHh: [...Array(s.L).keys()].map((l) => f64(p[`lstm.bias_hh_l${l}`])),
        wV: f64(p['head.weight']), bV: f64(p['head.bias']),
      }, s, batch.inputs ?? null, batch.tokens ?? null, batch.targets, batch.initialState?.h, batch.initialState?.c);
      const diffs: Record<string, number> = {
        loss: Math.abs(r.loss - e.loss) / e.loss,
        logits: maxRelDiff(r.logits, e.logits),
        finalH: maxRelDiff(r.finalState.h, e.finalH), finalC: maxRelDiff(r.finalState.c, e.finalC),
        dh0: maxRelDiff(r.initialStateGrad.h, e.dh0), dc0: maxRelDiff(r.initialStateGrad.c, e.dc0),
        'head.weight': maxRelDiff(r.grads['head.weight'], e.grads.wV), 'head.bias': maxRelDiff(r.grads['head.bias'], e.grads.bV),
      };
      for (let l = 0; l < s.L; l++) {
        diffs[`weight_ih_l${l}`] = maxRelDiff(r.grads[`lstm.weight_ih_l${l}`], e.grads.wIh[l]);
        diffs[`weight_hh_l${l}`] = maxRelDiff(r.grads[`lstm.weight_hh_l${l}`], e.grads.wHh[l]);
        diffs[`bias_ih_l${l}`] = maxRelDiff(r.grads[`lstm.bias_ih_l${l}`], e.grads.bIh[l]);
        diffs[`bias_hh_l${l}`] = maxRelDiff(r.grads[`lstm.bias_hh_l${l}`], e.grads.bHh[l]);
      }
      if (!s.tokens) diffs.inputGrad = maxRelDiff(r.inputGrad!, e.inputGrad);
      else expect(r.inputGrad).toBeUndefined();
      for (const [name, d] of Object.entries(diffs)) expect(d, name).toBeLessThan(1e-5);
    });
  }
});

describe('finite differences on the wasm model itself', () => {
  for (const s of SHAPES) {
    it(label(s), async () => {
      const m = await modelFor(s, 5);
      const batch = makeBatch(s, 4);
      const large = expectFiniteDifferences(m, batch, m.computeGradients(batch), true);
      // the check means something only if many gradients are well above the noise floor
      expect(large).toBeGreaterThanOrEqual(10);
    });
  }
});

describe('training', () => {
  it('learns a delayed-copy task (output the token seen two steps earlier) to near-zero loss', async () => {
    const V = 4, T = 12, B = 8;
    const m = await createModel({ inputSize: V, hiddenSize: 24, outputSize: V, seed: 7 });
    let s = 12345;
    const next = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s >>> 16; };
    let loss = Infinity;
    for (let step = 0; step < 400; step++) {
      const tokens = Int32Array.from({ length: T * B }, () => next() % V);
      const targets = Int32Array.from({ length: T * B }, (_, r) => (r >= 2 * B ? tokens[r - 2 * B] : 0));
      loss = m.trainStep({ tokens, targets, seqLength: T, batchSize: B }, { type: 'adam', lr: 0.02, clipNorm: 5 });
    }
    // the first two positions per sequence have a fixed target (0), so all of it is learnable
    expect(loss).toBeLessThan(0.05);
  });

  // A training step skips the products with a zero initial state and the one only
  // the initial-state gradient needs; computeGradients does neither shortcut when
  // given a state. Both must agree, for every cell, from zeros and from a state.
  for (const cell of ['lstm', 'gru', 'rnn'] as const) for (const s of SHAPES) {
    it(`trainStep with SGD equals computeGradients followed by p - lr * g (${cell}, ${label(s)})`, async () => {
      const make = async () => randomizeWeights(await createModel({ inputSize: s.X, hiddenSize: s.H, numLayers: s.L, outputSize: s.V, seed: 3, cell }));
      const a = await make(), b = await make();
      const batch = makeBatch(s, 9);
      if (batch.initialState && cell !== 'lstm') delete batch.initialState.c;
      const r = a.computeGradients(batch);
      const before = a.getParameters();
      const loss = b.trainStep(batch, { type: 'sgd', lr: 0.1 });
      expect(loss).toBe(r.loss);
      const after = b.getParameters();
      for (const name of Object.keys(before)) {
        const e = before[name].map((p, i) => p - 0.1 * r.grads[name][i]);
        expect(maxRelDiff(after[name], e), name).toBeLessThan(1e-6);
      }
    });
  }

  it('stateful calls carry the final state into the next call (truncated BPTT)', async () => {
    const s = { ...SHAPES[1], state: false };
    const m = await modelFor(s);
    const b1 = makeBatch(s, 1), b2 = makeBatch(s, 2);
    const r1 = m.computeGradients({ ...b1, stateful: true });
    const r2 = m.computeGradients({ ...b2, stateful: true });
    const e2 = m.computeGradients({ ...b2, initialState: r1.finalState });
    expect(r2.loss).toBe(e2.loss);
    expect(maxRelDiff(r2.finalState.h, e2.finalState.h)).toBe(0);
    m.resetState();
    const r1again = m.computeGradients({ ...b1, stateful: true });
    expect(r1again.loss).toBe(r1.loss);
  });

  it('the carried state can be read, restored into another model, and reset per shape', async () => {
    const s = { ...SHAPES[1], state: false };
    const a = await modelFor(s), b = await modelFor(s);
    const b1 = makeBatch(s, 1), b2 = makeBatch(s, 2);
    const zeros = a.getCarriedState(s.T, s.B);
    expect(zeros.h.every((v) => v === 0) && zeros.c.every((v) => v === 0)).toBe(true);
    const r1 = a.computeGradients({ ...b1, stateful: true });
    const carried = a.getCarriedState(s.T, s.B);
    expect(carried).toEqual(r1.finalState);
    // a restarted run restores the carried state and continues exactly
    b.setCarriedState(s.T, s.B, carried);
    expect(b.computeGradients({ ...b2, stateful: true }).loss).toBe(a.computeGradients({ ...b2, stateful: true }).loss);
    // other shapes keep their own carried state
    a.step([1, 2, 3]);
    const stepState = a.getCarriedState(1, 3);
    a.resetState(s.T, s.B);
    expect(a.getCarriedState(s.T, s.B).h.every((v) => v === 0)).toBe(true);
    expect(a.getCarriedState(1, 3)).toEqual(stepState);
    expect(() => a.setCarriedState(s.T, s.B, { h: new Float32Array(3), c: new Float32Array(3) })).toThrow(/setCarriedState: state.h must have 36 values/);
  });

  it('step() one token at a time gives the logits of forward() over the whole sequence', async () => {
    const s: Shape = { L: 2, X: 11, H: 10, V: 11, T: 6, B: 2, tokens: true, state: false };
    const m = await modelFor(s);
    const batch = makeBatch(s, 3);
    const full = m.forward({ tokens: batch.tokens, seqLength: s.T, batchSize: s.B });
    m.resetState();
    for (let t = 0; t < s.T; t++) {
      const logits = m.step(batch.tokens!.subarray(t * s.B, (t + 1) * s.B));
      expect(maxRelDiff(logits, full.logits.subarray(t * s.B * s.V, (t + 1) * s.B * s.V))).toBeLessThan(1e-6);
    }
  });

  it('every optimizer lowers the loss on a fixed batch', async () => {
    const s = SHAPES[0];
    for (const opt of [
      { type: 'sgd', lr: 0.5, momentum: 0.9 }, { type: 'adam', lr: 0.01 }, { type: 'adamw', lr: 0.01 },
      { type: 'rmsprop', lr: 0.005 }, { type: 'adagrad', lr: 0.1 },
    ] as const) {
      const m = await modelFor(s);
      const batch = makeBatch(s, 1);
      const first = m.trainStep(batch, opt);
      let last = first;
      for (let i = 0; i < 30; i++) last = m.trainStep(batch, opt);
      expect(last, opt.type).toBeLessThan(first * 0.8);
      expect(m.optimizerStep).toBe(31);
    }
  });
});

describe('initialisation', () => {
  it('is reproducible from the seed, PyTorch-shaped, with the forget bias option', async () => {
    const cfg = { inputSize: 6, hiddenSize: 5, numLayers: 2, outputSize: 4 };
    const a = (await createModel({ ...cfg, seed: 11 })).getParameters();
    const b = (await createModel({ ...cfg, seed: 11 })).getParameters();
    const c = (await createModel({ ...cfg, seed: 12 })).getParameters();
    expect(Object.keys(a)).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0',
      'lstm.weight_ih_l1', 'lstm.weight_hh_l1', 'lstm.bias_ih_l1', 'lstm.bias_hh_l1', 'head.weight', 'head.bias']);
    expect(a['lstm.weight_ih_l0'].length).toBe(20 * 6);
    expect(a['lstm.weight_ih_l1'].length).toBe(20 * 5);
    expect(a['head.weight'].length).toBe(4 * 5);
    for (const k of Object.keys(a)) expect(a[k]).toEqual(b[k]);
    expect(a['lstm.weight_hh_l0']).not.toEqual(c['lstm.weight_hh_l0']);
    const bound = 1 / Math.sqrt(5);
    for (const [name, w] of Object.entries(a)) {
      w.forEach((v, i) => {
        const forgetBlock = name.startsWith('lstm.bias') && i >= 5 && i < 10;
        if (!forgetBlock) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      });
    }
    // forget block (second quarter) of bias_ih is 1, of bias_hh 0: total forget bias 1
    expect(Array.from(a['lstm.bias_ih_l0'].subarray(5, 10))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(a['lstm.bias_hh_l1'].subarray(5, 10))).toEqual([0, 0, 0, 0, 0]);
    const plain = (await createModel({ ...cfg, seed: 11, forgetBias: null })).getParameters();
    expect(plain['lstm.bias_ih_l0'][5]).not.toBe(1);
  });
});
