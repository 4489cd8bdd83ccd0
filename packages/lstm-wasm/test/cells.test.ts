// GRU, vanilla RNN and peephole LSTM cells; MSE and last-step losses; per-sequence
// lengths; step() on dense input and forecast(). Gradients against the float64
// scalar reference (cellsModelReference) and against finite differences of the wasm
// model itself.
import { describe, it, expect, afterAll } from 'vitest';
import { createModel, type LstmModel, type Batch, type ModelConfig } from '../dist/index.js';
import { randomizeWeights, expectFiniteDifferences } from './helpers';
import { cellsModelReference, type CellKind, type LossKind } from '../../kernels/test/reference';
import { randn, maxRelDiff } from '../../kernels/test/harness';

interface Case {
  cell: CellKind; peepholes?: boolean; loss: LossKind;
  L: number; X: number; H: number; V: number; T: number; B: number;
  tokens: boolean; state: boolean; lengths?: number[];
}

function targetsFor(c: Case, seed: number): Int32Array | Float32Array {
  const per = c.loss === 'mseLast' || c.loss === 'crossEntropyLast' ? c.B : c.T * c.B;
  if (c.loss === 'mse' || c.loss === 'mseLast') return randn(per * c.V, seed + 7, 1);
  return Int32Array.from({ length: per }, (_, i) => (i * 7 + seed) % c.V);
}

function makeBatch(c: Case, seed: number): Batch {
  const rows = c.T * c.B;
  const batch: Batch = { targets: targetsFor(c, seed), seqLength: c.T, batchSize: c.B };
  if (c.tokens) batch.tokens = Int32Array.from({ length: rows }, (_, i) => (i * 5 + 3 * seed) % c.X);
  else batch.inputs = randn(rows * c.X, seed, 1);
  if (c.state) {
    batch.initialState = { h: randn(c.L * c.B * c.H, seed + 1, 0.5) };
    if (c.cell === 'lstm') batch.initialState.c = randn(c.L * c.B * c.H, seed + 2, 1);
  }
  if (c.lengths) batch.lengths = Int32Array.from(c.lengths);
  return batch;
}

const configOf = (c: Case, seed: number): ModelConfig => ({
  inputSize: c.X, hiddenSize: c.H, numLayers: c.L, outputSize: c.V, seed, cell: c.cell, peepholes: c.peepholes ?? false, loss: c.loss,
});

async function modelFor(c: Case, seed = 3): Promise<LstmModel> {
  return randomizeWeights(await createModel(configOf(c, seed)));
}

const CASES: Case[] = [
  { cell: 'gru', loss: 'crossEntropy', L: 1, X: 5, H: 6, V: 7, T: 4, B: 3, tokens: false, state: false },
  { cell: 'gru', loss: 'crossEntropy', L: 2, X: 9, H: 5, V: 4, T: 3, B: 5, tokens: true, state: true },
  { cell: 'gru', loss: 'mse', L: 1, X: 3, H: 8, V: 2, T: 5, B: 2, tokens: false, state: true },
  { cell: 'rnn', loss: 'crossEntropy', L: 1, X: 5, H: 6, V: 7, T: 4, B: 3, tokens: false, state: true },
  { cell: 'rnn', loss: 'crossEntropyLast', L: 2, X: 7, H: 5, V: 3, T: 4, B: 5, tokens: true, state: false },
  { cell: 'lstm', peepholes: true, loss: 'crossEntropy', L: 2, X: 5, H: 6, V: 7, T: 4, B: 3, tokens: false, state: true },
  { cell: 'lstm', peepholes: true, loss: 'mseLast', L: 1, X: 4, H: 9, V: 3, T: 5, B: 2, tokens: false, state: false },
  { cell: 'lstm', loss: 'mse', L: 2, X: 3, H: 5, V: 3, T: 4, B: 3, tokens: false, state: true },
  { cell: 'lstm', loss: 'crossEntropyLast', L: 1, X: 6, H: 7, V: 4, T: 5, B: 4, tokens: true, state: true },
  // variable lengths: padding after each sequence's end
  { cell: 'lstm', loss: 'crossEntropy', L: 2, X: 5, H: 6, V: 5, T: 5, B: 3, tokens: false, state: true, lengths: [5, 2, 3] },
  { cell: 'gru', loss: 'mseLast', L: 1, X: 4, H: 6, V: 2, T: 6, B: 4, tokens: false, state: false, lengths: [1, 6, 4, 3] },
  { cell: 'rnn', loss: 'mse', L: 2, X: 4, H: 5, V: 3, T: 5, B: 3, tokens: false, state: true, lengths: [3, 5, 1] },
  { cell: 'lstm', peepholes: true, loss: 'crossEntropyLast', L: 1, X: 5, H: 6, V: 3, T: 4, B: 3, tokens: true, state: false, lengths: [2, 4, 3] },
];
const label = (c: Case) => `${c.cell}${c.peepholes ? '+peepholes' : ''} ${c.loss} L=${c.L} X=${c.X} H=${c.H} V=${c.V} T=${c.T} B=${c.B} ` +
  `${c.tokens ? 'tokens' : 'dense'}${c.state ? ' +h0' : ''}${c.lengths ? ` lengths=${c.lengths.join(',')}` : ''}`;

