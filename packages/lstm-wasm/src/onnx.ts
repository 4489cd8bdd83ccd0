// ONNX export and import of the inference graph (written from onnx.proto and the operator
// specs; the few protobuf encoders and decoders ONNX needs are below, so the package has no
// runtime dependency).
//
// The graph, time-major like the model (seq and batch are symbolic dimensions):
//
//   input  [seq, batch, inputSize] float         (or tokens [seq, batch] int64 -> OneHot)
//   h0 (c0) [numLayers, batch, hiddenSize] float (only with { initialState: true }; c0 for an LSTM)
//   for each layer l:  LSTM / GRU / RNN (x, W_l, R_l, B_l, '', h0[l] (, c0[l], P_l)) -> Y [seq, 1, batch, H], Y_h (, Y_c)
//                      Squeeze(Y, axes=[1]) -> x [seq, batch, H]
//   logits = Add(MatMul(x, head.weight^T), head.bias)        [seq, batch, outputSize]
//   probs  = Softmax(logits, axis=2)                         (cross-entropy models; an MSE
//                                                            model's head output is 'outputs')
//   h_n (, c_n) = Concat of every layer's Y_h (, Y_c)        [numLayers, batch, hiddenSize]
//
// Gate orders: ONNX's LSTM i, o, f, c (PyTorch i, f, g, o), peepholes P = (i, o, f); ONNX's GRU
// z, r, h (PyTorch r, z, n), with linear_before_reset = 1, which is PyTorch's GRU; RNN one gate,
// tanh. W [1, G, X], R [1, G, H] and one bias B [1, 2G] = (W_b, R_b): the weights are reordered.

import { LstmError, describe } from './errors.js';
import {
  MAX_LAYERS, asBytes, checkFinite, checkSize, createModelWithParameters, gatesOf, modelDims, modelLoss,
  type Cell, type ImportOptions, type ImportedParameters, type LstmDims,
} from './interop.js';
import type { LstmModel } from './model.js';

// ---- protobuf wire format (varints, length-delimited fields, 32-bit floats) ----

const WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_I32 = 5;

/** Builds one protobuf message. */
class Message {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private scratch: number[] = [];

  private push(b: Uint8Array): void { this.chunks.push(b); this.size += b.length; }

  private varintBytes(v: number | bigint): void {
    const out = this.scratch;
    out.length = 0;
    if (typeof v === 'bigint' || v < 0 || v > Number.MAX_SAFE_INTEGER) {
      // int64 as two's complement in 64 bits (negative numbers take 10 bytes)
      let x = BigInt.asUintN(64, BigInt(v));
      while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
      out.push(Number(x));
    } else {
      let x = v;
      while (x >= 0x80) { out.push((x % 0x80) | 0x80); x = Math.floor(x / 0x80); }
      out.push(x);
    }
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void { this.varintBytes(field * 8 + wire); }

  int(field: number, v: number | bigint): this { this.tag(field, WIRE_VARINT); this.varintBytes(v); return this; }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varintBytes(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }

  message(field: number, m: Message): this { return this.bytes(field, m.finish()); }

  float(field: number, v: number): this {
    this.tag(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    return out;
  }
}

// ---- the ONNX messages used (field numbers from onnx.proto) ----

const DT_FLOAT = 1, DT_INT64 = 7;
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7;

type Dim = number | string;

function tensorType(elemType: number, dims: Dim[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  // TypeProto.tensor_type = 1 { elem_type = 1, shape = 2 }
  return new Message().message(1, new Message().int(1, elemType).message(2, shape));
}

function valueInfo(name: string, elemType: number, dims: Dim[]): Message {
  return new Message().string(1, name).message(2, tensorType(elemType, dims));
}

function floatTensor(name: string, dims: number[], data: Float32Array): Message {
  const raw = new Uint8Array(4 * data.length);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i], true);
  // TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9
  const t = new Message();
  for (const d of dims) t.int(1, d);
  return t.int(2, DT_FLOAT).string(8, name).bytes(9, raw);
}

function int64Tensor(name: string, dims: number[], data: number[]): Message {
  const raw = new Uint8Array(8 * data.length);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setBigInt64(8 * i, BigInt(data[i]), true);
  const t = new Message();
  for (const d of dims) t.int(1, d);
  return t.int(2, DT_INT64).string(8, name).bytes(9, raw);
}

type Attr = { name: string } & ({ i: number } | { f: number } | { s: string } | { ints: number[] });

function attribute(a: Attr): Message {
  // AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20
  const m = new Message().string(1, a.name);
  if ('i' in a) m.int(3, a.i).int(20, ATTR_INT);
  else if ('f' in a) m.float(2, a.f).int(20, ATTR_FLOAT);
  else if ('s' in a) m.string(4, a.s).int(20, ATTR_STRING);
  else { for (const v of a.ints) m.int(8, v); m.int(20, ATTR_INTS); }
  return m;
}

function node(op: string, inputs: string[], outputs: string[], name: string, attrs: Attr[] = []): Message {
  // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, name).string(4, op);
  for (const a of attrs) m.message(5, attribute(a));
  return m;
}

// ---- export ----

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

export interface OnnxExportOptions {
  /**
   * 'dense' (default): input 'input' float [seq, batch, inputSize] (one-hot rows for a token model).
   * 'tokens': input 'tokens' int64 [seq, batch] of ids in [0, inputSize), turned into one-hot rows by
   * a OneHot node (an id out of range gives a row of zeros).
   */
  input?: 'dense' | 'tokens';
  /** Add inputs 'h0' (and 'c0' for an LSTM) [numLayers, batch, hiddenSize] for the initial state (default false: zeros). */
  initialState?: boolean;
  /** Stored as the graph's doc_string. */
  docString?: string;
}

/** ONNX block k takes PyTorch block FROM[cell][k]. */
const TO_ONNX: Record<Cell, number[]> = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };

