// Messages between the page (main.ts) and the training worker (worker.ts).
// Requests that expect an answer carry an `id`; the answer (or an `error`) carries it back.

/** The recurrent cell, as @lstm/wasm's createModel takes it. */
export type CellKind = 'lstm' | 'gru' | 'rnn';
export const CELL_LABEL: Record<CellKind, string> = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' };

export interface TrainSettings {
  /** default 'lstm' */
  cell?: CellKind;
  hiddenSize: number;
  numLayers: number;
  seqLength: number;
  batchSize: number;
  lr: number;
}

/** The limits the page enforces; beyond them a model would not fit or would crawl in a page. */
export const LIMITS = {
  hiddenSize: [1, 1024],
  numLayers: [1, 4],
  seqLength: [1, 512],
  batchSize: [1, 512],
  lr: [1e-6, 1],
  /** parameters of the whole model */
  parameters: 20_000_000,
  /** floats of activations one training step keeps (about T * B * H * 12 per layer) */
  activations: 64_000_000,
  /** characters of text */
  textLength: 20_000_000,
  /** distinct characters */
  vocab: 4096,
} as const;

export type RunState = 'idle' | 'training' | 'paused' | 'stopped';

export type Request =
  | { type: 'start'; id: number; text: string; settings: TrainSettings; seed: number }
  | { type: 'pause'; id: number }
  | { type: 'resume'; id: number; text: string; settings: TrainSettings }
  | { type: 'stop'; id: number }
  | { type: 'sample'; id: number; prompt: string; temperature: number; length: number; seed: number }
  | { type: 'inspect'; id: number; text: string }
  | { type: 'save'; id: number }
  | { type: 'load'; id: number; bytes: Uint8Array; name: string }
  | { type: 'live'; id: number; every: number; prompt: string; temperature: number };

export interface ModelInfo {
  cell: CellKind;
  hiddenSize: number;
  numLayers: number;
  vocab: string[];
  parameterCount: number;
  step: number;
  /** where the weights came from: 'new' or a file name */
  source: string;
  settings?: TrainSettings;
}

export interface Progress {
  step: number;
  loss: number;
  /** mean training loss over the steps since the previous report */
  lossAvg: number;
  valLoss?: number;
  charsPerSec: number;
  elapsedMs: number;
}

export interface SampleResult {
  text: string;
  prompt: string;
  /** the model's next-character distribution after the prompt (temperature 1), in vocab order */
  next: number[];
  vocab: string[];
  temperature: number;
}

export interface InspectResult {
  text: string;
  /** which signals exist: the LSTM has a cell state and three gates, the GRU two gates, the RNN none */
  kind: CellKind;
  hiddenSize: number;
  numLayers: number;
  /** per layer, tanh(c) [T, H] (LSTM only; empty for GRU and RNN) and h [T, H] */
  cell: Float32Array[];
  hidden: Float32Array[];
  /** the cell's gates in display order: input, forget, output (LSTM); reset, update (GRU); none (RNN) */
  gateNames: string[];
  /** per layer, each gate's values [T, H] */
  gates: Record<string, Float32Array>[];
  /** per layer and gate, per unit fraction of steps below 0.1 / above 0.9 */
  saturation: Record<string, { left: Float32Array; right: Float32Array }>[];
  /** max |logit difference| between this trace and the kernels' forward over the same text */
  checkDiff: number;
}

export type Reply =
  | { type: 'ready'; simd: boolean; relaxed: boolean; threads: number }
  | { type: 'state'; state: RunState; model: ModelInfo | null }
  | { type: 'progress'; progress: Progress }
  | { type: 'live-sample'; sample: SampleResult }
  | { type: 'done'; id: number }
  | { type: 'sample'; id: number; sample: SampleResult }
  | { type: 'inspect'; id: number; result: InspectResult }
  | { type: 'saved'; id: number; bytes: Uint8Array; name: string }
  | { type: 'error'; id?: number; message: string; where: string };
