import { LstmError } from './errors.js';

/** Where the kernels come from: a URL or path, the bytes, a compiled module or a fetch Response. */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response;

/**
 * The four builds of the kernels: plain SIMD, relaxed SIMD (fused multiply-add),
 * and each of those for threads (an imported shared memory).
 */
export type KernelVariant = 'simd' | 'relaxed' | 'mt' | 'mt-relaxed';

// Literal `new URL('./x.wasm', import.meta.url)` expressions, one per file, so
// bundlers emit every file as an asset.
function variantUrl(v: KernelVariant): URL {
  switch (v) {
    case 'relaxed': return new URL('./lstm-relaxed.wasm', import.meta.url);
    case 'mt': return new URL('./lstm-mt.wasm', import.meta.url);
    case 'mt-relaxed': return new URL('./lstm-mt-relaxed.wasm', import.meta.url);
    default: return new URL('./lstm.wasm', import.meta.url);
  }
}

const compiled = new Map<KernelVariant, Promise<WebAssembly.Module>>();

/** Compiles the kernels once per build; by default the files beside this module. */
export function compileKernels(source?: WasmSource, variant: KernelVariant = 'simd'): Promise<WebAssembly.Module> {
  if (source !== undefined) return compileFrom(source);
  let m = compiled.get(variant);
  if (!m) {
    m = compileFrom(variantUrl(variant));
    compiled.set(variant, m);
    m.catch(() => compiled.delete(variant));
  }
  return m;
}

/** Whether a compiled kernel module is a threads build (imports a shared memory). */
export function importsMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
}

async function compileFrom(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  let bytes: ArrayBuffer | ArrayBufferView;
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(String(source), import.meta.url);
    bytes = url.protocol === 'file:' ? await readFileUrl(url) : await fetchBytes(url);
  } else if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new LstmError(`createModel: wasm response ${source.status} ${source.statusText} for ${source.url}`);
    bytes = await source.arrayBuffer();
  } else {
    bytes = source as ArrayBuffer | ArrayBufferView;
  }
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    throw new LstmError(`createModel: the wasm did not compile (${(e as Error).message}). ` +
      'The kernels need WebAssembly SIMD: Node >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4.');
  }
}

async function fetchBytes(url: URL): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new LstmError(`createModel: fetching ${url.href} gave ${res.status} ${res.statusText}`);
  return res.arrayBuffer();
}

async function readFileUrl(url: URL): Promise<Uint8Array> {
  // a variable specifier keeps bundlers from pulling a Node module into browser builds
  const fsName = 'node:fs/promises';
  const fs = await import(/* @vite-ignore */ fsName);
  try {
    return await fs.readFile(url);
  } catch (e) {
    throw new LstmError(`createModel: cannot read the wasm at ${url.href} (${(e as Error).message})`);
  }
}