function reorderBlocks(a: Float32Array, from: number[]): Float32Array {
  const n = a.length / from.length, out = new Float32Array(a.length);
  for (let k = 0; k < from.length; k++) out.set(a.subarray(from[k] * n, (from[k] + 1) * n), k * n);
  return out;
}

const OP: Record<Cell, string> = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' };

/**
 * The model's inference graph as an ONNX file (opset 17): one LSTM, GRU or RNN node per layer, a
 * MatMul/Add head and, for cross-entropy models, a Softmax. Outputs 'logits' and 'probs' (or
 * 'outputs' for an MSE model) [seq, batch, outputSize], 'h_n' (and 'c_n' for an LSTM)
 * [numLayers, batch, hiddenSize]. Runs in ONNX Runtime (onnxruntime-node, onnxruntime-web).
 */
export function toONNX(model: LstmModel, options: OnnxExportOptions = {}): Uint8Array {
  const where = 'toONNX';
  if (options === null || typeof options !== 'object') throw new LstmError(`${where}: options must be an object, got ${describe(options)}`);
  const input = options.input ?? 'dense';
  if (input !== 'dense' && input !== 'tokens') throw new LstmError(`${where}: options.input must be 'dense' or 'tokens', got ${describe(input)}`);
  const withState = options.initialState === true;
  const d: LstmDims = modelDims(where, model);
  const { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V } = d;
  const cell = d.cell ?? 'lstm', lstm = cell === 'lstm', G = gatesOf(cell) * H;
  const mse = modelLoss(model).startsWith('mse');
  const p = model.getParameters();
  const param = (name: string) => {
    const a = p[name];
    if (!(a instanceof Float32Array)) throw new LstmError(`${where}: the model has no parameter '${name}'`);
    return a;
  };

  const graph = new Message();
  const nodes: Message[] = [], inits: Message[] = [], inputs: Message[] = [], outputs: Message[] = [];

  let x: string;
  if (input === 'tokens') {
    inputs.push(valueInfo('tokens', DT_INT64, ['seq', 'batch']));
    inits.push(int64Tensor('onehot_depth', [1], [X]));
    inits.push(floatTensor('onehot_values', [2], Float32Array.of(0, 1)));
    nodes.push(node('OneHot', ['tokens', 'onehot_depth', 'onehot_values'], ['onehot'], 'onehot', [{ name: 'axis', i: 2 }]));
    x = 'onehot';
  } else {
    inputs.push(valueInfo('input', DT_FLOAT, ['seq', 'batch', X]));
    x = 'input';
  }
  const states = lstm ? ['h', 'c'] : ['h'];
  if (withState) for (const s of states) inputs.push(valueInfo(`${s}0`, DT_FLOAT, [L, 'batch', H]));
  inits.push(int64Tensor('axes_1', [1], [1]));
  const finals: Record<string, string[]> = { h: [], c: [] };
  const order = TO_ONNX[cell];
  for (let l = 0; l < L; l++) {
    const Xl = l === 0 ? X : H;
    inits.push(floatTensor(`W_l${l}`, [1, G, Xl], reorderBlocks(param(`${cell}.weight_ih_l${l}`), order)));
    inits.push(floatTensor(`R_l${l}`, [1, G, H], reorderBlocks(param(`${cell}.weight_hh_l${l}`), order)));
    const b = new Float32Array(2 * G);
    b.set(reorderBlocks(param(`${cell}.bias_ih_l${l}`), order), 0);
    b.set(reorderBlocks(param(`${cell}.bias_hh_l${l}`), order), G);
    inits.push(floatTensor(`B_l${l}`, [1, 2 * G], b));
    const init: Record<string, string> = { h: '', c: '' };
    if (withState) {
      if (L === 1) { init.h = 'h0'; init.c = 'c0'; } else {
        inits.push(int64Tensor(`slice_start_l${l}`, [1], [l]), int64Tensor(`slice_end_l${l}`, [1], [l + 1]));
        if (l === 0) inits.push(int64Tensor('axes_0', [1], [0]));
        for (const s of states) {
          init[s] = `${s}0_l${l}`;
          nodes.push(node('Slice', [`${s}0`, `slice_start_l${l}`, `slice_end_l${l}`, 'axes_0'], [init[s]], `slice_${s}0_l${l}`));
        }
      }
    }
    const ins = [x, `W_l${l}`, `R_l${l}`, `B_l${l}`];
    if (lstm && d.peepholes) {
      const pp = new Float32Array(3 * H);
      pp.set(param(`lstm.weight_ci_l${l}`), 0);
      pp.set(param(`lstm.weight_co_l${l}`), H);
      pp.set(param(`lstm.weight_cf_l${l}`), 2 * H);
      inits.push(floatTensor(`P_l${l}`, [1, 3 * H], pp));
      ins.push('', init.h, lstm ? init.c : '', `P_l${l}`);
    } else if (withState) {
      ins.push('', init.h);
      if (lstm) ins.push(init.c);
    }
    const y = `Y_l${l}`;
    const outs = [y];
    for (const s of states) {
      const name = L === 1 ? `${s}_n` : `Y${s}_l${l}`;
      outs.push(name);
      finals[s].push(name);
    }
    const attrs: Attr[] = [{ name: 'hidden_size', i: H }, { name: 'direction', s: 'forward' }];
    if (cell === 'gru') attrs.push({ name: 'linear_before_reset', i: 1 });
    nodes.push(node(OP[cell], ins, outs, `${cell}_l${l}`, attrs));
    x = `${cell}_out_l${l}`;
    nodes.push(node('Squeeze', [y, 'axes_1'], [x], `squeeze_l${l}`));
  }
  if (L > 1) for (const s of states) nodes.push(node('Concat', finals[s], [`${s}_n`], `concat_${s}`, [{ name: 'axis', i: 0 }]));
  // head: x @ W^T + b
  const w = param('head.weight'), wt = new Float32Array(H * V);
  for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) wt[h * V + v] = w[v * H + h];
  inits.push(floatTensor('head_weight_t', [H, V], wt));
  inits.push(floatTensor('head_bias', [V], param('head.bias')));
  const head = mse ? 'outputs' : 'logits';
  nodes.push(node('MatMul', [x, 'head_weight_t'], ['head_matmul'], 'head_matmul'));
  nodes.push(node('Add', ['head_matmul', 'head_bias'], [head], 'head_add'));
  outputs.push(valueInfo(head, DT_FLOAT, ['seq', 'batch', V]));
  if (!mse) {
    nodes.push(node('Softmax', ['logits'], ['probs'], 'softmax', [{ name: 'axis', i: 2 }]));
    outputs.push(valueInfo('probs', DT_FLOAT, ['seq', 'batch', V]));
  }
  for (const s of states) outputs.push(valueInfo(`${s}_n`, DT_FLOAT, [L, 'batch', H]));

  // GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12
  for (const n of nodes) graph.message(1, n);
  graph.string(2, 'lstm_wasm');
  for (const t of inits) graph.message(5, t);
  if (options.docString) graph.string(10, String(options.docString));
  for (const i of inputs) graph.message(11, i);
  for (const o of outputs) graph.message(12, o);

  // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8
  return new Message()
    .int(1, ONNX_IR_VERSION)
    .string(2, '@lstm/wasm')
    .string(3, '0.1.0')
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, ONNX_OPSET))
    .finish();
}