function reference(m: LstmModel, c: Case, batch: Batch) {
  const p = m.getParameters();
  const f64 = (a: Float32Array) => Float64Array.from(a);
  const layers = [...Array(c.L).keys()];
  const t = (what: string) => layers.map((l) => f64(p[`${c.cell}.${what}_l${l}`]));
  const peep = c.peepholes
    ? layers.map((l) => Float64Array.from([...p[`lstm.weight_ci_l${l}`], ...p[`lstm.weight_cf_l${l}`], ...p[`lstm.weight_co_l${l}`]]))
    : undefined;
  return cellsModelReference({ wIh: t('weight_ih'), wHh: t('weight_hh'), bIh: t('bias_ih'), bHh: t('bias_hh'), peep, wV: f64(p['head.weight']), bV: f64(p['head.bias']) },
    c, { cell: c.cell, loss: c.loss, lengths: c.lengths }, batch.inputs ?? null, batch.tokens ?? null, batch.targets,
    batch.initialState?.h, batch.initialState?.c);
}

// the worst differences, printed at the end
const worst = { reference: 0, fd: 0 };
afterAll(() => console.log(`cells: max relative difference to the float64 reference ${worst.reference.toExponential(2)}; ` +
  `max |finite difference - analytic| / (3e-5 + 1e-2 |analytic|) ${worst.fd.toFixed(3)} (must stay below 1)`));

