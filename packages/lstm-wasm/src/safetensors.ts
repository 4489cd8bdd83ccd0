// safetensors, the weight format of Hugging Face and PyTorch (written from the format's
// description, no dependency):
//
//   u64 little-endian   N, the byte length of the header
//   N bytes             UTF-8 JSON: { "__metadata__"?: { string: string },
//                                     name: { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
//                       (writers pad it with spaces)
//   ...                 the byte buffer; offsets are relative to its start, little-endian data
//
// The reader checks everything against the file's size before it trusts a number: the header
// length, every shape and offset; tensors must tile the buffer exactly (no overlap, no gap, no
// trailing bytes), as the reference implementation requires. Tensors come back as views of the
// file's bytes: nothing is allocated from a size read in the file.
//
// Model files use PyTorch's state_dict names for nn.LSTM / nn.GRU / nn.RNN + nn.Linear (module
// names 'lstm' / 'gru' / 'rnn' and 'head'), so `net.load_state_dict(load_file(path))` works on
// such a module.

import { LstmError, describe } from './errors.js';
import {
  CELLS, MAX_LAYERS, asBytes, checkFinite, checkSize, createModelWithParameters, loadParameters, modelDims, modelLoss, torchShapes,
  type Cell, type ImportOptions, type ImportedParameters, type LstmDims,
} from './interop.js';
import type { LstmModel } from './model.js';

/** Bytes per element of every dtype safetensors defines. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/** Floating dtypes a model's parameters can be read from (converted to float32). */
const FLOAT_DTYPES = ['F32', 'F64', 'F16', 'BF16'];

/** The reference implementation's cap on the header. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  /** The tensor's raw little-endian bytes: a view into the file, not a copy. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** In the order of their offsets. */
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const READ = 'readSafetensors';

