import * as lib from '@lstm/wasm';
import { createModel, type LstmModel, type OptimizerConfig, type ModelConfig } from '@lstm/wasm';
import {
  V, makeData, time, trainFlops, forwardFlops, gflops, sampleFromLogits, Lcg,
  type Data, type Row, type Generation,
} from './common.js';

/** Plain SGD, no momentum, no clipping: the same update as the TF.js runs (tf.train.sgd). */
export const OURS_OPTIMIZER: OptimizerConfig = { type: 'sgd', lr: 0.1 };

export interface Steps { warmup: number; runs: number }

/** What the library reports about this runtime (capabilities() may be sync or async depending on its version). */
export async function oursCapabilities(): Promise<Record<string, unknown>> {
  const caps = (lib as unknown as { capabilities?: () => unknown }).capabilities;
  return caps ? { ...((await caps()) as Record<string, unknown>) } : {};
}

/**
 * threads: 1 pins one thread (the comparison with TF.js's one-thread wasm backend);
 * 'default' takes the library's default. Libraries without a threads option ignore it.
 */
async function newModel(H: number, threads: number | 'default' = 1, relaxedSimd = false): Promise<LstmModel> {
  // relaxed SIMD (fused multiply-add) only where asked: every other row compares plain SIMD with the peers
  const config = { inputSize: V, hiddenSize: H, numLayers: 1, outputSize: V, seed: 1, relaxedSimd, ...(threads !== 'default' ? { threads } : {}) };
  return createModel(config as ModelConfig);
}

/** Threads a model really uses (1 for a library without threads). */
export function modelThreads(model: LstmModel): number {
  return (model as unknown as { threads?: number }).threads ?? 1;
}

async function measureShape(model: LstmModel, H: number, data: Data, train: Steps, fwd: Steps, system: 'ours' | 'ours-relaxed' | 'ours-mt' = 'ours'): Promise<Row> {
  const batch = { tokens: data.tokens, targets: data.targets, seqLength: data.T, batchSize: data.B };
  const input = { tokens: data.tokens, seqLength: data.T, batchSize: data.B };
  let loss = NaN;
  const tr = await time(() => { loss = model.trainStep(batch, OURS_OPTIMIZER); }, train.warmup, train.runs);
  if (!Number.isFinite(loss)) throw new Error(`@lstm/wasm: non-finite loss ${loss} at H=${H}`);
  const fw = await time(() => model.forward(input), fwd.warmup, fwd.runs);
  return {
    system, H, T: data.T, B: data.B, threads: modelThreads(model),
    train: tr, forward: fw,
    trainGflops: gflops(trainFlops(H, data.T, data.B), tr.ms),
    forwardGflops: gflops(forwardFlops(H, data.T, data.B), fw.ms),
    memoryBytes: model.memoryBytes,
    memoryNote: 'wasm linear memory of the model (model.memoryBytes)',
  };
}

/** One fresh model per H, standard shape; threads as in newModel (1, or 'default' for the library's default). */
export async function oursSweep(Hs: readonly number[], data: Data, train: Steps, fwd: Steps, threads: number | 'default' = 1, relaxedSimd = false): Promise<Row[]> {
  const rows: Row[] = [];
  for (const H of Hs) {
    const model = await newModel(H, threads, relaxedSimd);
    rows.push(await measureShape(model, H, data, train, fwd, threads !== 1 ? 'ours-mt' : relaxedSimd ? 'ours-relaxed' : 'ours'));
    model.dispose();
  }
  return rows;
}

/** How cost grows with T and B at one H (one model, several shapes). */
export async function oursScaling(H: number, Ts: number[], Bs: number[], baseT: number, baseB: number, train: Steps, fwd: Steps): Promise<Row[]> {
  const rows: Row[] = [];
  const shapes: [number, number][] = [];
  for (const t of Ts) shapes.push([t, baseB]);
  for (const b of Bs) if (b !== baseB) shapes.push([baseT, b]);
  for (const [t, b] of shapes) {
    // a fresh model per shape, so memoryBytes is that shape's alone
    const model = await newModel(H);
    rows.push(await measureShape(model, H, makeData(t, b, 11), train, fwd));
    model.dispose();
  }
  return rows;
}

/** Single-sequence generation: B = 1, one token per model.step, sampling from the softmax in JS. */
export async function oursGeneration(H: number, tokens: number, warmupTokens: number, runs: number): Promise<Generation> {
  const model = await newModel(H);
  const rng = new Lcg(3);
  let tok = 0;
  const one = new Int32Array(1);
  const gen = (n: number) => {
    for (let i = 0; i < n; i++) {
      one[0] = tok;
      const logits = model.step(one);
      tok = sampleFromLogits(logits, rng.next());
    }
  };
  gen(warmupTokens);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    model.resetState();
    const t0 = performance.now();
    gen(tokens);
    rates.push(tokens / ((performance.now() - t0) / 1000));
  }
  model.dispose();
  rates.sort((a, b) => a - b);
  return { system: 'ours', H, tokens, tokensPerSecond: rates[rates.length >> 1], runs: rates };
}
