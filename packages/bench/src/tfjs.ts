import { createRequire } from 'node:module';
import path from 'node:path';
import {
  V, time, trainFlops, forwardFlops, gflops, sampleFromProbs, Lcg, log,
  type Data, type Row, type Generation, type SystemId, type OursProbe,
} from './common.js';
import type { Steps } from './ours.js';

type Tf = typeof import('@tensorflow/tfjs');
type TfTensor = import('@tensorflow/tfjs').Tensor;

const require = createRequire(import.meta.url);
let tfPromise: Promise<Tf> | undefined;

/** Loads TF.js and registers the wasm backend with its .wasm files read from the package's dist/ folder. */
export function loadTf(): Promise<Tf> {
  tfPromise ??= (async () => {
    const tfMod = (await import('@tensorflow/tfjs')) as Tf & { default?: Tf };
    const tf = tfMod.default ?? tfMod;
    const wasmMod = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm') & { default?: typeof import('@tensorflow/tfjs-backend-wasm') };
    const wasm = wasmMod.default ?? wasmMod;
    // in Node the prefix is a file path: the dist/ folder holding tfjs-backend-wasm*.wasm
    const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
    wasm.setWasmPaths(distDir);
    return tf;
  })();
  return tfPromise;
}

export type TfBackend = 'wasm' | 'cpu';

export interface PlanEntry { H: number; train: Steps; fwd: Steps; reduced?: string }

export interface Budget {
  /** performance.now() after which nothing new starts */
  deadline: number;
  /** longest one configuration (warm-up + timed train and forward) may be predicted to take, s */
  maxConfigSeconds: number;
}

export interface SweepResult { rows: Row[]; skipped: string[]; info: Record<string, unknown> }

/** A peer's times at the H it ran last, to predict the next one. */
export interface LastRun { H: number; train: number; fwd: number }

/**
 * Why configuration p is skipped (its time predicted from the last H by the FLOP
 * model exceeds the per-configuration limit or what is left of the budget), or
 * undefined when it runs.
 */
export function budgetSkip(system: string, p: PlanEntry, last: LastRun | undefined, budget: Budget): string | undefined {
  if (!last) return undefined;
  const scale = trainFlops(p.H) / trainFlops(last.H);
  const est = (last.train * (p.train.warmup + p.train.runs) + last.fwd * (p.fwd.warmup + p.fwd.runs)) * scale / 1000;
  const left = (budget.deadline - performance.now()) / 1000;
  if (est <= budget.maxConfigSeconds && est <= left) return undefined;
  return `${system} H=${p.H}: predicted ${est.toFixed(0)} s from H=${last.H} (limit ${Math.min(budget.maxConfigSeconds, left).toFixed(0)} s)`;
}

async function useBackend(tf: Tf, backend: TfBackend): Promise<Record<string, unknown>> {
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`TF.js: backend ${backend} failed to initialise`);
  await tf.ready();
  const info: Record<string, unknown> = { backend: tf.getBackend(), version: tf.version.tfjs };
  if (backend === 'wasm') {
    info.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    info.wasmFile = info.simd ? (info.threads ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm') : 'tfjs-backend-wasm.wasm';
  }
  return info;
}

function buildModel(tf: Tf, H: number, T: number, lr: number) {
  const model = tf.sequential();
  // recurrentActivation 'sigmoid' (TF.js defaults to hardSigmoid) so the cell is the standard LSTM;
  // glorotUniform instead of the default orthogonal recurrent init, whose QR in JS takes seconds to
  // minutes at large H (the values do not change the speed of a step)
  model.add(tf.layers.lstm({ units: H, returnSequences: true, inputShape: [T, V], recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }));
  model.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: V, activation: 'softmax' }) }));
  model.compile({ optimizer: tf.train.sgd(lr), loss: 'categoricalCrossentropy' });
  return model;
}

function wasmHeapBytes(tf: Tf): number | undefined {
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return be.wasm?.HEAPU8?.length;
}

/**
 * Training (model.trainOnBatch, SGD) and forward (model.predict) on the standard workload,
 * one fresh model per H, one-hot input [B, T, V] and one-hot targets built once outside the timing.
 */
