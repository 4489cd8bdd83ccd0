// lstm-train: character-level language model training with truncated BPTT,
// validation, samples, loss curves and resumable checkpoints.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CharBatcher, CharVocab, LstmError, Rng, applyCheckpoint, createModel, createModelFromCheckpoint, decodeCheckpoint, encodeCheckpoint,
  evaluateTokens, generateText, modelToCheckpoint, type Checkpoint, type LstmModel, type OptimizerConfig,
} from '@lstm/wasm';
import { lossChartSvg } from './chart.js';
import { BUILTIN_SOURCE, builtinCorpus, readCorpus, type Corpus } from './corpus.js';
import { UserError } from './errors.js';
import { removePendingTemp, writeFileAtomic } from './files.js';
import { formatDuration, makeReporter, type Reporter } from './progress.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';
export type CellName = 'lstm' | 'gru' | 'rnn';

/** Settings that define a run; saved in the checkpoint so --resume continues the same run. */
export interface RunSettings {
  steps: number;
  cell: CellName;
  hidden: number;
  layers: number;
  seqLength: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  clip: number;
  seed: number;
  valFraction: number;
  sampleEvery: number;
  sampleLength: number;
  checkpointEvery: number;
  evalEvery: number;
}

export interface TrainOptions extends RunSettings {
  data?: string;
  out?: string;
  resume?: string;
  overwrite: boolean;
  /** Worker threads per step; 0: the library's default. Results are the same for any count. */
  threads: number;
  /** Names of the options given on the command line (the others are defaults). */
  given: Set<string>;
}

/** Settings a resumed run must keep (they change the model or the training); option name -> key. */
const FIXED: [string, keyof RunSettings][] = [
  ['cell', 'cell'], ['hidden', 'hidden'], ['layers', 'layers'], ['seqLength', 'seqLength'], ['batchSize', 'batchSize'],
  ['lr', 'lr'], ['optimizer', 'optimizer'], ['clip', 'clip'], ['seed', 'seed'], ['valFraction', 'valFraction'],
];
/** Settings a resumed run takes from the checkpoint unless given again. */
const KEPT: (keyof RunSettings)[] = ['steps', 'sampleEvery', 'sampleLength', 'checkpointEvery', 'evalEvery'];

const flag = (key: string) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export const CHECKPOINT_FILE = 'model.ckpt';
const LN2 = Math.LN2;
const SMOOTHING = 0.02;
/** Validation reads at most this many characters of the held-out text. */
const MAX_VAL_CHARS = 65536;
const TRAIN_SAMPLE_TEMPERATURE = 0.8;

interface History {
  /** [step, train bits/char, moving average] */
  train: [number, number, number][];
  /** [step, validation bits/char] */
  val: [number, number][];
}

/** What lstm-train adds to a checkpoint header. */
interface TrainState {
  trainer: { settings: RunSettings; data: { path: string | null; name: string; crc: number; chars: number } };
  batcher: { position: number };
  /** Exponential moving average of the train loss (bits/char) before bias correction, and its count. */
  smooth: { ema: number; n: number };
  elapsedSec: number;
  interrupted: boolean;
  history: History;
  /**
   * The truncated-BPTT state the next training step starts from (model.getCarriedState(seqLength,
   * batchSize)): base64 of little-endian float32 [layers, batchSize, hidden], c '' for GRU and RNN.
   * Absent in checkpoints of lstm-train before it was saved.
   */
  carriedState?: { h: string; c: string };
}

/** base64 of the little-endian float32 bytes (the same bits on any machine). */
function floatsToBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  return Buffer.from(bytes).toString('base64');
}

/** The inverse of floatsToBase64; null unless it is exactly `n` floats of well-formed base64. */
function base64ToFloats(s: unknown, n: number): Float32Array | null {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== 4 * n) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = dv.getFloat32(4 * i, true);
  return a;
}

/** { h, c } for an LSTM, { h } for GRU and RNN (the library does not export its InitialState type). */
type CarriedState = Parameters<LstmModel['setCarriedState']>[2];

