// ONNX export checked by running the exported file in ONNX Runtime (onnxruntime-node, CPU):
// logits, probabilities and final state against the model's own forward pass, for LSTM
// (with and without peepholes), GRU and RNN; and the import of the exported files.
// Tolerance: max|diff| / max|ref| <= 1e-4 (float32 on both sides).
// Build first: (cd packages/kernels && npm run build) && (cd packages/lstm-wasm && npm run build)

import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, createModelFromONNX, parametersFromONNX, toONNX, type LstmModel } from '../dist/index.js';
import { Comparisons, lcg } from './compare';

const LstmErrorLike = /parametersFromONNX: /;
const cmp = new Comparisons(40);
const close = cmp.close.bind(cmp);
afterAll(() => cmp.print(`ONNX Runtime ${ort.env.versions?.node ?? ''} vs @lstm/wasm`));

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
type Config = { inputSize: number; hiddenSize: number; numLayers: number; outputSize: number; cell?: 'lstm' | 'gru' | 'rnn'; peepholes?: boolean; loss?: 'mse' };
async function trained(config: Config, tokens: boolean): Promise<LstmModel> {
  const m = await createModel({ ...config, seed: 5 });
  const T = 5, B = 3;
  if (config.loss === 'mse') {
    const batch = { inputs: u(T * B * config.inputSize), targets: u(T * B * config.outputSize), seqLength: T, batchSize: B };
    for (let s = 0; s < 4; s++) m.trainStep(batch as never, { type: 'adam', lr: 0.03 });
    return m;
  }
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

  for (const config of [
    { inputSize: 4, hiddenSize: 6, numLayers: 2, outputSize: 3, cell: 'gru' },
    { inputSize: 5, hiddenSize: 7, numLayers: 1, outputSize: 5, cell: 'rnn' },
    { inputSize: 3, hiddenSize: 5, numLayers: 2, outputSize: 4, peepholes: true },
    { inputSize: 3, hiddenSize: 4, numLayers: 1, outputSize: 2, loss: 'mse' },
  ] as Config[]) {
    const label = `${config.cell ?? 'lstm'}${config.peepholes ? '+peepholes' : ''}${config.loss ? ` ${config.loss}` : ''} x${config.numLayers}`;
    it(`${label}: ONNX Runtime gives the model's outputs, with and without initial state`, async () => {
      const model = await trained(config, false);
      const { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V } = config;
      const lstm = (config.cell ?? 'lstm') === 'lstm';
      try {
        const plain = await ort.InferenceSession.create(toONNX(model));
        const withState = await ort.InferenceSession.create(toONNX(model, { initialState: true }));
        expect([...withState.inputNames].sort()).toEqual(lstm ? ['c0', 'h0', 'input'] : ['h0', 'input']);
        const head = config.loss === 'mse' ? 'outputs' : 'logits';
        expect([...plain.outputNames].sort()).toEqual([...(lstm ? ['c_n', 'h_n'] : ['h_n']), ...(config.loss === 'mse' ? ['outputs'] : ['logits', 'probs'])].sort());
        const T = 6, B = 2;
        const inputs = u(T * B * X), h = u(L * B * H, 0.5), c = u(L * B * H, 0.5);
        const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor('float32', inputs, [T, B, X]), h0: new ort.Tensor('float32', h, [L, B, H]) };
        if (lstm) feeds.c0 = new ort.Tensor('float32', c, [L, B, H]);
        const ref = model.forward({ inputs, seqLength: T, batchSize: B, initialState: lstm ? { h, c } : { h } });
        const out = await withState.run(feeds);
        close(`${label} ${head} (state)`, out[head].data as Float32Array, ref.logits);
        close(`${label} h_n (state)`, out.h_n.data as Float32Array, ref.finalState.h);
        if (lstm) close(`${label} c_n (state)`, out.c_n.data as Float32Array, ref.finalState.c);
        if (config.loss !== 'mse') close(`${label} probs (state)`, out.probs.data as Float32Array, softmaxRows(ref.logits, V));
        const ref0 = model.forward({ inputs, seqLength: T, batchSize: B });
        const out0 = await plain.run({ input: feeds.input });
        close(`${label} ${head} (zero state)`, out0[head].data as Float32Array, ref0.logits);
        await plain.release();
        await withState.release();
      } finally {
        model.dispose();
      }
    });
  }

  it('export then import gives back every parameter exactly, for every cell', async () => {
    for (const config of [
      { inputSize: 6, hiddenSize: 8, numLayers: 2, outputSize: 5 },
      { inputSize: 4, hiddenSize: 6, numLayers: 2, outputSize: 3, cell: 'gru' },
      { inputSize: 5, hiddenSize: 7, numLayers: 1, outputSize: 5, cell: 'rnn' },
      { inputSize: 3, hiddenSize: 5, numLayers: 3, outputSize: 4, peepholes: true },
    ] as Config[]) {
      const model = await trained(config, false);
      try {
        for (const options of [{}, { initialState: true }, { input: 'tokens' as const }]) {
          const imported = parametersFromONNX(toONNX(model, options));
          expect(imported.config).toEqual(model.config);
          const p = model.getParameters();
          expect(Object.keys(imported.params).sort()).toEqual(Object.keys(p).sort());
          for (const name of Object.keys(p)) expect(Array.from(imported.params[name]), name).toEqual(Array.from(p[name]));
        }
        const again = await createModelFromONNX(toONNX(model));
        expect(again.config).toEqual(model.config);
        again.dispose();
      } finally {
        model.dispose();
      }
    }
  });

  it('the importer says why it cannot take a graph', async () => {
    const gru = await createModel({ inputSize: 3, hiddenSize: 2, outputSize: 2, cell: 'gru' });
    const lstm = await createModel({ inputSize: 3, hiddenSize: 2, outputSize: 2 });
    try {
      /** The file with one byte sequence replaced by another of the same length. */
      const patch = (bytes: Uint8Array, from: number[], to: number[]) => {
        const out = Uint8Array.from(bytes);
        for (let i = 0; i + from.length <= out.length; i++) {
          if (from.every((b, k) => out[i + k] === b)) { out.set(to, i); return out; }
        }
        throw new Error('pattern not found');
      };
      const ascii = (t: string) => [...new TextEncoder().encode(t)];
      // linear_before_reset 1 -> 0: the original GRU, not PyTorch's
      const g = toONNX(gru);
      expect(() => parametersFromONNX(patch(g, [...ascii('linear_before_reset'), 0x18, 0x01], [...ascii('linear_before_reset'), 0x18, 0x00]))).toThrow(/linear_before_reset 0/);
      const l = toONNX(lstm);
      expect(() => parametersFromONNX(patch(l, ascii('forward'), ascii('reverse')))).toThrow(/direction 'reverse'/);
      expect(() => parametersFromONNX(patch(l, ascii('LSTM'), ascii('LSTN')))).toThrow(/no LSTM, GRU or RNN node/);
      expect(() => parametersFromONNX(patch(l, ascii('MatMul'), ascii('MatMux')))).toThrow(/goes to a MatMux node/);
      expect(() => parametersFromONNX(l.subarray(0, l.length - 3))).toThrow(/truncated|past the end/);
      expect(() => parametersFromONNX(new Uint8Array(0))).toThrow(/empty/);
      expect(() => parametersFromONNX(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(LstmErrorLike);
    } finally {
      gru.dispose();
      lstm.dispose();
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