describe('every cell and loss against the float64 scalar reference', () => {
  for (const c of CASES) {
    it(label(c), async () => {
      const m = await modelFor(c);
      const batch = makeBatch(c, 2);
      const r = m.computeGradients(batch);
      const e = reference(m, c, batch);
      const diffs: Record<string, number> = {
        loss: Math.abs(r.loss - e.loss) / e.loss,
        logits: maxRelDiff(r.logits, e.logits),
        finalH: maxRelDiff(r.finalState.h, e.finalH),
        dh0: maxRelDiff(r.initialStateGrad.h, e.dh0),
        'head.weight': maxRelDiff(r.grads['head.weight'], e.grads.wV), 'head.bias': maxRelDiff(r.grads['head.bias'], e.grads.bV),
      };
      if (c.cell === 'lstm') {
        diffs.finalC = maxRelDiff(r.finalState.c, e.finalC);
        diffs.dc0 = maxRelDiff(r.initialStateGrad.c, e.dc0);
      } else {
        expect(r.finalState.c.length).toBe(0);
        expect(r.initialStateGrad.c.length).toBe(0);
      }
      for (let l = 0; l < c.L; l++) {
        for (const [what, g] of [['weight_ih', e.grads.wIh], ['weight_hh', e.grads.wHh], ['bias_ih', e.grads.bIh], ['bias_hh', e.grads.bHh]] as const) {
          diffs[`${what}_l${l}`] = maxRelDiff(r.grads[`${c.cell}.${what}_l${l}`], g[l]);
        }
        if (c.peepholes) {
          const H = c.H, g = e.grads.peep[l];
          diffs[`weight_ci_l${l}`] = maxRelDiff(r.grads[`lstm.weight_ci_l${l}`], g.subarray(0, H));
          diffs[`weight_cf_l${l}`] = maxRelDiff(r.grads[`lstm.weight_cf_l${l}`], g.subarray(H, 2 * H));
          diffs[`weight_co_l${l}`] = maxRelDiff(r.grads[`lstm.weight_co_l${l}`], g.subarray(2 * H));
        }
      }
      if (!c.tokens) diffs.inputGrad = maxRelDiff(r.inputGrad!, e.inputGrad);
      // lastOutputs: the outputs at each sequence's last step
      for (let b = 0; b < c.B; b++) {
        const t = (c.lengths ? c.lengths[b] : c.T) - 1;
        expect(Array.from(r.lastOutputs.subarray(b * c.V, (b + 1) * c.V))).toEqual(Array.from(r.logits.subarray((t * c.B + b) * c.V, (t * c.B + b + 1) * c.V)));
      }
      for (const [name, d] of Object.entries(diffs)) {
        worst.reference = Math.max(worst.reference, d);
        expect(d, name).toBeLessThan(1e-5);
      }
    });
  }
});

describe('finite differences on the wasm model itself', () => {
  for (const c of CASES) {
    it(label(c), async () => {
      const m = await modelFor(c, 5);
      const batch = makeBatch(c, 4);
      const large = expectFiniteDifferences(m, batch, m.computeGradients(batch), c.cell === 'lstm', (ratio) => { worst.fd = Math.max(worst.fd, ratio); });
      // the check means something only if many gradients are well above the noise floor
      expect(large).toBeGreaterThanOrEqual(10);
    });
  }
});