/** The carried state a checkpoint saved, checked against the run's sizes; null when the checkpoint has none. */
function savedCarriedState(state: TrainState, s: RunSettings, path: string): CarriedState | null {
  const saved = state.carriedState;
  if (saved === undefined) return null;
  const n = s.layers * s.batchSize * s.hidden;
  const lstm = s.cell === 'lstm';
  const h = saved !== null && typeof saved === 'object' ? base64ToFloats(saved.h, n) : null;
  const c = h && lstm ? base64ToFloats(saved.c, n) : null;
  if (!h || (lstm && !c)) {
    throw new UserError(`--resume ${JSON.stringify(path)} has a damaged carried state (it should be ${n} float32 values per tensor, ` +
      `for ${s.layers} layer(s) x batch ${s.batchSize} x hidden ${s.hidden}); it can be sampled but not resumed`);
  }
  return lstm ? { h, c: c! } : { h };
}

export function readCheckpointFile(path: string, option: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UserError(`cannot read ${option} ${JSON.stringify(path)}: ${why}; give the path of a .ckpt file that lstm-train wrote`);
  }
  try {
    return decodeCheckpoint(bytes);
  } catch (e) {
    if (!(e instanceof LstmError)) throw e;
    const msg = e.message.replace(/^decodeCheckpoint: /, '');
    throw new UserError(`cannot use ${option} ${JSON.stringify(path)}: ${msg}; give an intact .ckpt file that lstm-train wrote`);
  }
}

/**
 * Streams for validation: as many as fit up to batchSize, but not batchSize itself, so that validation
 * normally runs on other shapes than training. (The carried training state is also saved and restored
 * around validation and sampling, which covers the shapes this cannot avoid: with --batch-size 1
 * --seq-length 1, sampling's (1, 1), and validation on 2 held-out characters.)
 */
function validationStreams(valChars: number, T: number, B: number): number {
  const fit = Math.max(1, Math.floor((valChars - 1) / T));
  let bv = Math.min(B, fit);
  if (bv === B) bv = B > 1 ? B - 1 : valChars - 1 >= 2 ? 2 : 1;
  return bv;
}

function optimizerConfig(s: RunSettings): OptimizerConfig {
  return { type: s.optimizer, lr: s.lr, clipNorm: s.clip } as OptimizerConfig;
}

