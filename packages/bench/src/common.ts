import { readFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

/** The standard workload (shared BENCHMARK.md). */
export const V = 65;
export const T = 64;
export const B = 32;
export const HS = [64, 128, 256, 512] as const;

/** FLOP model of BENCHMARK.md, the same for every library. */
export function forwardFlops(H: number, t = T, b = B, v = V): number {
  return b * t * (8 * H * (v + H) + 2 * H * v);
}
export function trainFlops(H: number, t = T, b = B, v = V): number {
  return 3 * forwardFlops(H, t, b, v);
}
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Timing {
  /** median of the timed runs, ms */
  ms: number;
  samples: number[];
  warmup: number;
}

/** Runs `fn` warmup times untimed, then `runs` times timed; the median in ms. */
export async function time(fn: () => unknown | Promise<unknown>, warmup: number, runs: number): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), samples, warmup };
}

/** A small deterministic generator (xorshift32), so every system sees the same data. */
export class Lcg {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 1; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
}

/**
 * B streams of T+1 token ids each; inputs are positions 0..T-1 and targets 1..T.
 * Returned time-major [T, B] for @lstm/wasm, and as per-stream sequences for the others.
 */
export interface Data {
  T: number; B: number;
  tokens: Int32Array; // [T, B]
  targets: Int32Array; // [T, B]
  /** stream b: T+1 ids */
  streams: number[][];
}

export function makeData(t: number, b: number, seed = 7): Data {
  const rng = new Lcg(seed);
  const streams: number[][] = [];
  for (let j = 0; j < b; j++) {
    const s: number[] = [];
    for (let i = 0; i <= t; i++) s.push(rng.int(V));
    streams.push(s);
  }
  const tokens = new Int32Array(t * b), targets = new Int32Array(t * b);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < b; j++) {
      tokens[i * b + j] = streams[j][i];
      targets[i * b + j] = streams[j][i + 1];
    }
  }
  return { T: t, B: b, tokens, targets, streams };
}

/** Samples an index from unnormalised logits (softmax in JS). */
export function sampleFromLogits(logits: ArrayLike<number>, u: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) { p[i] = Math.exp(logits[i] - max); sum += p[i]; }
  return sampleFromProbs(p, u * sum);
}

/** Samples an index from (possibly unnormalised) probabilities; `r` is uniform in [0, sum). */
export function sampleFromProbs(p: ArrayLike<number>, r: number): number {
  for (let i = 0; i < p.length; i++) {
    r -= p[i];
    if (r < 0) return i;
  }
  return p.length - 1;
}

export function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os.loadavg().map((x) => x.toFixed(2)).join(' ') + ' (os.loadavg)';
  }
}

export function cpuModel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown'} x${cpus.length}`;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function fmtX(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 100 ? `${x.toFixed(0)}x` : x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`;
}

/** One measured (system, H, T, B) point. */
export interface Row {
  system: SystemId;
  H: number; T: number; B: number;
  /** threads the system used (TF.js wasm and cpu, brain.js: 1) */
  threads?: number;
  train?: Timing;
  forward?: Timing;
  trainGflops?: number;
  forwardGflops?: number;
  /** bytes of (wasm) memory in use, see memoryNote */
  memoryBytes?: number;
  memoryNote?: string;
  /** when the step counts are below the standard's 2 warm-up + 5 timed */
  reduced?: string;
  /** a peer row: @lstm/wasm (1 thread) timed again right after this configuration, same H and data */
  adjacentOurs?: { trainMs: number; forwardMs: number };
}

/** Times @lstm/wasm (1 thread) at H right now: the partner of a peer configuration. */
export type OursProbe = (H: number) => Promise<{ trainMs: number; forwardMs: number }>;

export type SystemId = 'ours' | 'ours-relaxed' | 'ours-mt' | 'tfjs-wasm' | 'tfjs-cpu' | 'brain';
export const SYSTEMS: SystemId[] = ['ours', 'ours-relaxed', 'ours-mt', 'tfjs-wasm', 'tfjs-cpu', 'brain'];
/** The peers; 'ours' (one thread) is what every ratio is taken against. */
export const PEERS: SystemId[] = ['tfjs-wasm', 'tfjs-cpu', 'brain'];
export const SYSTEM_LABEL: Record<SystemId, string> = {
  ours: '@lstm/wasm (1 thread)',
  'ours-relaxed': '@lstm/wasm (1 thread, relaxed SIMD)',
  'ours-mt': '@lstm/wasm (threads)',
  'tfjs-wasm': 'TF.js 4.22 wasm',
  'tfjs-cpu': 'TF.js 4.22 cpu',
  brain: 'brain.js 2.0.0-beta.24',
};

export interface Generation { system: SystemId; H: number; tokens: number; tokensPerSecond: number; runs: number[] }

const t0 = performance.now();
/** A line on stdout; with `elapsed`, prefixed by the seconds since the start. */
export function log(msg: string, elapsed = false): void {
  process.stdout.write((elapsed ? `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ` : '') + msg + '\n');
}

/** The git commit of the library measured, and whether its sources differ from it (unknown outside a git checkout). */
export function libraryRevision(): string {
  try {
    const opts = { cwd: new URL('.', import.meta.url), encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const root = execFileSync('git', ['rev-parse', '--show-toplevel'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/kernels', 'packages/lstm-wasm'], { ...opts, cwd: root }).trim();
    return dirty ? `${head} + uncommitted changes in packages/kernels or packages/lstm-wasm` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
