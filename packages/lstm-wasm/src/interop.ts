// Shared pieces of the interop formats (safetensors, ONNX, Keras): the PyTorch
// parameter names and shapes, size limits, and building a model from named tensors.
// Pure TypeScript, no Node imports.

import { LstmError, describe } from './errors.js';
import { createModel, type LstmModel, type ModelConfig } from './model.js';

/** The recurrent cells (as ModelConfig.cell). */
export type Cell = 'lstm' | 'gru' | 'rnn';
export const CELLS: readonly Cell[] = ['lstm', 'gru', 'rnn'];

/** The sizes and cell of a model, as createModel takes them (cell and peepholes only when not the defaults). */
export interface LstmDims {
  inputSize: number; hiddenSize: number; numLayers: number; outputSize: number;
  cell?: Cell; peepholes?: boolean;
}

/** Options for the create...From... functions: everything createModel takes except the sizes and cell. */
export type ImportOptions = Omit<ModelConfig, 'inputSize' | 'hiddenSize' | 'numLayers' | 'outputSize' | 'cell' | 'peepholes'>;

/** The model's parameters under @lstm/wasm's (PyTorch's) names, with the sizes they imply. */
export interface ImportedParameters { config: LstmDims; params: Record<string, Float32Array> }

/** Limits createModel enforces; an importer checks them before anything is allocated. */
export const MAX_SIZE = 1 << 20;
export const MAX_LAYERS = 64;

/** Rows of weight_ih / weight_hh per hidden unit: the gates. */
export function gatesOf(cell: Cell): number { return cell === 'gru' ? 3 : cell === 'rnn' ? 1 : 4; }

/**
 * PyTorch's state_dict names and shapes for nn.LSTM / nn.GRU / nn.RNN(X, H, L) as module `cell`
 * + nn.Linear(H, V) as `head`, in state_dict order (peepholes, an LSTM option of @lstm/wasm,
 * add weight_ci / weight_cf / weight_co [H] per layer).
 */
export function torchShapes(d: LstmDims): { name: string; shape: number[] }[] {
  const H = d.hiddenSize, cell = d.cell ?? 'lstm', G = gatesOf(cell) * H;
  const out: { name: string; shape: number[] }[] = [];
  for (let k = 0; k < d.numLayers; k++) {
    out.push({ name: `${cell}.weight_ih_l${k}`, shape: [G, k === 0 ? d.inputSize : H] });
    out.push({ name: `${cell}.weight_hh_l${k}`, shape: [G, H] });
    out.push({ name: `${cell}.bias_ih_l${k}`, shape: [G] });
    out.push({ name: `${cell}.bias_hh_l${k}`, shape: [G] });
    if (d.peepholes) for (const p of ['ci', 'cf', 'co']) out.push({ name: `${cell}.weight_${p}_l${k}`, shape: [H] });
  }
  out.push({ name: 'head.weight', shape: [d.outputSize, H] });
  out.push({ name: 'head.bias', shape: [d.outputSize] });
  return out;
}

/** The sizes and cell of a model. */
export function modelDims(where: string, model: LstmModel): LstmDims {
  if (model === null || typeof model !== 'object') throw new LstmError(`${where}: model must be an LstmModel, got ${describe(model)}`);
  const c = ((model as unknown as { config?: LstmDims }).config ?? model) as LstmDims;
  const d: LstmDims = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, outputSize: c.outputSize };
  if (c.cell !== undefined && c.cell !== 'lstm') d.cell = c.cell;
  if (c.peepholes) d.peepholes = true;
  return d;
}

/** The model's loss (ModelConfig.loss), 'crossEntropy' when the model does not say. */
export function modelLoss(model: LstmModel): string {
  return (model as unknown as { config?: { loss?: string } }).config?.loss ?? 'crossEntropy';
}

/** Checks one size against createModel's limits. */
export function checkSize(where: string, what: string, v: number, max = MAX_SIZE): number {
  if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new LstmError(`${where}: ${what} must be an integer in [1, ${max}], got ${describe(v)}`);
  return v;
}

/** Throws unless every value is finite. */
export function checkFinite(where: string, name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new LstmError(`${where}: tensor '${name}' has a non-finite value (${a[i]}) at index ${i}`);
  }
}

/** Creates a model of the given sizes and loads the parameters into it. */
export async function createModelWithParameters(where: string, imported: ImportedParameters, options: ImportOptions = {}): Promise<LstmModel> {
  if (options === null || typeof options !== 'object') throw new LstmError(`${where}: options must be an object, got ${describe(options)}`);
  const model = await createModel({ ...options, ...imported.config });
  try {
    model.setParameters(imported.params);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Loads imported parameters into an existing model of the same sizes. */
export function loadParameters(where: string, model: LstmModel, imported: ImportedParameters): void {
  const a = modelDims(where, model), b = imported.config;
  if (a.inputSize !== b.inputSize || a.hiddenSize !== b.hiddenSize || a.numLayers !== b.numLayers || a.outputSize !== b.outputSize ||
    (a.cell ?? 'lstm') !== (b.cell ?? 'lstm') || !!a.peepholes !== !!b.peepholes) {
    throw new LstmError(`${where}: the file holds a model of sizes ${JSON.stringify(b)}, this model is ${JSON.stringify(a)}`);
  }
  model.setParameters(imported.params);
}

/** Bytes from a Uint8Array, an ArrayBuffer or any other ArrayBufferView (no copy). */
export function asBytes(where: string, what: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new LstmError(`${where}: ${what} must be a Uint8Array or an ArrayBuffer, got ${describe(v)}`);
}