export async function train(opts: TrainOptions): Promise<number> {
  // ---- everything is checked before anything is written ----
  let resumed: Checkpoint | null = null;
  let state: TrainState | null = null;
  let settings: RunSettings = { ...opts };
  for (const k of ['data', 'out', 'resume', 'overwrite', 'given', 'threads'] as const) delete (settings as unknown as Record<string, unknown>)[k];
  if (opts.resume !== undefined) {
    resumed = readCheckpointFile(opts.resume, '--resume');
    state = resumed.header as unknown as TrainState;
    if (!state.trainer || typeof state.trainer !== 'object' || !state.batcher || !state.history || !state.smooth) {
      throw new UserError(`--resume ${JSON.stringify(opts.resume)} has no training state (it was not written by lstm-train); it can be sampled but not resumed`);
    }
    const saved = state.trainer.settings;
    for (const [name, key] of FIXED) {
      if (opts.given.has(name) && opts[key] !== saved[key]) {
        throw new UserError(`${flag(name)} ${opts[key]} differs from the checkpoint's ${saved[key]}; a resumed run keeps its model and training settings, so drop ${flag(name)}`);
      }
    }
    settings = { ...saved, cell: saved.cell ?? 'lstm' };
    for (const key of KEPT) if (opts.given.has(key)) (settings[key] as number) = opts[key] as number;
    if (resumed.header.step >= settings.steps) {
      throw new UserError(`the checkpoint is already at step ${resumed.header.step} of ${settings.steps}; pass --steps with a larger total to train further`);
    }
  }

  let corpus: Corpus;
  const dataPath = opts.data ?? (state ? state.trainer.data.path ?? undefined : undefined);
  try {
    corpus = dataPath === undefined ? builtinCorpus() : readCorpus(dataPath);
  } catch (e) {
    if (e instanceof UserError && opts.data === undefined && dataPath !== undefined) {
      throw new UserError(`the text file the checkpoint was trained on is not usable (${e.message.replace(/; [^;]*$/, '')}); pass --data with that text`);
    }
    throw e;
  }
  if (state && corpus.crc !== state.trainer.data.crc) {
    throw new UserError(`${corpus.path ? JSON.stringify(corpus.path) : 'the built-in corpus'} is not the text the checkpoint was trained on (its checksum differs); pass --data with the original file`);
  }

  const chars = [...corpus.text];
  const vocab = resumed ? vocabOf(resumed, opts.resume!) : CharVocab.fromText(corpus.text);
  const ids = vocab.encode(corpus.text, `--data ${JSON.stringify(corpus.name)}`);
  const valChars = Math.floor(chars.length * settings.valFraction);
  const trainIds = ids.subarray(0, ids.length - valChars);
  const valIds = ids.subarray(ids.length - valChars, Math.min(ids.length, ids.length - valChars + MAX_VAL_CHARS));
  const { batchSize: B, seqLength: T } = settings;
  const need = CharBatcher.minLength(B, T);
  if (trainIds.length < need) {
    throw new UserError(`${corpus.path ? `--data ${JSON.stringify(corpus.path)}` : 'the corpus'} has ${trainIds.length} characters to train on` +
      (valChars > 0 ? ` (after holding out ${valChars} for validation)` : '') +
      `, fewer than the ${need} (--batch-size ${B} x --seq-length ${T} + 1) one batch needs; use a longer text or smaller --batch-size / --seq-length`);
  }
  if (settings.valFraction > 0 && valIds.length < 2) {
    throw new UserError(`--val-fraction ${settings.valFraction} holds out only ${valIds.length} character(s) of ${chars.length}; raise --val-fraction, or set it to 0 for no validation`);
  }

  const carried = state ? savedCarriedState(state, settings, opts.resume!) : null;

  const out = resolve(opts.out ?? (opts.resume !== undefined ? dirname(opts.resume) : 'runs/train'));
  const ckptPath = join(out, CHECKPOINT_FILE);
  if (!resumed && existsSync(ckptPath) && !opts.overwrite) {
    throw new UserError(`${JSON.stringify(ckptPath)} already exists; continue it with --resume ${JSON.stringify(ckptPath)}, choose another --out, or pass --overwrite to start over`);
  }
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError(`--out ${JSON.stringify(out)} is a file, not a folder; choose another --out`);

  // ---- the model ----
  const V = vocab.size;
  const model = await createModel({ inputSize: V, hiddenSize: settings.hidden, numLayers: settings.layers, outputSize: V, seed: settings.seed, cell: settings.cell,
    ...(opts.threads > 0 ? { threads: opts.threads } : {}) });
  try {
    if (resumed) applyCheckpoint(model, resumed);
    const batcher = new CharBatcher(trainIds, B, T, state ? state.batcher.position : 0);
    // the carried TBPTT state as the checkpointed run left it, so the run continues bit for bit
    if (carried) model.setCarriedState(T, B, carried);
    const rng = resumed?.header.rng ? new Rng(Uint32Array.from(resumed.header.rng)) : new Rng((settings.seed ^ 0x5bd1e995) >>> 0);
    const history: History = state ? { train: [...state.history.train], val: [...state.history.val] } : { train: [], val: [] };
    const ema = state ? { ...state.smooth } : { ema: 0, n: 0 };
    let smooth: number | null = ema.n > 0 ? ema.ema / (1 - (1 - SMOOTHING) ** ema.n) : null;
    let step = resumed ? resumed.header.step : 0;
    const priorSec = state ? state.elapsedSec : 0;
    const optimizer = optimizerConfig(settings);
    const Bv = validationStreams(valIds.length, T, B);
    const dataInfo = { path: corpus.path === null ? null : resolve(corpus.path), name: corpus.name, crc: corpus.crc, chars: chars.length };

    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new UserError(`cannot create --out ${JSON.stringify(out)}: ${(e as Error).message}`);
    }

    const log = makeReporter();
    const write = (s: string) => log.log(s);
    write(`lstm-train: ${resumed ? `resuming ${JSON.stringify(opts.resume)} at step ${step}` : 'new run'}` +
      (corpus.path === null ? `; the built-in corpus: every first name in ${BUILTIN_SOURCE}, shuffled` : ''));
    write(`text: ${corpus.name}: ${chars.length.toLocaleString('en-US')} characters, ${V} distinct; ` +
      `${trainIds.length.toLocaleString('en-US')} to train on, ${valIds.length.toLocaleString('en-US')} for validation`);
    write(`model: ${settings.layers} x ${settings.cell.toUpperCase()}(${settings.hidden}), ${model.parameterCount.toLocaleString('en-US')} parameters, ${model.threads} thread(s); ` +
      `${settings.optimizer} lr ${settings.lr}, clip ${settings.clip}, batch ${B} x ${T}; ${settings.steps} steps; output in ${out}`);
    if (resumed && !carried && batcher.chunk !== 0) {
      write('note: the checkpoint has no carried state (an older lstm-train wrote it); the streams continue from a zero state, ' +
        'so the losses differ slightly from a run that never stopped');
    }

    // ---- pieces ----
    // Validation and sampling call model.forward with explicit states, and a forward call on a shape
    // overwrites the state carried for that shape. They use other shapes than (T, B) where they can,
    // but sampling is always (1, 1) and tiny validation sets can be too; so the carried training state
    // is saved before and put back after, and neither can change the training whatever the shapes.
    const keepingCarried = <R>(fn: () => R): R => {
      const keep = model.getCarriedState(T, B);
      try {
        return fn();
      } finally {
        model.setCarriedState(T, B, settings.cell === 'lstm' ? keep : { h: keep.h });
      }
    };
    const validate = (): number => keepingCarried(() => evaluateTokens(model, valIds, { batchSize: Bv, seqLength: T }).loss / LN2);
    const lastVal = () => (history.val.length ? history.val[history.val.length - 1][1] : null);
    const sample = (): string => keepingCarried(() => generateText(model, vocab, rng, { length: settings.sampleLength, temperature: TRAIN_SAMPLE_TEMPERATURE }));

    const started = performance.now();
    const startStep = step;
    const elapsed = () => priorSec + (performance.now() - started) / 1000;
    const status = () => {
      const sec = (performance.now() - started) / 1000;
      const done = step - startStep;
      return {
        step, total: settings.steps, loss: smooth, val: lastVal(),
        charsPerSec: done > 0 ? (done * B * T) / sec : NaN,
        etaSec: done > 0 ? ((settings.steps - step) * sec) / done : NaN,
      };
    };

    const saveOutputs = (interrupted: boolean) => {
      const extra: TrainState = {
        trainer: { settings, data: dataInfo },
        batcher: { position: batcher.position },
        smooth: { ...ema }, elapsedSec: elapsed(), interrupted, history,
        carriedState: (({ h, c }) => ({ h: floatsToBase64(h), c: floatsToBase64(c) }))(model.getCarriedState(T, B)),
      };
      const ckpt = modelToCheckpoint(model, { vocab: [...vocab.chars], optimizer, step, rng, ...extra });
      writeFileAtomic(ckptPath, encodeCheckpoint(ckpt));
      writeCurves(out, corpus.name, settings, history);
    };

    // ---- Ctrl-C: finish the step, save, exit ----
    let stopRequested = false;
    const onSignal = () => {
      if (stopRequested) {
        // a second Ctrl-C while saving: the final file is never half-written, so just go
        removePendingTemp();
        process.exit(130);
      }
      stopRequested = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const reporter: Reporter = log;
    try {
      while (step < settings.steps && !stopRequested) {
        // The carried TBPTT state restarts from zeros only when the streams start over (a new
        // pass over the text), as min-char-rnn does (hprev = 0 when p wraps around): each stream
        // then jumps back to the start of its part of the text, which does not follow from the
        // state left at the end of that part; validation and sampling start from zeros too.
        // Nowhere else: checkpoints save the carried state (saveOutputs) and --resume restores it,
        // so writing checkpoints, or stopping and resuming anywhere, does not change the training.
        if (batcher.chunk === 0) model.resetState(T, B);
        const loss = model.trainStep({ ...batcher.next(), stateful: true }, optimizer);
        step++;
        if (!Number.isFinite(loss)) {
          reporter.stop();
          throw new UserError(`training diverged at step ${step} (the loss is ${loss}); try a lower --lr or a --clip value (the last checkpoint is kept)`);
        }
        const bpc = loss / LN2;
        // bias-corrected, as Adam's moments: the average of the recent steps from the first step on
        ema.ema = (1 - SMOOTHING) * ema.ema + SMOOTHING * bpc;
        ema.n++;
        smooth = ema.ema / (1 - (1 - SMOOTHING) ** ema.n);
        history.train.push([step, bpc, smooth]);
        const last = step === settings.steps;
        const evalNow = valIds.length >= 2 && ((settings.evalEvery > 0 && step % settings.evalEvery === 0) || last);
        if (evalNow) history.val.push([step, validate()]);
        if (settings.sampleEvery > 0 && step % settings.sampleEvery === 0) {
          reporter.log(`--- sample at step ${step} (temperature ${TRAIN_SAMPLE_TEMPERATURE}) ---\n${sample()}\n---`);
        }
        if ((settings.checkpointEvery > 0 && step % settings.checkpointEvery === 0) || last) saveOutputs(false);
        reporter.update(status(), evalNow || last);
        // let signals in
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }

    if (stopRequested) {
      saveOutputs(true);
      reporter.stop();
      process.stderr.write(`\nlstm-train: stopped at step ${step}; saved ${ckptPath}. Continue with: lstm-train --resume ${ckptPath}\n`);
      return 130;
    }
    reporter.stop();

    const s = status();
    const totalSec = elapsed();
    const finalVal = lastVal();
    const lines = [
      '',
      `done: step ${step} in ${formatDuration(totalSec)} (${totalSec.toFixed(1)} s${priorSec > 0 ? ' over all sessions' : ''}), ` +
        `${Math.round(s.charsPerSec).toLocaleString('en-US')} char/s; train loss ${smooth?.toFixed(3)} bpc` +
        (finalVal !== null ? `; validation ${finalVal.toFixed(3)} bits/char` : ''),
      `checkpoint: ${ckptPath}`,
      `curves: ${join(out, 'loss.csv')}, ${join(out, 'loss.svg')}`,
      `samples (temperature ${TRAIN_SAMPLE_TEMPERATURE}):`,
      sample(),
      `more: lstm-train sample --checkpoint ${ckptPath} --length 500`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    // also on errors: a threaded model holds workers that would keep the process alive
    model.dispose();
  }
}

function vocabOf(ckpt: Checkpoint, path: string): CharVocab {
  try {
    return new CharVocab(ckpt.header.vocab);
  } catch (e) {
    throw new UserError(`${JSON.stringify(path)} has no usable vocabulary (${(e as Error).message}); it was not trained on text by lstm-train`);
  }
}

function writeCurves(out: string, name: string, s: RunSettings, h: History): void {
  const val = new Map(h.val);
  const rows = ['step,train_bpc,train_bpc_smoothed,val_bpc'];
  for (const [step, bpc, sm] of h.train) rows.push(`${step},${bpc},${sm},${val.get(step) ?? ''}`);
  writeFileAtomic(join(out, 'loss.csv'), rows.join('\n') + '\n');
  const svg = lossChartSvg({
    title: `${name.length > 32 ? name.slice(0, 32) + '...' : name}: ${s.layers} x ${s.cell.toUpperCase()}(${s.hidden}), batch ${s.batchSize} x ${s.seqLength}, ${s.optimizer} lr ${s.lr}`,
    train: h.train.map(([a, b]) => [a, b]),
    trainSmooth: h.train.map(([a, , c]) => [a, c]),
    val: h.val,
  });
  writeFileAtomic(join(out, 'loss.svg'), svg);
}

export async function sampleCommand(o: { checkpoint: string; prompt: string; length: number; temperature: number; topK: number; seed: number }): Promise<number> {
  const ckpt = readCheckpointFile(o.checkpoint, '--checkpoint');
  const vocab = vocabOf(ckpt, o.checkpoint);
  try {
    vocab.encode(o.prompt, 'the --prompt');
  } catch (e) {
    const chars = vocab.chars.map((c) => (c === '\n' ? '\\n' : c)).join('');
    throw new UserError(`${(e as Error).message}; use only characters the model was trained on: ${chars.length > 120 ? chars.slice(0, 120) + '...' : chars}`);
  }
  if (vocab.size !== ckpt.header.model.inputSize || vocab.size !== ckpt.header.model.outputSize) {
    throw new UserError(`${JSON.stringify(o.checkpoint)} has ${vocab.size} characters in its vocabulary but a model of ${ckpt.header.model.inputSize} inputs and ${ckpt.header.model.outputSize} outputs; it is not a character model`);
  }
  const model: LstmModel = await createModelFromCheckpoint(ckpt);
  try {
    const rng = new Rng(o.seed);
    process.stdout.write(o.prompt);
    generateText(model, vocab, rng, {
      prompt: o.prompt, length: o.length, temperature: o.temperature, topK: o.topK,
      onText: (ch) => process.stdout.write(ch),
    });
    process.stdout.write('\n');
    return 0;
  } finally {
    model.dispose();
  }
}
