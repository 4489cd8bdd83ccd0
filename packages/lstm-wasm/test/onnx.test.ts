// ONNX export checked by running the exported file in ONNX Runtime (onnxruntime-node, CPU):
// logits, probabilities and final state against the model's own forward pass.
// Tolerance: max|diff| / max|ref| <= 1e-4 (float32 on both sides).
// Build first: (cd packages/kernels && npm run build) && (cd packages/lstm-wasm && npm run build)

import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, toONNX, type LstmModel } from '../dist/index.js';

const REL_TOL = 1e-4;
const report: string[] = [];
afterAll(() => { if (report.length) console.log(`ONNX Runtime ${ort.env.versions?.node ?? ''} vs @lstm/wasm:\n${report.join('\n')}`); });

function close(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let d = 0, m = 0;
  for (let i = 0; i < expected.length; i++) {
    const x = Math.abs(actual[i] - expected[i]);
    d = Number.isNaN(x) ? Infinity : Math.max(d, x);
    m = Math.max(m, Math.abs(expected[i]));
  }
  const r = d / Math.max(m, 1e-30);
  report.push(`  ${label.padEnd(40)} max|diff| ${d.toExponential(2).padStart(9)}  rel ${r.toExponential(2)}`);
  expect(r, `${label}: relative difference ${r.toExponential(2)}`).toBeLessThanOrEqual(REL_TOL);
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}
const r = lcg(9);
const u = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
const ids = (n: number, k: number) => Int32Array.from({ length: n }, () => Math.floor(r() * k));

function softmaxRows(logits: Float32Array, V: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let o = 0; o < logits.length; o += V) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[o + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - m);
    for (let v = 0; v < V; v++) out[o + v] = Math.exp(logits[o + v] - m) / s;
  }
  return out;
}

/** Trains a few steps so the weights are not the initial ones (and biases differ). */
async function trained(config: { inputSize: number; hiddenSize: number; numLayers: number; outputSize: number }, tokens: boolean): Promise<LstmModel> {
  const m = await createModel({ ...config, seed: 5 });
  const T = 5, B = 3;
  const batch = tokens
    ? { tokens: ids(T * B, config.inputSize), targets: ids(T * B, config.outputSize), seqLength: T, batchSize: B }
    : { inputs: u(T * B * config.inputSize), targets: ids(T * B, config.outputSize), seqLength: T, batchSize: B };
  for (let s = 0; s < 4; s++) m.trainStep(batch, { type: 'adam', lr: 0.03 });
  return m;
}

describe('ONNX export runs in ONNX Runtime', () => {
  it('dense input, 2 layers, with initial state inputs; two different (seq, batch) shapes', async () => {
    const config = { inputSize: 6, hiddenSize: 8, numLayers: 2, outputSize: 5 };
    const model = await trained(config, false);
    try {
      const session = await ort.InferenceSession.create(toONNX(model, { initialState: true }));
      expect([...session.inputNames].sort()).toEqual(['c0', 'h0', 'input']);
      expect([...session.outputNames].sort()).toEqual(['c_n', 'h_n', 'logits', 'probs']);
      for (const [T, B] of [[7, 3], [2, 1]]) {
        const { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V } = config;
        const inputs = u(T * B * X), h = u(L * B * H, 0.5), c = u(L * B * H, 0.5);
        const ref = model.forward({ inputs, seqLength: T, batchSize: B, initialState: { h, c } });
        const out = await session.run({
          input: new ort.Tensor('float32', inputs, [T, B, X]),
          h0: new ort.Tensor('float32', h, [L, B, H]),
          c0: new ort.Tensor('float32', c, [L, B, H]),
        });
        expect(out.logits.dims).toEqual([T, B, V]);
        expect(out.h_n.dims).toEqual([L, B, H]);
        close(`dense L2 T${T} B${B} logits`, out.logits.data as Float32Array, ref.logits);
        close(`dense L2 T${T} B${B} probs`, out.probs.data as Float32Array, softmaxRows(ref.logits, V));
        close(`dense L2 T${T} B${B} h_n`, out.h_n.data as Float32Array, ref.finalState.h);
        close(`dense L2 T${T} B${B} c_n`, out.c_n.data as Float32Array, ref.finalState.c);
      }
      await session.release();
    } finally {
      model.dispose();
    }
  });

  it('dense input, 1 layer, zero initial state (the default graph)', async () => {
    const config = { inputSize: 3, hiddenSize: 16, numLayers: 1, outputSize: 4 };
    const model = await trained(config, false);
    try {
      const session = await ort.InferenceSession.create(toONNX(model));
      expect([...session.inputNames]).toEqual(['input']);
      const T = 9, B = 2;
      const inputs = u(T * B * 3);
      const ref = model.forward({ inputs, seqLength: T, batchSize: B });
      const out = await session.run({ input: new ort.Tensor('float32', inputs, [T, B, 3]) });
      close('dense L1 logits', out.logits.data as Float32Array, ref.logits);
      close('dense L1 probs', out.probs.data as Float32Array, softmaxRows(ref.logits, 4));
      close('dense L1 h_n', out.h_n.data as Float32Array, ref.finalState.h);
      close('dense L1 c_n', out.c_n.data as Float32Array, ref.finalState.c);
      await session.release();
    } finally {
      model.dispose();
    }
  });

  it('token input (int64 ids through OneHot) and the same model fed one-hot rows', async () => {
    const config = { inputSize: 11, hiddenSize: 7, numLayers: 2, outputSize: 11 };
    const model = await trained(config, true);
    try {
      const T = 6, B = 4, X = 11;
      const tokens = ids(T * B, X);
      const ref = model.forward({ tokens, seqLength: T, batchSize: B });
      const tok = await ort.InferenceSession.create(toONNX(model, { input: 'tokens' }));
      expect([...tok.inputNames]).toEqual(['tokens']);
      const out = await tok.run({ tokens: new ort.Tensor('int64', BigInt64Array.from(tokens, (v) => BigInt(v)), [T, B]) });
      close('tokens logits', out.logits.data as Float32Array, ref.logits);
      close('tokens h_n', out.h_n.data as Float32Array, ref.finalState.h);
      close('tokens c_n', out.c_n.data as Float32Array, ref.finalState.c);
      const dense = await ort.InferenceSession.create(toONNX(model));
      const onehot = new Float32Array(T * B * X);
      tokens.forEach((t, i) => { onehot[i * X + t] = 1; });
      const out2 = await dense.run({ input: new ort.Tensor('float32', onehot, [T, B, X]) });
      close('one-hot logits', out2.logits.data as Float32Array, ref.logits);
      await tok.release();
      await dense.release();
    } finally {
      model.dispose();
    }
  });

  it('rejects bad options with an LstmError', async () => {
    const model = await createModel({ inputSize: 2, hiddenSize: 2, outputSize: 2 });
    try {
      expect(() => toONNX(model, { input: 'ids' as 'tokens' })).toThrow(/options.input/);
      expect(() => toONNX(model, null as unknown as object)).toThrow(/options must be an object/);
    } finally {
      model.dispose();
    }
  });
});
