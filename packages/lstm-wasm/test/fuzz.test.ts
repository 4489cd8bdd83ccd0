// Seeded fuzzing of every reader of untrusted files: the checkpoint (the trainer's format),
// safetensors, the Keras / TensorFlow.js importer and the ONNX importer. Each gets at least 10,000 mutated files,
// from a valid one: truncations, bit flips, byte overwrites and insertions, length fields set to
// huge or negative values, and structure-aware mutations of the JSON header re-encoded into a
// well-formed file (offsets out of range or overlapping, wrong dtypes and shapes, names missing
// or extra, unknown versions), so that the deeper checks run too.
//
// Every input must either decode to something consistent or throw an LstmError with a message;
// no call may take long (the readers are linear in the file's size), and no typed array or
// ArrayBuffer may be allocated larger than the file justifies (the typed-array constructors are
// watched while the readers run).

import { afterAll, describe, expect, it } from 'vitest';
import {
  LstmError, crc32, createModel, decodeCheckpoint, encodeCheckpoint, parameterCount, parametersFromKeras, parametersFromONNX,
  parametersFromSafetensors, parametersFromTfjs, readSafetensors, toONNX, writeSafetensors, type Checkpoint,
} from '../dist/index.js';

const N = 10_000;
/** A single call over this is a failure (the files are under 2 KB; a decode takes microseconds). */
const MAX_CALL_MS = 500;

// ---- a seeded PRNG (xorshift32) ----

class Prng {
  constructor(private s: number) { if (!this.s) this.s = 1; }
  u32(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s; }
  int(n: number): number { return this.u32() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
}

// ---- allocation watch ----

type Ctor = 'Float32Array' | 'Float64Array' | 'Uint8Array' | 'Int32Array' | 'Uint32Array' | 'ArrayBuffer';
const WATCHED: Ctor[] = ['Float32Array', 'Float64Array', 'Uint8Array', 'Int32Array', 'Uint32Array', 'ArrayBuffer'];
let largestAlloc = 0;
/** Runs fn with the typed-array constructors counting the largest size asked for (in bytes). */
function watchAllocations<T>(fn: () => T): T {
  const g = globalThis as unknown as Record<Ctor, unknown>;
  const saved = WATCHED.map((k) => g[k]);
  WATCHED.forEach((k, i) => {
    const orig = saved[i] as { BYTES_PER_ELEMENT?: number };
    const per = k === 'ArrayBuffer' ? 1 : orig.BYTES_PER_ELEMENT!;
    g[k] = new Proxy(orig as object, {
      construct(target, args, newTarget) {
        const a = args[0];
        const bytes = typeof a === 'number' ? a * per : a && typeof a === 'object' && typeof (a as { length?: unknown }).length === 'number' ? (a as { length: number }).length * per : 0;
        if (bytes > largestAlloc) largestAlloc = bytes;
        return Reflect.construct(target as new (...x: unknown[]) => object, args, newTarget === g[k] ? target : newTarget);
      },
    });
  });
  try {
    return fn();
  } finally {
    WATCHED.forEach((k, i) => { g[k] = saved[i]; });
  }
}

// ---- the harness ----

interface Outcome { accepted: number; rejected: number; maxMs: number; totalMs: number; maxAllocRatio: number; messages: Set<string> }
const summary: string[] = [];
afterAll(() => { if (summary.length) console.log(`fuzz (${N} inputs per reader):\n${summary.join('\n')}`); });

/**
 * Feeds every input to `read`; `check` validates an accepted result. Allocation is bounded by
 * `allocBound(input)` bytes. Returns counts; throws (failing the test) on the first bad outcome.
 */
function fuzz<I>(name: string, inputs: () => I, size: (input: I) => number, read: (input: I) => unknown, check: (out: unknown, input: I) => void, allocBound: (bytes: number) => number): Outcome {
  const o: Outcome = { accepted: 0, rejected: 0, maxMs: 0, totalMs: 0, maxAllocRatio: 0, messages: new Set() };
  for (let i = 0; i < N; i++) {
    const input = inputs();
    largestAlloc = 0;
    const t0 = performance.now();
    let out: unknown, err: unknown;
    watchAllocations(() => {
      try { out = read(input); } catch (e) { err = e; }
    });
    const ms = performance.now() - t0;
    o.totalMs += ms;
    o.maxMs = Math.max(o.maxMs, ms);
    const bytes = size(input);
    const bound = allocBound(bytes);
    o.maxAllocRatio = Math.max(o.maxAllocRatio, largestAlloc / Math.max(bytes, 1));
    if (ms > MAX_CALL_MS) throw new Error(`${name} #${i}: took ${ms.toFixed(0)} ms on a ${bytes}-byte input`);
    if (largestAlloc > bound) throw new Error(`${name} #${i}: allocated ${largestAlloc} bytes for a ${bytes}-byte input (bound ${bound})`);
    if (err !== undefined) {
      if (!(err instanceof LstmError)) throw new Error(`${name} #${i}: threw a ${(err as Error)?.constructor?.name ?? typeof err}, not an LstmError: ${(err as Error)?.message ?? err}`);
      if (!err.message || err.message.length < 10) throw new Error(`${name} #${i}: an error without a useful message: '${err.message}'`);
      o.rejected++;
      o.messages.add(err.message.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, '#').slice(0, 90));
    } else {
      check(out, input);
      o.accepted++;
    }
  }
  summary.push(`  ${name.padEnd(24)} ${o.rejected} rejected, ${o.accepted} accepted; ${o.totalMs.toFixed(0)} ms in all, slowest ${o.maxMs.toFixed(2)} ms; ` +
    `largest allocation ${o.maxAllocRatio.toFixed(2)}x the input; ${o.messages.size} distinct messages`);
  return o;
}

