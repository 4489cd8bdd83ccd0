// Character-level language modelling helpers: a vocabulary of code points, the
// char-rnn batcher (parallel streams cut into chunks, for truncated BPTT), sampling
// from logits, generation and evaluation. Pure TypeScript, for Node and browsers.

import { LstmError, checkInt, checkNumber, describe } from './errors.js';
import type { InitialState, LstmModel, State } from './model.js';
import type { Rng } from './rng.js';

/** Zero initial state for `batch` streams: { h, c } for an LSTM, { h } for a GRU or RNN. */
function zeroState(model: LstmModel, batch: number): InitialState {
  const n = model.numLayers * batch * model.hiddenSize;
  return model.cell === 'lstm' ? { h: new Float32Array(n), c: new Float32Array(n) } : { h: new Float32Array(n) };
}

/** A final state passed on as the next initial state. */
function carried(model: LstmModel, s: State): InitialState {
  return model.cell === 'lstm' ? s : { h: s.h };
}

/** A character shown for a message: 'a' (U+0061), '\n' (U+000A). */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const shown = cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) ? JSON.stringify(ch).slice(1, -1) : ch;
  return `'${shown}' (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Characters (Unicode code points) to token ids and back. */
export class CharVocab {
  /** Token id -> character. */
  readonly chars: readonly string[];
  private readonly ids = new Map<string, number>();

  /** From a list of distinct characters, one code point each, in token-id order. */
  constructor(chars: Iterable<string>) {
    const list = Array.from(chars);
    if (list.length === 0) throw new LstmError('CharVocab: the vocabulary is empty; it needs at least one character');
    list.forEach((ch, i) => {
      if (typeof ch !== 'string' || [...ch].length !== 1) throw new LstmError(`CharVocab: entry ${i} must be one character, got ${describe(ch)}`);
      if (this.ids.has(ch)) throw new LstmError(`CharVocab: character ${describeChar(ch)} appears twice`);
      this.ids.set(ch, i);
    });
    this.chars = list;
  }

  /** The sorted distinct code points of a text. */
  static fromText(text: string): CharVocab {
    if (typeof text !== 'string' || text.length === 0) throw new LstmError('CharVocab.fromText: the text is empty; give some text to build the vocabulary from');
    const seen = new Set<string>();
    for (const ch of text) seen.add(ch);
    return new CharVocab([...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  get size(): number { return this.chars.length; }

  has(ch: string): boolean { return this.ids.has(ch); }

  /** The id of a character, or -1. */
  idOf(ch: string): number { return this.ids.get(ch) ?? -1; }

  /** Token ids of a text; `what` names the text in the error for a character outside the vocabulary. */
  encode(text: string, what = 'the text'): Int32Array {
    const out: number[] = [];
    let pos = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new LstmError(`${what} has character ${describeChar(ch)} at position ${pos}, which is not in the vocabulary of ${this.size} characters`);
      }
      out.push(id);
      pos++;
    }
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.chars[ids[i]];
      if (ch === undefined) throw new LstmError(`CharVocab.decode: id ${ids[i]} at index ${i} is outside [0, ${this.size})`);
      s += ch;
    }
    return s;
  }
}

/** Token ids and targets, time-major [seqLength, batchSize], as trainStep takes them. */
export interface TokenBatch { tokens: Int32Array; targets: Int32Array; seqLength: number; batchSize: number }

/**
 * char-rnn batching. The data is cut into `batchSize` contiguous streams; each batch
 * is the next `seqLength` tokens of every stream, targets shifted by one. Batch k+1
 * continues where batch k stopped, so the final state of one batch is the right
 * initial state of the next (truncated BPTT). After the last full chunk the streams
 * start over (a new epoch): `chunk === 0` tells when to reset the carried state.
 */
export class CharBatcher {
  readonly batchSize: number;
  readonly seqLength: number;
  /** Tokens per stream. */
  readonly streamLength: number;
  /** Batches per pass over the data. */
  readonly chunksPerEpoch: number;
  private readonly data: Int32Array;
  private pos = 0;

  /** Fewest tokens that make one batch. */
  static minLength(batchSize: number, seqLength: number): number { return batchSize * seqLength + 1; }

  constructor(data: ArrayLike<number>, batchSize: number, seqLength: number, position = 0) {
    const where = 'CharBatcher';
    this.batchSize = checkInt(where, 'batchSize', batchSize, 1, 1 << 20);
    this.seqLength = checkInt(where, 'seqLength', seqLength, 1, 1 << 20);
    this.data = data instanceof Int32Array ? data : Int32Array.from(data);
    const need = CharBatcher.minLength(batchSize, seqLength);
    if (this.data.length < need) {
      throw new LstmError(`${where}: ${this.data.length} tokens are too few for batchSize ${batchSize} x seqLength ${seqLength}; one batch needs at least ${need}`);
    }
    this.streamLength = Math.floor((this.data.length - 1) / batchSize);
    this.chunksPerEpoch = Math.floor(this.streamLength / seqLength);
    this.position = position;
  }

  /** Batches handed out so far; save it with a checkpoint and set it back to resume. */
  get position(): number { return this.pos; }
  set position(p: number) { this.pos = checkInt('CharBatcher', 'position', p, 0, Number.MAX_SAFE_INTEGER); }

  /** Passes over the data completed. */
  get epoch(): number { return Math.floor(this.pos / this.chunksPerEpoch); }

  /** Index of the next batch within its epoch; 0 means the streams start from their beginning. */
  get chunk(): number { return this.pos % this.chunksPerEpoch; }

  /** The next batch; advances the position. */
  next(): TokenBatch {
    const b = this.batchAt(this.chunk);
    this.pos++;
    return b;
  }

  /** Batch number `chunk` of an epoch (pure). */
  batchAt(chunk: number): TokenBatch {
    checkInt('CharBatcher.batchAt', 'chunk', chunk, 0, this.chunksPerEpoch - 1);
    const T = this.seqLength, B = this.batchSize, L = this.streamLength, d = this.data;
    const tokens = new Int32Array(T * B), targets = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const start = b * L + chunk * T;
      for (let t = 0; t < T; t++) {
        tokens[t * B + b] = d[start + t];
        targets[t * B + b] = d[start + t + 1];
      }
    }
    return { tokens, targets, seqLength: T, batchSize: B };
  }
}

export interface SampleOptions {
  /** Divides the logits; 1 samples the model's distribution, lower is more conservative, 0 takes the most likely. */
  temperature?: number;
  /** Sample among the k most likely only; 0 (default) for all. */
  topK?: number;
}

function checkSampleOptions(where: string, o: SampleOptions, classes: number): { temperature: number; topK: number } {
  const temperature = checkNumber(where, 'temperature', o.temperature ?? 1, 0, 1e6);
  const topK = checkInt(where, 'topK', o.topK ?? 0, 0, 1 << 30);
  return { temperature, topK: topK === 0 || topK > classes ? classes : topK };
}

/** Indices of the k largest values, ties to the lower index. */
function topIndices(logits: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: logits.length }, (_, i) => i);
  if (k >= logits.length) return idx;
  idx.sort((a, b) => (logits[b] - logits[a]) || a - b);
  return idx.slice(0, k);
}

/** Probabilities of softmax(logits / temperature) over the top-k classes (others 0). */
export function softmax(logits: ArrayLike<number>, options: SampleOptions = {}): Float64Array {
  const V = logits.length;
  if (V === 0) throw new LstmError('softmax: logits are empty');
  const { temperature, topK } = checkSampleOptions('softmax', options, V);
  const keep = topIndices(logits, topK);
  const p = new Float64Array(V);
  let max = -Infinity;
  for (const i of keep) {
    if (Number.isNaN(logits[i])) throw new LstmError(`softmax: logits[${i}] is NaN`);
    if (logits[i] > max) max = logits[i];
  }
  if (temperature === 0) {
    // greedy: the first of the largest
    p[keep.find((i) => logits[i] === max)!] = 1;
    return p;
  }
  let sum = 0;
  for (const i of keep) { p[i] = Math.exp((logits[i] - max) / temperature); sum += p[i]; }
  for (const i of keep) p[i] /= sum;
  return p;
}

/** Draws a class from softmax(logits / temperature), restricted to the top k. */
export function sampleFromLogits(logits: ArrayLike<number>, rng: Rng, options: SampleOptions = {}): number {
  const p = softmax(logits, options);
  const u = rng.next();
  let acc = 0, last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    acc += p[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // rounding left acc a hair below 1
}

export interface GenerateOptions extends SampleOptions {
  /** Characters to generate. */
  length: number;
  /** Text that primes the state first (every character must be in the vocabulary). */
  prompt?: string;
  /** Priming character when there is no prompt; default '\n' when in the vocabulary, else the first character. */
  start?: string;
  /** Called with each generated character as it comes. */
  onText?: (text: string) => void;
}

/**
 * Generates text after a prompt and returns it (without the prompt). Runs one token
 * at a time through model.forward with an explicit state of batch 1, so it never
 * touches the state that stateful training carries: it is safe in the middle of training.
 */
export function generateText(model: LstmModel, vocab: CharVocab, rng: Rng, options: GenerateOptions): string {
  const where = 'generateText';
  if (vocab.size !== model.inputSize || vocab.size !== model.outputSize) {
    throw new LstmError(`${where}: the vocabulary has ${vocab.size} characters but the model takes ${model.inputSize} and predicts ${model.outputSize}`);
  }
  const length = checkInt(where, 'length', options.length, 0, 1 << 24);
  checkSampleOptions(where, options, vocab.size);
  const prompt = options.prompt ?? '';
  let priming: Int32Array;
  if (prompt.length > 0) {
    priming = vocab.encode(prompt, 'the prompt');
  } else {
    const start = options.start ?? (vocab.has('\n') ? '\n' : vocab.chars[0]);
    priming = vocab.encode(start, 'the start character');
  }
  let state = zeroState(model, 1);
  const one = new Int32Array(1);
  let logits: Float32Array = new Float32Array(0);
  const feed = (id: number) => {
    one[0] = id;
    const r = model.forward({ tokens: one, seqLength: 1, batchSize: 1, initialState: state });
    state = carried(model, r.finalState);
    logits = r.logits;
  };
  for (const id of priming) feed(id);
  let out = '';
  for (let i = 0; i < length; i++) {
    const id = sampleFromLogits(logits, rng, options);
    const ch = vocab.chars[id];
    out += ch;
    options.onText?.(ch);
    if (i + 1 < length) feed(id);
  }
  return out;
}

export interface EvaluateOptions {
  /** Parallel streams. */
  batchSize: number;
  /** Tokens per forward call; the state carries from chunk to chunk. */
  seqLength: number;
}

/**
 * Mean cross-entropy (nats per token) of predicting data[i+1] from data[..i], over
 * `batchSize` contiguous streams, run in chunks with the state carried explicitly.
 * Uses model.forward with explicit states of shape (seqLength, batchSize) and
 * (remainder, batchSize): pick a shape that stateful training does not use, since a
 * forward call on a shape overwrites the state carried for that shape.
 */
export function evaluateTokens(model: LstmModel, data: ArrayLike<number>, options: EvaluateOptions): { loss: number; count: number } {
  const where = 'evaluateTokens';
  const B = checkInt(where, 'batchSize', options.batchSize, 1, 1 << 20);
  const T = checkInt(where, 'seqLength', options.seqLength, 1, 1 << 20);
  const ids = data instanceof Int32Array ? data : Int32Array.from(data);
  const streamLength = Math.floor((ids.length - 1) / B);
  if (streamLength < 1) throw new LstmError(`${where}: ${ids.length} tokens are too few for ${B} streams; need at least ${B + 1}`);
  let state = zeroState(model, B);
  let total = 0, count = 0;
  for (let start = 0; start < streamLength; start += T) {
    const len = Math.min(T, streamLength - start);
    const tokens = new Int32Array(len * B), targets = new Int32Array(len * B);
    for (let b = 0; b < B; b++) {
      const o = b * streamLength + start;
      for (let t = 0; t < len; t++) {
        tokens[t * B + b] = ids[o + t];
        targets[t * B + b] = ids[o + t + 1];
      }
    }
    const r = model.forward({ tokens, targets, seqLength: len, batchSize: B, initialState: state });
    state = carried(model, r.finalState);
    total += r.loss! * len * B;
    count += len * B;
  }
  return { loss: total / count, count };
}
