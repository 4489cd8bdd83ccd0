/// <reference lib="webworker" />
// The training worker: owns the model, trains it in slices of ~80 ms and answers
// requests (samples, the look inside, checkpoints) between slices, so the page
// never waits on the wasm. Every request is answered, an error included: nothing
// a person sends can leave the worker stuck.
import {
  CharBatcher, CharVocab, LstmError, Rng, applyCheckpoint, capabilities, createModel, decodeCheckpoint,
  encodeCheckpoint, evaluateTokens, generateText, modelToCheckpoint, softmax,
  type Checkpoint, type LstmModel, type OptimizerConfig,
} from '@lstm/wasm';
import { GATE_NAMES, saturationOf, traceCells } from './inspect';
import type { CellKind, InspectResult, ModelInfo, Progress, Reply, Request, RunState, SampleResult, TrainSettings } from './protocol';
import { CELL_LABEL, LIMITS } from './protocol';
import { VALIDATION_FRACTION, checkModelSize, checkSettings, checkText } from './validate';

declare const self: DedicatedWorkerGlobalScope;

const SLICE_MS = 80;          // training time between looks at the message queue
const VALIDATE_EVERY_MS = 1000;
const LIVE_EVERY_MS = 2500;
const VAL_MAX_TOKENS = 20_000; // validation text used for the validation loss
const INSPECT_MAX = 2000;     // characters the look inside runs over
const CLIP_NORM = 5;

interface Session {
  model: LstmModel;
  vocab: CharVocab;
  /** training steps done, counting the ones a loaded checkpoint had */
  step: number;
  /** training time in this page, over every start and resume */
  elapsedMs: number;
  settings: TrainSettings | null;
  source: string;
  rng: Rng;
  /** the text the batcher was built from, to rebuild it only when the text or shape changes */
  textKey: string | null;
  batcher: CharBatcher | null;
  valData: Int32Array | null;
  /** checkpoint header fields we keep but do not use (what the CLI wrote), and the step they belong to */
  extra: Record<string, unknown>;
  extraStep: number;
}

let session: Session | null = null;
let state: RunState = 'idle';
let live: { every: number; prompt: string; temperature: number } = { every: LIVE_EVERY_MS, prompt: '', temperature: 0.8 };
let loopRunning = false;

