// Where every buffer of a model lives in wasm memory. The descriptor slot numbers
// mirror packages/kernels/assembly/model.ts (DESCRIPTOR_VERSION checks the pair).
// Dimensions: L layers, X input size, H hidden, V output size, T steps, B batch.

export const DESCRIPTOR_VERSION = 4;

export const S = {
  L: 0, X: 1, H: 2, V: 3, T: 4, B: 5, TOKENS: 6, INPUTS: 7, TARGETS: 8, INPUT_GRAD: 9,
  PARAMS: 10, GRADS: 11, N_PARAMS: 12, HEAD_W: 13, HEAD_B: 14, HEAD_DW: 15, HEAD_DB: 16,
  LOGITS: 17, DLOGITS: 18, LSE: 19, OPT_KIND: 20, OPT_M: 21, OPT_V: 22, LR: 23, BETA1: 24,
  BETA2: 25, EPS: 26, WD: 27, CLIP: 28, STEP_SIZE: 29, INV_BC2: 30, GRAD_NORM: 31, LOSS: 32,
  CARRY: 33, C1: 34, C2: 35, CTL: 36, THREADS: 37, ROW_LOSS: 38, SCALE: 39,
  CELL: 40, LOSS_KIND: 41, LENGTHS: 42, LOSS_COUNT: 43, ZERO_STATE: 44,
} as const;
export const HEADER_SLOTS = 45;

export const LS = {
  W_IH: 0, W_HH: 1, B_IH: 2, B_HH: 3, DW_IH: 4, DW_HH: 5, DB_IH: 6, DB_HH: 7, W_IHT: 8,
  GATES: 9, HS: 10, CS: 11, TANHC: 12, DHS: 13, DC: 14, DH0: 15, DW_IHT: 16,
  GATES_H: 17, PEEP: 18, DPEEP: 19,
} as const;
export const LAYER_SLOTS = 20;

/** Recurrent cells (S.CELL). */
export const CELL_KIND = { lstm: 0, gru: 1, rnn: 2 } as const;
export type CellType = keyof typeof CELL_KIND;
/** Losses (S.LOSS_KIND); see ModelConfig.loss. */
export const LOSS_KIND = { crossEntropy: 0, mse: 1, mseLast: 2, crossEntropyLast: 3 } as const;
export type LossType = keyof typeof LOSS_KIND;

/** Jobs of the kernels' run() (packages/kernels/assembly/model.ts). */
export const JOB = { forward: 1, forwardLoss: 2, gradients: 3, train: 4, exit: -1 } as const;
/** The thread control block (packages/kernels/assembly/parallel.ts). */
export const CONTROL = { GEN: 0, JOB: 1, DESC: 2, SLOTS: 48 } as const;

export const OPT_KIND = { none: 0, sgd: 1, adam: 2, adamw: 3, rmsprop: 4, adagrad: 5 } as const;

export interface Dims {
  L: number; X: number; H: number; V: number;
  /** default 'lstm' */
  cell?: CellType;
  /** LSTM only (default false) */
  peepholes?: boolean;
  /** default 'crossEntropy'; decides the size of the targets buffer */
  loss?: LossType;
}

/** Gate rows per layer: 4H (LSTM), 3H (GRU), H (RNN). */
export function gateWidth(cell: CellType | undefined, H: number): number {
  return cell === 'gru' ? 3 * H : cell === 'rnn' ? H : 4 * H;
}

/** One named tensor of the flat parameter vector, in PyTorch's names and layout. */
export interface TensorSpec { name: string; shape: number[]; offset: number; length: number }

/**
 * The flat parameter order: per layer W_ih, W_hh, b_ih, b_hh (and with peepholes
 * w_ci, w_cf, w_co, contiguous), then the head. Names are those of a PyTorch module
 * with an nn.LSTM / nn.GRU / nn.RNN attribute named lstm / gru / rnn and an
 * nn.Linear named head.
 */
