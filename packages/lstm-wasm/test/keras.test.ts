// Keras weights, checked against TensorFlow.js's own Keras layers (tfjs-layers on the CPU
// backend): a Sequential LSTM stack + Dense head is saved in the TensorFlow.js layers format
// (model.json + weight bytes, which tfjs loads back to prove the files are its format), imported
// with createModelFromTfjs, and both give the same outputs for the same inputs. Also: an
// Embedding in front (folded into weight_ih), the get_weights() list route, and rejections.
// Tolerance: max|diff| / max|ref| <= 1e-4 (float32 on both sides).

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelFromKeras, createModelFromTfjs, importKerasWeights, createModel, parametersFromKeras, parametersFromTfjs } from '../dist/index.js';
import { Comparisons, lcg } from './compare';

const cmp = new Comparisons(36);
const close = cmp.close.bind(cmp);
afterAll(() => cmp.print(`TensorFlow.js ${tf.version_core} (Keras layers) vs @lstm/wasm`));

const rnd = lcg(3);
const u = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * s);
const ids = (n: number, k: number) => Int32Array.from({ length: n }, () => Math.floor(rnd() * k));

/** [B, T, ...] (Keras, batch-major) -> [T, B, ...] (this model, time-major). */
function toTimeMajor(a: ArrayLike<number>, B: number, T: number, F: number): Float32Array {
  const out = new Float32Array(B * T * F);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[(t * B + b) * F + f] = a[(b * T + t) * F + f];
  return out;
}

/** Saves a tfjs model the way its file handlers do: model.json and one weight file. */
async function saveTfjs(model: tfl.LayersModel): Promise<{ json: string; bin: Uint8Array }> {
  let out: { json: string; bin: Uint8Array } | undefined;
  await model.save(tf.io.withSaveHandler(async (art) => {
    const data = art.weightData as ArrayBuffer | ArrayBuffer[];
    const bin = new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
    const modelJson = {
      modelTopology: art.modelTopology, format: art.format, generatedBy: art.generatedBy, convertedBy: art.convertedBy,
      weightsManifest: [{ paths: ['./model.weights.bin'], weights: art.weightSpecs }],
    };
    out = { json: JSON.stringify(modelJson), bin };
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(art) };
  }));
  return out!;
}

/** Loads the saved files back into tfjs (proves they are its format). */
async function loadTfjs(files: { json: string; bin: Uint8Array }): Promise<tfl.LayersModel> {
  const art = await tf.io.getModelArtifactsForJSON(JSON.parse(files.json), async (manifest) => [
    manifest.flatMap((g) => g.weights), files.bin.slice().buffer,
  ]);
  return tfl.loadLayersModel(tf.io.fromMemory(art));
}