const post = (msg: Reply, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

function info(): ModelInfo | null {
  if (!session) return null;
  const { model, vocab, step, source, settings } = session;
  return {
    cell: cellOf(model), hiddenSize: model.hiddenSize, numLayers: model.numLayers, vocab: [...vocab.chars], parameterCount: model.parameterCount,
    step, source, settings: settings ?? undefined,
  };
}

function cellOf(model: { config: { cell?: string } }): CellKind {
  return (model.config.cell ?? 'lstm') as CellKind;
}

function setState(s: RunState): void {
  state = s;
  post({ type: 'state', state: s, model: info() });
}

/** A message for a person: LstmError and our own checks are already phrased for one. */
function messageOf(e: unknown): string {
  if (e instanceof LstmError) return e.message;
  if (e instanceof RangeError || (e instanceof Error && /memory/i.test(e.message))) {
    return `Out of memory (${e.message}). Use a smaller model, batch size or sequence length.`;
  }
  return e instanceof Error ? e.message : String(e);
}

class UserError extends Error {}

self.onmessage = async (ev: MessageEvent<Request>) => {
  const req = ev.data;
  try {
    await handle(req);
  } catch (e) {
    post({ type: 'error', id: req?.id, message: messageOf(e), where: req?.type ?? 'unknown' });
  }
};

async function handle(req: Request): Promise<void> {
  switch (req.type) {
    case 'start': return start(req.text, req.settings, req.seed, req.id);
    case 'resume': return resume(req.text, req.settings, req.id);
    case 'pause':
      if (state === 'training') setState('paused');
      return post({ type: 'done', id: req.id });
    case 'stop':
      if (state === 'training' || state === 'paused') setState(session ? 'stopped' : 'idle');
      return post({ type: 'done', id: req.id });
    case 'live':
      live = { every: req.every, prompt: req.prompt, temperature: req.temperature };
      return post({ type: 'done', id: req.id });
    case 'sample': return post({ type: 'sample', id: req.id, sample: sample(req.prompt, req.temperature, req.length, req.seed) });
    case 'inspect': {
      const result = inspect(req.text);
      const buffers = [...result.cell, ...result.hidden, ...result.gates.flatMap((g) => Object.values(g))]
        .map((a) => a.buffer as ArrayBuffer);
      return post({ type: 'inspect', id: req.id, result }, buffers);
    }
    case 'save': {
      const bytes = save();
      return post({ type: 'saved', id: req.id, bytes, name: `lstm-h${session!.model.hiddenSize}-l${session!.model.numLayers}-step${session!.step}.ckpt` }, [bytes.buffer as ArrayBuffer]);
    }
    case 'load': return load(req.bytes, req.name, req.id);
    default:
      throw new UserError(`unknown request ${JSON.stringify((req as { type?: unknown }).type)}`);
  }
}

// ---- training ----

async function start(text: string, settings: TrainSettings, seed: number, id: number): Promise<void> {
  const bad = checkSettings(settings) ?? checkText(text, settings);
  if (bad) throw new UserError(bad);
  const vocab = CharVocab.fromText(text);
  if (vocab.size > LIMITS.vocab) throw new UserError(`The text has ${vocab.size} distinct characters; this demo handles at most ${LIMITS.vocab}.`);
  const tooBig = checkModelSize(vocab.size, settings);
  if (tooBig) throw new UserError(tooBig);
  // pause the loop before replacing the model under it
  if (state === 'training') state = 'paused';
  const model = await createModel({
    inputSize: vocab.size, hiddenSize: settings.hiddenSize, numLayers: settings.numLayers, outputSize: vocab.size, seed,
    cell: settings.cell ?? 'lstm',
  });
  session?.model.dispose();
  session = { model, vocab, step: 0, elapsedMs: 0, settings, source: 'new', rng: new Rng(seed ^ 0x5eed), textKey: null, batcher: null, valData: null, extra: {}, extraStep: 0 };
  prepareData(session, text, settings);
  post({ type: 'done', id });
  train();
}

async function resume(text: string, settings: TrainSettings, id: number): Promise<void> {
  if (!session) throw new UserError('There is no model to resume yet: press Start, or load a checkpoint.');
  const s = session;
  const bad = checkSettings(settings) ?? checkText(text, settings);
  if (bad) throw new UserError(bad);
  if (settings.cell !== undefined && settings.cell !== cellOf(s.model)) {
    throw new UserError(`This model is ${CELL_LABEL[cellOf(s.model)]}; Resume cannot change the cell (the settings say ${CELL_LABEL[settings.cell]}). Press Start for a new model.`);
  }
  if (settings.hiddenSize !== s.model.hiddenSize || settings.numLayers !== s.model.numLayers) {
    throw new UserError(`This model has hidden size ${s.model.hiddenSize} and ${s.model.numLayers} layer(s); ` +
      `Resume cannot change them (the settings say ${settings.hiddenSize} and ${settings.numLayers}). ` +
      'Set them back, or press Start for a new model.');
  }
  prepareData(s, text, settings);
  s.settings = settings;
  post({ type: 'done', id });
  if (state !== 'training') train();
}

/** Encodes the text with the model's vocabulary and splits off the validation share. */
function prepareData(s: Session, text: string, settings: TrainSettings): void {
  const key = `${settings.batchSize}x${settings.seqLength}:${text.length}:${hash(text)}`;
  if (s.textKey === key && s.batcher) return;
  let ids: Int32Array;
  try {
    ids = s.vocab.encode(text, 'The training text');
  } catch (e) {
    throw new UserError(`${messageOf(e)}. This model only knows the characters it was made with; press Start for a new model on this text.`);
  }
  const nVal = Math.max(2, Math.floor(ids.length * VALIDATION_FRACTION));
  const train = ids.subarray(0, ids.length - nVal);
  const batcher = new CharBatcher(train, settings.batchSize, settings.seqLength);
  s.batcher = batcher;
  s.valData = ids.slice(ids.length - nVal, ids.length - nVal + VAL_MAX_TOKENS);
  s.textKey = key;
  s.model.resetState();
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function optimizer(s: Session): OptimizerConfig {
  return { type: 'adam', lr: s.settings?.lr ?? 2e-3, clipNorm: CLIP_NORM };
}

function validationLoss(s: Session): number | undefined {
  const data = s.valData;
  if (!data || data.length < 2) return undefined;
  const T = s.settings!.seqLength, B = s.settings!.batchSize;
  // up to 8 streams of at least 16 characters; never B streams, so that no forward
  // shape equals the training shape (T, B), whose carried state it would overwrite
  const most = Math.max(1, Math.min(8, Math.floor((data.length - 1) / 16)));
  const vb = most !== B ? most : most > 1 ? most - 1 : 2;
  if (data.length - 1 < vb) return undefined;
  return evaluateTokens(s.model, data, { batchSize: vb, seqLength: Math.max(T, 64) }).loss;
}

/**
 * Logits [T, V] of one stream from a zero state, through model.forward. It runs the
 * stream in a batch of 1, or 2 identical streams when training uses batch 1: a
 * forward on the training shape would overwrite the state training carries.
 */
function forwardOne(s: Session, ids: Int32Array): Float32Array {
  const B = s.settings && s.settings.batchSize === 1 ? 2 : 1;
  const T = ids.length, V = s.vocab.size;
  const tokens = new Int32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) tokens[t * B + b] = ids[t];
  const n = s.model.numLayers * B * s.model.hiddenSize;
  // an explicit zero state: the carried training state stays untouched (the GRU and RNN have no c)
  const initialState = cellOf(s.model) === 'lstm' ? { h: new Float32Array(n), c: new Float32Array(n) } : { h: new Float32Array(n) };
  const r = s.model.forward({ tokens, seqLength: T, batchSize: B, initialState });
  if (B === 1) return r.logits;
  const out = new Float32Array(T * V);
  for (let t = 0; t < T; t++) out.set(r.logits.subarray(t * B * V, t * B * V + V), t * V);
  return out;
}

const yieldToMessages = () => new Promise<void>((resolve) => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => resolve();
  ch.port2.postMessage(null);
});

