import { describe, it, expect } from 'vitest';
import { createModel, capabilities, type Batch, type GradientResult, type LstmModel } from '../dist/index.js';
import { randn, maxRelDiff } from '../../kernels/test/harness';

// Large enough that every thread gets rows (the model keeps small jobs on one thread).
const cfg = { inputSize: 65, hiddenSize: 37, numLayers: 2, outputSize: 65, seed: 4 };
const T = 16, B = 12;
const tokens = Int32Array.from({ length: T * B }, (_, i) => (i * 31 + 7) % 65);
const targets = Int32Array.from({ length: T * B }, (_, i) => (i * 17 + 3) % 65);
const tokenBatch: Batch = { tokens, targets, seqLength: T, batchSize: B };
const denseBatch: Batch = { inputs: randn(T * B * 65, 9), targets, seqLength: T, batchSize: B };

/** Every result equal, bit for bit, to the first (one thread's). */
function expectIdentical([r1, ...rs]: GradientResult[]): void {
  for (const r of rs) {
    expect(r.loss).toBe(r1.loss);
    expect(r.logits).toEqual(r1.logits);
    for (const name of Object.keys(r1.grads)) expect(r.grads[name], name).toEqual(r1.grads[name]);
    expect(r.initialStateGrad).toEqual(r1.initialStateGrad);
    expect(r.finalState).toEqual(r1.finalState);
    expect(r.inputGrad).toEqual(r1.inputGrad);
  }
}

async function models(options: { threads: number; relaxedSimd: boolean }[]): Promise<LstmModel[]> {
  return Promise.all(options.map((o) => createModel({ ...cfg, ...o })));
}

describe('capabilities and builds', () => {
  it('reports SIMD, relaxed SIMD (vitest runs Node with the flag), threads and a thread count', async () => {
    const c = await capabilities();
    expect(c.simd).toBe(true);
    expect(c.relaxedSimd).toBe(true);
    expect(c.threads).toBe(true);
    expect(c.threadCount).toBeGreaterThanOrEqual(1);
    const m = await createModel({ ...cfg, threads: 3 });
    expect(m.threads).toBe(3);
    m.dispose();
    const one = await createModel({ ...cfg, threads: 1 });
    expect(one.threads).toBe(1);
  });
});

describe('results are bit-identical for every thread count', () => {
  for (const relaxedSimd of [false, true]) {
    it(`gradients, ${relaxedSimd ? 'relaxed' : 'plain'} SIMD, 1 / 2 / 3 threads, token and dense input`, async () => {
      const ms = await models([1, 2, 3].map((threads) => ({ threads, relaxedSimd })));
      for (const batch of [tokenBatch, denseBatch]) {
        expectIdentical(ms.map((m) => m.computeGradients(batch)));
      }
      ms.forEach((m) => m.dispose());
    });
  }

  it('training steps with clipping, every optimizer, stateful chunks', async () => {
    const ms = await models([1, 2, 3].map((threads) => ({ threads, relaxedSimd: false })));
    for (const opt of [
      { type: 'adam', lr: 0.01, clipNorm: 0.5 }, { type: 'sgd', lr: 0.1, momentum: 0.9 }, { type: 'rmsprop', lr: 0.001 },
    ] as const) {
      const losses = ms.map((m) => [0, 1, 2].map(() => m.trainStep({ ...tokenBatch, stateful: true }, opt)));
      expect(losses[1]).toEqual(losses[0]);
      expect(losses[2]).toEqual(losses[0]);
    }
    const p = ms.map((m) => m.getFlatParameters());
    expect(p[1]).toEqual(p[0]);
    expect(p[2]).toEqual(p[0]);
    ms.forEach((m) => m.dispose());
  });

  it('the relaxed build agrees with the plain one to float32 accuracy', async () => {
    const [plain, relaxed] = await models([{ threads: 1, relaxedSimd: false }, { threads: 1, relaxedSimd: true }]);
    const a = plain.computeGradients(tokenBatch), b = relaxed.computeGradients(tokenBatch);
    expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThan(1e-6);
    for (const name of Object.keys(a.grads)) expect(maxRelDiff(b.grads[name], a.grads[name]), name).toBeLessThan(1e-5);
  });
});

describe('GRU, RNN, peephole LSTM, MSE and lengths: bit-identical for every thread count', () => {
  const lengths = Int32Array.from({ length: B }, (_, b) => 1 + ((b * 5) % T));
  const cases = [
    { name: 'GRU, 2 layers, token input, cross-entropy', cfg: { ...cfg, cell: 'gru' as const }, batch: tokenBatch },
    { name: 'RNN, dense input, cross-entropy on the last step, lengths', cfg: { ...cfg, cell: 'rnn' as const, loss: 'crossEntropyLast' as const },
      batch: { ...denseBatch, targets: targets.slice(0, B), lengths } },
    { name: 'peephole LSTM, dense input, MSE, lengths', cfg: { ...cfg, peepholes: true, loss: 'mse' as const },
      batch: { ...denseBatch, targets: randn(T * B * 65, 5), lengths } },
    { name: 'GRU, dense input, MSE on the last step, lengths', cfg: { ...cfg, cell: 'gru' as const, loss: 'mseLast' as const },
      batch: { ...denseBatch, targets: randn(B * 65, 6), lengths } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const ms = await Promise.all([1, 2, 3].map((threads) => createModel({ ...c.cfg, threads, relaxedSimd: false })));
      expectIdentical(ms.map((m) => m.computeGradients(c.batch)));
      const losses = ms.map((m) => [0, 1].map(() => m.trainStep({ ...c.batch, stateful: true }, { type: 'adam', lr: 0.01, clipNorm: 0.5 })));
      expect(losses[1]).toEqual(losses[0]);
      expect(losses[2]).toEqual(losses[0]);
      const p = ms.map((m) => m.getFlatParameters());
      expect(p[1]).toEqual(p[0]);
      expect(p[2]).toEqual(p[0]);
      ms.forEach((m) => m.dispose());
    });
  }
});
