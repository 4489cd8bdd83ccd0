// Keras and TensorFlow.js LSTM weights.
//
// Keras keeps, per LSTM layer, `kernel` [X, 4H] (= PyTorch's weight_ih transposed),
// `recurrent_kernel` [H, 4H] (= weight_hh transposed) and one `bias` [4H], gates in the order
// i, f, c, o (PyTorch's i, f, g, o: the same). The Dense head keeps `kernel` [H, V] and `bias` [V].
// On import the bias goes to bias_ih and bias_hh is zero (their sum is what the cell uses).
//
// An Embedding [V, E] in front of the first LSTM is folded into weight_ih (= (E @ kernel)^T,
// [4H, V]): a token model then takes the same token ids, and gives the same outputs.
//
// Two ways in:
//  - a list of tensors in `model.get_weights()` order (nested arrays, e.g. from Python's
//    `[w.tolist() for w in model.get_weights()]`, or { shape, data }), optionally named;
//  - TensorFlow.js's layers format: model.json (its weightsManifest) and the weight bytes,
//    as `tf.io` saves them and `tensorflowjs_converter` writes them from a Keras model.
//
// The Keras LSTM must use recurrent_activation 'sigmoid' (Keras' default; TensorFlow.js'
// default is 'hard_sigmoid', so set recurrentActivation: 'sigmoid' there) and activation 'tanh';
// when model.json has the topology this is checked.

import { LstmError, describe } from './errors.js';
import {
  MAX_LAYERS, asBytes, checkFinite, checkSize, createModelWithParameters, loadParameters,
  type ImportOptions, type ImportedParameters,
} from './interop.js';
import type { LstmModel } from './model.js';

/** Nested arrays of numbers, e.g. numpy's tolist(). */
export type NestedNumbers = number | NestedNumbers[];

/** One weight: nested arrays, or a shape and its values in row-major order; an optional name. */
export type KerasTensor = NestedNumbers[] | { name?: string; shape: number[]; data: ArrayLike<number> };

interface Tensor { name?: string; shape: number[]; data: Float32Array }

function fail(where: string, msg: string): never {
  throw new LstmError(`${where}: ${msg}`);
}

function shapeText(s: number[]): string { return `[${s.join(', ')}]`; }

/** A tensor from nested arrays or { shape, data }; checks shape, size and finiteness. Total size capped by `budget`. */
function toTensor(where: string, label: string, v: unknown, budget: { left: number }): Tensor {
  if (Array.isArray(v)) {
    // nested arrays: the shape from the first element at each depth, then every element checked
    const shape: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      if (shape.length >= 8) fail(where, `${label}: nested deeper than 8 levels`);
      shape.push(cur.length);
      cur = cur[0];
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (count > budget.left) fail(where, `${label}: ${count} values is more than the ${budget.left} left of the limit`);
    budget.left -= count;
    const data = new Float32Array(count);
    let at = 0;
    const walk = (a: unknown, depth: number, path: string): void => {
      if (depth === shape.length) {
        if (typeof a !== 'number') fail(where, `${label}${path} must be a number, got ${describe(a)}`);
        data[at++] = a;
        return;
      }
      if (!Array.isArray(a) || a.length !== shape[depth]) {
        fail(where, `${label}${path} must be an array of ${shape[depth]} (the shape is ${shapeText(shape)}), got ${describe(a)}`);
      }
      for (let i = 0; i < a.length; i++) walk(a[i], depth + 1, `${path}[${i}]`);
    };
    walk(v, 0, '');
    const t: Tensor = { shape, data };
    checkFinite(where, label, data);
    return t;
  }
  if (v === null || typeof v !== 'object') fail(where, `${label} must be nested arrays or { shape, data }, got ${describe(v)}`);
  const o = v as { name?: unknown; shape?: unknown; data?: unknown };
  if (!Array.isArray(o.shape) || o.shape.length > 8 || !o.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(where, `${label}.shape must be an array of at most 8 non-negative integers, got ${describe(o.shape)}`);
  }
  const shape = o.shape as number[];
  const data = o.data as ArrayLike<number> | undefined;
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') fail(where, `${label}.data must be an array or typed array, got ${describe(data)}`);
  let count = 1;
  for (const d of shape) count = Math.min(count * d, Number.MAX_SAFE_INTEGER);
  if (count !== data.length) fail(where, `${label}: shape ${shapeText(shape)} needs ${count} values, data has ${data.length}`);
  if (count > budget.left) fail(where, `${label}: ${count} values is more than the ${budget.left} left of the limit`);
  budget.left -= count;
  const f = Float32Array.from(data as ArrayLike<number>);
  for (let i = 0; i < count; i++) {
    if (typeof data[i] !== 'number') fail(where, `${label}.data[${i}] must be a number, got ${describe(data[i])}`);
  }
  checkFinite(where, label, f);
  const t: Tensor = { shape, data: f };
  if (o.name !== undefined) {
    if (typeof o.name !== 'string') fail(where, `${label}.name must be a string, got ${describe(o.name)}`);
    t.name = o.name;
  }
  return t;
}