export function parameterSpecs({ L, X, H, V, cell = 'lstm', peepholes = false }: Dims): TensorSpec[] {
  const specs: TensorSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]) => {
    const length = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, length });
    offset += length;
  };
  const G = gateWidth(cell, H);
  for (let k = 0; k < L; k++) {
    add(`${cell}.weight_ih_l${k}`, [G, k === 0 ? X : H]);
    add(`${cell}.weight_hh_l${k}`, [G, H]);
    add(`${cell}.bias_ih_l${k}`, [G]);
    add(`${cell}.bias_hh_l${k}`, [G]);
    if (peepholes) {
      add(`${cell}.weight_ci_l${k}`, [H]);
      add(`${cell}.weight_cf_l${k}`, [H]);
      add(`${cell}.weight_co_l${k}`, [H]);
    }
  }
  add('head.weight', [V, H]);
  add('head.bias', [V]);
  return specs;
}

/** Hands out 16-byte aligned byte offsets, counting how much memory they need. */
export class Arena {
  constructor(public end: number) {}
  floats(n: number): number {
    // arithmetic, not bit masks: absurd sizes must overflow into a clear error, not wrap
    const p = Math.ceil(this.end / 16) * 16;
    this.end = p + 4 * n;
    return p;
  }
}

/** Byte offsets of the parameter block: thread control, descriptor, params, grads, two moment buffers. */
export interface ParamBlock { ctl: number; desc: number; params: number; grads: number; m: number; v: number; n: number }

export function layoutParams(arena: Arena, dims: Dims): ParamBlock {
  const specs = parameterSpecs(dims);
  const n = specs[specs.length - 1].offset + specs[specs.length - 1].length;
  return {
    ctl: arena.floats(CONTROL.SLOTS),
    desc: arena.floats(HEADER_SLOTS + LAYER_SLOTS * dims.L),
    params: arena.floats(n), grads: arena.floats(n), m: arena.floats(n), v: arena.floats(n), n,
  };
}

/** Byte offsets of the buffers one (T, B) shape needs. */
export interface Workspace {
  T: number; B: number;
  inputs: number; targets: number; lengths: number; inputGrad: number; logits: number; dlogits: number; lse: number; rowLoss: number;
  layers: Record<keyof typeof LS, number>[];
  /** The descriptor slots that depend only on the model and this shape, built once. */
  image?: Int32Array;
}

/** Values the targets buffer holds for T*B rows: ids or output vectors, per position or per sequence. */
export function targetLength(loss: LossType | undefined, T: number, B: number, V: number): number {
  switch (loss ?? 'crossEntropy') {
    case 'crossEntropy': return T * B;
    case 'mse': return T * B * V;
    case 'mseLast': return B * V;
    case 'crossEntropyLast': return B;
  }
}

export function layoutWorkspace(arena: Arena, { L, X, H, V, cell = 'lstm', loss }: Dims, T: number, B: number): Workspace {
  const rows = T * B, G = gateWidth(cell, H);
  const lstm = cell === 'lstm';
  const ws: Workspace = {
    T, B,
    // sized for dense input; token ids fit in the same space
    inputs: arena.floats(rows * X), targets: arena.floats(targetLength(loss, T, B, V)), lengths: arena.floats(B),
    inputGrad: arena.floats(rows * X),
    logits: arena.floats(rows * V), dlogits: arena.floats(rows * V), lse: arena.floats(rows), rowLoss: arena.floats(2 * rows),
    layers: [],
  };
  for (let k = 0; k < L; k++) {
    const Xk = k === 0 ? X : H;
    ws.layers.push({
      // parameter block, filled by the model
      W_IH: 0, W_HH: 0, B_IH: 0, B_HH: 0, DW_IH: 0, DW_HH: 0, DB_IH: 0, DB_HH: 0, PEEP: 0, DPEEP: 0,
      W_IHT: k === 0 ? arena.floats(Xk * G) : 0, GATES: arena.floats(rows * G),
      HS: arena.floats((T + 1) * B * H), CS: lstm ? arena.floats((T + 1) * B * H) : 0, TANHC: lstm ? arena.floats(rows * H) : 0,
      DHS: arena.floats(rows * H), DC: lstm ? arena.floats(B * H) : 0, DH0: arena.floats(B * H),
      DW_IHT: k === 0 ? arena.floats(Xk * G) : 0,
      GATES_H: cell === 'gru' ? arena.floats(rows * G) : 0,
    });
  }
  return ws;
}
