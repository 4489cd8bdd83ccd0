// @lstm/bench: @lstm/wasm against TF.js (wasm and cpu backends) and brain.js on the
// standard workload of BENCHMARK.md, all in this one process run. Writes results/latest.{json,md,svg}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  V, T, B, HS, makeData, loadavg, cpuModel, libraryRevision, log, PEERS, type Generation, type SystemId, type OursProbe,
} from './common.js';
import { measureSimdPeak } from './peak.js';
import { oursSweep, oursScaling, oursGeneration, oursCapabilities, OURS_OPTIMIZER, type Steps } from './ours.js';
import type { Budget, PlanEntry } from './tfjs.js';
import { downloadSizes } from './sizes.js';
import { markdown, svgChart, ratio, type Results } from './report.js';
import { BRAIN_DIFFERENCES } from './brainjs.js';

const USAGE = `usage: node dist/main.js [--quick] [--only LIST] [--h LIST] [--budget MINUTES]
  --quick        H=128 only, fewer steps (below the standard's 2+5 for the peers), no T/B scaling
  --only LIST    systems to run, comma separated: ours, tfjs-wasm, tfjs-cpu, brain (also: tfjs = both TF.js backends)
  --h LIST       hidden sizes, comma separated (default 64,128,256,512; quick: 128)
  --budget MIN   stop starting new peer configurations after MIN minutes (default 14)
  --out DIR      write latest.json, latest.md and latest.svg to DIR instead of results/ (for trial runs)
Results go to results/latest.json, latest.md and latest.svg beside this package, every run.`;

function parseList(s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean);
}

const ALIASES: Record<string, SystemId[]> = {
  ours: ['ours'], lstm: ['ours'], '@lstm/wasm': ['ours'],
  tfjs: ['tfjs-wasm', 'tfjs-cpu'], tf: ['tfjs-wasm', 'tfjs-cpu'],
  'tfjs-wasm': ['tfjs-wasm'], 'tf-wasm': ['tfjs-wasm'], wasm: ['tfjs-wasm'],
  'tfjs-cpu': ['tfjs-cpu'], 'tf-cpu': ['tfjs-cpu'], cpu: ['tfjs-cpu'],
  brain: ['brain'], 'brain.js': ['brain'], brainjs: ['brain'],
};