// ---- import ----
//
// The reader decodes the protobuf wire format itself, with every length checked against the
// bytes of the message that holds it; it parses only the messages it needs (model, graph, node,
// attribute, tensor, value info) and skips every other field. Tensor data stays a view of the
// file until its dims are checked against its bytes.

const IMPORT = 'parametersFromONNX';

function bad(msg: string): never {
  throw new LstmError(`${IMPORT}: ${msg}`);
}

class Reader {
  pos: number;
  constructor(private readonly b: Uint8Array, start: number, readonly end: number) { this.pos = start; }
  get done(): boolean { return this.pos >= this.end; }

  /** A varint as a number; int64 values outside +-2^53 come back as NaN (never used as a size). */
  varint(): number {
    let lo = 0, hi = 0, shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) bad('the file is truncated (a varint runs past the end of its message)');
      const byte = this.b[this.pos++];
      if (shift < 28) lo |= (byte & 0x7f) << shift;
      else if (shift === 28) { lo |= (byte & 0x0f) << 28; hi |= (byte & 0x7f) >> 4; }
      else hi |= (byte & 0x7f) << (shift - 32);
      shift += 7;
      if (!(byte & 0x80)) {
        lo >>>= 0;
        if (hi & 0x80000000) {
          // negative int64: two's complement
          const nlo = (~lo + 1) >>> 0, nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
          return nhi >= 0x200000 ? NaN : -(nhi * 4294967296 + nlo);
        }
        hi >>>= 0;
        return hi >= 0x200000 ? NaN : hi * 4294967296 + lo;
      }
    }
    bad('a varint is longer than 10 bytes: the file is corrupt');
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    if (!Number.isSafeInteger(t) || t < 8) bad(`an invalid field tag ${t}: the file is corrupt or not ONNX`);
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  /** A length-delimited field: [start, end) within this message. */
  span(): [number, number] {
    const n = this.varint();
    if (!Number.isSafeInteger(n) || n < 0 || n > this.end - this.pos) {
      bad(`a field of ${n} bytes runs past the end of its message (${this.end - this.pos} bytes left): the file is truncated or corrupt`);
    }
    const s = this.pos;
    this.pos += n;
    return [s, this.pos];
  }

  bytes(): Uint8Array { const [s, e] = this.span(); return this.b.subarray(s, e); }

  string(): string {
    try { return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes()); } catch (e) {
      if (e instanceof LstmError) throw e;
      bad('a string is not valid UTF-8');
    }
  }

  fixed32(): number {
    if (this.end - this.pos < 4) bad('the file is truncated (a 32-bit field runs past the end of its message)');
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  sub(): Reader { const [s, e] = this.span(); return new Reader(this.b, s, e); }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === 1) { if (this.end - this.pos < 8) bad('the file is truncated (a 64-bit field)'); this.pos += 8; }
    else if (wire === WIRE_LEN) this.span();
    else if (wire === WIRE_I32) { if (this.end - this.pos < 4) bad('the file is truncated (a 32-bit field)'); this.pos += 4; }
    else bad(`unsupported protobuf wire type ${wire}: the file is corrupt or not ONNX`);
  }

  /** Repeated integers, packed or not. */
  ints(wire: number, out: number[]): void {
    if (wire === WIRE_LEN) { const r = this.sub(); while (!r.done) out.push(r.varint()); } else if (wire === WIRE_VARINT) out.push(this.varint());
    else bad(`an integer field has wire type ${wire}`);
  }
}