async function train(): Promise<void> {
  if (!session) return;
  setState('training');
  if (loopRunning) return; // the running loop picks the new state up
  loopRunning = true;
  try {
    let s = session;
    let lastVal = -Infinity, lastLive = performance.now();
    if (s.step === 0) post({ type: 'progress', progress: { step: 0, loss: NaN, lossAvg: NaN, valLoss: validationLoss(s), charsPerSec: 0, elapsedMs: 0 } });
    while (state === 'training' && session) {
      if (session !== s) { s = session; lastVal = -Infinity; }
      const t0 = performance.now();
      let n = 0, sum = 0, loss = NaN;
      const opt = optimizer(s);
      const batcher = s.batcher!;
      do {
        if (batcher.chunk === 0) s.model.resetState(); // a new pass over the data: the streams start over
        loss = s.model.trainStep({ ...batcher.next(), stateful: true }, opt);
        if (!Number.isFinite(loss)) break;
        sum += loss; n++; s.step++;
      } while (performance.now() - t0 < SLICE_MS);
      const dt = performance.now() - t0;
      s.elapsedMs += dt;
      if (!Number.isFinite(loss)) {
        setState('stopped');
        throw new UserError(`The loss became ${loss} at step ${s.step}: training diverged. Lower the learning rate and press Start again.`);
      }
      const progress: Progress = {
        step: s.step, loss, lossAvg: sum / n,
        charsPerSec: (n * batcher.batchSize * batcher.seqLength) / (dt / 1000), elapsedMs: s.elapsedMs,
      };
      if (s.elapsedMs - lastVal >= VALIDATE_EVERY_MS) { progress.valLoss = validationLoss(s); lastVal = s.elapsedMs; }
      post({ type: 'progress', progress });
      if (live.every > 0 && performance.now() - lastLive >= live.every) {
        lastLive = performance.now();
        try {
          post({ type: 'live-sample', sample: sample(live.prompt, live.temperature, 240, s.step) });
        } catch {
          // a prompt outside the vocabulary: the live sample goes without it
          post({ type: 'live-sample', sample: sample('', live.temperature, 240, s.step) });
        }
      }
      await yieldToMessages();
    }
  } catch (e) {
    post({ type: 'error', message: messageOf(e), where: 'train' });
    if (state === 'training') setState(session ? 'stopped' : 'idle');
  } finally {
    loopRunning = false;
  }
}

// ---- using the model ----

function needModel(): Session {
  if (!session) throw new UserError('There is no model yet: press Start to train one, or load a checkpoint.');
  return session;
}

