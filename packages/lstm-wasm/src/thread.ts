// A worker thread of a model: instantiates the threads build of the kernels on
// the model's shared memory, says it is ready, then lives inside worker_loop
// (sleeping between jobs) until the model is disposed.

interface ThreadInit { module: WebAssembly.Module; memory: WebAssembly.Memory; ctl: number; tid: number }

async function start(init: ThreadInit, post: (msg: string) => void): Promise<void> {
  const { exports } = await WebAssembly.instantiate(init.module, { env: { memory: init.memory } });
  post('ready');
  (exports.worker_loop as (ctl: number, tid: number) => void)(init.ctl, init.tid);
  post('exited');
}

const nodeProcess = (globalThis as { process?: { versions?: { node?: string } } }).process;
if (typeof nodeProcess?.versions?.node === 'string') {
  const name = 'node:worker_threads';
  const { parentPort } = await import(/* @vite-ignore */ name);
  parentPort.once('message', (init: ThreadInit) => {
    start(init, (m) => parentPort.postMessage(m)).catch((e: Error) => parentPort.postMessage(`error: ${e.message}`));
  });
} else {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e: MessageEvent) => {
    scope.onmessage = null;
    start(e.data as ThreadInit, (m) => scope.postMessage(m)).catch((err: Error) => scope.postMessage(`error: ${err.message}`));
  };
}
export {};
