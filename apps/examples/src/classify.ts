// Classification of whole sequences of different lengths: each batch pads its
// sequences to the longest and passes `lengths`, the loss is softmax cross-entropy
// on each sequence's own last step ('crossEntropyLast'), and the prediction is the
// argmax of `lastOutputs`.
import { createModel, Rng, type LstmModel, type ModelConfig } from '@lstm/wasm';

type CellType = NonNullable<ModelConfig['cell']>;
import { WAVE_CLASSES, makeWave } from './data.js';

export interface ClassifyOptions {
  cell?: CellType;
  hidden?: number;
  steps?: number;
  batch?: number;
  minLength?: number;
  maxLength?: number;
  lr?: number;
  testSize?: number;
  seed?: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface ClassifyResult {
  accuracy: number;
  /** confusion[true][predicted] over the test set */
  confusion: number[][];
  firstLoss: number;
  lastLoss: number;
  seconds: number;
}

interface Labelled { x: Float32Array; y: number }

function makeSet(rng: Rng, n: number, minLength: number, maxLength: number): Labelled[] {
  return Array.from({ length: n }, () => {
    const y = Math.floor(rng.next() * WAVE_CLASSES.length);
    return { x: makeWave(rng, y, minLength, maxLength), y };
  });
}

/** Time-major padded inputs [T, B, 1], lengths [B] and class targets [B]. */
function toBatch(items: Labelled[]) {
  const B = items.length, T = Math.max(...items.map((s) => s.x.length));
  const inputs = new Float32Array(T * B);
  items.forEach((s, b) => s.x.forEach((v, t) => { inputs[t * B + b] = v; }));
  return {
    inputs, seqLength: T, batchSize: B,
    lengths: Int32Array.from(items, (s) => s.x.length),
    targets: Int32Array.from(items, (s) => s.y),
  };
}

export function predict(model: LstmModel, items: Labelled[]): number[] {
  const { targets: _, ...input } = toBatch(items);
  const out = model.forward(input).lastOutputs;
  const V = model.outputSize;
  return items.map((_, b) => {
    let best = 0;
    for (let v = 1; v < V; v++) if (out[b * V + v] > out[b * V + best]) best = v;
    return best;
  });
}

export async function runClassify(o: ClassifyOptions = {}): Promise<ClassifyResult> {
  const { cell = 'gru', hidden = 32, steps = 1500, batch = 32, minLength = 8, maxLength = 40, lr = 1e-2, testSize = 600,
    seed = 1, threads = 1, log = () => {} } = o;
  const rng = new Rng(seed);
  const K = WAVE_CLASSES.length;
  const model = await createModel({ inputSize: 1, hiddenSize: hidden, outputSize: K, cell, loss: 'crossEntropyLast', seed, threads });
  const t0 = performance.now();
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const rate = lr * (1 - 0.9 * (step / steps));
    losses.push(model.trainStep(toBatch(makeSet(rng, batch, minLength, maxLength)), { type: 'adam', lr: rate, clipNorm: 1 }));
    if ((step + 1) % Math.max(1, Math.floor(steps / 5)) === 0) log(`step ${step + 1}/${steps}: training cross-entropy ${losses[step].toFixed(4)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  // a fresh test set from the same generator
  const test = makeSet(new Rng(seed + 1000), testSize, minLength, maxLength);
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let right = 0;
  for (let i = 0; i < test.length; i += 100) {
    const part = test.slice(i, i + 100);
    predict(model, part).forEach((p, j) => { confusion[part[j].y][p]++; if (p === part[j].y) right++; });
  }
  model.dispose();
  const tenth = Math.max(1, Math.floor(steps / 10));
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return { accuracy: right / test.length, confusion, firstLoss: avg(losses.slice(0, tenth)), lastLoss: avg(losses.slice(-tenth)), seconds };
}