interface OnnxTensor { name: string; dims: number[]; dataType: number; raw?: Uint8Array; floats: { r: Reader; wire: number }[]; external: boolean }
interface OnnxAttr { name: string; i?: number; f?: number; s?: string; ints: number[]; strings: string[]; t?: OnnxTensor; floatsCount: number }
interface OnnxNode { op: string; domain: string; name: string; inputs: string[]; outputs: string[]; attrs: Map<string, OnnxAttr> }

function readTensor(r: Reader): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floats: [], external: false };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) r.ints(wire, t.dims);
    else if (field === 2 && wire === WIRE_VARINT) t.dataType = r.varint();
    else if (field === 4 && (wire === WIRE_LEN || wire === WIRE_I32)) {
      // float_data, packed (one span) or one value per field: kept as readers, decoded later
      if (wire === WIRE_LEN) t.floats.push({ r: r.sub(), wire });
      else { const s = r.pos; r.fixed32(); t.floats.push({ r: new Reader((r as unknown as { b: Uint8Array }).b, s, s + 4), wire }); }
    } else if (field === 8 && wire === WIRE_LEN) t.name = r.string();
    else if (field === 9 && wire === WIRE_LEN) t.raw = r.bytes();
    else if (field === 13 && wire === WIRE_LEN) { t.external = true; r.skip(wire); }
    else if (field === 14 && wire === WIRE_VARINT) { if (r.varint() === 1) t.external = true; }
    else r.skip(wire);
  }
  return t;
}