/** The last part of a weight name, without ':0' ('lstm/lstm_cell/kernel:0' -> 'kernel'). */
function role(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.replace(/:\d+$/, '');
}

/** Maps a list of Keras weights (get_weights() order) to PyTorch-named parameters. */
function convert(where: string, list: Tensor[]): ImportedParameters {
  const n = list.length;
  if (n < 5 || n % 3 === 1) {
    fail(where, `expected the weights of [Embedding,] LSTM layers (kernel, recurrent_kernel, bias each) and a Dense head (kernel, bias): ` +
      `3L + 2 tensors, or 3L + 3 with an Embedding; got ${n}`);
  }
  const hasEmbedding = n % 3 === 0;
  const L = (n - 2 - (hasEmbedding ? 1 : 0)) / 3;
  if (L > MAX_LAYERS) fail(where, `${L} LSTM layers, more than the ${MAX_LAYERS} supported`);
  const expectRole = (i: number, r: string, what: string) => {
    const name = list[i].name;
    if (name !== undefined && role(name) !== r && !(r === 'embeddings' && role(name) === 'embedding')) {
      fail(where, `weight ${i} should be the ${what} ('.../${r}'), got '${name}'`);
    }
  };
  const label = (i: number, what: string) => `weight ${i} (${list[i].name ?? what})`;
  const shapeIs = (i: number, what: string, s: number[]) => {
    const t = list[i];
    if (t.shape.length !== s.length || t.shape.some((d, k) => d !== s[k])) fail(where, `${label(i, what)} has shape ${shapeText(t.shape)}, expected ${shapeText(s)}`);
  };
  let at = 0;
  let emb: Tensor | undefined;
  if (hasEmbedding) {
    expectRole(0, 'embeddings', 'Embedding');
    emb = list[0];
    if (emb.shape.length !== 2) fail(where, `${label(0, 'embeddings')} must have shape [vocabulary, embeddingSize], got ${shapeText(emb.shape)}`);
    at = 1;
  }
  const k0 = list[at];
  expectRole(at, 'kernel', 'LSTM kernel');
  const b0 = list[at + 2];
  if (b0 && b0.shape.length === 2 && b0.shape[0] === 2) fail(where, `${label(at + 2, 'bias')} has shape ${shapeText(b0.shape)}: a Keras GRU (reset_after); only LSTM layers can be imported from Keras`);
  if (k0.shape.length !== 2 || k0.shape[1] % 4 !== 0) {
    const hint = k0.shape.length === 2 && k0.shape[1] % 3 === 0 ? ' (3 * units columns would be a GRU: only LSTM layers can be imported from Keras)' : '';
    fail(where, `${label(at, 'LSTM kernel')} must have shape [inputSize, 4 * units], got ${shapeText(k0.shape)}${hint}`);
  }
  const H = checkSize(where, 'units (LSTM kernel.shape[1] / 4)', k0.shape[1] / 4);
  const X = checkSize(where, emb ? 'vocabulary (Embedding shape[0])' : 'inputSize (LSTM kernel.shape[0])', emb ? emb.shape[0] : k0.shape[0]);
  if (emb) shapeIs(at, 'LSTM kernel', [emb.shape[1], 4 * H]);
  const dense = list[n - 2];
  expectRole(n - 2, 'kernel', 'Dense kernel');
  expectRole(n - 1, 'bias', 'Dense bias');
  if (dense.shape.length !== 2) fail(where, `${label(n - 2, 'Dense kernel')} must have shape [units, outputSize], got ${shapeText(dense.shape)}`);
  const V = checkSize(where, 'outputSize (Dense kernel.shape[1])', dense.shape[1]);
  shapeIs(n - 2, 'Dense kernel', [H, V]);
  shapeIs(n - 1, 'Dense bias', [V]);

  const params: Record<string, Float32Array> = {};
  const G = 4 * H;
  for (let l = 0; l < L; l++) {
    const i = at + 3 * l;
    expectRole(i, 'kernel', `LSTM ${l} kernel`);
    expectRole(i + 1, 'recurrent_kernel', `LSTM ${l} recurrent_kernel`);
    expectRole(i + 2, 'bias', `LSTM ${l} bias`);
    const Xl = l === 0 ? list[i].shape[0] : H;
    if (l > 0 && (list[i].shape.length !== 2 || list[i].shape[1] !== G)) {
      fail(where, `${label(i, `LSTM ${l} kernel`)} has shape ${shapeText(list[i].shape)}; every LSTM layer must have ${H} units (as the first)`);
    }
    shapeIs(i, `LSTM ${l} kernel`, [Xl, G]);
    shapeIs(i + 1, `LSTM ${l} recurrent_kernel`, [H, G]);
    shapeIs(i + 2, `LSTM ${l} bias`, [G]);
    const k = list[i].data, r = list[i + 1].data;
    let wih: Float32Array;
    if (l === 0 && emb) {
      // weight_ih[g, v] = sum_e E[v, e] * kernel[e, g]
      const E = emb.shape[1];
      wih = new Float32Array(G * X);
      const acc = new Float64Array(G);
      for (let v = 0; v < X; v++) {
        acc.fill(0);
        for (let e = 0; e < E; e++) {
          const ev = emb.data[v * E + e];
          if (ev !== 0) for (let g = 0; g < G; g++) acc[g] += ev * k[e * G + g];
        }
        for (let g = 0; g < G; g++) wih[g * X + v] = acc[g];
      }
    } else {
      wih = new Float32Array(G * Xl);
      for (let x = 0; x < Xl; x++) for (let g = 0; g < G; g++) wih[g * Xl + x] = k[x * G + g];
    }
    const whh = new Float32Array(G * H);
    for (let h = 0; h < H; h++) for (let g = 0; g < G; g++) whh[g * H + h] = r[h * G + g];
    params[`lstm.weight_ih_l${l}`] = wih;
    params[`lstm.weight_hh_l${l}`] = whh;
    params[`lstm.bias_ih_l${l}`] = Float32Array.from(list[i + 2].data);
    params[`lstm.bias_hh_l${l}`] = new Float32Array(G);
  }
  const hw = new Float32Array(V * H);
  for (let h = 0; h < H; h++) for (let v = 0; v < V; v++) hw[v * H + h] = dense.data[h * V + v];
  params['head.weight'] = hw;
  params['head.bias'] = Float32Array.from(list[n - 1].data);
  return { config: { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V }, params };
}