// ---- generic mutations ----

const INTERESTING_U32 = [0, 1, 2, 3, 4, 7, 8, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function rawMutate(r: Prng, b: Uint8Array, lengthFields: number[]): Uint8Array {
  const out = Uint8Array.from(b);
  const kind = r.int(7);
  if (kind === 0) return out.subarray(0, r.int(out.length)); // truncation
  if (kind === 1) { // bit flips
    for (let k = 1 + r.int(8); k > 0; k--) { const i = r.int(out.length); out[i] ^= 1 << r.int(8); }
    return out;
  }
  if (kind === 2) { // byte overwrites
    for (let k = 1 + r.int(4); k > 0; k--) out[r.int(out.length)] = r.pick([0, 0xff, 0x7f, 0x80, r.int(256)]);
    return out;
  }
  if (kind === 3) { // a length field set to a huge, small or negative value
    const at = r.pick(lengthFields);
    const dv = new DataView(out.buffer);
    dv.setUint32(at, r.chance(0.3) ? (b.length + r.int(64) - 32) >>> 0 : r.pick(INTERESTING_U32), true);
    if (r.chance(0.3) && at + 8 <= out.length) dv.setUint32(at + 4, r.pick(INTERESTING_U32), true);
    return out;
  }
  if (kind === 4) { // insert bytes
    const at = r.int(out.length + 1), n = 1 + r.int(16);
    const ins = Uint8Array.from({ length: n }, () => r.int(256));
    return Uint8Array.from([...out.subarray(0, at), ...ins, ...out.subarray(at)]);
  }
  if (kind === 5) { // delete bytes
    const at = r.int(out.length), n = 1 + r.int(16);
    return Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + n)]);
  }
  // duplicate a chunk
  const at = r.int(out.length), n = 1 + r.int(32);
  return Uint8Array.from([...out, ...out.subarray(at, at + n)]);
}

const INTERESTING_VALUES: unknown[] = [
  null, true, false, 0, -0, 1, -1, 2, 3, 4, 8, 0.5, -0.5, 1e300, -1e300, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64,
  1 << 20, (1 << 20) + 1, 65, 1e9, '', 'a', 'F32', 'F64', 'F16', 'BF16', 'I32', 'I64', 'U8', 'BOOL', 'float32', 'int32',
  'sigmoid', 'hard_sigmoid', 'tanh', 'relu', 'linear', [], [0], [1, 2], [0, 0], [-1, 4], [2 ** 53, 2 ** 53 + 8], {}, { a: 1 }, '__proto__',
];

function randomValue(r: Prng): unknown {
  const v = r.pick(INTERESTING_VALUES);
  return typeof v === 'object' && v !== null ? JSON.parse(JSON.stringify(v)) : v;
}

