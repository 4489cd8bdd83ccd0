export interface Capabilities {
  /** WebAssembly SIMD (required by the kernels). */
  simd: boolean;
  /** Relaxed SIMD: the fused multiply-add build is used. */
  relaxedSimd: boolean;
  /** Shared memory and workers can be used: the threads build is used. */
  threads: boolean;
  /** Threads a model uses by default (1 when threads are unavailable). */
  threadCount: number;
}

// The smallest modules that use each feature: validate() answers without running anything.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

/** More threads than this rarely pays at the sizes an LSTM trains in a browser. */
export const MAX_DEFAULT_THREADS = 4;

/** Whether this runtime can share a wasm memory with workers. */
export function sharedMemoryUsable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  // a page gets SharedArrayBuffer only when cross-origin isolated (COOP + COEP)
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return true;
  } catch {
    return false;
  }
}

export async function hardwareThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  try {
    const osName = 'node:os';
    const os = await import(/* @vite-ignore */ osName);
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}

/** What this runtime supports, and what a model created with default options uses. */
export async function capabilities(): Promise<Capabilities> {
  const threads = sharedMemoryUsable() && (isNode() || typeof Worker !== 'undefined');
  return {
    simd: WebAssembly.validate(SIMD_PROBE),
    relaxedSimd: WebAssembly.validate(RELAXED_PROBE),
    threads,
    threadCount: threads ? Math.max(1, Math.min(MAX_DEFAULT_THREADS, await hardwareThreads())) : 1,
  };
}

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}
