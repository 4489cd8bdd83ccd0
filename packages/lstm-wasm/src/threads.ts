import { LstmError } from './errors.js';
import { isNode } from './capabilities.js';
import { CONTROL, JOB } from './layout.js';

/** The worker threads of one model; the main thread is thread 0. */
export interface Threads { count: number; stop(): void }

interface Port { post(msg: unknown): void; onMessage(fn: (msg: unknown) => void): void; terminate(): void }

async function spawn(): Promise<Port> {
  if (isNode()) {
    const name = 'node:worker_threads';
    const { Worker } = await import(/* @vite-ignore */ name);
    const w = new Worker(new URL('./thread.js', import.meta.url));
    // a model nobody disposed must not keep the process alive
    w.unref();
    return { post: (m) => w.postMessage(m), onMessage: (fn) => w.on('message', fn), terminate: () => void w.terminate() };
  }
  // the literal new Worker(new URL(...)) form lets bundlers emit thread.js
  const w = new Worker(new URL('./thread.js', import.meta.url), { type: 'module' });
  return { post: (m) => w.postMessage(m), onMessage: (fn) => w.addEventListener('message', (e) => fn(e.data)), terminate: () => w.terminate() };
}

/** Starts `count` workers on the model's shared memory; resolves when all are waiting for jobs. */
export async function startThreads(module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number, count: number): Promise<Threads> {
  const ports: Port[] = [];
  try {
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const port = await spawn();
      ports.push(port);
      await new Promise<void>((resolve, reject) => {
        port.onMessage((msg) => {
          if (msg === 'ready') resolve();
          else if (typeof msg === 'string' && msg.startsWith('error')) reject(new Error(msg));
        });
        port.post({ module, memory, ctl, tid: i + 1 });
      });
    }));
  } catch (e) {
    ports.forEach((p) => p.terminate());
    throw new LstmError(`createModel: could not start ${count} worker thread(s) (${(e as Error).message}); pass threads: 1`);
  }
  return {
    count,
    stop() {
      // ask every worker to leave its loop, then end it
      const words = new Int32Array(memory.buffer, ctl, CONTROL.SLOTS);
      Atomics.store(words, CONTROL.JOB, JOB.exit);
      Atomics.add(words, CONTROL.GEN, 1);
      Atomics.notify(words, CONTROL.GEN);
      ports.forEach((p) => p.terminate());
    },
  };
}
