// A versioned binary checkpoint: model config, vocabulary, optimizer, step and RNG
// state in a JSON header, then the flat float32 parameters and optimizer moments,
// then a CRC-32. Pure TypeScript (no Node imports): the same bytes load in a browser.
//
// Layout, little-endian:
//   8 bytes   magic "LSTMCKPT"
//   u32       format version (1)
//   u32       byte length of the JSON header
//   ...       the header, UTF-8 JSON, then zero bytes up to a multiple of 4
//   f32 x n   parameters, in the flat order of parameterSpecs
//   f32 x n   optimizer first moments   } only when header.optimizer is not null
//   f32 x n   optimizer second moments  }
//   u32       CRC-32 (IEEE) of every byte before it

import { LstmError, describe } from './errors.js';
import { CELL_KIND, LOSS_KIND, parameterSpecs, type CellType, type LossType } from './layout.js';
import type { WasmSource } from './load.js';
import { createModel, type LstmModel, type OptimizerConfig, type OptimizerState } from './model.js';
import { Rng } from './rng.js';

export const CHECKPOINT_MAGIC = 'LSTMCKPT';
export const CHECKPOINT_VERSION = 1;

/** As LstmModel.config gives it: cell, peepholes and loss only when not the defaults. */
export interface CheckpointModelConfig {
  inputSize: number; hiddenSize: number; numLayers: number; outputSize: number;
  cell?: CellType; peepholes?: boolean; loss?: LossType;
}

export interface CheckpointOptimizer {
  /** The optimizer the moments belong to ('none' when the model was never trained). */
  type: OptimizerState['type'];
  /** Updates done so far (Adam's bias correction needs it). */
  step: number;
  /** Hyperparameters to keep training with, or null when unknown. */
  config: OptimizerConfig | null;
}

export interface CheckpointHeader {
  model: CheckpointModelConfig;
  /** One entry per token id, a single Unicode code point each; [] for models that are not on text. */
  vocab: string[];
  /** Present (not null) exactly when the file holds optimizer moments. */
  optimizer: CheckpointOptimizer | null;
  /** Training steps done. */
  step: number;
  /** Rng state (4 uint32) to continue a random stream exactly, or null. */
  rng: number[] | null;
  /** Anything else the writer wants to keep (JSON values). */
  [extra: string]: unknown;
}

export interface Checkpoint {
  header: CheckpointHeader;
  params: Float32Array;
  optimizer?: { m: Float32Array; v: Float32Array };
}

// ---- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) ----

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  crcTable = t;
  return t;
}

