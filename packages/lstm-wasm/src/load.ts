import { LstmError } from './errors.js';

/** Where the kernels come from: a URL or path, the bytes, a compiled module or a fetch Response. */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response;

let defaultModule: Promise<WebAssembly.Module> | undefined;

/** Compiles the kernels once per source; the default sits beside this file as lstm.wasm. */
export function compileKernels(source?: WasmSource): Promise<WebAssembly.Module> {
  if (source === undefined) {
    defaultModule ??= compileFrom(new URL('./lstm.wasm', import.meta.url));
    defaultModule.catch(() => { defaultModule = undefined; });
    return defaultModule;
  }
  return compileFrom(source);
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
