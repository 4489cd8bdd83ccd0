#!/usr/bin/env node
// Soak benchmark (not a test): a long training run that watches for leaks.
//
//   npm run soak                       # 20,000 steps (from packages/lstm-wasm, after the build)
//   node --expose-gc scripts/soak.mjs --steps 2000 --hidden 32
//
// A char-level model trains with truncated BPTT (stateful, as the trainer does) and, every
// 1,000 steps, evaluates on another (T, B) shape, writes a checkpoint (kept in memory as "the
// last good one") and a safetensors export. Wasm memory and the JS heap (after a full GC) are
// sampled along the way; the run fails (exit code 1) if wasm memory grows after the first
// sample or the heap grows by more than 4 MB; then each repeated operation runs 10,000 more times
// and must not grow the heap by more than 512 KB (the samples above drift by a few KB of GC noise).
//
// Then a divergence drill: training that produces a non-finite loss must stop with a clear error,
// and the last good checkpoint must still load and give a finite loss (the trainer, apps/trainer,
// does the same: it stops and keeps the last checkpoint it wrote).

import {
  createModel, CharVocab, CharBatcher, modelToCheckpoint, encodeCheckpoint, decodeCheckpoint, applyCheckpoint,
  toSafetensors,
} from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const STEPS = arg('steps', 20000);
const H = arg('hidden', 64);
const T = arg('seq', 32);
const B = arg('batch', 16);
const SAMPLE_EVERY = arg('every', 1000);
const HEAP_SLACK = 4 * 1024 * 1024;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run soak does)');
  process.exit(2);
}

const TEXT = `It is a truth universally acknowledged, that a single man in possession of a good fortune,
must be in want of a wife. However little known the feelings or views of such a man may be on his
first entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families,
that he is considered the rightful property of some one or other of their daughters. `.repeat(40);

const vocab = CharVocab.fromText(TEXT);
const ids = vocab.encode ? vocab.encode(TEXT) : Int32Array.from([...TEXT], (ch) => vocab.chars.indexOf(ch));
const V = vocab.chars.length;
const model = await createModel({ inputSize: V, hiddenSize: H, numLayers: 1, outputSize: V, seed: 1 });
const batcher = new CharBatcher(ids, B, T);
const optimizer = { type: 'adam', lr: 2e-3, clipNorm: 5 };
// validation: two streams of 64 characters, time-major [64, 2]
const valTokens = new Int32Array(128), valTargets = new Int32Array(128);
for (let t = 0; t < 64; t++) for (let b = 0; b < 2; b++) {
  valTokens[t * 2 + b] = ids[b * 300 + t];
  valTargets[t * 2 + b] = ids[b * 300 + t + 1];
}

const mb = (n) => (n / 1024 / 1024).toFixed(2);
function sample(step, loss) {
  globalThis.gc();
  const m = process.memoryUsage();
  return { step, loss, wasm: model.memoryBytes, heap: m.heapUsed, rss: m.rss, arrayBuffers: m.arrayBuffers };
}