/** Caps the values an importer reads from JS arrays (a file's weights are capped by the file). */
const MAX_VALUES = 2 ** 28;

/**
 * Parameters (PyTorch names) from Keras weights in `model.get_weights()` order:
 * [Embedding embeddings,] then per LSTM layer kernel, recurrent_kernel, bias, then the Dense kernel and bias.
 */
export function parametersFromKeras(weights: KerasTensor[]): ImportedParameters {
  const where = 'parametersFromKeras';
  if (!Array.isArray(weights)) fail(where, `weights must be an array of tensors in get_weights() order, got ${describe(weights)}`);
  const budget = { left: MAX_VALUES };
  return convert(where, weights.map((w, i) => toTensor(where, `weights[${i}]`, w, budget)));
}

/** Loads Keras weights (see parametersFromKeras) into a model of the same sizes. */
export function importKerasWeights(model: LstmModel, weights: KerasTensor[]): void {
  loadParameters('importKerasWeights', model, parametersFromKeras(weights));
}

/** A new model with the sizes and weights of a Keras LSTM stack + Dense head (see parametersFromKeras). */
export async function createModelFromKeras(weights: KerasTensor[], options: ImportOptions = {}): Promise<LstmModel> {
  return createModelWithParameters('createModelFromKeras', parametersFromKeras(weights), options);
}