/** All containers in a JSON value, with a way to reach each. */
function containers(v: unknown, out: (Record<string, unknown> | unknown[])[] = [], depth = 0): (Record<string, unknown> | unknown[])[] {
  if (v !== null && typeof v === 'object' && depth < 12) {
    out.push(v as Record<string, unknown>);
    for (const x of Object.values(v as object)) containers(x, out, depth + 1);
  }
  return out;
}

/** One to three random edits of a JSON value (delete, replace, perturb, add, swap, rename). */
function jsonMutate(r: Prng, value: unknown): unknown {
  const root = JSON.parse(JSON.stringify(value));
  for (let k = 1 + r.int(3); k > 0; k--) {
    const cs = containers(root);
    const c = r.pick(cs);
    const keys = Object.keys(c);
    const op = r.int(7);
    if (Array.isArray(c)) {
      if (op === 0 && c.length) c.splice(r.int(c.length), 1);
      else if (op === 1) c.push(c.length ? JSON.parse(JSON.stringify(c[r.int(c.length)])) : randomValue(r));
      else if (c.length) {
        const i = r.int(c.length);
        c[i] = typeof c[i] === 'number' && r.chance(0.6) ? perturb(r, c[i] as number) : randomValue(r);
      }
      continue;
    }
    if (!keys.length) { c[`k${r.int(9)}`] = randomValue(r); continue; }
    const key = r.pick(keys);
    if (op === 0) delete c[key];
    else if (op === 1) c[key] = typeof c[key] === 'number' ? perturb(r, c[key] as number) : randomValue(r);
    else if (op === 2) c[key] = randomValue(r);
    else if (op === 3) { c[key + r.pick(['x', '_1', '.0', ''])] = JSON.parse(JSON.stringify(c[key])); } // extra / duplicate entry
    else if (op === 4) { const v = c[key]; delete c[key]; c[key.replace(/\d/, (d) => String((+d + 1) % 10)) + (r.chance(0.3) ? 'z' : '')] = v; } // rename
    else if (op === 5 && keys.length > 1) { const k2 = r.pick(keys); const t = c[key]; c[key] = c[k2]; c[k2] = t; } // swap
    else c[key] = typeof c[key] === 'number' ? perturb(r, c[key] as number) : randomValue(r);
  }
  return root;
}

function perturb(r: Prng, x: number): number {
  return r.pick([x + 1, x - 1, x + 4, x - 4, x * 2, Math.floor(x / 2), -x, x + 2 ** 32, x * 1e6, x + 0.5, 0]);
}

// ---- checkpoint ----

function baseCheckpoint(): Checkpoint {
  const model = { inputSize: 3, hiddenSize: 2, numLayers: 2, outputSize: 3 };
  const n = parameterCount(model);
  const f = (k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));
  return {
    header: { model, vocab: ['a', 'b', 'c'], optimizer: { type: 'adam', step: 5, config: { type: 'adam', lr: 0.01 } }, step: 5, rng: [1, 2, 3, 4], note: 'fuzz' },
    params: f(1), optimizer: { m: f(2), v: f(3).map(Math.abs) },
  };
}