function fail(where: string, msg: string): never {
  throw new LstmError(`${where}: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses a safetensors file; rejects every malformed one with an LstmError. */
export function readSafetensors(data: Uint8Array | ArrayBuffer): SafetensorsFile {
  const bytes = asBytes(READ, 'data', data);
  const len = bytes.length;
  if (len < 8) fail(READ, `the file is truncated: ${len} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  const n = hi * 4294967296 + lo;
  if (hi !== 0 || n > len - 8) {
    fail(READ, `the header length ${hi >= 0x200000 ? `0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}` : n} is larger than the file (${len} bytes): truncated or not a safetensors file`);
  }
  if (n > SAFETENSORS_MAX_HEADER) fail(READ, `the header length ${n} is over the ${SAFETENSORS_MAX_HEADER}-byte limit`);
  if (n < 2) fail(READ, `the header length ${n} is too small for a JSON object`);
  if (bytes[8] !== 0x7b) fail(READ, 'the header does not start with "{": not a safetensors file');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(READ, `the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) fail(READ, `the header must be a JSON object, got ${describe(header)}`);

  const bufStart = 8 + n;
  const bufLen = len - bufStart;
  const metadata: Record<string, string> = Object.create(null);
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const name of Object.keys(header)) {
    const v = header[name];
    if (name === '__metadata__') {
      if (!isObject(v)) fail(READ, `__metadata__ must be an object of strings, got ${describe(v)}`);
      for (const k of Object.keys(v)) {
        if (typeof v[k] !== 'string') fail(READ, `__metadata__['${k}'] must be a string, got ${describe(v[k])}`);
        metadata[k] = v[k] as string;
      }
      continue;
    }
    const t = `tensor ${JSON.stringify(name.length > 80 ? name.slice(0, 80) + '...' : name)}`;
    if (!isObject(v)) fail(READ, `${t} must be { dtype, shape, data_offsets }, got ${describe(v)}`);
    const dtype = v.dtype;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_SIZE, dtype)) {
      fail(READ, `${t} has an unknown dtype ${describe(dtype)}; known: ${Object.keys(DTYPE_SIZE).join(', ')}`);
    }
    const shape = v.shape;
    if (!Array.isArray(shape) || shape.length > 64) fail(READ, `${t}: shape must be an array of at most 64 sizes, got ${describe(shape)}`);
    // the element count, checked against the buffer as it grows so that it never overflows
    let count = 1;
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i];
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail(READ, `${t}: shape[${i}] must be a non-negative integer, got ${describe(d)}`);
      if (d > bufLen) fail(READ, `${t}: shape [${shape.join(', ')}] is larger than the file's data (${bufLen} bytes)`);
      count *= d;
      if (count > bufLen) count = bufLen + 1; // stays an integer, and too big
    }
    const size = count * DTYPE_SIZE[dtype];
    const offs = v.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2) fail(READ, `${t}: data_offsets must be [begin, end], got ${describe(offs)}`);
    const [begin, end] = offs as unknown[];
    for (const [what, o] of [['begin', begin], ['end', end]] as const) {
      if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) fail(READ, `${t}: data_offsets ${what} must be a non-negative integer, got ${describe(o)}`);
      if (o > bufLen) fail(READ, `${t}: data_offsets [${begin}, ${end}] go past the end of the data (${bufLen} bytes): the file is truncated or corrupt`);
    }
    if ((end as number) < (begin as number)) fail(READ, `${t}: data_offsets [${begin}, ${end}] end before they begin`);
    if ((end as number) - (begin as number) !== size) {
      fail(READ, `${t}: ${dtype} [${shape.join(', ')}] needs ${size > bufLen ? `more than ${bufLen}` : size} bytes, but data_offsets [${begin}, ${end}] hold ${(end as number) - (begin as number)}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: begin as number, end: end as number });
  }
  // the tensors must tile the buffer: sorted by offset, each starts where the previous ended
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) fail(READ, `tensor '${e.name}' (bytes ${e.begin}-${e.end}) overlaps the tensor before it (which ends at ${at})`);
    if (e.begin > at) fail(READ, `there are ${e.begin - at} unused bytes before tensor '${e.name}' (bytes ${at}-${e.begin}): the offsets are corrupt`);
    at = e.end;
  }
  if (at !== bufLen) fail(READ, `the data is ${bufLen} bytes but the tensors cover ${at}: ${at < bufLen ? 'extra bytes at the end' : 'truncated'}`);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: bytes.subarray(bufStart + e.begin, bufStart + e.end) });
  }
  return { tensors, metadata };
}

/** float16 bits to a number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A floating-point tensor (F32, F64, F16, BF16) as float32. */
export function tensorToFloat32(t: SafetensorsTensor, where = 'tensorToFloat32'): Float32Array {
  const size = DTYPE_SIZE[t.dtype];
  if (!FLOAT_DTYPES.includes(t.dtype)) fail(where, `dtype ${t.dtype} is not a floating-point type; expected one of ${FLOAT_DTYPES.join(', ')}`);
  const n = t.bytes.length / size;
  const out = new Float32Array(n);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  if (t.dtype === 'F32') for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  else if (t.dtype === 'F64') for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  else if (t.dtype === 'F16') for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  else {
    const u = new Uint32Array(1), f = new Float32Array(u.buffer);
    for (let i = 0; i < n; i++) { u[0] = dv.getUint16(2 * i, true) << 16; out[i] = f[0]; }
  }
  return out;
}

export interface WriteTensor { shape: number[]; data: Float32Array }

/** Writes float32 tensors (in the order given) as a safetensors file. */
export function writeSafetensors(tensors: Record<string, WriteTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const where = 'writeSafetensors';
  if (!isObject(tensors)) fail(where, `tensors must be an object of { shape, data }, got ${describe(tensors)}`);
  if (!isObject(metadata)) fail(where, `metadata must be an object of strings, got ${describe(metadata)}`);
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const k of Object.keys(metadata)) {
    if (typeof metadata[k] !== 'string') fail(where, `metadata['${k}'] must be a string, got ${describe(metadata[k])}`);
    meta[k] = metadata[k];
  }
  if (Object.keys(meta).length) header.__metadata__ = meta;
  let offset = 0;
  const list: [number, Float32Array][] = [];
  for (const name of Object.keys(tensors)) {
    if (name === '__metadata__') fail(where, `'__metadata__' cannot be a tensor name`);
    const t = tensors[name];
    if (!isObject(t) || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) fail(where, `tensors['${name}'] must be { shape, data: Float32Array }, got ${describe(t)}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== t.data.length) {
      fail(where, `tensors['${name}']: shape [${t.shape.join(', ')}] does not match its ${t.data.length} values`);
    }
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    list.push([offset, t.data]);
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data starts 8-byte aligned, as the reference writer does
  let jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.length % 8)) % 8;
  if (pad) { json += ' '.repeat(pad); jsonBytes = new TextEncoder().encode(json); }
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, jsonBytes.length, true);
  dv.setUint32(4, 0, true);
  out.set(jsonBytes, 8);
  const base = 8 + jsonBytes.length;
  for (const [o, a] of list) for (let i = 0; i < a.length; i++) dv.setFloat32(base + o + 4 * i, a[i], true);
  return out;
}

// ---- models ----

export interface SafetensorsExportOptions {
  /** Extra __metadata__ entries (strings). */
  metadata?: Record<string, string>;
}

/**
 * The model's parameters as a safetensors file with PyTorch's state_dict names and dtype
 * (float32): loads with `load_state_dict` into nn.LSTM / nn.GRU / nn.RNN(X, H, L) as the module
 * attribute `lstm` / `gru` / `rnn`, and nn.Linear(H, V) as `head`. __metadata__ records the
 * sizes, the cell and the loss.
 */