describe('variable lengths: the same as running each sequence alone', () => {
  const cases: Case[] = [
    { cell: 'lstm', peepholes: true, loss: 'crossEntropy', L: 2, X: 5, H: 6, V: 5, T: 6, B: 3, tokens: false, state: true, lengths: [6, 2, 4] },
    { cell: 'gru', loss: 'mse', L: 1, X: 3, H: 5, V: 2, T: 5, B: 4, tokens: false, state: false, lengths: [3, 5, 1, 2] },
    { cell: 'rnn', loss: 'crossEntropyLast', L: 2, X: 7, H: 5, V: 3, T: 4, B: 3, tokens: true, state: true, lengths: [4, 1, 3] },
    { cell: 'gru', loss: 'mseLast', L: 2, X: 4, H: 6, V: 2, T: 5, B: 3, tokens: false, state: true, lengths: [2, 5, 3] },
  ];
  for (const c of cases) {
    it(label(c), async () => {
      const m = await modelFor(c, 9);
      const batch = makeBatch(c, 6);
      const r = m.computeGradients(batch);
      const { T, B, X, V, H, L } = c;
      const last = c.loss === 'mseLast' || c.loss === 'crossEntropyLast';
      const mse = c.loss === 'mse' || c.loss === 'mseLast';
      const total = last ? B : c.lengths!.reduce((a, n) => a + n, 0);
      const sum: Record<string, Float64Array> = {};
      let loss = 0;
      for (let b = 0; b < B; b++) {
        const len = c.lengths![b];
        // sequence b alone: its first len steps, batch of one
        const one: Batch = { seqLength: len, batchSize: 1, targets: new Int32Array(0) };
        if (batch.inputs) one.inputs = Float32Array.from({ length: len * X }, (_, i) => batch.inputs![(Math.floor(i / X) * B + b) * X + (i % X)]);
        else one.tokens = Int32Array.from({ length: len }, (_, t) => batch.tokens![t * B + b]);
        const per = mse ? V : 1;
        const tg = batch.targets;
        const pick = (k: number) => Array.from(tg.subarray(k * per, (k + 1) * per));
        const tv = last ? pick(b) : Array.from({ length: len }, (_, t) => pick(t * B + b)).flat();
        one.targets = mse ? Float32Array.from(tv) : Int32Array.from(tv);
        if (batch.initialState) {
          const sl = (a: Float32Array) => Float32Array.from({ length: L * H }, (_, i) => a[Math.floor(i / H) * B * H + b * H + (i % H)]);
          one.initialState = { h: sl(batch.initialState.h) };
          if (batch.initialState.c) one.initialState.c = sl(batch.initialState.c);
        }
        const a = m.computeGradients(one);
        // the batch's mean runs over all included positions: weight each sequence by its share
        const w = (last ? 1 : len) / total;
        loss += a.loss * w;
        for (const [name, g] of Object.entries(a.grads)) {
          sum[name] ??= new Float64Array(g.length);
          g.forEach((v, i) => { sum[name][i] += v * w; });
        }
        for (let l = 0; l < L; l++) {
          const got = r.finalState.h.subarray(l * B * H + b * H, l * B * H + (b + 1) * H);
          expect(maxRelDiff(got, a.finalState.h.subarray(l * H, (l + 1) * H)), `final h, sequence ${b}`).toBeLessThan(1e-6);
          const dh0 = r.initialStateGrad.h.subarray(l * B * H + b * H, l * B * H + (b + 1) * H);
          expect(maxRelDiff(dh0, Float64Array.from(a.initialStateGrad.h.subarray(l * H, (l + 1) * H), (v) => v * w)), `dh0, sequence ${b}`).toBeLessThan(1e-5);
        }
        expect(maxRelDiff(r.lastOutputs.subarray(b * V, (b + 1) * V), a.lastOutputs), `last outputs, sequence ${b}`).toBeLessThan(1e-6);
        if (batch.inputs) {
          // no gradient reaches the padding
          for (let t = len; t < T; t++) for (let i = 0; i < X; i++) expect(r.inputGrad![(t * B + b) * X + i]).toBe(0);
        }
      }
      expect(Math.abs(r.loss - loss) / loss).toBeLessThan(1e-5);
      for (const name of Object.keys(sum)) expect(maxRelDiff(r.grads[name], sum[name]), name).toBeLessThan(1e-5);
    });
  }

  it('stateful calls carry each sequence\'s state at its own end', async () => {
    const c: Case = { cell: 'gru', loss: 'mse', L: 1, X: 3, H: 5, V: 2, T: 4, B: 3, tokens: false, state: false, lengths: [4, 2, 3] };
    const m = await modelFor(c);
    const b1 = makeBatch(c, 1), b2 = { ...makeBatch(c, 2), lengths: undefined };
    const r1 = m.computeGradients({ ...b1, stateful: true });
    const r2 = m.computeGradients({ ...b2, stateful: true });
    const e2 = m.computeGradients({ ...b2, initialState: { h: r1.finalState.h } });
    expect(r2.loss).toBe(e2.loss);
    expect(r2.finalState.h).toEqual(e2.finalState.h);
  });
});