/** A checkpoint from parts, with a correct length field and CRC (so the deeper checks run). */
function assembleCheckpoint(version: number, header: unknown, floats: Float32Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = 16 + Math.ceil(json.length / 4) * 4;
  const out = new Uint8Array(start + 4 * floats.length + 4);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode('LSTMCKPT'), 0);
  dv.setUint32(8, version, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  for (let i = 0; i < floats.length; i++) dv.setFloat32(start + 4 * i, floats[i], true);
  dv.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

describe('fuzz: readers reject malformed files with an LstmError, fast, without large allocations', () => {
  it(`checkpoint (decodeCheckpoint): ${N} mutated files`, () => {
    const base = baseCheckpoint();
    const bytes = encodeCheckpoint(base);
    const all = new Float32Array([...base.params, ...base.optimizer!.m, ...base.optimizer!.v]);
    // sanity: the base decodes
    expect(decodeCheckpoint(bytes).params).toEqual(base.params);
    const r = new Prng(0xc0ffee);
    const o = fuzz('checkpoint', () => {
      const k = r.int(10);
      if (k < 5) return rawMutate(r, bytes, [8, 12]);
      if (k < 8) return assembleCheckpoint(1, jsonMutate(r, base.header), all);
      if (k === 8) {
        if (r.chance(0.5)) return assembleCheckpoint(r.pick([0, 2, 3, 0xffffffff, 1]), base.header, all); // versions
        // sizes and cell at and past the limits (a reader must not do work in proportion to them)
        const h = JSON.parse(JSON.stringify(base.header));
        h.model[r.pick(['inputSize', 'hiddenSize', 'numLayers', 'outputSize', 'cell', 'loss'])] = r.pick([64, 65, 1 << 20, (1 << 20) + 1, 2 ** 31, 'toString', '__proto__', 'gru', 'constructor', 'mse']);
        return assembleCheckpoint(1, h, all);
      }
      // right header, wrong amount of data
      const n = Math.max(0, all.length + r.pick([-1, 1, -all.length / 3, all.length, -4]));
      const floats = new Float32Array(n);
      floats.set(all.subarray(0, Math.min(n, all.length)));
      return assembleCheckpoint(1, base.header, floats);
    }, (b) => b.length, (b) => decodeCheckpoint(b), (out) => {
      const c = out as Checkpoint;
      expect(c.params).toBeInstanceOf(Float32Array);
      expect(c.params.length).toBe(parameterCount(c.header.model));
      if (c.header.optimizer !== null) expect(c.optimizer!.m.length).toBe(c.params.length);
    }, (n) => 2 * n + 4096);
    expect(o.rejected).toBeGreaterThan(N / 2);
  }, 60_000);

  it(`safetensors (readSafetensors + parametersFromSafetensors): ${N} mutated files`, () => {
    const dims = { X: 3, H: 2, L: 2, V: 3 };
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    let seed = 1;
    const add = (name: string, shape: number[]) => {
      tensors[name] = { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.sin(seed++)) };
    };
    for (let l = 0; l < dims.L; l++) {
      add(`lstm.weight_ih_l${l}`, [4 * dims.H, l ? dims.H : dims.X]);
      add(`lstm.weight_hh_l${l}`, [4 * dims.H, dims.H]);
      add(`lstm.bias_ih_l${l}`, [4 * dims.H]);
      add(`lstm.bias_hh_l${l}`, [4 * dims.H]);
    }
    add('head.weight', [dims.V, dims.H]);
    add('head.bias', [dims.V]);
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const ok = parametersFromSafetensors(bytes);
    expect(ok.config).toEqual({ inputSize: 3, hiddenSize: 2, numLayers: 2, outputSize: 3 });
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
    const data = bytes.subarray(8 + hlen);
    const assemble = (h: unknown, d: Uint8Array, pad = 0) => {
      const j = new TextEncoder().encode(JSON.stringify(h) + ' '.repeat(pad));
      const out = new Uint8Array(8 + j.length + d.length);
      new DataView(out.buffer).setUint32(0, j.length, true);
      out.set(j, 8);
      out.set(d, 8 + j.length);
      return out;
    };
    const names = Object.keys(tensors);
    const r = new Prng(0x5afe7e45);
    const o = fuzz('safetensors', () => {
      const k = r.int(12);
      if (k < 5) return rawMutate(r, bytes, [0, 4]);
      if (k < 8) return assemble(jsonMutate(r, header), data, r.chance(0.2) ? r.int(9) : 0);
      // targeted: offsets, dtypes, shapes, names
      const h = JSON.parse(JSON.stringify(header));
      const name = r.pick(names);
      const t = h[name];
      let d = data;
      if (k === 8) { // offsets out of range, overlapping, swapped
        const other = h[r.pick(names)];
        const op = r.int(4);
        if (op === 0) t.data_offsets = [t.data_offsets[0] + r.pick([-4, 4, data.length]), t.data_offsets[1] + r.pick([0, -4, 4, data.length])];
        else if (op === 1) [t.data_offsets, other.data_offsets] = [other.data_offsets, t.data_offsets];
        else if (op === 2) t.data_offsets = [other.data_offsets[0], other.data_offsets[0] + (t.data_offsets[1] - t.data_offsets[0])];
        else t.data_offsets = [r.pick([0, 2 ** 53, 2 ** 32, data.length]), r.pick([2 ** 53 + 4, 2 ** 32 + 4, data.length + 4, 4])];
      } else if (k === 9) { // dtypes and shapes
        if (r.chance(0.5)) t.dtype = r.pick(['F64', 'F16', 'BF16', 'I32', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'f32', 'float32', 'Q4', 7]);
        else t.shape = r.pick([[], [0], [t.shape[0]], [...t.shape, 1], [1, ...t.shape], t.shape.map((x: number) => x * 2), [t.shape[0] / 2, 2 * (t.shape[1] ?? 1)], [2 ** 40, 0], [-1, -8], [1.5, 2], ['8', 3]]);
      } else if (k === 10) { // names missing or extra
        if (r.chance(0.5)) {
          const size = t.data_offsets[1] - t.data_offsets[0];
          delete h[name];
          if (r.chance(0.5)) { // and cut its bytes out, shifting the others, so only the name is missing
            const [b0, e0] = [header[name].data_offsets[0], header[name].data_offsets[1]];
            d = Uint8Array.from([...data.subarray(0, b0), ...data.subarray(e0)]);
            for (const n of Object.keys(h)) if (n !== '__metadata__' && h[n].data_offsets[0] >= e0) h[n].data_offsets = h[n].data_offsets.map((x: number) => x - size);
          }
        } else {
          const extra = r.pick(['lstm.weight_ih_l2', 'lstm.weight_hr_l0', 'lstm.weight_ih_l0_reverse', 'head.extra', 'rnn.weight_ih_l0', '', '__proto__', 'constructor']);
          h[extra] = { dtype: 'F32', shape: [2], data_offsets: [data.length, data.length + 8] };
          d = Uint8Array.from([...data, ...new Uint8Array(8)]);
        }
      } else { // values that are not finite, and a metadata that is not strings
        if (r.chance(0.5)) { d = Uint8Array.from(data); new DataView(d.buffer).setFloat32(4 * r.int(d.length / 4), r.pick([NaN, Infinity, -Infinity]), true); }
        else h.__metadata__ = r.pick([{ a: 1 }, [], 'x', null, { format: ['pt'] }]);
      }
      return assemble(h, d);
    }, (b) => b.length, (b) => parametersFromSafetensors(b), (out) => {
      const p = out as { config: { inputSize: number; hiddenSize: number; numLayers: number; outputSize: number }; params: Record<string, Float32Array> };
      const { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V } = p.config;
      expect(Object.keys(p.params).length).toBe(4 * L + 2);
      expect(p.params['lstm.weight_ih_l0'].length).toBe(4 * H * X);
      expect(p.params['head.weight'].length).toBe(V * H);
      for (const a of Object.values(p.params)) for (const v of a) expect(Number.isFinite(v)).toBe(true);
    }, (n) => 2 * n + 4096);
    expect(o.rejected).toBeGreaterThan(N / 2);
    // readSafetensors alone on raw mutations: same guarantees
    const r2 = new Prng(77);
    fuzz('safetensors (reader)', () => rawMutate(r2, bytes, [0, 4]), (b) => b.length, (b) => readSafetensors(b), () => {}, (n) => 2 * n + 4096);
  }, 60_000);

  it(`Keras / TensorFlow.js (parametersFromTfjs, parametersFromKeras): ${N} mutated inputs`, () => {
    const X = 3, H = 2, V = 3;
    const specs = [
      { name: 'lstm_LSTM1/kernel', shape: [X, 4 * H] }, { name: 'lstm_LSTM1/recurrent_kernel', shape: [H, 4 * H] }, { name: 'lstm_LSTM1/bias', shape: [4 * H] },
      { name: 'lstm_LSTM2/kernel', shape: [H, 4 * H] }, { name: 'lstm_LSTM2/recurrent_kernel', shape: [H, 4 * H] }, { name: 'lstm_LSTM2/bias', shape: [4 * H] },
      { name: 'dense_Dense1/kernel', shape: [H, V] }, { name: 'dense_Dense1/bias', shape: [V] },
    ];
    const lstmConfig = { units: H, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: true, name: 'lstm_LSTM1' };
    const modelJson = {
      modelTopology: {
        class_name: 'Sequential', keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js',
        config: { name: 'sequential_1', layers: [
          { class_name: 'LSTM', config: { ...lstmConfig, batch_input_shape: [null, null, X] } },
          { class_name: 'LSTM', config: { ...lstmConfig, name: 'lstm_LSTM2' } },
          { class_name: 'Dense', config: { units: V, activation: 'linear', use_bias: true, name: 'dense_Dense1' } },
        ] },
      },
      format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers v4.22.0', convertedBy: null,
      weightsManifest: [{ paths: ['./model.weights.bin'], weights: specs.map((s) => ({ ...s, dtype: 'float32' })) }],
    };
    const count = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    const bin = new Uint8Array(4 * count);
    for (let i = 0; i < count; i++) new DataView(bin.buffer).setFloat32(4 * i, Math.cos(i), true);
    const text = JSON.stringify(modelJson);
    const textBytes = new TextEncoder().encode(text);
    expect(parametersFromTfjs(text, bin).config).toEqual({ inputSize: X, hiddenSize: H, numLayers: 2, outputSize: V });
    const r = new Prng(0x4e7a5);
    const o = fuzz('keras (tfjs files)', () => {
      const k = r.int(10);
      if (k < 3) return { json: rawMutate(r, textBytes, [0]), bin };
      if (k < 5) return { json: textBytes, bin: rawMutate(r, bin, [0]) };
      if (k < 9) return { json: new TextEncoder().encode(JSON.stringify(jsonMutate(r, modelJson))), bin };
      return { json: new TextEncoder().encode(JSON.stringify(jsonMutate(r, modelJson))), bin: rawMutate(r, bin, [0]) };
    }, (i) => i.json.length + i.bin.length, (i) => parametersFromTfjs(i.json, i.bin), (out) => {
      const p = out as { config: { inputSize: number; hiddenSize: number; numLayers: number; outputSize: number }; params: Record<string, Float32Array> };
      expect(p.params['lstm.weight_ih_l0'].length).toBe(4 * p.config.hiddenSize * p.config.inputSize);
      expect(Object.keys(p.params).length).toBe(4 * p.config.numLayers + 2);
    }, (n) => 8 * n + 4096);
    expect(o.rejected).toBeGreaterThan(N / 4);

    // the get_weights() list route: nested arrays with mutated structure and values
    const list = specs.map((s, si) => {
      const flat = Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(si + i));
      return s.shape.length === 1 ? flat : Array.from({ length: s.shape[0] }, (_, i) => flat.slice(i * s.shape[1], (i + 1) * s.shape[1]));
    });
    const r2 = new Prng(0x11575);
    const listSize = JSON.stringify(list).length;
    fuzz('keras (weight lists)', () => {
      const m = jsonMutate(r2, list) as unknown[];
      if (r2.chance(0.1) && Array.isArray(m)) m[r2.int(m.length)] = r2.pick([NaN, Infinity, [NaN], { shape: [2], data: [1] }, { shape: [1e9, 1e9], data: [] }, { shape: [2], data: 'ab' }]);
      return m;
    }, () => listSize, (m) => parametersFromKeras(m as number[][]), () => {}, (n) => 8 * n + 4096);
  }, 60_000);

  it(`ONNX (parametersFromONNX): ${N} mutated files`, async () => {
    const bases: Uint8Array[] = [];
    for (const [config, options] of [
      [{ inputSize: 3, hiddenSize: 2, numLayers: 2, outputSize: 3, peepholes: true }, { initialState: true }],
      [{ inputSize: 4, hiddenSize: 2, numLayers: 1, outputSize: 4, cell: 'gru' }, { input: 'tokens' }],
      [{ inputSize: 2, hiddenSize: 3, numLayers: 2, outputSize: 2, cell: 'rnn', loss: 'mse' }, {}],
    ] as const) {
      const m = await createModel({ ...config, seed: 2 } as Parameters<typeof createModel>[0]);
      bases.push(toONNX(m, options as Parameters<typeof toONNX>[1]));
      const { loss: _loss, ...shape } = m.config; // the loss is not in the graph
      expect(parametersFromONNX(bases[bases.length - 1]).config).toEqual(shape);
      m.dispose();
    }
    /** [start, end) of each field of a protobuf message (the test's own walker; the bases are well formed). */
    const fields = (b: Uint8Array): [number, number][] => {
      const out: [number, number][] = [];
      let i = 0;
      const varint = () => { let v = 0, m = 1; for (;;) { const x = b[i++]; v += (x & 0x7f) * m; m *= 128; if (!(x & 0x80)) return v; } };
      while (i < b.length) {
        const start = i, tag = varint(), wire = tag % 8;
        if (wire === 0) varint(); else if (wire === 2) { const n = varint(); i += n; } else if (wire === 5) i += 4; else i += 8;
        out.push([start, i]);
      }
      return out;
    };
    const varintBytes = (v: number) => { const o: number[] = []; while (v >= 0x80) { o.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); } o.push(v); return o; };
    /** The model with its graph's fields edited (removed, duplicated, swapped): missing or extra nodes and initializers. */
    const editGraph = (r: Prng, model: Uint8Array): Uint8Array => {
      const top = fields(model);
      const gi = top.findIndex(([st]) => model[st] === 0x3a); // field 7, length-delimited
      const [gs, ge] = top[gi];
      let h = gs + 1;
      while (model[h] & 0x80) h++;
      const graph = model.subarray(h + 1, ge);
      const gf = fields(graph).map(([a, b]) => graph.subarray(a, b));
      for (let k = 1 + r.int(3); k > 0; k--) {
        const op = r.int(3), i = r.int(gf.length), j = r.int(gf.length);
        if (op === 0) gf.splice(i, 1);
        else if (op === 1) gf.splice(j, 0, gf[i]);
        else [gf[i], gf[j]] = [gf[j], gf[i]];
      }
      const body = gf.flatMap((f) => [...f]);
      const parts = top.map(([a, b], k) => (k === gi ? [0x3a, ...varintBytes(body.length), ...body] : [...model.subarray(a, b)]));
      return Uint8Array.from(parts.flat());
    };
    const ascii = (t: string) => [...new TextEncoder().encode(t)];
    const SWAPS: [string, string][] = [['LSTM', 'GRU '], ['GRU', 'RNN'], ['RNN', 'GRU'], ['MatMul', 'Gemm__'], ['forward', 'reverse'], ['Squeeze', 'Reshape'], ['Softmax', 'Sigmoid'], ['W_l0', 'R_l0'], ['B_l1', 'W_l1'], ['head_bias', 'head_xias']];
    const r = new Prng(0x0a1e);
    const o = fuzz('onnx', () => {
      const base = r.pick(bases);
      const k = r.int(10);
      if (k < 5) return rawMutate(r, base, [r.int(base.length - 8), r.int(base.length - 8)]);
      if (k < 7) return editGraph(r, base);
      if (k === 7) { // a huge or overlong varint where a length or tag was
        const out = Uint8Array.from(base), at = r.int(out.length - 10);
        out.set(r.pick([[0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], varintBytes(2 ** 31), varintBytes(2 ** 53)]), at);
        return out;
      }
      // a name or op replaced by another of the same length
      const [a, b] = r.pick(SWAPS);
      const from = ascii(a), to = ascii(b), out = Uint8Array.from(base);
      for (let i = 0; i + from.length <= out.length; i++) if (from.every((x, j) => out[i + j] === x) && r.chance(0.7)) out.set(to, i);
      return out;
    }, (b) => b.length, (b) => parametersFromONNX(b), (out) => {
      const p = out as { config: { inputSize: number; hiddenSize: number; numLayers: number; outputSize: number; cell?: string }; params: Record<string, Float32Array> };
      const { inputSize: X, hiddenSize: H, outputSize: V } = p.config;
      const cell = p.config.cell ?? 'lstm', G = (cell === 'gru' ? 3 : cell === 'rnn' ? 1 : 4) * H;
      expect(p.params[`${cell}.weight_ih_l0`].length).toBe(G * X);
      expect(p.params['head.weight'].length).toBe(V * H);
      for (const a of Object.values(p.params)) for (const v of a) expect(Number.isFinite(v)).toBe(true);
    }, (n) => 2 * n + 4096);
    expect(o.rejected).toBeGreaterThan(N / 2);
  }, 60_000);
});
