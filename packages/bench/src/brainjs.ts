import { V, time, trainFlops, forwardFlops, gflops, log, type Data, type Row, type OursProbe } from './common.js';
import { budgetSkip, type Budget, type LastRun, type PlanEntry, type SweepResult } from './tfjs.js';

interface BrainLstm {
  initialize(): void;
  trainPattern(input: number[], logErrorRate?: boolean): number;
  trainInput(input: number[]): number;
}
interface BrainModule { recurrent: { LSTM: new (options: Record<string, unknown>) => BrainLstm } }

export const BRAIN_DIFFERENCES = [
  'one sequence at a time: a "step" is B=32 calls of trainPattern on sequences of T=64 characters (the same B*T characters as one batch elsewhere), so it makes 32 parameter updates per step, not 1',
  'its update is its own RMSProp variant (decay 0.999, per-element gradient clip at 5, L2 1e-6), not SGD',
  'each sequence starts from a zero state and gets START/END tokens: T+1 = 65 predictions per sequence over V+1 = 66 classes (class 0 = END)',
  'input is a learned (V+1) x V embedding row picked by id, then the gates\' V->H products: the same FLOP count as a one-hot input',
  'scalar JavaScript (Float32Array loops), vector-matrix products per time step; no batching, no wasm, no SIMD',
  'forward-only = B calls of trainInput (forward + softmax + loss per sequence, no backward, no update)',
];

export interface BrainLoad { brain?: BrainModule; version?: string; error?: string }

export async function loadBrain(): Promise<BrainLoad> {
  try {
    const mod = (await import('brain.js')) as unknown as BrainModule & { default?: BrainModule };
    const brain = mod.default ?? mod;
    if (typeof brain?.recurrent?.LSTM !== 'function') return { error: 'brain.recurrent.LSTM is missing' };
    const { createRequire } = await import('node:module');
    const version = (createRequire(import.meta.url)('brain.js/package.json') as { version: string }).version;
    return { brain, version };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

export async function brainSweep(brain: BrainModule, plan: PlanEntry[], data: Data, budget: Budget, probe?: OursProbe): Promise<SweepResult> {
  const { T, B } = data;
  const seqs = data.streams.map((s) => s.slice(0, T));
  const rows: Row[] = [];
  const skipped: string[] = [];
  let last: LastRun | undefined;
  for (const p of plan) {
    const skip = budgetSkip('brain', p, last, budget);
    if (skip) { skipped.push(skip); continue; }
    log(`  brain H=${p.H} ...`, true);
    const net = new brain.recurrent.LSTM({ inputSize: V, inputRange: V, outputSize: V, hiddenLayers: [p.H] });
    net.initialize();
    let err = NaN;
    const tr = await time(() => { for (const s of seqs) err = net.trainPattern(s, true); }, p.train.warmup, p.train.runs);
    if (!Number.isFinite(err)) throw new Error(`brain.js: non-finite error ${err} at H=${p.H}`);
    const fw = await time(() => { for (const s of seqs) net.trainInput(s); }, p.fwd.warmup, p.fwd.runs);
    rows.push({
      system: 'brain', H: p.H, T, B,
      train: tr, forward: fw,
      trainGflops: gflops(trainFlops(p.H, T, B), tr.ms),
      forwardGflops: gflops(forwardFlops(p.H, T, B), fw.ms),
      memoryNote: 'JS heap, not measured',
      reduced: p.reduced,
    });
    if (probe) rows[rows.length - 1].adjacentOurs = await probe(p.H);
    last = { H: p.H, train: tr.ms, fwd: fw.ms };
  }
  return { rows, skipped, info: {} };
}