// ---- TensorFlow.js layers format ----

export interface TfjsWeightEntry { name: string; shape: number[]; dtype: string }

const TFJS = 'readTfjsWeights';

/** Walks the JSON without recursion (a deeply nested file cannot overflow the stack). */
function findLayers(topology: unknown): { className: string; config: Record<string, unknown> }[] {
  const found: { className: string; config: Record<string, unknown> }[] = [];
  const stack: unknown[] = [topology];
  let visited = 0;
  while (stack.length) {
    const v = stack.pop();
    if (++visited > 1_000_000) break;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) { for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]); continue; }
    const o = v as Record<string, unknown>;
    if (typeof o.class_name === 'string' && o.config !== null && typeof o.config === 'object' && !Array.isArray(o.config)) {
      found.push({ className: o.class_name, config: o.config as Record<string, unknown> });
    }
    const keys = Object.keys(o);
    for (let i = keys.length - 1; i >= 0; i--) stack.push(o[keys[i]]);
  }
  return found;
}

/** Rejects Keras layers whose computation differs from this model's. */
function checkTopology(where: string, topology: unknown): void {
  const layers = findLayers(topology);
  for (const { className, config: c } of layers) {
    const name = typeof c.name === 'string' ? ` '${c.name}'` : '';
    if (['Bidirectional', 'GRU', 'SimpleRNN', 'ConvLSTM2D', 'CuDNNGRU'].includes(className)) {
      fail(where, `layer${name} is a ${className}; only LSTM layers (forward) and a Dense head can be imported`);
    }
    if (className === 'LSTM' || className === 'CuDNNLSTM') {
      const ra = c.recurrent_activation ?? 'sigmoid', a = c.activation ?? 'tanh';
      if (className === 'LSTM' && ra !== 'sigmoid') {
        fail(where, `LSTM layer${name} has recurrent_activation ${describe(ra)}; this model uses 'sigmoid' (in TensorFlow.js, set recurrentActivation: 'sigmoid')`);
      }
      if (a !== 'tanh') fail(where, `LSTM layer${name} has activation ${describe(a)}; this model uses 'tanh'`);
      if (c.use_bias === false) fail(where, `LSTM layer${name} has use_bias false; a bias is needed`);
      if (c.go_backwards === true) fail(where, `LSTM layer${name} has go_backwards true; only forward LSTMs can be imported`);
    }
    if (className === 'Dense') {
      const a = c.activation ?? 'linear';
      if (a !== 'linear' && a !== 'softmax') fail(where, `Dense layer${name} has activation ${describe(a)}; the head must be linear (or softmax, which the model's logits feed)`);
      if (c.use_bias === false) fail(where, `Dense layer${name} has use_bias false; a bias is needed`);
    }
  }
}

/**
 * The weights of a TensorFlow.js layers model: model.json (a string, its bytes or the parsed
 * object) and its weight bytes (the shards of weightsManifest, concatenated in order).
 * Only float32 weights; every shape is checked against the bytes before anything is allocated.
 */