async function main(): Promise<void> {
  const started = performance.now();
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      h: { type: 'string' },
      budget: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) { log(USAGE); return; }
  const quick = values.quick === true;
  const only = parseList(values.only);
  const want = new Set<SystemId>();
  for (const o of only ?? ['ours', ...PEERS]) {
    const ids = ALIASES[o.toLowerCase()];
    if (!ids) throw new Error(`--only: unknown system '${o}'\n${USAGE}`);
    ids.forEach((id) => want.add(id));
  }
  want.add('ours'); // every ratio needs it, and it is fast
  const Hs = (parseList(values.h)?.map(Number) ?? (quick ? [128] : [...HS])).sort((a, b) => a - b);
  if (Hs.some((h) => !Number.isInteger(h) || h < 1 || h > 4096)) throw new Error(`--h: bad list ${values.h}`);
  const budgetMin = values.budget !== undefined ? Number(values.budget) : 14;
  const budget: Budget = { deadline: started + budgetMin * 60_000, maxConfigSeconds: quick ? 60 : 240 };

  const argv = process.argv.slice(2).join(' ');
  const results: Results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: `node dist/main.js${argv ? ' ' + argv : ''}`,
    node: process.versions.node,
    cpu: cpuModel(),
    revision: libraryRevision(),
    loadavg: [],
    workload: { V, T, B, H: Hs, flopModel: 'forward = B*T*(8*H*(V+H) + 2*H*V), training = 3 * forward' },
    optimizer: {
      '@lstm/wasm': `createModel({ threads: 1 }) for every ratio (a threaded row, when the library has threads, is extra); model.trainStep, plain SGD (lr ${OURS_OPTIMIZER.lr}, no momentum, no clipping), token ids (no one-hot)`,
      'TF.js': 'tf.layers.lstm(units=H, returnSequences=true, recurrentActivation=sigmoid, recurrentInitializer=glorotUniform: ' +
        'the default orthogonal init runs a QR in JS that takes minutes at H=512, and init values do not change a step\'s speed) ' +
        'on one-hot input [B,T,V] + timeDistributed(dense(V, softmax)), ' +
        'categoricalCrossentropy, model.trainOnBatch with tf.train.sgd(0.1); forward = model.predict + data()',
      'brain.js': 'brain.recurrent.LSTM({ inputSize: V, inputRange: V, outputSize: V, hiddenLayers: [H] }), trainPattern per sequence (see Notes)',
    },
    peak: undefined as unknown as Results['peak'],
    rows: [], scaling: [], generation: [], downloads: [], skipped: [], notes: [], peers: {},
  };
  const mark = (at: string) => {
    const v = loadavg();
    results.loadavg.push({ at, value: v });
    log(`/proc/loadavg ${at}: ${v}`, true);
  };

  log(`@lstm/bench (${results.mode}): V=${V} B=${B} T=${T} H=${Hs.join(',')}; systems: ${[...want].join(', ')}`);
  log(`machine: ${results.cpu}, Node ${results.node}`);
  mark('at start');

  // 1. this machine's WebAssembly SIMD peak
  log('SIMD peak ...', true);
  results.peak = await measureSimdPeak(quick ? 0.15 : 0.25, quick ? 3 : 5, [12, 13, 16]);
  log(`  ${results.peak.gflops.toFixed(1)} GFLOP/s (${results.peak.accumulators} accumulators)`, true);

  const data = makeData(T, B);

  // 2. @lstm/wasm
  const oTrain: Steps = quick ? { warmup: 2, runs: 5 } : { warmup: 3, runs: 9 };
  log('@lstm/wasm sweep ...', true);
  results.rows.push(...await oursSweep(Hs, data, oTrain, oTrain));
  for (const r of results.rows) log(`  H=${r.H}: train ${r.train!.ms.toFixed(2)} ms, forward ${r.forward!.ms.toFixed(2)} ms`, true);
  const caps = await oursCapabilities();
  results.peers['@lstm/wasm'] = { capabilities: caps };
  if (caps.threads === true && typeof caps.threadCount === 'number' && caps.threadCount > 1) {
    log(`@lstm/wasm sweep with the library's default threads (${caps.threadCount}) ...`, true);
    const mt = await oursSweep(Hs, data, oTrain, oTrain, 'default');
    for (const r of mt) log(`  H=${r.H}: ${r.threads} threads, train ${r.train!.ms.toFixed(2)} ms, forward ${r.forward!.ms.toFixed(2)} ms`, true);
    if (mt.every((r) => (r.threads ?? 1) > 1)) results.rows.push(...mt);
    else results.skipped.push(`@lstm/wasm with threads: capabilities() offers ${caps.threadCount} but a default model used ${mt.map((r) => r.threads).join('/')} thread(s); rows dropped`);
  } else {
    results.skipped.push(`@lstm/wasm with threads: the library reports none usable here (${JSON.stringify(caps)})`);
  }
  if (caps.relaxedSimd === true) {
    log('@lstm/wasm sweep, one thread, relaxed SIMD (fused multiply-add) ...', true);
    const rx = await oursSweep(Hs, data, oTrain, oTrain, 1, true);
    for (const r of rx) log(`  H=${r.H}: train ${r.train!.ms.toFixed(2)} ms, forward ${r.forward!.ms.toFixed(2)} ms`, true);
    results.rows.push(...rx);
  } else {
    results.skipped.push('@lstm/wasm with relaxed SIMD: this runtime has none (Node 20 needs --experimental-wasm-relaxed-simd; the bench script passes it)');
  }
  const scaleH = 128;
  if (!quick) {
    log(`@lstm/wasm T/B scaling at H=${scaleH} ...`, true);
    results.scaling = await oursScaling(scaleH, [32, 64, 128], [1, 8, 32, 64], T, B, { warmup: 2, runs: 7 }, { warmup: 2, runs: 7 });
  } else {
    results.skipped.push('@lstm/wasm T/B scaling (quick mode)');
  }
  log('@lstm/wasm generation ...', true);
  const genH = 256;
  results.generation.push(await oursGeneration(genH, quick ? 500 : 2000, 100, 3));

  // 3. TF.js, wasm then cpu backend
  const tfPlan = (backend: 'wasm' | 'cpu'): PlanEntry[] => Hs.map((H) => {
    if (quick) return { H, train: { warmup: 1, runs: backend === 'wasm' ? 3 : 2 }, fwd: { warmup: 1, runs: backend === 'wasm' ? 3 : 2 }, reduced: 'quick mode' };
    if (backend === 'cpu' && H >= 512) return { H, train: { warmup: 1, runs: 3 }, fwd: { warmup: 1, runs: 3 }, reduced: 'TF.js cpu at H>=512: 1 warm-up + 3 timed, to fit the time budget' };
    return { H, train: { warmup: 2, runs: 5 }, fwd: { warmup: 2, runs: 5 } };
  });
  // @lstm/wasm again right after each peer configuration: the ratios pair measurements minutes apart at most
  const probe: OursProbe = async (H) => {
    const [r] = await oursSweep([H], data, { warmup: 2, runs: 5 }, { warmup: 2, runs: 5 });
    return { trainMs: r.train!.ms, forwardMs: r.forward!.ms };
  };
  const gens: Generation[] = [];
  if (want.has('tfjs-wasm') || want.has('tfjs-cpu')) {
    const { tfSweep, tfGeneration } = await import('./tfjs.js');
    for (const backend of ['wasm', 'cpu'] as const) {
      const id: SystemId = backend === 'wasm' ? 'tfjs-wasm' : 'tfjs-cpu';
      if (!want.has(id)) continue;
      mark(`before TF.js ${backend}`);
      log(`TF.js ${backend} sweep ...`, true);
      try {
        const sw = await tfSweep(backend, tfPlan(backend), data, budget, 0.1, probe);
        results.rows.push(...sw.rows);
        results.skipped.push(...sw.skipped);
        results.peers[id] = sw.info;
        for (const r of sw.rows) log(`  H=${r.H}: train ${r.train!.ms.toFixed(1)} ms, forward ${r.forward!.ms.toFixed(1)} ms`, true);
        log(`TF.js ${backend} generation ...`, true);
        gens.push(await tfGeneration(backend, genH, quick ? 30 : backend === 'wasm' ? 300 : 100, 10, 3));
      } catch (e) {
        const msg = `TF.js ${backend}: failed (${(e as Error).message})`;
        log(msg, true);
        results.notes.push(msg);
      }
    }
  }

  // 4. brain.js
  if (want.has('brain')) {
    mark('before brain.js');
    const { loadBrain, brainSweep } = await import('./brainjs.js');
    const loaded = await loadBrain();
    if (!loaded.brain) {
      const msg = `brain.js: not installable here (${loaded.error})`;
      log(msg, true);
      results.notes.push(msg);
    } else {
      log(`brain.js ${loaded.version} sweep ...`, true);
      const plan: PlanEntry[] = Hs.map((H) => {
        if (quick) return { H, train: { warmup: 1, runs: 2 }, fwd: { warmup: 1, runs: 2 }, reduced: 'quick mode' };
        if (H >= 512) return { H, train: { warmup: 1, runs: 3 }, fwd: { warmup: 1, runs: 3 }, reduced: 'brain.js at H>=512: 1 warm-up + 3 timed, to fit the time budget' };
        return { H, train: { warmup: 2, runs: 5 }, fwd: { warmup: 2, runs: 5 } };
      });
      const sw = await brainSweep(loaded.brain, plan, data, budget, probe);
      results.rows.push(...sw.rows);
      results.skipped.push(...sw.skipped);
      results.peers.brain = { version: loaded.version, differences: BRAIN_DIFFERENCES };
      for (const r of sw.rows) log(`  H=${r.H}: train ${r.train!.ms.toFixed(0)} ms, forward ${r.forward!.ms.toFixed(0)} ms`, true);
      results.notes.push(...BRAIN_DIFFERENCES.map((d) => `brain.js: ${d}`));
    }
    results.notes.push('brain.js generation: not measured (its run() samples until its END token through its own data formatter; no per-token API comparable to model.step)');
  }
  results.generation.push(...gens);

  // 5. @lstm/wasm again, and the peak again: how much the machine drifted during the run
  if (!quick && want.size > 1) {
    mark('before the drift check');
    log('@lstm/wasm again (drift check) ...', true);
    results.oursEnd = await oursSweep(Hs, data, oTrain, oTrain);
    results.peakEnd = await measureSimdPeak(0.25, 5, [results.peak.accumulators]);
  }

  // 6. download sizes
  log('download sizes ...', true);
  const sizes = await downloadSizes({ tfjs: want.has('tfjs-wasm') || want.has('tfjs-cpu'), brain: want.has('brain') });
  results.downloads = sizes.downloads;
  results.notes.push(...sizes.errors);

  for (const s of PEERS) if (!want.has(s)) results.skipped.push(`${s}: not selected (--only)`);
  results.notes.push(
    'TF.js in Node: wasm backend with tfjs-backend-wasm-simd.wasm on one thread (the backend disables threads in Node); setWasmPaths points at the package\'s dist/ folder.',
    'Every system trains on the same token data (xorshift32, seed 7): B=32 streams of T+1 ids.',
  );
  results.elapsedSeconds = (performance.now() - started) / 1000;
  mark('at end');

  // ratios in the JSON, both ways
  const ratios: Record<string, unknown>[] = [];
  for (const r of results.rows) {
    if (!PEERS.includes(r.system)) continue;
    const o = results.rows.find((x) => x.system === 'ours' && x.H === r.H);
    if (!o) continue;
    const a = r.adjacentOurs;
    ratios.push({
      peer: r.system, H: r.H,
      trainSpeedup: ratio(r.train?.ms, a?.trainMs), forwardSpeedup: ratio(r.forward?.ms, a?.forwardMs),
      oursOverPeerTrain: ratio(a?.trainMs, r.train?.ms), oursOverPeerForward: ratio(a?.forwardMs, r.forward?.ms),
      againstStartOfRun: {
        trainSpeedup: ratio(r.train?.ms, o.train?.ms), forwardSpeedup: ratio(r.forward?.ms, o.forward?.ms),
      },
    });
  }

  const md = markdown(results);
  const svg = svgChart(results);
  const dir = values.out !== undefined ? pathToFileURL(path.resolve(values.out) + path.sep) : new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('latest.json', dir), JSON.stringify({ ...results, ratios }, null, 2) + '\n');
  writeFileSync(new URL('latest.md', dir), md);
  writeFileSync(new URL('latest.svg', dir), svg);
  log('');
  log(md);
  log(`wrote ${fileURLToPath(new URL('latest.json', dir))}, latest.md and latest.svg beside it`);
}

main().then(() => {
  // a threaded model's workers, or a peer's handles, must not keep the process alive
  setTimeout(() => process.exit(0), 3000).unref();
}).catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