/** CRC-32 of bytes (the checksum of zip, gzip and PNG). */
export function crc32(bytes: Uint8Array): number {
  const t = table();
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- header checks ----

function fail(msg: string): never {
  throw new LstmError(`decodeCheckpoint: ${msg}`);
}

function isInt(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

const OPT_TYPES = ['none', 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

/** Checks the fields the codec relies on; `where` prefixes the message. Returns the parameter count. */
function checkHeader(where: string, h: unknown): number {
  const bad = (msg: string): never => { throw new LstmError(`${where}: ${msg}`); };
  if (h === null || typeof h !== 'object' || Array.isArray(h)) bad(`the header must be an object, got ${describe(h)}`);
  const header = h as CheckpointHeader;
  const m = header.model as unknown as Record<string, unknown>;
  if (m === null || typeof m !== 'object') bad(`header.model must be { inputSize, hiddenSize, numLayers, outputSize }, got ${describe(m)}`);
  for (const k of ['inputSize', 'hiddenSize', 'numLayers', 'outputSize']) {
    // createModel's limits; numLayers also bounds the work parameterCount does before the size check
    const max = k === 'numLayers' ? 64 : 1 << 20;
    if (!isInt(m[k], 1) || (m[k] as number) > max) bad(`header.model.${k} must be an integer in [1, ${max}], got ${describe(m[k])}`);
  }
  if (m.cell !== undefined && !(typeof m.cell === 'string' && Object.prototype.hasOwnProperty.call(CELL_KIND, m.cell))) bad(`header.model.cell must be one of ${Object.keys(CELL_KIND).join(', ')}, got ${describe(m.cell)}`);
  if (m.peepholes !== undefined && typeof m.peepholes !== 'boolean') bad(`header.model.peepholes must be true or false, got ${describe(m.peepholes)}`);
  if (m.loss !== undefined && !(typeof m.loss === 'string' && Object.prototype.hasOwnProperty.call(LOSS_KIND, m.loss))) bad(`header.model.loss must be one of ${Object.keys(LOSS_KIND).join(', ')}, got ${describe(m.loss)}`);
  if (!Array.isArray(header.vocab)) bad(`header.vocab must be an array of characters, got ${describe(header.vocab)}`);
  header.vocab.forEach((ch, i) => {
    if (typeof ch !== 'string' || ch.length === 0 || [...ch].length !== 1) bad(`header.vocab[${i}] must be one character, got ${describe(ch)}`);
  });
  if (!isInt(header.step, 0)) bad(`header.step must be a non-negative integer, got ${describe(header.step)}`);
  const o = header.optimizer;
  if (o !== null) {
    if (typeof o !== 'object' || o === undefined) bad(`header.optimizer must be { type, step, config } or null, got ${describe(o)}`);
    if (!OPT_TYPES.includes(o.type)) bad(`header.optimizer.type must be one of ${OPT_TYPES.join(', ')}, got ${describe(o.type)}`);
    if (!isInt(o.step, 0)) bad(`header.optimizer.step must be a non-negative integer, got ${describe(o.step)}`);
    if (o.config !== null && (typeof o.config !== 'object' || o.config === undefined)) bad(`header.optimizer.config must be an object or null, got ${describe(o.config)}`);
  }
  const r = header.rng;
  if (r !== null) {
    if (!Array.isArray(r) || r.length !== 4 || !r.every((x) => isInt(x, 0) && x <= 0xffffffff)) {
      bad(`header.rng must be 4 uint32 numbers or null, got ${describe(r)}`);
    }
  }
  return parameterCount(header.model);
}

/** Number of parameters of a model config, from the flat layout. */
export function parameterCount(c: CheckpointModelConfig): number {
  const specs = parameterSpecs({ L: c.numLayers, X: c.inputSize, H: c.hiddenSize, V: c.outputSize, cell: c.cell ?? 'lstm', peepholes: c.peepholes ?? false });
  const last = specs[specs.length - 1];
  return last.offset + last.length;
}

// ---- encode / decode ----

const MAGIC_BYTES = new TextEncoder().encode(CHECKPOINT_MAGIC);

export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const where = 'encodeCheckpoint';
  if (ckpt === null || typeof ckpt !== 'object') throw new LstmError(`${where}: checkpoint must be { header, params, optimizer? }, got ${describe(ckpt)}`);
  const n = checkHeader(where, ckpt.header);
  const { params, optimizer } = ckpt;
  if (!(params instanceof Float32Array) || params.length !== n) {
    throw new LstmError(`${where}: params must be a Float32Array of ${n} values for model ${JSON.stringify(ckpt.header.model)}, got ${describe(params)}`);
  }
  const hasOpt = ckpt.header.optimizer !== null;
  if (hasOpt !== (optimizer !== undefined)) {
    throw new LstmError(`${where}: header.optimizer and the optimizer moments go together: give both or neither`);
  }
  if (optimizer) {
    for (const k of ['m', 'v'] as const) {
      if (!(optimizer[k] instanceof Float32Array) || optimizer[k].length !== n) {
        throw new LstmError(`${where}: optimizer.${k} must be a Float32Array of ${n} values, got ${describe(optimizer[k])}`);
      }
    }
  }
  const json = new TextEncoder().encode(JSON.stringify(ckpt.header));
  const dataStart = 16 + Math.ceil(json.length / 4) * 4;
  const floats = n * (hasOpt ? 3 : 1);
  const total = dataStart + 4 * floats + 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  dv.setUint32(8, CHECKPOINT_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  const put = (a: Float32Array, at: number) => {
    for (let i = 0; i < a.length; i++) dv.setFloat32(at + 4 * i, a[i], true);
  };
  put(params, dataStart);
  if (optimizer) {
    put(optimizer.m, dataStart + 4 * n);
    put(optimizer.v, dataStart + 8 * n);
  }
  dv.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (!(bytes instanceof Uint8Array)) fail(`bytes must be a Uint8Array, got ${describe(bytes)}`);
  const len = bytes.length;
  if (len === 0) fail('the checkpoint is empty (0 bytes)');
  const prefix = Math.min(len, 8);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) fail(`not a @lstm/wasm checkpoint (it does not start with "${CHECKPOINT_MAGIC}")`);
  }
  if (len < 16) fail(`the checkpoint is truncated: ${len} bytes, shorter than its 16-byte preamble`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) {
    fail(`the checkpoint has format version ${version}, this reader knows ${CHECKPOINT_VERSION}; use the @lstm/wasm release that wrote it`);
  }
  const jsonLen = dv.getUint32(12, true);
  const dataStart = 16 + Math.ceil(jsonLen / 4) * 4;
  if (dataStart + 4 > len) fail(`the checkpoint is truncated: ${len} bytes, but its header alone needs ${dataStart + 4}`);
  const crcOk = dv.getUint32(len - 4, true) === crc32(bytes.subarray(0, len - 4));

  // the header tells the expected size, so a short file reads as truncated rather than corrupt
  let header: CheckpointHeader | undefined;
  let headerError = '';
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + jsonLen)));
  } catch (e) {
    headerError = (e as Error).message;
  }
  let n = -1;
  let checkError = '';
  if (header !== undefined) {
    try { n = checkHeader('decodeCheckpoint', header); } catch (e) { checkError = (e as Error).message; }
  }
  const floats = n >= 0 ? n * (header!.optimizer !== null ? 3 : 1) : -1;
  const expected = floats >= 0 ? dataStart + 4 * floats + 4 : -1;
  if (!crcOk) {
    if (expected > len) fail(`the checkpoint is truncated: ${len} bytes of the ${expected} it should have`);
    fail('checksum mismatch: the checkpoint is corrupt (its bytes changed after it was written)');
  }
  if (header === undefined) fail(`the checkpoint header is not valid JSON (${headerError})`);
  if (checkError) throw new LstmError(checkError);
  if (expected !== len) {
    const have = (len - 4 - dataStart) / 4;
    fail(`the checkpoint holds ${have} float values, but model ${JSON.stringify(header.model)} has ${n} parameters` +
      (header.optimizer !== null ? ` (${floats} values with the optimizer moments)` : ''));
  }
  const get = (at: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = dv.getFloat32(at + 4 * i, true);
    return a;
  };
  const ckpt: Checkpoint = { header, params: get(dataStart) };
  if (header.optimizer !== null) ckpt.optimizer = { m: get(dataStart + 4 * n), v: get(dataStart + 8 * n) };
  return ckpt;
}