export async function tfSweep(backend: TfBackend, plan: PlanEntry[], data: Data, budget: Budget, lr: number, probe?: OursProbe): Promise<SweepResult> {
  const tf = await loadTf();
  const info = await useBackend(tf, backend);
  const system: SystemId = backend === 'wasm' ? 'tfjs-wasm' : 'tfjs-cpu';
  const { T, B } = data;
  const xs: number[] = [], ys: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) { xs.push(data.streams[b][t]); ys.push(data.streams[b][t + 1]); }
  }
  const x = tf.tidy(() => tf.oneHot(tf.tensor2d(xs, [B, T], 'int32'), V).toFloat());
  const y = tf.tidy(() => tf.oneHot(tf.tensor2d(ys, [B, T], 'int32'), V).toFloat());
  const rows: Row[] = [];
  const skipped: string[] = [];
  let last: LastRun | undefined;
  for (const p of plan) {
    const skip = budgetSkip(system, p, last, budget);
    if (skip) { skipped.push(skip); continue; }
    log(`  ${system} H=${p.H} ...`, true);
    const model = buildModel(tf, p.H, T, lr);
    let loss = NaN;
    const step = async () => { loss = (await model.trainOnBatch(x, y)) as number; };
    // warm-up: all but the last plain, the last under tf.profile for the peak tensor bytes of a step
    for (let i = 0; i < p.train.warmup - 1; i++) await step();
    const prof = await tf.profile(step);
    const tr = await time(step, 0, p.train.runs);
    tr.warmup = p.train.warmup;
    if (!Number.isFinite(loss)) throw new Error(`${system}: non-finite loss ${loss} at H=${p.H}`);
    const fw = await time(async () => {
      const out = model.predict(x) as TfTensor;
      await out.data();
      out.dispose();
    }, p.fwd.warmup, p.fwd.runs);
    const heap = backend === 'wasm' ? wasmHeapBytes(tf) : undefined;
    rows.push({
      system, H: p.H, T, B,
      train: tr, forward: fw,
      trainGflops: gflops(trainFlops(p.H, T, B), tr.ms),
      forwardGflops: gflops(forwardFlops(p.H, T, B), fw.ms),
      memoryBytes: backend === 'wasm' ? heap : prof.peakBytes,
      memoryNote: backend === 'wasm'
        ? `emscripten wasm heap after this H (grows, never shrinks; H in increasing order); peak tensor bytes in a step ${prof.peakBytes}`
        : 'peak tensor bytes during one training step (tf.profile), JS heap',
      reduced: p.reduced,
    });
    model.dispose();
    if (probe) rows[rows.length - 1].adjacentOurs = await probe(p.H);
    last = { H: p.H, train: tr.ms, fwd: fw.ms };
  }
  x.dispose(); y.dispose();
  info.peakTensorBytesNote = 'tf.profile(trainOnBatch).peakBytes';
  return { rows, skipped, info };
}

/**
 * Single-sequence generation: a stateful LSTM (batchInputShape [1, 1, V]) + dense softmax,
 * model.predict one token at a time, sampling from the returned probabilities in JS.
 */
export async function tfGeneration(backend: TfBackend, H: number, tokens: number, warmupTokens: number, runs: number): Promise<Generation> {
  const tf = await loadTf();
  await useBackend(tf, backend);
  const model = tf.sequential();
  model.add(tf.layers.lstm({ units: H, returnSequences: false, stateful: true, batchInputShape: [1, 1, V], recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }));
  model.add(tf.layers.dense({ units: V, activation: 'softmax' }));
  const rng = new Lcg(3);
  let tok = 0;
  const gen = (n: number) => {
    for (let i = 0; i < n; i++) {
      const probs = tf.tidy(() => {
        const x = tf.oneHot(tf.tensor1d([tok], 'int32'), V).toFloat().reshape([1, 1, V]);
        return (model.predict(x) as TfTensor).dataSync();
      });
      tok = sampleFromProbs(probs, rng.next());
    }
  };
  gen(warmupTokens);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    model.resetStates();
    const t0 = performance.now();
    gen(tokens);
    rates.push(tokens / ((performance.now() - t0) / 1000));
  }
  model.dispose();
  rates.sort((a, b) => a - b);
  return { system: backend === 'wasm' ? 'tfjs-wasm' : 'tfjs-cpu', H, tokens, tokensPerSecond: rates[rates.length >> 1], runs: rates };
}