/** Characters of `text` outside the vocabulary, as a message, or null. */
function outsideVocab(vocab: CharVocab, text: string, what: string): string | null {
  const missing = new Set<string>();
  for (const ch of text) if (!vocab.has(ch)) missing.add(ch);
  if (missing.size === 0) return null;
  const shown = [...missing].slice(0, 8).map((c) => (c === '\n' ? '↵' : c === ' ' ? '␣' : c === '\t' ? '⇥' : `“${c}”`)).join(' ');
  return `${what} has ${missing.size === 1 ? 'a character' : `${missing.size} characters`} the model never saw: ${shown}${missing.size > 8 ? ' …' : ''}. ` +
    `It knows ${vocab.size} characters; use only those (the model was trained on them).`;
}

function sample(prompt: string, temperature: number, length: number, seed: number): SampleResult {
  const s = needModel();
  if (typeof prompt !== 'string') throw new UserError('The prompt must be text.');
  const bad = outsideVocab(s.vocab, prompt, 'The prompt');
  if (bad) throw new UserError(bad);
  if (!(typeof temperature === 'number' && temperature > 0 && temperature <= 10)) throw new UserError(`Temperature must be a number above 0 and at most 10 (got ${temperature}).`);
  if (!(Number.isInteger(length) && length >= 1 && length <= 5000)) throw new UserError(`Sample length must be a whole number from 1 to 5000 (got ${length}).`);
  const rng = new Rng(seed >>> 0);
  const text = generateText(s.model, s.vocab, rng, { length, prompt, temperature });
  return { text, prompt, temperature, vocab: [...s.vocab.chars], next: nextDistribution(s, prompt) };
}

/** softmax of the logits after the prompt (or the default priming character), at temperature 1. */
function nextDistribution(s: Session, prompt: string): number[] {
  const ids = prompt.length > 0 ? s.vocab.encode(prompt, 'The prompt') : s.vocab.encode(s.vocab.has('\n') ? '\n' : s.vocab.chars[0]);
  // one forward over the whole prompt from a zero state (the same as feeding it one character at a time)
  const logits = forwardOne(s, ids);
  const V = s.vocab.size;
  return Array.from(softmax(logits.subarray((ids.length - 1) * V, ids.length * V)));
}

function inspect(text: string): InspectResult {
  const s = needModel();
  if (typeof text !== 'string' || text.length === 0) throw new UserError('The text to look at is empty: type or paste some text (characters the model knows).');
  let chars = [...text];
  if (chars.length > INSPECT_MAX) chars = chars.slice(0, INSPECT_MAX);
  const shown = chars.join('');
  const bad = outsideVocab(s.vocab, shown, 'The text to look at');
  if (bad) throw new UserError(bad);
  const ids = s.vocab.encode(shown);
  const kind = cellOf(s.model);
  const trace = traceCells(s.model.getParameters(), s.model.config, kind, ids);
  // keep these TypeScript cells honest: they must give the kernels' logits
  const ref = forwardOne(s, ids);
  let checkDiff = 0;
  for (let i = 0; i < ref.length; i++) checkDiff = Math.max(checkDiff, Math.abs(ref[i] - trace.logits[i]));
  const H = s.model.hiddenSize;
  return {
    text: shown, kind, hiddenSize: H, numLayers: s.model.numLayers,
    cell: trace.layers.filter((l) => l.c).map((l) => l.c!.map(Math.tanh)),
    hidden: trace.layers.map((l) => l.h),
    gateNames: [...GATE_NAMES[kind]],
    gates: trace.layers.map((l) => l.gates),
    saturation: trace.layers.map((l) => saturationOf(l.gates, H, trace.T)),
    checkDiff,
  };
}

// ---- checkpoints ----

function save(): Uint8Array {
  const s = needModel();
  // what another writer (lstm-train) kept describes the weights it saved: keep it only while they are unchanged
  const ckpt = modelToCheckpoint(s.model, {
    ...(s.step === s.extraStep ? s.extra : {}),
    vocab: [...s.vocab.chars],
    optimizer: s.model.optimizerStep > 0 ? optimizer(s) : null,
    step: s.step,
    rng: s.rng,
    ...(s.settings ? { training: { seqLength: s.settings.seqLength, batchSize: s.settings.batchSize, lr: s.settings.lr, clipNorm: CLIP_NORM } } : {}),
    savedBy: '@lstm/web',
  });
  return encodeCheckpoint(ckpt);
}