export function toSafetensors(model: LstmModel, options: SafetensorsExportOptions = {}): Uint8Array {
  const where = 'toSafetensors';
  if (options === null || typeof options !== 'object') fail(where, `options must be an object, got ${describe(options)}`);
  const dims = modelDims(where, model);
  const params = model.getParameters();
  const tensors: Record<string, WriteTensor> = {};
  for (const s of torchShapes(dims)) {
    if (!(params[s.name] instanceof Float32Array)) fail(where, `the model has no parameter '${s.name}'`);
    tensors[s.name] = { shape: s.shape, data: params[s.name] };
  }
  const metadata: Record<string, string> = {
    format: 'pt', producer: '@lstm/wasm',
    inputSize: String(dims.inputSize), hiddenSize: String(dims.hiddenSize), numLayers: String(dims.numLayers), outputSize: String(dims.outputSize),
    cell: dims.cell ?? 'lstm', loss: modelLoss(model),
    ...(dims.peepholes ? { peepholes: 'true' } : {}),
    ...(options.metadata ?? {}),
  };
  return writeSafetensors(tensors, metadata);
}

export interface SafetensorsImportOptions {
  /**
   * Module name of the recurrent layer in the state_dict (default: the one module with a
   * 'weight_ih_l0' tensor, e.g. 'lstm', 'gru', 'rnn', 'encoder'); the head's (default 'head').
   */
  recurrentPrefix?: string;
  headPrefix?: string;
  /**
   * The cell (default: from the weights' shapes, 4H rows for an LSTM, 3H for a GRU, H for an
   * RNN). An nn.RNN with nonlinearity 'relu' cannot be told from its weights: it is not supported.
   */
  cell?: Cell;
  /** Ignore tensors that are not the model's (default false: extra names are an error, as load_state_dict(strict=True)). */
  allowExtra?: boolean;
}

const escapeRe = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The parameters a safetensors file holds, under @lstm/wasm's names, with the sizes and cell
 * they imply. Every name, shape, dtype and value is checked; the error says what is wrong.
 * `metadata` is the file's __metadata__ (toSafetensors records the loss there).
 */