describe('step() on dense input and forecast()', () => {
  it('step() one time step at a time gives the outputs of forward() over the whole sequence (GRU, 2 layers)', async () => {
    const c: Case = { cell: 'gru', loss: 'mse', L: 2, X: 3, H: 7, V: 3, T: 5, B: 2, tokens: false, state: false };
    const m = await modelFor(c);
    const x = randn(c.T * c.B * c.X, 3);
    const full = m.forward({ inputs: x, seqLength: c.T, batchSize: c.B });
    m.resetState();
    for (let t = 0; t < c.T; t++) {
      const y = m.step(x.subarray(t * c.B * c.X, (t + 1) * c.B * c.X));
      expect(maxRelDiff(y, full.logits.subarray(t * c.B * c.V, (t + 1) * c.B * c.V))).toBeLessThan(1e-6);
    }
  });

  it('forecast(history, n) feeds its own predictions back (peephole LSTM)', async () => {
    const c: Case = { cell: 'lstm', peepholes: true, loss: 'mse', L: 1, X: 2, H: 6, V: 2, T: 4, B: 3, tokens: false, state: false };
    const m = await modelFor(c);
    const history = randn(c.T * c.B * c.X, 8);
    const out = m.forecast(history, 3, c.B);
    expect(out.length).toBe(3 * c.B * c.V);
    // by hand: the whole history through forward, then one step per prediction from its final state
    const r = m.forward({ inputs: history, seqLength: c.T, batchSize: c.B });
    let pred = r.logits.slice((c.T - 1) * c.B * c.V);
    let state = r.finalState;
    for (let i = 0; i < 3; i++) {
      expect(maxRelDiff(out.subarray(i * c.B * c.V, (i + 1) * c.B * c.V), pred), `prediction ${i}`).toBeLessThan(1e-6);
      const s = m.forward({ inputs: pred, seqLength: 1, batchSize: c.B, initialState: state });
      pred = s.logits; state = s.finalState;
    }
  });
});

describe('configuration and parameter names', () => {
  it('PyTorch names and shapes for GRU, RNN and peephole LSTM', async () => {
    const gru = await createModel({ inputSize: 4, hiddenSize: 5, numLayers: 2, outputSize: 3, cell: 'gru' });
    const g = gru.getParameters();
    expect(Object.keys(g)).toEqual(['gru.weight_ih_l0', 'gru.weight_hh_l0', 'gru.bias_ih_l0', 'gru.bias_hh_l0',
      'gru.weight_ih_l1', 'gru.weight_hh_l1', 'gru.bias_ih_l1', 'gru.bias_hh_l1', 'head.weight', 'head.bias']);
    expect(g['gru.weight_ih_l0'].length).toBe(15 * 4);
    expect(g['gru.weight_hh_l1'].length).toBe(15 * 5);
    expect(gru.config).toEqual({ inputSize: 4, hiddenSize: 5, numLayers: 2, outputSize: 3, cell: 'gru' });
    const rnn = (await createModel({ inputSize: 4, hiddenSize: 5, outputSize: 3, cell: 'rnn', loss: 'mse' }));
    expect(Object.keys(rnn.getParameters())).toEqual(['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias']);
    expect(rnn.getParameters()['rnn.weight_hh_l0'].length).toBe(25);
    expect(rnn.config.loss).toBe('mse');
    const peep = await createModel({ inputSize: 4, hiddenSize: 5, outputSize: 3, peepholes: true });
    expect(Object.keys(peep.getParameters())).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0',
      'lstm.weight_ci_l0', 'lstm.weight_cf_l0', 'lstm.weight_co_l0', 'head.weight', 'head.bias']);
    expect(peep.parameterCount).toBe(20 * 4 + 20 * 5 + 40 + 15 + 15 + 3);
    // the default LSTM's config is unchanged
    expect((await createModel({ inputSize: 4, hiddenSize: 5, outputSize: 3 })).config).toEqual({ inputSize: 4, hiddenSize: 5, numLayers: 1, outputSize: 3 });
  });

  it('GRU and RNN initialise every tensor uniformly in +-1/sqrt(H) (no forget bias)', async () => {
    for (const cell of ['gru', 'rnn'] as const) {
      const p = (await createModel({ inputSize: 3, hiddenSize: 4, outputSize: 2, cell, seed: 2 })).getParameters();
      for (const [name, w] of Object.entries(p)) for (const v of w) expect(Math.abs(v), name).toBeLessThanOrEqual(0.5);
    }
  });
});