// ---- model helpers ----

export interface CheckpointExtra {
  vocab?: string[];
  /** Optimizer hyperparameters; when given, the moments and step are saved too. */
  optimizer?: OptimizerConfig | null;
  step?: number;
  rng?: Rng | Uint32Array | number[] | null;
  [extra: string]: unknown;
}

/** A checkpoint of the model's parameters (and optimizer state when `extra.optimizer` is given). */
export function modelToCheckpoint(model: LstmModel, extra: CheckpointExtra = {}): Checkpoint {
  const { vocab = [], optimizer = null, step = 0, rng = null, ...rest } = extra;
  const rngState = rng === null ? null : Array.from(rng instanceof Rng ? rng.state : rng);
  let opt: CheckpointOptimizer | null = null;
  let moments: Checkpoint['optimizer'];
  if (optimizer !== null) {
    const s = model.getOptimizerState();
    opt = { type: s.type, step: s.step, config: optimizer };
    moments = { m: s.m, v: s.v };
  }
  const header: CheckpointHeader = { ...rest, model: { ...model.config }, vocab, optimizer: opt, step, rng: rngState };
  const ckpt: Checkpoint = { header, params: model.getFlatParameters() };
  if (moments) ckpt.optimizer = moments;
  return ckpt;
}

/** Loads parameters (and optimizer moments) into a model of the same configuration. */
export function applyCheckpoint(model: LstmModel, ckpt: Checkpoint): void {
  const a = model.config, b = ckpt.header.model;
  if (a.inputSize !== b.inputSize || a.hiddenSize !== b.hiddenSize || a.numLayers !== b.numLayers || a.outputSize !== b.outputSize ||
    (a.cell ?? 'lstm') !== (b.cell ?? 'lstm') || (a.peepholes ?? false) !== (b.peepholes ?? false)) {
    throw new LstmError(`applyCheckpoint: the checkpoint is for model ${JSON.stringify(b)}, this model is ${JSON.stringify(a)}`);
  }
  model.setFlatParameters(ckpt.params);
  const o = ckpt.header.optimizer;
  if (o !== null && ckpt.optimizer) model.setOptimizerState({ type: o.type, step: o.step, m: ckpt.optimizer.m, v: ckpt.optimizer.v });
}

/** The Rng a checkpoint saved, or null. */
export function checkpointRng(ckpt: Checkpoint): Rng | null {
  return ckpt.header.rng === null ? null : new Rng(Uint32Array.from(ckpt.header.rng));
}

/** A new model of the checkpoint's configuration holding its parameters and optimizer state. */
export async function createModelFromCheckpoint(ckpt: Checkpoint, options: { wasm?: WasmSource } = {}): Promise<LstmModel> {
  const { inputSize, hiddenSize, numLayers, outputSize, cell, peepholes, loss } = ckpt.header.model;
  const model = await createModel({
    inputSize, hiddenSize, numLayers, outputSize, wasm: options.wasm,
    ...(cell !== undefined ? { cell } : {}), ...(peepholes !== undefined ? { peepholes } : {}), ...(loss !== undefined ? { loss } : {}),
  });
  applyCheckpoint(model, ckpt);
  return model;
}
