// Checks of what a person typed, shared by the page (to say what is wrong before
// anything starts) and the worker (which trusts nothing it is sent).
import { LIMITS, type TrainSettings } from './protocol';

/** The share of the text held out for the validation loss. */
export const VALIDATION_FRACTION = 0.1;

const LABEL: Record<Exclude<keyof TrainSettings, 'cell'>, string> = {
  hiddenSize: 'Hidden size', numLayers: 'Layers', seqLength: 'Sequence length', batchSize: 'Batch size', lr: 'Learning rate',
};

/** Returns a message for a person, or null when the settings are usable. */
export function checkSettings(s: TrainSettings): string | null {
  if (s.cell !== undefined && s.cell !== 'lstm' && s.cell !== 'gru' && s.cell !== 'rnn') return `Cell must be LSTM, GRU or RNN (got ${fmt(s.cell)}).`;
  for (const key of ['hiddenSize', 'numLayers', 'seqLength', 'batchSize'] as const) {
    const v = s[key];
    const [lo, hi] = LIMITS[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      return `${LABEL[key]} must be a whole number from ${lo} to ${hi} (got ${fmt(v)}).`;
    }
  }
  const [lo, hi] = LIMITS.lr;
  if (typeof s.lr !== 'number' || !Number.isFinite(s.lr) || s.lr < lo || s.lr > hi) {
    return `Learning rate must be a number from ${lo} to ${hi} (got ${fmt(s.lr)}); 0.002 to 0.01 works well with Adam.`;
  }
  const acts = s.seqLength * s.batchSize * s.hiddenSize * 12 * s.numLayers;
  if (acts > LIMITS.activations) {
    return `Sequence length × batch size × hidden size × layers is too large for a page ` +
      `(one training step would keep about ${(acts * 4 / 2 ** 30).toFixed(1)} GiB of activations). ` +
      'Make one of them smaller.';
  }
  return null;
}

/** Parameters of an LSTM with token input and a softmax head over the same vocabulary. */
export function parameterCount(vocab: number, s: Pick<TrainSettings, 'hiddenSize' | 'numLayers'>): number {
  const H = s.hiddenSize;
  let n = 0;
  for (let l = 0; l < s.numLayers; l++) n += 4 * H * (l === 0 ? vocab : H) + 4 * H * H + 8 * H;
  return n + vocab * H + vocab;
}

export function checkModelSize(vocab: number, s: TrainSettings): string | null {
  const n = parameterCount(vocab, s);
  if (n > LIMITS.parameters) {
    return `That model would have ${(n / 1e6).toFixed(1)} million parameters, more than the ` +
      `${LIMITS.parameters / 1e6} million this demo allows in a page. Use a smaller hidden size or fewer layers.`;
  }
  return null;
}

/** Characters of the text, counted as a person would (code points, not UTF-16 units). */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The text must give at least one full batch for training after the validation share is held out. */
export function checkText(text: string, s: Pick<TrainSettings, 'seqLength' | 'batchSize'>): string | null {
  if (typeof text !== 'string' || text.trim().length === 0) {
    return 'The text is empty. Paste some text (a few thousand characters or more) or pick the built-in corpus.';
  }
  const n = charCount(text);
  if (n > LIMITS.textLength) return `The text has ${n.toLocaleString('en')} characters; this demo takes at most ${LIMITS.textLength.toLocaleString('en')}.`;
  const need = minTextLength(s);
  if (n < need) {
    return `The text is too short: it has ${n.toLocaleString('en')} characters, and one batch of ` +
      `${s.batchSize} × ${s.seqLength} characters (plus ${Math.round(VALIDATION_FRACTION * 100)}% held out to validate) ` +
      `needs at least ${need.toLocaleString('en')}. Use a longer text, or a smaller batch size or sequence length.`;
  }
  return null;
}

/** Characters needed for one training batch plus a held-out validation share. */
export function minTextLength(s: Pick<TrainSettings, 'seqLength' | 'batchSize'>): number {
  const train = s.batchSize * s.seqLength + 1;
  return Math.ceil(train / (1 - VALIDATION_FRACTION)) + 1;
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'nothing' : String(v);
  return JSON.stringify(v);
}