export function readTfjsWeights(modelJson: string | Uint8Array | object, weightData: Uint8Array | ArrayBuffer): { name: string; shape: number[]; data: Float32Array }[] {
  let json: unknown = modelJson;
  if (modelJson instanceof Uint8Array) {
    try { json = new TextDecoder('utf-8', { fatal: true }).decode(modelJson); } catch (e) { fail(TFJS, `model.json is not UTF-8 (${(e as Error).message})`); }
  }
  if (typeof json === 'string') {
    try { json = JSON.parse(json); } catch (e) { fail(TFJS, `model.json is not valid JSON (${(e as Error).message})`); }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(TFJS, `model.json must be an object, got ${describe(json)}`);
  const bytes = asBytes(TFJS, 'weightData', weightData);
  const mj = json as { weightsManifest?: unknown; modelTopology?: unknown; format?: unknown };
  if (mj.format !== undefined && mj.format !== 'layers-model') fail(TFJS, `model.json has format ${describe(mj.format)}; only 'layers-model' (Keras layers) can be imported`);
  if (mj.modelTopology !== undefined) checkTopology(TFJS, mj.modelTopology);
  const manifest = mj.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) fail(TFJS, `model.json has no weightsManifest (an array of { paths, weights })`);
  const entries: TfjsWeightEntry[] = [];
  manifest.forEach((g: unknown, gi) => {
    if (g === null || typeof g !== 'object' || !Array.isArray((g as { weights?: unknown }).weights)) {
      fail(TFJS, `weightsManifest[${gi}] must be { paths, weights: [...] }, got ${describe(g)}`);
    }
    ((g as { weights: unknown[] }).weights).forEach((w, wi) => {
      const at = `weightsManifest[${gi}].weights[${wi}]`;
      if (w === null || typeof w !== 'object') fail(TFJS, `${at} must be { name, shape, dtype }, got ${describe(w)}`);
      const e = w as { name?: unknown; shape?: unknown; dtype?: unknown; quantization?: unknown };
      if (typeof e.name !== 'string') fail(TFJS, `${at}.name must be a string, got ${describe(e.name)}`);
      if (e.quantization !== undefined) fail(TFJS, `weight '${e.name}' is quantized; export the model without quantization`);
      if (e.dtype !== 'float32') fail(TFJS, `weight '${e.name}' has dtype ${describe(e.dtype)}; only float32 weights can be imported`);
      if (!Array.isArray(e.shape) || e.shape.length > 8 || !e.shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
        fail(TFJS, `weight '${e.name}': shape must be an array of at most 8 non-negative integers, got ${describe(e.shape)}`);
      }
      entries.push({ name: e.name, shape: e.shape as number[], dtype: e.dtype });
    });
  });
  // offsets run through the weights in manifest order; each size is checked against the bytes
  let offset = 0;
  const spans: number[] = [];
  for (const e of entries) {
    let count = 1;
    for (const d of e.shape) { count *= d; if (count > bytes.length) break; }
    const size = 4 * count;
    if (offset + size > bytes.length) {
      fail(TFJS, `weight '${e.name}' ${shapeText(e.shape)} needs bytes ${offset}..${count > bytes.length ? 'beyond the end' : offset + size}, but the weight data has ${bytes.length}: truncated, or the wrong file`);
    }
    spans.push(offset);
    offset += size;
  }
  if (offset !== bytes.length) fail(TFJS, `the weight data has ${bytes.length} bytes but the manifest describes ${offset}: extra bytes, or the wrong file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return entries.map((e, i) => {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let k = 0; k < count; k++) data[k] = dv.getFloat32(spans[i] + 4 * k, true);
    checkFinite(TFJS, e.name, data);
    return { name: e.name, shape: e.shape, data };
  });
}

/** Parameters (PyTorch names) from a TensorFlow.js layers model (see readTfjsWeights). */
export function parametersFromTfjs(modelJson: string | Uint8Array | object, weightData: Uint8Array | ArrayBuffer): ImportedParameters {
  return convert('parametersFromTfjs', readTfjsWeights(modelJson, weightData));
}

/** A new model from a TensorFlow.js layers model: model.json and its weight bytes. */
export async function createModelFromTfjs(modelJson: string | Uint8Array | object, weightData: Uint8Array | ArrayBuffer, options: ImportOptions = {}): Promise<LstmModel> {
  return createModelWithParameters('createModelFromTfjs', parametersFromTfjs(modelJson, weightData), options);
}