async function load(bytes: Uint8Array, name: string, id: number): Promise<void> {
  if (!(bytes instanceof Uint8Array)) throw new UserError('The file could not be read.');
  let ckpt: Checkpoint;
  try {
    ckpt = decodeCheckpoint(bytes);
  } catch (e) {
    const why = messageOf(e).replace(/^decodeCheckpoint: /, '');
    throw new UserError(`“${name}” cannot be loaded: ${why}.`);
  }
  const h = ckpt.header;
  // @lstm/wasm also trains peephole LSTMs and regression models; this page takes character models
  // with LSTM, GRU or RNN cells
  const kind = h.model as { cell?: string; peepholes?: boolean; loss?: string };
  const regression = kind.loss !== undefined && /^mse/i.test(kind.loss);
  if (kind.peepholes || regression || (kind.cell !== undefined && !['lstm', 'gru', 'rnn'].includes(kind.cell))) {
    const what = kind.peepholes ? 'an LSTM with peepholes' : regression ? `a regression model (${kind.loss} loss)` : `a model with a ${String(kind.cell)} cell`;
    throw new UserError(`“${name}” holds ${what}; this page trains, samples and looks inside character models with LSTM, GRU or RNN cells only.`);
  }
  if (h.vocab.length === 0) throw new UserError(`“${name}” is a checkpoint of a model that is not on text (it has no vocabulary); this page needs a character model.`);
  if (h.vocab.length !== h.model.inputSize || h.vocab.length !== h.model.outputSize) {
    throw new UserError(`“${name}” has ${h.vocab.length} characters in its vocabulary but the model takes ${h.model.inputSize} and predicts ${h.model.outputSize}; it is not a character model.`);
  }
  if (h.model.numLayers > LIMITS.numLayers[1] || h.model.hiddenSize > LIMITS.hiddenSize[1]) {
    throw new UserError(`“${name}” holds a model with hidden size ${h.model.hiddenSize} and ${h.model.numLayers} layers, larger than this page runs (at most hidden size ${LIMITS.hiddenSize[1]} and ${LIMITS.numLayers[1]} layers).`);
  }
  const vocab = new CharVocab(h.vocab);
  if (state === 'training') state = 'paused';
  const cell = (kind.cell ?? 'lstm') as CellKind;
  const model = await createModel({ inputSize: h.model.inputSize, hiddenSize: h.model.hiddenSize, numLayers: h.model.numLayers, outputSize: h.model.outputSize, cell });
  try {
    applyCheckpoint(model, ckpt);
  } catch (e) {
    model.dispose();
    throw new UserError(`“${name}” cannot be loaded: ${messageOf(e)}`);
  }
  const { model: _m, vocab: _v, optimizer: _o, step: _s, rng: _r, ...extra } = h;
  // the training settings, as this page or lstm-train wrote them
  const cli = (h.trainer as { settings?: unknown } | undefined)?.settings;
  const tr = ((h.training ?? cli ?? {}) as Partial<Record<'seqLength' | 'batchSize' | 'lr', unknown>>);
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  const cfg = h.optimizer?.config as { lr?: number } | null | undefined;
  session?.model.dispose();
  session = {
    model, vocab, step: h.step, elapsedMs: 0, source: name,
    settings: {
      cell, hiddenSize: h.model.hiddenSize, numLayers: h.model.numLayers,
      seqLength: num(tr.seqLength, 32), batchSize: num(tr.batchSize, 16), lr: num(cfg?.lr ?? tr.lr, 2e-3),
    },
    rng: h.rng ? new Rng(Uint32Array.from(h.rng)) : new Rng(h.step + 1),
    textKey: null, batcher: null, valData: null, extra, extraStep: h.step,
  };
  setState('stopped');
  post({ type: 'done', id });
}

// Load and compile the kernels now (a one-unit model), so a page that cannot run
// them says so at once and the first Start does not wait for the download.
(async () => {
  const caps = await capabilities();
  try {
    const probe = await createModel({ inputSize: 1, hiddenSize: 1, outputSize: 1 });
    const threads = probe.threads;
    probe.dispose();
    post({ type: 'ready', simd: caps.simd, relaxed: caps.relaxedSimd, threads });
  } catch (e) {
    post({ type: 'error', message: `The LSTM kernels could not be loaded: ${messageOf(e)}`, where: 'load' });
  }
})();