export function parametersFromSafetensors(data: Uint8Array | ArrayBuffer, options: SafetensorsImportOptions = {}): ImportedParameters & { metadata: Record<string, string> } {
  const where = 'parametersFromSafetensors';
  if (options === null || typeof options !== 'object') fail(where, `options must be an object, got ${describe(options)}`);
  const file = readSafetensors(data);
  const t = file.tensors;
  const hp = options.headPrefix ?? 'head';
  let rp = options.recurrentPrefix;
  for (const [k, v] of [['recurrentPrefix', rp], ['headPrefix', hp]] as const) {
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) fail(where, `options.${k} must be a non-empty string, got ${describe(v)}`);
  }
  if (options.cell !== undefined && !CELLS.includes(options.cell)) fail(where, `options.cell must be one of ${CELLS.join(', ')}, got ${describe(options.cell)}`);
  if (rp === undefined) {
    const found = [...t.keys()].filter((n) => n.endsWith('.weight_ih_l0')).map((n) => n.slice(0, -'.weight_ih_l0'.length));
    if (found.length === 0) fail(where, `no '<module>.weight_ih_l0' tensor: not the state_dict of an nn.LSTM / nn.GRU / nn.RNN (tensors: ${[...t.keys()].slice(0, 12).join(', ') || 'none'})`);
    if (found.length > 1) fail(where, `several recurrent modules (${found.slice(0, 6).join(', ')}); say which with { recurrentPrefix }`);
    rp = found[0];
  }
  // the number of layers: weight_ih_l0, _l1, ... with no gap (checked below through the expected names)
  const re = new RegExp(`^${escapeRe(rp)}\\.weight_ih_l(\\d+)$`);
  let L = 0;
  for (const name of t.keys()) if (re.test(name)) L++;
  if (L === 0) fail(where, `no '${rp}.weight_ih_l0' tensor`);
  if (L > MAX_LAYERS) fail(where, `${L} recurrent layers, more than the ${MAX_LAYERS} supported`);
  const w0 = t.get(`${rp}.weight_ih_l0`), u0 = t.get(`${rp}.weight_hh_l0`), hw = t.get(`${hp}.weight`);
  if (!w0 || w0.shape.length !== 2) fail(where, `'${rp}.weight_ih_l0' must have shape [gates * hiddenSize, inputSize], got ${w0 ? `[${w0.shape.join(', ')}]` : 'none'}`);
  if (!u0 || u0.shape.length !== 2) fail(where, `'${rp}.weight_hh_l0' must have shape [gates * hiddenSize, hiddenSize], got ${u0 ? `[${u0.shape.join(', ')}]` : 'none'}`);
  if (!hw) fail(where, `missing tensor '${hp}.weight' [outputSize, hiddenSize] (the nn.Linear head)`);
  if (hw.shape.length !== 2) fail(where, `'${hp}.weight' must have shape [outputSize, hiddenSize], got [${hw.shape.join(', ')}]`);
  const H = checkSize(where, `hiddenSize (${rp}.weight_hh_l0.shape[1])`, u0.shape[1]);
  let cell = options.cell;
  if (cell === undefined) {
    const ratio = u0.shape[0] / H;
    cell = ratio === 4 ? 'lstm' : ratio === 3 ? 'gru' : ratio === 1 ? 'rnn' : undefined;
    if (cell === undefined) fail(where, `'${rp}.weight_hh_l0' has ${u0.shape[0]} rows for hiddenSize ${H}: not 4H (LSTM), 3H (GRU) or H (RNN)`);
  }
  const config: LstmDims = {
    inputSize: checkSize(where, `inputSize (${rp}.weight_ih_l0.shape[1])`, w0.shape[1]),
    hiddenSize: H,
    numLayers: L,
    outputSize: checkSize(where, `outputSize (${hp}.weight.shape[0])`, hw.shape[0]),
  };
  if (cell !== 'lstm') config.cell = cell;
  if (cell === 'lstm' && t.has(`${rp}.weight_ci_l0`)) config.peepholes = true;
  const params: Record<string, Float32Array> = {};
  const used = new Set<string>();
  const prefix = cell;
  for (const s of torchShapes(config)) {
    const fileName = s.name.startsWith('head.') ? `${hp}.${s.name.slice(5)}` : `${rp}.${s.name.slice(prefix.length + 1)}`;
    const x = t.get(fileName);
    if (!x) {
      const hint = s.name.includes('bias') ? ' (a module built with bias=False is not supported)' : '';
      fail(where, `missing tensor '${fileName}' [${s.shape.join(', ')}]${hint}`);
    }
    if (x.shape.length !== s.shape.length || x.shape.some((d, i) => d !== s.shape[i])) {
      fail(where, `tensor '${fileName}' has shape [${x.shape.join(', ')}], expected [${s.shape.join(', ')}] for ${JSON.stringify({ ...config, cell })}`);
    }
    if (!FLOAT_DTYPES.includes(x.dtype)) fail(where, `tensor '${fileName}' has dtype ${x.dtype}; parameters must be ${FLOAT_DTYPES.join(', ')}`);
    const a = tensorToFloat32(x, where);
    checkFinite(where, fileName, a);
    params[s.name] = a;
    used.add(fileName);
  }
  if (!options.allowExtra) {
    for (const name of t.keys()) {
      if (!used.has(name)) {
        const hint = /weight_hr_l\d+$/.test(name) ? ' (nn.LSTM with proj_size is not supported)'
          : /_reverse$/.test(name) ? ' (a bidirectional module is not supported)'
            : /weight_c[ifo]_l\d+$/.test(name) ? ' (peephole weights belong to an LSTM with every weight_ci, weight_cf, weight_co)' : '';
        fail(where, `unexpected tensor '${name}'${hint}; pass { allowExtra: true } to ignore tensors that are not the model's`);
      }
    }
  }
  return { config, params, metadata: file.metadata };
}

const LOSSES = ['crossEntropy', 'crossEntropyLast', 'mse', 'mseLast'];

/**
 * A new model with the sizes, cell and parameters of a safetensors file (see
 * parametersFromSafetensors). The loss is options.loss, else the one toSafetensors recorded
 * in the file, else the default.
 */
export async function createModelFromSafetensors(
  data: Uint8Array | ArrayBuffer, options: ImportOptions & SafetensorsImportOptions = {},
): Promise<LstmModel> {
  if (options === null || typeof options !== 'object') fail('createModelFromSafetensors', `options must be an object, got ${describe(options)}`);
  const { recurrentPrefix, headPrefix, allowExtra, cell, ...rest } = options;
  const imported = parametersFromSafetensors(data, { recurrentPrefix, headPrefix, allowExtra, cell });
  const loss = imported.metadata.loss;
  if (rest.loss === undefined && loss !== undefined && LOSSES.includes(loss)) rest.loss = loss as ImportOptions['loss'];
  return createModelWithParameters('createModelFromSafetensors', imported, rest);
}

/** Loads a safetensors file into an existing model of the same sizes and cell. */
export function loadSafetensors(model: LstmModel, data: Uint8Array | ArrayBuffer, options: SafetensorsImportOptions = {}): void {
  loadParameters('loadSafetensors', model, parametersFromSafetensors(data, options));
}
