// ONNX export of the inference graph (written from onnx.proto and the operator specs; the
// few protobuf encoders ONNX needs are below, so the package has no runtime dependency).
//
// The graph, time-major like the model (seq and batch are symbolic dimensions):
//
//   input  [seq, batch, inputSize] float         (or tokens [seq, batch] int64 -> OneHot)
//   h0, c0 [numLayers, batch, hiddenSize] float  (only with { initialState: true })
//   for each layer l:  LSTM(x, W_l, R_l, B_l, '', h0[l], c0[l]) -> Y [seq, 1, batch, H], Y_h, Y_c
//                      Squeeze(Y, axes=[1]) -> x [seq, batch, H]
//   logits = Add(MatMul(x, head.weight^T), head.bias)        [seq, batch, outputSize]
//   probs  = Softmax(logits, axis=2)
//   h_n, c_n = Concat of every layer's Y_h, Y_c              [numLayers, batch, hiddenSize]
//
// ONNX's LSTM orders the gates i, o, f, c (PyTorch: i, f, g, o), takes W [1, 4H, X],
// R [1, 4H, H] and one bias B [1, 8H] = (W_b, R_b): the weights are reordered to match.

import { LstmError, describe } from './errors.js';
import { modelDims, type LstmDims } from './interop.js';
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
  /** Add inputs 'h0', 'c0' [numLayers, batch, hiddenSize] for the initial state (default false: zeros). */
  initialState?: boolean;
  /** Stored as the graph's doc_string. */
  docString?: string;
}

/** PyTorch's gate blocks i, f, g, o (rows of H) reordered to ONNX's i, o, f, c. */
function toIofc(a: Float32Array): Float32Array {
  const n = a.length / 4, out = new Float32Array(a.length);
  // onnx block k takes torch block from[k]
  const from = [0, 3, 1, 2];
  for (let k = 0; k < 4; k++) out.set(a.subarray(from[k] * n, (from[k] + 1) * n), k * n);
  return out;
}

/**
 * The model's inference graph as an ONNX file (opset 17): LSTM nodes, a MatMul/Add head and a
 * Softmax. Outputs 'logits' and 'probs' [seq, batch, outputSize], 'h_n' and 'c_n' [numLayers, batch, hiddenSize].
 * Runs in ONNX Runtime (onnxruntime-node, onnxruntime-web) and other ONNX runtimes.
 */
export function toONNX(model: LstmModel, options: OnnxExportOptions = {}): Uint8Array {
  const where = 'toONNX';
  if (options === null || typeof options !== 'object') throw new LstmError(`${where}: options must be an object, got ${describe(options)}`);
  const input = options.input ?? 'dense';
  if (input !== 'dense' && input !== 'tokens') throw new LstmError(`${where}: options.input must be 'dense' or 'tokens', got ${describe(input)}`);
  const withState = options.initialState === true;
  const d: LstmDims = modelDims(where, model);
  const { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V } = d;
  const p = model.getParameters();

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
  if (withState) {
    inputs.push(valueInfo('h0', DT_FLOAT, [L, 'batch', H]));
    inputs.push(valueInfo('c0', DT_FLOAT, [L, 'batch', H]));
  }
  inits.push(int64Tensor('axes_1', [1], [1]));
  const hs: string[] = [], cs: string[] = [];
  for (let l = 0; l < L; l++) {
    const Xl = l === 0 ? X : H;
    inits.push(floatTensor(`lstm_W_l${l}`, [1, 4 * H, Xl], toIofc(p[`lstm.weight_ih_l${l}`])));
    inits.push(floatTensor(`lstm_R_l${l}`, [1, 4 * H, H], toIofc(p[`lstm.weight_hh_l${l}`])));
    const b = new Float32Array(8 * H);
    b.set(toIofc(p[`lstm.bias_ih_l${l}`]), 0);
    b.set(toIofc(p[`lstm.bias_hh_l${l}`]), 4 * H);
    inits.push(floatTensor(`lstm_B_l${l}`, [1, 8 * H], b));
    let h0 = '', c0 = '';
    if (withState) {
      if (L === 1) { h0 = 'h0'; c0 = 'c0'; } else {
        inits.push(int64Tensor(`slice_start_l${l}`, [1], [l]), int64Tensor(`slice_end_l${l}`, [1], [l + 1]));
        if (l === 0) inits.push(int64Tensor('axes_0', [1], [0]));
        h0 = `h0_l${l}`; c0 = `c0_l${l}`;
        nodes.push(node('Slice', ['h0', `slice_start_l${l}`, `slice_end_l${l}`, 'axes_0'], [h0], `slice_h0_l${l}`));
        nodes.push(node('Slice', ['c0', `slice_start_l${l}`, `slice_end_l${l}`, 'axes_0'], [c0], `slice_c0_l${l}`));
      }
    }
    const lstmInputs = [x, `lstm_W_l${l}`, `lstm_R_l${l}`, `lstm_B_l${l}`];
    if (withState) lstmInputs.push('', h0, c0);
    const y = `lstm_Y_l${l}`, yh = L === 1 ? 'h_n' : `lstm_Yh_l${l}`, yc = L === 1 ? 'c_n' : `lstm_Yc_l${l}`;
    nodes.push(node('LSTM', lstmInputs, [y, yh, yc], `lstm_l${l}`, [{ name: 'hidden_size', i: H }, { name: 'direction', s: 'forward' }]));
    x = `lstm_out_l${l}`;
    nodes.push(node('Squeeze', [y, 'axes_1'], [x], `squeeze_l${l}`));
    hs.push(yh); cs.push(yc);
  }
  if (L > 1) {
    nodes.push(node('Concat', hs, ['h_n'], 'concat_h', [{ name: 'axis', i: 0 }]));
    nodes.push(node('Concat', cs, ['c_n'], 'concat_c', [{ name: 'axis', i: 0 }]));
  }
  // head: x @ W^T + b
  const w = p['head.weight'], wt = new Float32Array(H * V);
  for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) wt[h * V + v] = w[v * H + h];
  inits.push(floatTensor('head_weight_t', [H, V], wt));
  inits.push(floatTensor('head_bias', [V], p['head.bias']));
  nodes.push(node('MatMul', [x, 'head_weight_t'], ['head_matmul'], 'head_matmul'));
  nodes.push(node('Add', ['head_matmul', 'head_bias'], ['logits'], 'head_add'));
  nodes.push(node('Softmax', ['logits'], ['probs'], 'softmax', [{ name: 'axis', i: 2 }]));
  outputs.push(valueInfo('logits', DT_FLOAT, ['seq', 'batch', V]));
  outputs.push(valueInfo('probs', DT_FLOAT, ['seq', 'batch', V]));
  outputs.push(valueInfo('h_n', DT_FLOAT, [L, 'batch', H]));
  outputs.push(valueInfo('c_n', DT_FLOAT, [L, 'batch', H]));

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