function readAttr(r: Reader): OnnxAttr {
  const a: OnnxAttr = { name: '', ints: [], strings: [], floatsCount: 0 };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) a.name = r.string();
    else if (field === 2 && wire === WIRE_I32) a.f = r.fixed32();
    else if (field === 3 && wire === WIRE_VARINT) a.i = r.varint();
    else if (field === 4 && wire === WIRE_LEN) {
      try { a.s = new TextDecoder('utf-8', { fatal: true }).decode(r.bytes()); } catch (e) { if (e instanceof LstmError) throw e; a.s = '\ufffd'; }
    } else if (field === 5 && wire === WIRE_LEN) a.t = readTensor(r.sub());
    else if (field === 7) { a.floatsCount++; r.skip(wire); }
    else if (field === 8) r.ints(wire, a.ints);
    else if (field === 9 && wire === WIRE_LEN) a.strings.push(r.string());
    else r.skip(wire);
  }
  return a;
}

function readNode(r: Reader): OnnxNode {
  const n: OnnxNode = { op: '', domain: '', name: '', inputs: [], outputs: [], attrs: new Map() };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) n.inputs.push(r.string());
    else if (field === 2 && wire === WIRE_LEN) n.outputs.push(r.string());
    else if (field === 3 && wire === WIRE_LEN) n.name = r.string();
    else if (field === 4 && wire === WIRE_LEN) n.op = r.string();
    else if (field === 5 && wire === WIRE_LEN) { const a = readAttr(r.sub()); n.attrs.set(a.name, a); }
    else if (field === 7 && wire === WIRE_LEN) n.domain = r.string();
    else r.skip(wire);
  }
  return n;
}

/** Float values of a FLOAT or DOUBLE tensor, after checking its dims against its bytes. */
function tensorFloats(t: OnnxTensor, what: string): Float32Array {
  if (t.external) bad(`${what} ('${t.name}') keeps its data in an external file; save the model with the weights inside`);
  if (t.dataType !== DT_FLOAT && t.dataType !== 11) bad(`${what} ('${t.name}') has data type ${t.dataType}; expected float (1) or double (11)`);
  const size = t.dataType === DT_FLOAT ? 4 : 8;
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) bad(`${what} ('${t.name}') has a bad dimension ${d}`);
    count *= d;
    if (count > 2 ** 31) bad(`${what} ('${t.name}') has dims [${t.dims.join(', ')}], more values than the file can hold`);
  }
  if (t.raw !== undefined) {
    if (t.raw.length !== count * size) bad(`${what} ('${t.name}') has dims [${t.dims.join(', ')}] (${count * size} bytes) but ${t.raw.length} bytes of data`);
    const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = size === 4 ? dv.getFloat32(4 * i, true) : dv.getFloat64(8 * i, true);
    return out;
  }
  if (t.dataType !== DT_FLOAT) bad(`${what} ('${t.name}') is double without raw_data; not supported`);
  // float_data: count the values (4 bytes each) before allocating
  let have = 0;
  for (const f of t.floats) have += f.wire === WIRE_LEN ? (f.r.end - f.r.pos) / 4 : 1;
  if (have !== count) bad(`${what} ('${t.name}') has dims [${t.dims.join(', ')}] (${count} values) but ${have} values of data`);
  const out = new Float32Array(count);
  let at = 0;
  for (const f of t.floats) while (!f.r.done) out[at++] = f.r.fixed32();
  return out;
}

/** PyTorch's gate blocks from ONNX's order (the inverse of TO_ONNX). */
function fromOnnxOrder(a: Float32Array, cell: Cell): Float32Array {
  const to = TO_ONNX[cell], inv = new Array<number>(to.length);
  to.forEach((torchBlock, onnxBlock) => { inv[torchBlock] = onnxBlock; });
  return reorderBlocks(a, inv);
}
/** Ops that pass a tensor through without changing its values (between layers and before the head). */
const PASS_THROUGH = new Set(['Squeeze', 'Reshape', 'Identity', 'Dropout', 'Flatten']);

