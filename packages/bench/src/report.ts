import {
  SYSTEMS, PEERS, SYSTEM_LABEL, fmtMs, fmtBytes, fmtX, trainFlops,
  type Row, type Generation, type SystemId,
} from './common.js';
import type { Download } from './sizes.js';
import type { PeakResult } from './peak.js';

export interface Results {
  date: string;
  mode: 'full' | 'quick';
  command: string;
  node: string;
  cpu: string;
  /** git revision of the library measured */
  revision?: string;
  loadavg: { at: string; value: string }[];
  workload: { V: number; T: number; B: number; H: number[]; flopModel: string };
  optimizer: Record<string, string>;
  peak: PeakResult;
  peakEnd?: PeakResult;
  rows: Row[];
  /** @lstm/wasm again at the end of the run, to show drift */
  oursEnd?: Row[];
  scaling: Row[];
  generation: Generation[];
  downloads: Download[];
  skipped: string[];
  notes: string[];
  peers: Record<string, unknown>;
  elapsedSeconds?: number;
}

function table(head: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${a.map((x) => (x === 'l' ? ':---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  return lines.join('\n');
}

function dlLabel(system: string): string {
  if (system === 'ours-core') return '@lstm/wasm, createModel only';
  return system === 'ours' ? '@lstm/wasm' : SYSTEM_LABEL[system as SystemId] ?? system;
}

/** Issue 5's targets, each with what this run measured and whether it is met. */
function targets(res: Results): string[] {
  const rows: (string | number)[][] = [];
  const met = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'yes' : '**no**');
  const trainMs = (s: SystemId, H: number) => find(res.rows, s, H)?.train?.ms;
  for (const H of [128, 256]) {
    const tf = find(res.rows, 'tfjs-wasm', H);
    const plain = ratio(tf?.train?.ms, tf?.adjacentOurs?.trainMs);
    const relaxed = ratio(tf?.train?.ms, trainMs('ours-relaxed', H));
    rows.push([`one thread >= 20x TF.js wasm, H=${H}`, `${fmtX(plain)} plain SIMD, ${fmtX(relaxed)} relaxed SIMD`,
      plain === undefined ? met(undefined) : `${met(plain >= 20)} plain, ${relaxed === undefined ? '-' : met(relaxed >= 20)} relaxed`]);
  }
  const brain = res.workload.H.map((H) => { const b = find(res.rows, 'brain', H); return ratio(b?.train?.ms, b?.adjacentOurs?.trainMs); })
    .filter((x): x is number => x !== undefined);
  rows.push(['one thread >= 50x brain.js (every H)', brain.length ? `${fmtX(Math.min(...brain))} at worst` : '-', met(brain.length ? Math.min(...brain) >= 50 : undefined)]);
  const g = find(res.rows, 'ours', 256)?.trainGflops;
  rows.push(['one thread at H=256 >= half the SIMD peak', g !== undefined ? `${g.toFixed(1)} of ${res.peak.gflops.toFixed(1)} GFLOP/s (${((100 * g) / res.peak.gflops).toFixed(0)}%)` : '-',
    met(g === undefined ? undefined : g >= res.peak.gflops / 2)]);
  const mt = find(res.rows, 'ours-mt', 256), one = trainMs('ours', 256);
  const sp = ratio(one, mt?.train?.ms);
  rows.push([`threads >= 1.8x one thread at H=256`, sp !== undefined ? `${fmtX(sp)} with ${mt?.threads} threads` : '-', met(sp === undefined ? undefined : sp >= 1.8)]);
  const gen = res.generation.find((x) => x.system === 'ours' && x.H === 256)?.tokensPerSecond;
  rows.push(['generation >= 25,000 tokens/s (B=1, H=256)', gen !== undefined ? `${Math.round(gen)}` : '-', met(gen === undefined ? undefined : gen >= 25000)]);
  const all = res.downloads.find((d) => d.system === 'ours'), core = res.downloads.find((d) => d.system === 'ours-core');
  const wasm = all?.parts.filter((p) => p.what.endsWith('.wasm')).reduce((m, p) => Math.max(m, p.raw), 0);
  rows.push(['wasm <= 32 KB', wasm ? `${wasm} bytes` : '-', met(wasm ? wasm <= 32000 : undefined)]);
  rows.push(['whole package <= 60 KB minified', [core ? `${core.raw} bytes for createModel only` : '', all ? `${all.raw} bytes for the whole public API` : ''].filter(Boolean).join(', ') || '-',
    met(core ? core.raw <= 60000 : undefined)]);
  return [table(['target (issue 5)', 'this run', 'met'], rows, ['l', 'l', 'l']),
    '', 'KB = 1,000 bytes. Plain SIMD ratios use the partner measurement taken right after TF.js; relaxed SIMD ones the relaxed sweep.'];
}

function label(r: Row): string {
  return r.system === 'ours-mt' ? `@lstm/wasm (${r.threads} threads)` : SYSTEM_LABEL[r.system];
}

function steps(r: Row): string {
  const t = r.train ? `${r.train.warmup}+${r.train.samples.length}` : '-';
  const f = r.forward ? `${r.forward.warmup}+${r.forward.samples.length}` : '-';
  return `${t} / ${f}${r.reduced ? ' (reduced)' : ''}`;
}

function find(rows: Row[], system: SystemId, H: number): Row | undefined {
  return rows.find((r) => r.system === system && r.H === H);
}

export function ratio(peer: number | undefined, ours: number | undefined): number | undefined {
  return peer !== undefined && ours !== undefined ? peer / ours : undefined;
}

/** The whole report as markdown (printed to the console as it is, and written to latest.md). */
export function markdown(res: Results): string {
  const out: string[] = [];
  const peak = res.peak.gflops;
  const Hs = res.workload.H;
  out.push(`# @lstm/bench: ${res.mode} run, ${res.date}`);
  out.push('');
  out.push(`Standard workload (BENCHMARK.md): character LM, V=${res.workload.V}, B=${res.workload.B}, T=${res.workload.T}, one LSTM layer of H + dense H->V + softmax cross-entropy. ` +
    `FLOP model: ${res.workload.flopModel}.`);
  out.push('');
  out.push(`- command: \`${res.command}\` in packages/bench (what \`pnpm bench\` runs after building; flags after \`pnpm bench --\`)`);
  out.push(`- machine: ${res.cpu}, Node ${res.node}`);
  if (res.revision) out.push(`- library measured: ${res.revision}`);
  for (const l of res.loadavg) out.push(`- /proc/loadavg ${l.at}: ${l.value}`);
  out.push(`- WebAssembly SIMD peak (one thread, ${res.peak.note}): **${peak.toFixed(1)} GFLOP/s** with ${res.peak.accumulators} accumulators ` +
    `(${res.peak.variants.map((v) => `${v.accumulators}: ${v.gflops.toFixed(1)}`).join(', ')})` +
    (res.peakEnd ? `; again at the end: ${res.peakEnd.gflops.toFixed(1)} GFLOP/s` : ''));
  for (const [k, v] of Object.entries(res.optimizer)) out.push(`- ${k}: ${v}`);
  out.push('');

  out.push('## Targets');
  out.push('');
  out.push(...targets(res));
  out.push('');

  out.push('## Training step and forward pass, all systems');
  out.push('');
  out.push('Median ms; steps = warm-up+timed for training / forward. GFLOP/s by the FLOP model; % peak = training GFLOP/s over the one-thread SIMD peak above ' +
    '(times the thread count for a threaded row). TF.js (both backends) and brain.js run on one thread.');
  out.push('');
  const main: (string | number)[][] = [];
  for (const H of Hs) {
    for (const s of SYSTEMS) {
      const r = find(res.rows, s, H);
      if (!r) continue;
      main.push([
        label(r), H, fmtMs(r.train?.ms), r.trainGflops?.toFixed(2) ?? '-',
        r.trainGflops !== undefined ? `${((100 * r.trainGflops) / (peak * (r.threads ?? 1))).toFixed(1)}%` : '-',
        fmtMs(r.forward?.ms), r.forwardGflops?.toFixed(2) ?? '-', fmtBytes(r.memoryBytes), steps(r),
      ]);
    }
  }
  out.push(table(['system', 'H', 'train ms/step', 'train GFLOP/s', '% peak', 'forward ms', 'fwd GFLOP/s', 'memory', 'steps'], main,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push('The FLOP model counts the one-hot input product (8*H*V per position forward); @lstm/wasm reads one weight row per token instead, ' +
    'so its model GFLOP/s can pass the measured peak at small H (above 100%) without the hardware doing that many operations.');
  out.push('');
  out.push('Memory: @lstm/wasm = wasm linear memory of the model (model.memoryBytes); TF.js wasm = the backend\'s emscripten heap after that H ' +
    '(it only grows, H runs in increasing order); TF.js cpu = peak tensor bytes during one training step (tf.profile); brain.js: not measured.');
  out.push('');

  out.push('## Ratios, pair by pair (peer ms / @lstm/wasm ms: how many times faster @lstm/wasm is, one thread each)');
  out.push('');
  out.push('@lstm/wasm is timed again (2+5 steps) right after each peer configuration, at the same H on the same data; ' +
    'these ratios use that partner measurement, so both sides saw about the same machine load.');
  out.push('');
  const peers = PEERS.filter((s) => res.rows.some((r) => r.system === s));
  const ratioTable = (partner: (r: Row) => { train?: number; fwd?: number }) => {
    const rows: (string | number)[][] = [];
    for (const H of Hs) {
      if (!peers.some((p) => find(res.rows, p, H))) continue;
      const cells: (string | number)[] = [H];
      for (const p of peers) {
        const r = find(res.rows, p, H);
        const o = r ? partner(r) : {};
        cells.push(fmtX(ratio(r?.train?.ms, o.train)), fmtX(ratio(r?.forward?.ms, o.fwd)));
      }
      rows.push(cells);
    }
    return table(['H', ...peers.flatMap((p) => [`vs ${SYSTEM_LABEL[p]} train`, 'forward'])], rows);
  };
  if (peers.length) {
    out.push(ratioTable((r) => ({ train: r.adjacentOurs?.trainMs, fwd: r.adjacentOurs?.forwardMs })));
    out.push('');
    out.push('The same against the @lstm/wasm sweep at the start of the run (the first table):');
    out.push('');
    out.push(ratioTable((r) => {
      const o = find(res.rows, 'ours', r.H);
      return { train: o?.train?.ms, fwd: o?.forward?.ms };
    }));
    out.push('');
    const partners = res.rows.filter((r) => r.adjacentOurs).map((r) => `${SYSTEM_LABEL[r.system]} H=${r.H}: ${fmtMs(r.adjacentOurs!.trainMs)} / ${fmtMs(r.adjacentOurs!.forwardMs)}`);
    out.push(`Partner @lstm/wasm times (train / forward ms): ${partners.join('; ')}.`);
    out.push('Ours/peer time (the inverse) is in latest.json. "-" = that peer was not run at that H (see Skipped).');
  } else {
    out.push('(no peers in this run)');
  }
  out.push('');

  const rx = res.rows.filter((r) => r.system === 'ours-relaxed');
  if (rx.length) {
    out.push('### @lstm/wasm, one thread, relaxed SIMD (fused multiply-add: what Chromium runs by default; Node 20 with --experimental-wasm-relaxed-simd)');
    out.push('');
    const cols = peers.map((p) => `vs ${SYSTEM_LABEL[p]} train`);
    out.push(table(['H', 'train ms', 'speedup over plain SIMD', 'forward ms', 'train GFLOP/s', ...cols],
      rx.map((r) => {
        const o = find(res.rows, 'ours', r.H);
        return [r.H, fmtMs(r.train?.ms), fmtX(ratio(o?.train?.ms, r.train?.ms)), fmtMs(r.forward?.ms), r.trainGflops?.toFixed(2) ?? '-',
          ...peers.map((p) => fmtX(ratio(find(res.rows, p, r.H)?.train?.ms, r.train?.ms)))];
      })));
    out.push('');
  }
  const mt = res.rows.filter((r) => r.system === 'ours-mt');
  if (mt.length) {
    out.push(`### @lstm/wasm with its default threads (${mt[0].threads} on this machine)`);
    out.push('');
    const cols = peers.map((p) => `vs ${SYSTEM_LABEL[p]} train`);
    out.push(table(['H', 'threads', 'train ms', 'speedup over 1 thread', 'forward ms', 'fwd speedup over 1 thread', ...cols],
      mt.map((r) => {
        const o = find(res.rows, 'ours', r.H);
        return [r.H, r.threads ?? '-', fmtMs(r.train?.ms), fmtX(ratio(o?.train?.ms, r.train?.ms)), fmtMs(r.forward?.ms), fmtX(ratio(o?.forward?.ms, r.forward?.ms)),
          ...peers.map((p) => fmtX(ratio(find(res.rows, p, r.H)?.train?.ms, r.train?.ms)))];
      })));
    out.push('');
    out.push('The ratios above this table are one thread against one thread; this table is what a user gets by default (the machine has 2 cores, shared).');
    out.push('');
  }

  if (res.oursEnd?.length) {
    out.push('### Drift check: @lstm/wasm re-measured at the end of the run');
    out.push('');
    out.push(table(['H', 'train ms (start)', 'train ms (end)', 'change', 'forward ms (start)', 'forward ms (end)'],
      res.oursEnd.map((e) => {
        const s = find(res.rows, 'ours', e.H);
        const ch = s?.train && e.train ? `${(((e.train.ms - s.train.ms) / s.train.ms) * 100).toFixed(1)}%` : '-';
        return [e.H, fmtMs(s?.train?.ms), fmtMs(e.train?.ms), ch, fmtMs(s?.forward?.ms), fmtMs(e.forward?.ms)];
      })));
    out.push('');
  }

  out.push('## Scaling of @lstm/wasm');
  out.push('');
  const oursRows = Hs.map((H) => find(res.rows, 'ours', H)).filter((r): r is Row => r !== undefined);
  if (oursRows.length > 1) {
    const base = oursRows[0];
    out.push(`With H (B=${res.workload.B}, T=${res.workload.T}): time relative to H=${base.H} against the FLOP model's ratio.`);
    out.push('');
    out.push(table(['H', 'train ms', 'time ratio', 'FLOP ratio', 'train GFLOP/s', 'forward ms', 'memory'],
      oursRows.map((r) => [r.H, fmtMs(r.train?.ms), (r.train!.ms / base.train!.ms).toFixed(2),
        (trainFlops(r.H) / trainFlops(base.H)).toFixed(2), r.trainGflops?.toFixed(2) ?? '-', fmtMs(r.forward?.ms), fmtBytes(r.memoryBytes)])));
    out.push('');
  }
  if (res.scaling.length) {
    const H = res.scaling[0].H;
    out.push(`With T and B at H=${H} (one fresh model per shape):`);
    out.push('');
    out.push(table(['T', 'B', 'train ms', 'us per char (B*T)', 'train GFLOP/s', 'forward ms', 'fwd GFLOP/s', 'memory', 'steps'],
      res.scaling.map((r) => [r.T, r.B, fmtMs(r.train?.ms), ((1000 * r.train!.ms) / (r.T * r.B)).toFixed(2), r.trainGflops?.toFixed(2) ?? '-',
        fmtMs(r.forward?.ms), r.forwardGflops?.toFixed(2) ?? '-', fmtBytes(r.memoryBytes), steps(r)])));
    out.push('');
  } else {
    out.push('T/B scaling: not run (quick mode or filtered out).');
    out.push('');
  }

  out.push('## Single-sequence generation (B=1, one token per call, state carried, sampling from the softmax in JS)');
  out.push('');
  if (res.generation.length) {
    const og = res.generation.find((g) => g.system === 'ours');
    out.push(table(['system', 'H', 'tokens/s (median)', 'tokens per run', 'runs', '@lstm/wasm speedup'],
      res.generation.map((g) => [SYSTEM_LABEL[g.system], g.H, g.tokensPerSecond.toFixed(0), g.tokens, g.runs.length,
        g.system === 'ours' ? '' : fmtX(og ? og.tokensPerSecond / g.tokensPerSecond : undefined)])));
  } else {
    out.push('(not run)');
  }
  out.push('');

  out.push('## What a browser downloads');
  out.push('');
  out.push(table(['system', 'raw', 'gzip -9', 'parts (raw / gzip)'],
    res.downloads.map((d) => [dlLabel(d.system), fmtBytes(d.raw), fmtBytes(d.gzip),
      d.parts.map((p) => `${p.notFetched ? '(not counted) ' : ''}${p.what}: ${fmtBytes(p.raw)} / ${fmtBytes(p.gzip)}`).join('; ')]),
    ['l', 'r', 'r', 'l']));
  const ours = res.downloads.find((d) => d.system === 'ours');
  if (ours) {
    const rs = res.downloads.filter((d) => !d.system.startsWith('ours')).map((d) => `${dlLabel(d.system)} ${fmtX(d.gzip / ours.gzip)}`);
    if (rs.length) out.push('', `gzip size relative to @lstm/wasm: ${rs.join(', ')}.`);
  }
  for (const d of res.downloads) if (d.note) out.push(`- ${dlLabel(d.system)}: ${d.note}`);
  out.push('');

  if (res.skipped.length) {
    out.push('## Skipped');
    out.push('');
    for (const s of res.skipped) out.push(`- ${s}`);
    out.push('');
  }
  if (res.notes.length) {
    out.push('## Notes');
    out.push('');
    for (const n of res.notes) out.push(`- ${n}`);
    out.push('');
  }
  if (res.elapsedSeconds !== undefined) out.push(`Run time: ${res.elapsedSeconds.toFixed(0)} s.`);
  return out.join('\n') + '\n';
}

const COLORS: Record<SystemId, string> = {
  ours: '#d62728',
  'ours-relaxed': '#e377c2',
  'ours-mt': '#9467bd',
  'tfjs-wasm': '#1f77b4',
  'tfjs-cpu': '#ff7f0e',
  brain: '#2ca02c',
};
const MARKERS: Record<SystemId, string> = { ours: 'circle', 'ours-relaxed': 'circle', 'ours-mt': 'circle', 'tfjs-wasm': 'square', 'tfjs-cpu': 'diamond', brain: 'triangle' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function marker(kind: string, x: number, y: number, color: string): string {
  const r = 5;
  switch (kind) {
    case 'square': return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case 'diamond': return `<path d="M${x.toFixed(1)},${(y - r - 1).toFixed(1)} L${(x + r + 1).toFixed(1)},${y.toFixed(1)} L${x.toFixed(1)},${(y + r + 1).toFixed(1)} L${(x - r - 1).toFixed(1)},${y.toFixed(1)} Z" fill="${color}"/>`;
    case 'triangle': return `<path d="M${x.toFixed(1)},${(y - r - 1).toFixed(1)} L${(x + r + 1).toFixed(1)},${(y + r).toFixed(1)} L${(x - r - 1).toFixed(1)},${(y + r).toFixed(1)} Z" fill="${color}"/>`;
    default: return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
  }
}

function msLabel(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  if (ms >= 1) return `${ms} ms`;
  return `${ms * 1000} µs`;
}

/** Training ms per step against H, every system, log y (and log2 x: H doubles per tick). */
export function svgChart(res: Results): string {
  const W = 900, Hh = 520;
  const m = { l: 80, r: 290, t: 60, b: 64 };
  const pw = W - m.l - m.r, ph = Hh - m.t - m.b;
  const series = SYSTEMS.map((s) => ({
    s,
    pts: res.rows.filter((r) => r.system === s && r.train).map((r) => ({ H: r.H, ms: r.train!.ms })).sort((a, b) => a.H - b.H),
  })).filter((x) => x.pts.length > 0);
  const all = series.flatMap((x) => x.pts);
  const Hs = [...new Set(res.workload.H)].sort((a, b) => a - b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="Helvetica, Arial, sans-serif" font-size="13">`);
  out.push(`<rect width="${W}" height="${Hh}" fill="#ffffff"/>`);
  out.push(`<text x="${m.l}" y="26" font-size="17" font-weight="bold">Training step time vs hidden size H (lower is better)</text>`);
  out.push(`<text x="${m.l}" y="46" fill="#555">V=${res.workload.V}, B=${res.workload.B}, T=${res.workload.T}; median ms per step; ${esc(res.mode)} run ${esc(res.date.slice(0, 10))}; ${esc(res.cpu)}</text>`);
  if (all.length === 0) {
    out.push(`<text x="${m.l}" y="${m.t + 40}">no data</text></svg>`);
    return out.join('\n') + '\n';
  }
  const lo = Math.floor(Math.log10(Math.min(...all.map((p) => p.ms))));
  const hi = Math.ceil(Math.log10(Math.max(...all.map((p) => p.ms))));
  const y0 = lo, y1 = Math.max(hi, lo + 1);
  const yOf = (ms: number) => m.t + ph - ((Math.log10(ms) - y0) / (y1 - y0)) * ph;
  const hMin = Math.min(...Hs), hMax = Math.max(...Hs);
  const span = Math.log2(hMax / hMin) || 1;
  const pad = 0.25;
  const xOf = (H: number) => (hMax === hMin ? m.l + pw / 2 : m.l + ((Math.log2(H / hMin) + pad) / (span + 2 * pad)) * pw);
  // grid: decades (solid) and 2x, 5x (dotted)
  for (let e = y0; e <= y1; e++) {
    const v = 10 ** e;
    const y = yOf(v);
    out.push(`<line x1="${m.l}" y1="${y.toFixed(1)}" x2="${m.l + pw}" y2="${y.toFixed(1)}" stroke="#bbb"/>`);
    out.push(`<text x="${m.l - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end">${msLabel(v)}</text>`);
    if (e < y1) {
      for (const k of [2, 5]) {
        const yk = yOf(k * v);
        out.push(`<line x1="${m.l}" y1="${yk.toFixed(1)}" x2="${m.l + pw}" y2="${yk.toFixed(1)}" stroke="#e3e3e3" stroke-dasharray="3,3"/>`);
        out.push(`<text x="${m.l - 8}" y="${(yk + 4).toFixed(1)}" text-anchor="end" fill="#888" font-size="11">${msLabel(k * v)}</text>`);
      }
    }
  }
  for (const H of Hs) {
    const x = xOf(H);
    out.push(`<line x1="${x.toFixed(1)}" y1="${m.t}" x2="${x.toFixed(1)}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${m.t + ph + 20}" text-anchor="middle">${H}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${Hh - 18}" text-anchor="middle">hidden size H (log scale)</text>`);
  out.push(`<text transform="translate(20,${m.t + ph / 2}) rotate(-90)" text-anchor="middle">ms per training step (log scale)</text>`);
  for (const { s, pts } of series) {
    const c = COLORS[s];
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${xOf(p.H).toFixed(1)},${yOf(p.ms).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2.5"/>`);
    for (const p of pts) out.push(marker(MARKERS[s], xOf(p.H), yOf(p.ms), c));
  }
  // legend, right of the plot, with each system's speed ratio at its largest common H
  const lx = m.l + pw + 18;
  let ly = m.t + 10;
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">system</text>`);
  out.push(`<text x="${lx}" y="${ly + 16}" fill="#555" font-size="11">ratios: training time vs @lstm/wasm, 1 thread</text>`);
  ly += 16;
  ly += 22;
  for (const { s, pts } of series) {
    const c = COLORS[s];
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 26}" y2="${ly - 4}" stroke="${c}" stroke-width="2.5"/>`);
    out.push(marker(MARKERS[s], lx + 13, ly - 4, c));
    const name = s === 'ours-mt' ? `@lstm/wasm (${res.rows.find((r) => r.system === s)?.threads ?? '?'} threads)` : SYSTEM_LABEL[s];
    out.push(`<text x="${lx + 34}" y="${ly}">${esc(name)}</text>`);
    if (PEERS.includes(s)) {
      const rs = pts.map((p) => {
        const pr = find(res.rows, s, p.H)!;
        const o = pr.adjacentOurs?.trainMs ?? find(res.rows, 'ours', p.H)?.train?.ms;
        return { H: p.H, r: ratio(pr.train!.ms, o) };
      }).filter((x): x is { H: number; r: number } => x.r !== undefined);
      if (rs.length) {
        const text = rs.length === 1 ? `${fmtX(rs[0].r)} slower at H=${rs[0].H}`
          : `${fmtX(rs[0].r)} slower at H=${rs[0].H}, ${fmtX(rs[rs.length - 1].r)} at H=${rs[rs.length - 1].H}`;
        out.push(`<text x="${lx + 34}" y="${ly + 16}" fill="#555" font-size="11">${esc(text)}</text>`);
        ly += 16;
      }
    }
    ly += 26;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