const uniform = (seed: number) => tfl.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Keras / TensorFlow.js weights', () => {
  it('a 2-layer LSTM + Dense model saved by TensorFlow.js gives the same outputs here', async () => {
    const X = 4, H = 6, V = 5, T = 7, B = 3;
    const k = tfl.sequential();
    k.add(tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [null, X], unitForgetBias: false, biasInitializer: uniform(1), recurrentInitializer: uniform(11), kernelInitializer: uniform(21) }));
    k.add(tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: false, biasInitializer: uniform(2), recurrentInitializer: uniform(12), kernelInitializer: uniform(22) }));
    k.add(tfl.layers.dense({ units: V, biasInitializer: uniform(3), kernelInitializer: uniform(23) }));
    const files = await saveTfjs(k);
    const x = u(B * T * X);
    const expected = tf.tidy(() => (k.predict(tf.tensor3d(x, [B, T, X])) as tf.Tensor).dataSync().slice());
    // tfjs reads its files back to the same outputs
    const back = await loadTfjs(files);
    const again = tf.tidy(() => (back.predict(tf.tensor3d(x, [B, T, X])) as tf.Tensor).dataSync().slice());
    expect(Array.from(again)).toEqual(Array.from(expected));

    const model = await createModelFromTfjs(files.json, files.bin);
    try {
      expect(model.config).toEqual({ inputSize: X, hiddenSize: H, numLayers: 2, outputSize: V });
      const f = model.forward({ inputs: toTimeMajor(x, B, T, X), seqLength: T, batchSize: B });
      close('tfjs 2-layer logits', f.logits, toTimeMajor(expected, B, T, V));
      // the bias lands in bias_ih; bias_hh is zero
      const p = model.getParameters();
      expect(p['lstm.bias_hh_l0'].every((v) => v === 0)).toBe(true);
      expect(p['lstm.bias_ih_l0'].some((v) => v !== 0)).toBe(true);
    } finally {
      model.dispose();
    }

    // the same weights as get_weights() lists (nested arrays), into an existing model
    const list = k.getWeights().map((w) => w.arraySync() as number[][]);
    const m2 = await createModel({ inputSize: X, hiddenSize: H, numLayers: 2, outputSize: V, seed: 4 });
    try {
      importKerasWeights(m2, list);
      const f = m2.forward({ inputs: toTimeMajor(x, B, T, X), seqLength: T, batchSize: B });
      close('get_weights() list logits', f.logits, toTimeMajor(expected, B, T, V));
    } finally {
      m2.dispose();
    }
    k.dispose(); back.dispose();
  });

  it('Embedding + LSTM + Dense(softmax): token ids give the same probabilities (the embedding folded into weight_ih)', async () => {
    const V = 9, E = 3, H = 5, T = 6, B = 2;
    const k = tfl.sequential();
    k.add(tfl.layers.embedding({ inputDim: V, outputDim: E, inputLength: T, embeddingsInitializer: uniform(4) }));
    k.add(tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: false, biasInitializer: uniform(5), recurrentInitializer: uniform(15), kernelInitializer: uniform(25) }));
    k.add(tfl.layers.dense({ units: V, activation: 'softmax', biasInitializer: uniform(6), kernelInitializer: uniform(26) }));
    const files = await saveTfjs(k);
    const tokens = ids(B * T, V);
    const expected = tf.tidy(() => (k.predict(tf.tensor2d(tokens, [B, T], 'int32')) as tf.Tensor).dataSync().slice());
    const model = await createModelFromTfjs(JSON.parse(files.json), files.bin.buffer.slice(files.bin.byteOffset, files.bin.byteOffset + files.bin.byteLength) as ArrayBuffer);
    try {
      expect(model.config).toEqual({ inputSize: V, hiddenSize: H, numLayers: 1, outputSize: V });
      const tm = new Int32Array(T * B);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) tm[t * B + b] = tokens[b * T + t];
      const f = model.forward({ tokens: tm, seqLength: T, batchSize: B });
      const probs = new Float32Array(f.logits.length);
      for (let o = 0; o < probs.length; o += V) {
        let m = -Infinity, s = 0;
        for (let v = 0; v < V; v++) m = Math.max(m, f.logits[o + v]);
        for (let v = 0; v < V; v++) s += Math.exp(f.logits[o + v] - m);
        for (let v = 0; v < V; v++) probs[o + v] = Math.exp(f.logits[o + v] - m) / s;
      }
      close('tfjs embedding probs', probs, toTimeMajor(expected, B, T, V));
    } finally {
      model.dispose();
    }
    // the list route also folds the embedding
    const viaList = parametersFromKeras(k.getWeights().map((w) => ({ shape: w.shape as number[], data: w.dataSync() })));
    const viaFile = parametersFromTfjs(files.json, files.bin);
    for (const name of Object.keys(viaFile.params)) expect(Array.from(viaList.params[name]), name).toEqual(Array.from(viaFile.params[name]));
    k.dispose();
  });

  it('rejects a model this one cannot reproduce, with a message that says why', async () => {
    // TensorFlow.js' default recurrent activation is hard_sigmoid
    const k = tfl.sequential();
    k.add(tfl.layers.lstm({ units: 2, returnSequences: true, inputShape: [null, 3], recurrentInitializer: 'glorotUniform' }));
    k.add(tfl.layers.dense({ units: 2 }));
    const files = await saveTfjs(k);
    expect(() => parametersFromTfjs(files.json, files.bin)).toThrow(/recurrent_activation "hard_sigmoid".*recurrentActivation: 'sigmoid'/);
    const ok = tfl.sequential();
    ok.add(tfl.layers.lstm({ units: 2, returnSequences: true, inputShape: [null, 3], recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }));
    ok.add(tfl.layers.dense({ units: 2 }));
    const of = await saveTfjs(ok);
    expect(parametersFromTfjs(of.json, of.bin).config).toEqual({ inputSize: 3, hiddenSize: 2, numLayers: 1, outputSize: 2 });
    expect(() => parametersFromTfjs(of.json, of.bin.subarray(0, of.bin.length - 4))).toThrow(/truncated/);
    expect(() => parametersFromTfjs(of.json, Uint8Array.of(...of.bin, 0, 0, 0, 0))).toThrow(/extra bytes/);
    expect(() => parametersFromTfjs(of.json.slice(0, -1), of.bin)).toThrow(/not valid JSON/);
    ok.dispose();
    const relu = tfl.sequential();
    relu.add(tfl.layers.lstm({ units: 2, returnSequences: true, inputShape: [null, 3], recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }));
    relu.add(tfl.layers.dense({ units: 2, activation: 'relu' }));
    const rf = await saveTfjs(relu);
    expect(() => parametersFromTfjs(rf.json, rf.bin)).toThrow(/Dense layer .* activation "relu"/);
    // list route: wrong count, wrong shape
    const list = relu.getWeights().map((w) => w.arraySync() as number[][]);
    expect(() => parametersFromKeras(list.slice(0, 4))).toThrow(/3L \+ 2 tensors/);
    expect(() => parametersFromKeras([list[0], list[0], list[2], list[3], list[4]])).toThrow(/recurrent_kernel|shape/);
    k.dispose(); relu.dispose();
  });
});