console.log(`soak: ${STEPS} steps, vocab ${V}, hidden ${H}, seq ${T}, batch ${B}, adam lr 2e-3 clip 5, ${model.threads ?? 1} thread(s); node ${process.version}`);
console.log('   step     loss  val loss   wasm MB   heap MB    rss MB  arrayBuf MB   steps/s');
const samples = [];
let lastGood = null;
let t0 = performance.now(), tPrev = t0, sPrev = 0;
for (let step = 1; step <= STEPS; step++) {
  if (batcher.chunk === 0) model.resetState();
  const loss = model.trainStep({ ...batcher.next(), stateful: true }, optimizer);
  if (!Number.isFinite(loss)) throw new Error(`soak: the loss became ${loss} at step ${step}`);
  if (step % SAMPLE_EVERY === 0 || step === 1) {
    // what a trainer does alongside: validation on another shape, a checkpoint, an export
    const val = model.forward({ tokens: valTokens, targets: valTargets, seqLength: 64, batchSize: 2 });
    if (!Number.isFinite(val.loss)) throw new Error(`soak: validation loss ${val.loss} at step ${step}`);
    lastGood = encodeCheckpoint(modelToCheckpoint(model, { vocab: vocab.chars.slice(), optimizer, step }));
    toSafetensors(model);
    const s = { ...sample(step, loss), val: val.loss };
    samples.push(s);
    const now = performance.now();
    const rate = step === 1 ? '' : ((step - sPrev) / ((now - tPrev) / 1000)).toFixed(0);
    tPrev = now; sPrev = step;
    console.log(`${String(step).padStart(7)} ${loss.toFixed(4).padStart(8)} ${val.loss.toFixed(4).padStart(9)} ${mb(s.wasm).padStart(9)} ${mb(s.heap).padStart(9)} ${mb(s.rss).padStart(9)} ${mb(s.arrayBuffers).padStart(12)} ${rate.padStart(9)}`);
  }
}
const secs = (performance.now() - t0) / 1000;
// the first sample is after step 1 (every buffer allocated); the heap baseline is the second (JIT and caches warm)
const first = samples[0], base = samples[Math.min(1, samples.length - 1)], last = samples[samples.length - 1];
const wasmGrowth = last.wasm - first.wasm, heapGrowth = last.heap - base.heap;
console.log(`\n${STEPS} steps in ${secs.toFixed(1)} s (${(STEPS / secs).toFixed(0)} steps/s)`);
console.log(`wasm memory: ${mb(first.wasm)} MB after step 1, ${mb(last.wasm)} MB at step ${last.step} (growth ${wasmGrowth} bytes)`);
console.log(`JS heap:     ${mb(base.heap)} MB at step ${base.step}, ${mb(last.heap)} MB at step ${last.step} (growth ${(heapGrowth / 1024).toFixed(0)} KB; max ${mb(Math.max(...samples.slice(1).map((s) => s.heap)))} MB)`);
console.log(`loss:        ${first.loss.toFixed(4)} -> ${last.loss.toFixed(4)}`);
let ok = true;
if (wasmGrowth !== 0) { console.log('FAIL: wasm memory grew'); ok = false; }
if (heapGrowth > HEAP_SLACK) { console.log(`FAIL: the JS heap grew by more than ${mb(HEAP_SLACK)} MB`); ok = false; }

// ---- per-call check: each operation the run repeats, 10,000 more times, must not hold memory ----
console.log('\nper-call check (10,000 calls each, heap after a full GC):');
const perCall = {
  trainStep: () => model.trainStep({ ...batcher.next(), stateful: true }, optimizer),
  forward: () => model.forward({ tokens: valTokens, targets: valTargets, seqLength: 64, batchSize: 2 }),
  checkpoint: () => decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(model, { vocab: vocab.chars.slice(), optimizer, step: 1 }))),
  toSafetensors: () => toSafetensors(model),
};
for (const [name, f] of Object.entries(perCall)) {
  for (let i = 0; i < 500; i++) f();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed, wasmBefore = model.memoryBytes;
  for (let i = 0; i < 10000; i++) f();
  globalThis.gc();
  const grew = process.memoryUsage().heapUsed - before;
  console.log(`  ${name.padEnd(14)} heap ${(grew / 1024).toFixed(1).padStart(7)} KB, wasm ${model.memoryBytes - wasmBefore} bytes`);
  if (grew > 512 * 1024 || model.memoryBytes !== wasmBefore) { console.log(`FAIL: ${name} holds memory`); ok = false; }
}

// ---- divergence drill ----
// Weights pushed to the edge of float32 (finite, so setParameters takes them) overflow the
// logits: the next training step's loss is not finite, as in a run that diverged.
console.log('\ndivergence drill: head weights set to 3e38, then train until the loss is not finite');
const blown = model.getParameters();
blown['head.weight'].fill(3e38);
blown['head.bias'].fill(-3e38);
model.setParameters(blown);
let stopped = null;
for (let step = 1; step <= 10; step++) {
  const loss = model.trainStep({ ...batcher.next(), stateful: true }, optimizer);
  if (!Number.isFinite(loss)) {
    stopped = new Error(`training diverged at step ${STEPS + step} (the loss is ${loss}); stopping, the last good checkpoint is kept`);
    break;
  }
}
if (!stopped) { console.log('FAIL: the loss stayed finite'); ok = false; } else {
  console.log(`stopped: ${stopped.message}`);
  const ckpt = decodeCheckpoint(lastGood);
  applyCheckpoint(model, ckpt);
  model.resetState();
  const val = model.forward({ tokens: valTokens, targets: valTargets, seqLength: 64, batchSize: 2 });
  console.log(`last good checkpoint (step ${ckpt.header.step}) restored: validation loss ${val.loss.toFixed(4)} (${last.val.toFixed(4)} when it was written)`);
  if (!(Math.abs(val.loss - last.val) <= 1e-6 * Math.abs(last.val))) { console.log('FAIL: the restored model does not give the validation loss it had'); ok = false; }
}
model.dispose();
console.log(ok ? '\nsoak: ok' : '\nsoak: FAILED');
process.exit(ok ? 0 : 1);