/**
 * The parameters of an ONNX model: a chain of forward LSTM, GRU (linear_before_reset 1) or RNN
 * nodes with the default activations, and a MatMul + Add (or Gemm) head on the last one's output,
 * as toONNX writes and as torch.onnx.export writes for nn.LSTM / nn.GRU / nn.RNN + nn.Linear.
 * Sizes and cell come from the graph. The loss is not in the graph: give it to createModelFromONNX.
 */
export function parametersFromONNX(data: Uint8Array | ArrayBuffer): ImportedParameters {
  const bytes = asBytes(IMPORT, 'data', data);
  if (bytes.length === 0) bad('the file is empty');
  // ModelProto
  const r = new Reader(bytes, 0, bytes.length);
  let graph: Reader | undefined;
  let irVersion = -1;
  const opsets: { domain: string; version: number }[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_VARINT) irVersion = r.varint();
    else if (field === 7 && wire === WIRE_LEN) { if (graph) bad('the model has two graphs'); graph = r.sub(); }
    else if (field === 8 && wire === WIRE_LEN) {
      const o = r.sub(), set = { domain: '', version: -1 };
      while (!o.done) {
        const t = o.tag();
        if (t.field === 1 && t.wire === WIRE_LEN) set.domain = o.string();
        else if (t.field === 2 && t.wire === WIRE_VARINT) set.version = o.varint();
        else o.skip(t.wire);
      }
      opsets.push(set);
    } else r.skip(wire);
  }
  if (!graph) bad('no graph: not an ONNX model');
  if (!(irVersion >= 3 && irVersion <= 100)) bad(`unknown IR version ${irVersion}: not an ONNX model, or a version this reader does not know`);
  const onnxSet = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!onnxSet || !(onnxSet.version >= 7 && onnxSet.version <= 1000)) bad(`the model must import the ONNX operator set (version 7 or later), got ${JSON.stringify(opsets)}`);

  // GraphProto
  const nodes: OnnxNode[] = [];
  const tensors = new Map<string, OnnxTensor>();
  while (!graph.done) {
    const { field, wire } = graph.tag();
    if (field === 1 && wire === WIRE_LEN) nodes.push(readNode(graph.sub()));
    else if (field === 5 && wire === WIRE_LEN) { const t = readTensor(graph.sub()); if (tensors.has(t.name)) bad(`two initializers named '${t.name}'`); tensors.set(t.name, t); }
    else graph.skip(wire);
  }
  // Constant nodes are initializers too (torch.onnx.export writes some)
  for (const n of nodes) {
    if (n.op === 'Constant' && n.outputs.length === 1 && n.attrs.get('value')?.t) tensors.set(n.outputs[0], n.attrs.get('value')!.t!);
  }
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of nodes) for (const i of n.inputs) if (i) { const c = consumers.get(i); if (c) c.push(n); else consumers.set(i, [n]); }
  const isOnnx = (n: OnnxNode) => n.domain === '' || n.domain === 'ai.onnx';
  /** Follows a value through pass-through ops to the one node that uses it otherwise. */
  const nextUser = (value: string): OnnxNode | undefined => {
    let v = value;
    for (let hops = 0; hops <= nodes.length; hops++) {
      const users = consumers.get(v) ?? [];
      if (users.length !== 1) return undefined;
      const u = users[0];
      if (isOnnx(u) && PASS_THROUGH.has(u.op) && u.outputs.length >= 1 && u.inputs[0] === v) { v = u.outputs[0]; continue; }
      return u;
    }
    return undefined;
  };
  const weight = (name: string | undefined, what: string): OnnxTensor => {
    const t = name ? tensors.get(name) : undefined;
    if (!t) bad(`${what} ('${name ?? ''}') is not an initializer or constant; only models with constant weights can be imported`);
    return t;
  };
  const dimsAre = (t: OnnxTensor, what: string, dims: number[]) => {
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) bad(`${what} ('${t.name}') has dims [${t.dims.join(', ')}], expected [${dims.join(', ')}]`);
  };

  const lstms = nodes.filter((n) => isOnnx(n) && (n.op === 'LSTM' || n.op === 'GRU' || n.op === 'RNN'));
  if (lstms.length === 0) bad(`the graph has no LSTM, GRU or RNN node (ops: ${[...new Set(nodes.map((n) => n.op))].slice(0, 12).join(', ') || 'none'})`);
  if (lstms.length > MAX_LAYERS) bad(`${lstms.length} recurrent nodes, more than the ${MAX_LAYERS} layers supported`);
  const op = lstms[0].op;
  if (lstms.some((n) => n.op !== op)) bad(`the graph mixes ${[...new Set(lstms.map((n) => n.op))].join(' and ')} nodes; every layer must be the same cell`);
  const cell: Cell = op === 'LSTM' ? 'lstm' : op === 'GRU' ? 'gru' : 'rnn';
  const gates = gatesOf(cell);
  const peepholes = cell === 'lstm' && !!lstms[0].inputs[7];
  const params: Record<string, Float32Array> = {};
  let H = 0, X = 0;
  for (let l = 0; l < lstms.length; l++) {
    const n = lstms[l];
    const at = `${op} node ${l} ('${n.name}')`;
    const hs = n.attrs.get('hidden_size')?.i;
    const w = weight(n.inputs[1], `${at} W`);
    if (w.dims.length !== 3) bad(`${at} W has dims [${w.dims.join(', ')}], expected [1, ${gates} * hidden_size, input_size]`);
    const Hl = hs ?? w.dims[1] / gates;
    checkSize(IMPORT, `${at} hidden_size`, Hl);
    if (l === 0) { H = Hl; X = checkSize(IMPORT, `${at} input size (W dims[2])`, w.dims[2]); } else if (Hl !== H) bad(`${at} has hidden_size ${Hl}, the first has ${H}; every layer must have the same size`);
    const G = gates * H;
    const dir = n.attrs.get('direction')?.s ?? 'forward';
    if (dir !== 'forward') bad(`${at} has direction '${dir}'; only forward layers can be imported`);
    const acts = n.attrs.get('activations')?.strings;
    const defaultActs = cell === 'lstm' ? 'Sigmoid,Tanh,Tanh' : cell === 'gru' ? 'Sigmoid,Tanh' : 'Tanh';
    if (acts && acts.join(',') !== defaultActs) bad(`${at} has activations ${acts.join(', ')}; only the default ${defaultActs.replace(/,/g, ', ')}`);
    if (n.attrs.has('clip')) bad(`${at} clips its cell state (attribute clip); not supported`);
    if ((n.attrs.get('input_forget')?.i ?? 0) !== 0) bad(`${at} couples the input and forget gates (input_forget); not supported`);
    if (cell === 'gru' && (n.attrs.get('linear_before_reset')?.i ?? 0) !== 1) {
      bad(`${at} has linear_before_reset 0 (the reset gate before the recurrent product); PyTorch's GRU, and this model, apply it after (linear_before_reset 1)`);
    }
    if (cell === 'lstm' && !!n.inputs[7] !== peepholes) bad(`${at}: some layers have peephole weights (input P) and some do not`);
    const Xl = l === 0 ? X : H;
    dimsAre(w, `${at} W`, [1, G, Xl]);
    const rw = weight(n.inputs[2], `${at} R`);
    dimsAre(rw, `${at} R`, [1, G, H]);
    let b: Float32Array;
    if (n.inputs[3]) { const bt = weight(n.inputs[3], `${at} B`); dimsAre(bt, `${at} B`, [1, 2 * G]); b = tensorFloats(bt, `${at} B`); } else b = new Float32Array(2 * G);
    params[`${cell}.weight_ih_l${l}`] = fromOnnxOrder(tensorFloats(w, `${at} W`), cell);
    params[`${cell}.weight_hh_l${l}`] = fromOnnxOrder(tensorFloats(rw, `${at} R`), cell);
    params[`${cell}.bias_ih_l${l}`] = fromOnnxOrder(b.subarray(0, G), cell);
    params[`${cell}.bias_hh_l${l}`] = fromOnnxOrder(b.subarray(G), cell);
    if (peepholes) {
      const pt = weight(n.inputs[7], `${at} P`);
      dimsAre(pt, `${at} P`, [1, 3 * H]);
      const pv = tensorFloats(pt, `${at} P`);
      // ONNX's P is (i, o, f)
      params[`lstm.weight_ci_l${l}`] = pv.slice(0, H);
      params[`lstm.weight_co_l${l}`] = pv.slice(H, 2 * H);
      params[`lstm.weight_cf_l${l}`] = pv.slice(2 * H, 3 * H);
    }
    // the layers must be chained: this one's Y feeds the next LSTM (or the head)
    const user = n.outputs[0] ? nextUser(n.outputs[0]) : undefined;
    if (l + 1 < lstms.length && user !== lstms[l + 1]) bad(`${at}'s output Y does not feed ${op} node ${l + 1} (through Squeeze/Reshape only); not a plain stack of layers`);
    if (l + 1 === lstms.length) {
      // head: MatMul(y, W [H, V]) then Add(b [V]), or Gemm
      if (!user) bad(`no MatMul + Add (or Gemm) head on the last ${op}'s output Y`);
      let hw: Float32Array, V: number, hb: Float32Array;
      const other = (node: OnnxNode, v: string) => node.inputs.find((i) => i !== v && tensors.has(i));
      if (user.op === 'MatMul') {
        const wt = weight(other(user, user.inputs[0] === '' ? '' : user.inputs.find((i) => !tensors.has(i)) ?? ''), 'the head MatMul weight');
        if (wt.dims.length !== 2 || wt.dims[0] !== H) bad(`the head MatMul weight ('${wt.name}') has dims [${wt.dims.join(', ')}], expected [${H}, outputSize]`);
        if (user.inputs[1] !== wt.name) bad(`the head MatMul must multiply the LSTM output by the weight (y @ W), not W @ y`);
        V = checkSize(IMPORT, 'outputSize (head weight dims[1])', wt.dims[1]);
        const m = tensorFloats(wt, 'the head weight');
        hw = new Float32Array(V * H);
        for (let h = 0; h < H; h++) for (let v = 0; v < V; v++) hw[v * H + h] = m[h * V + v];
        const add = user.outputs[0] ? nextUser(user.outputs[0]) : undefined;
        const bn = add && isOnnx(add) && add.op === 'Add' ? add.inputs.find((i) => tensors.has(i)) : undefined;
        if (!bn) bad('the head MatMul is not followed by an Add of a constant bias [outputSize]');
        const bt = weight(bn, 'the head bias');
        if (bt.dims.length !== 1 || bt.dims[0] !== V) bad(`the head bias ('${bt.name}') has dims [${bt.dims.join(', ')}], expected [${V}]`);
        hb = tensorFloats(bt, 'the head bias');
      } else if (user.op === 'Gemm') {
        const tb = user.attrs.get('transB')?.i ?? 0;
        if ((user.attrs.get('transA')?.i ?? 0) !== 0 || (user.attrs.get('alpha')?.f ?? 1) !== 1 || (user.attrs.get('beta')?.f ?? 1) !== 1) bad('the head Gemm must have transA 0, alpha 1 and beta 1');
        const wt = weight(user.inputs[1], 'the head Gemm weight');
        if (wt.dims.length !== 2 || wt.dims[tb ? 1 : 0] !== H) bad(`the head Gemm weight ('${wt.name}') has dims [${wt.dims.join(', ')}], expected ${tb ? `[outputSize, ${H}]` : `[${H}, outputSize]`}`);
        V = checkSize(IMPORT, 'outputSize (head weight)', wt.dims[tb ? 0 : 1]);
        const m = tensorFloats(wt, 'the head weight');
        hw = new Float32Array(V * H);
        if (tb) hw.set(m); else for (let h = 0; h < H; h++) for (let v = 0; v < V; v++) hw[v * H + h] = m[h * V + v];
        const bt = weight(user.inputs[2], 'the head Gemm bias');
        if (bt.dims.length !== 1 || bt.dims[0] !== V) bad(`the head bias ('${bt.name}') has dims [${bt.dims.join(', ')}], expected [${V}]`);
        hb = tensorFloats(bt, 'the head bias');
      } else {
        bad(`the last ${op}'s output Y goes to a ${user.op} node; expected the head (MatMul + Add, or Gemm)`);
      }
      params['head.weight'] = hw;
      params['head.bias'] = hb;
      for (const [k, a] of Object.entries(params)) checkFinite(IMPORT, k, a);
      const config: LstmDims = { inputSize: X, hiddenSize: H, numLayers: lstms.length, outputSize: V };
      if (cell !== 'lstm') config.cell = cell;
      if (peepholes) config.peepholes = true;
      return { config, params };
    }
  }
  bad('unreachable');
}

/** A new model from an ONNX file (see parametersFromONNX). */
export async function createModelFromONNX(data: Uint8Array | ArrayBuffer, options: ImportOptions = {}): Promise<LstmModel> {
  return createModelWithParameters('createModelFromONNX', parametersFromONNX(data), options);
}
