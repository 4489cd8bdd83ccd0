// Loads build/lstm.wasm on its own and hands out memory by bumping a pointer, so
// kernels can be called with raw pointers exactly as the model calls them.
import { readFileSync } from 'node:fs';

export interface Kernels { memory: WebAssembly.Memory; heap_base(): number; [name: string]: unknown }

const modules = new Map<string, WebAssembly.Module>();
function moduleOf(file: string): WebAssembly.Module {
  let m = modules.get(file);
  if (!m) modules.set(file, (m = new WebAssembly.Module(readFileSync(new URL(`../build/${file}`, import.meta.url)))));
  return m;
}

/** The single-thread builds: plain SIMD and relaxed SIMD (fused multiply-add). */
export const BUILDS = ['lstm.wasm', 'lstm-relaxed.wasm'];

export class Wasm {
  readonly k: Kernels;
  private top: number;
  constructor(file = 'lstm.wasm') {
    this.k = new WebAssembly.Instance(moduleOf(file), {}).exports as unknown as Kernels;
    this.top = this.k.heap_base();
  }
  fn(name: string): (...args: number[]) => number {
    return this.k[name] as (...args: number[]) => number;
  }
  /** Allocates n floats (16-byte aligned unless `misalign`), optionally filled. */
  alloc(n: number, fill?: ArrayLike<number>, misalign = false): number {
    let p = (this.top + 15) & ~15;
    if (misalign) p += 4;
    const end = p + 4 * Math.max(n, 1) + 64;
    const mem = this.k.memory;
    if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    this.top = end;
    if (fill) this.f32(p, n).set(fill as ArrayLike<number>);
    return p;
  }
  allocI32(values: ArrayLike<number>): number {
    const p = this.alloc(values.length);
    new Int32Array(this.k.memory.buffer, p, values.length).set(values);
    return p;
  }
  f32(p: number, n: number): Float32Array { return new Float32Array(this.k.memory.buffer, p, n); }
  read(p: number, n: number): Float64Array { return Float64Array.from(this.f32(p, n)); }
}

/** Deterministic test data. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Largest |a - b| relative to the largest |b| of the tensor. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / Math.max(m, 1e-30);
}
