// The page: controls, charts and views. Everything heavy runs in worker.ts.
import './style.css';
import { BUILTINS } from './corpus';
import { LAYER_COLORS, LossChart, drawSaturation } from './charts';
import type { CellKind, InspectResult, ModelInfo, Progress, Reply, Request, RunState, SampleResult, TrainSettings } from './protocol';
import { CELL_LABEL } from './protocol';
import { charCount, checkModelSize, checkSettings, checkText } from './validate';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
type Input = HTMLInputElement;

// ---- the worker and its requests ----

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

type Body<T> = T extends unknown ? Omit<T, 'id'> : never;
function request(msg: Body<Request>, transfer: Transferable[] = []): Promise<Reply> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id }, transfer);
  });
}

/** Sends a request; a failure is shown in the message box, never thrown at the caller. */
async function ask(msg: Body<Request>, transfer: Transferable[] = []): Promise<Reply | null> {
  try {
    return await request(msg, transfer);
  } catch (e) {
    showMessage((e as Error).message);
    return null;
  }
}

worker.onmessage = (ev: MessageEvent<Reply>) => {
  const r = ev.data;
  const id = 'id' in r ? r.id : undefined;
  if (id !== undefined && waiting.has(id)) {
    const w = waiting.get(id)!;
    waiting.delete(id);
    if (r.type === 'error') w.reject(new Error(r.message));
    else w.resolve(r);
    return;
  }
  switch (r.type) {
    case 'ready':
      $('engine').textContent = `WebAssembly SIMD${r.relaxed ? ' (relaxed, fused multiply-add)' : ''} · in a Web Worker · ` +
        (r.threads > 1 ? `${r.threads} threads` : '1 thread (serve the page cross-origin isolated for more)');
      setRunState('idle', null);
      break;
    case 'state': setRunState(r.state, r.model); break;
    case 'progress': onProgress(r.progress); break;
    case 'live-sample': if (($('live') as Input).checked) showSample(r.sample, true); break;
    case 'error': showMessage(r.message); break;
  }
};
worker.onerror = (ev) => {
  ev.preventDefault();
  showMessage(`The training worker failed to start: ${ev.message || 'unknown error'}. Reload the page.`);
  setRunState('idle', null, true);
};

// ---- messages ----

let messageTimer: number | undefined;
function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  const box = $('message');
  $('message-text').textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(messageTimer);
  if (kind === 'info') messageTimer = window.setTimeout(hideMessage, 4000);
}
function hideMessage(): void { $('message').hidden = true; }
$('message-close').addEventListener('click', hideMessage);

// ---- run state ----

let runState: RunState = 'idle';
let model: ModelInfo | null = null;
let lastStep = 0;

function setRunState(s: RunState, m: ModelInfo | null, broken = false): void {
  runState = s;
  model = m;
  const pill = $('status');
  pill.dataset.state = broken ? 'error' : s;
  pill.textContent = broken ? 'Worker failed' : { idle: 'No model', training: 'Training', paused: 'Paused', stopped: 'Ready' }[s];
  const has = m !== null && !broken;
  ($('start') as HTMLButtonElement).disabled = broken || s === 'training';
  ($('pause') as HTMLButtonElement).disabled = s !== 'training';
  ($('resume') as HTMLButtonElement).disabled = !has || s === 'training';
  ($('stop') as HTMLButtonElement).disabled = s !== 'training' && s !== 'paused';
  ($('save') as HTMLButtonElement).disabled = !has;
  ($('sample') as HTMLButtonElement).disabled = !has;
  ($('inspect') as HTMLButtonElement).disabled = !has;
  renderModelInfo();
}

function renderModelInfo(): void {
  const el = $('model-info');
  if (!model) { el.textContent = 'No model yet.'; return; }
  const shown = model.vocab.slice(0, 40).map((c) => (c === '\n' ? '↵' : c === ' ' ? '␣' : c)).join('');
  el.innerHTML = '';
  const line = (label: string, value: string) => {
    const d = document.createElement('div');
    const b = document.createElement('b');
    b.textContent = value;
    d.append(`${label}: `, b);
    el.append(d);
  };
  line('Model', `${model.numLayers} × ${CELL_LABEL[model.cell]}(${model.hiddenSize}) · ${model.parameterCount.toLocaleString('en')} parameters`);
  line('Vocabulary', `${model.vocab.length} characters`);
  line('Trained', `${model.step.toLocaleString('en')} steps`);
  line('From', model.source === 'new' ? 'this page' : model.source);
  const v = document.createElement('div');
  v.className = 'vocab';
  v.textContent = shown + (model.vocab.length > 40 ? '…' : '');
  v.title = 'the characters this model knows';
  el.append(v);
}

// ---- text ----

const textArea = $('text') as HTMLTextAreaElement;
let customText = '';

function corpusChoice(): string {
  return (document.querySelector('input[name="corpus"]:checked') as Input | null)?.value ?? 'custom';
}

/** A prompt that suits each built-in text, unless the person typed their own. */
const DEFAULT_PROMPTS: Record<string, string> = { sonnets: 'Shall I ', names: '' };
let promptTouched = false;
$('prompt').addEventListener('input', () => { promptTouched = true; });

function chooseCorpus(): void {
  const builtin = BUILTINS.find((c) => c.id === corpusChoice());
  if (builtin && !promptTouched) { ($('prompt') as Input).value = DEFAULT_PROMPTS[builtin.id] ?? ''; pushLive(); }
  if (builtin) {
    if (!textArea.readOnly) customText = textArea.value;
    textArea.value = builtin.text;
    textArea.readOnly = true;
  } else {
    textArea.readOnly = false;
    textArea.value = customText;
    textArea.placeholder = 'Paste or type the text to learn from: a few thousand characters or more.';
  }
  updateTextInfo();
}
function updateTextInfo(): void {
  const builtin = BUILTINS.find((c) => c.id === corpusChoice());
  const t = textArea.value;
  const distinct = new Set(t).size;
  $('text-info').textContent = `${builtin ? builtin.name + ' · ' : ''}${charCount(t).toLocaleString('en')} characters · ${distinct} distinct`;
}
for (const input of document.querySelectorAll<Input>('input[name="corpus"]')) {
  input.addEventListener('change', () => { chooseCorpus(); if (input.value === 'custom') textArea.focus(); });
}
textArea.addEventListener('input', updateTextInfo);
$('text-file').addEventListener('change', async (ev) => {
  const input = ev.target as Input;
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  if (file.size > 50 * 2 ** 20) { showMessage(`“${file.name}” is ${(file.size / 2 ** 20).toFixed(0)} MiB; this demo reads text files up to 50 MiB.`); return; }
  const text = await file.text();
  if (text.includes('\u0000')) { showMessage(`“${file.name}” does not look like a text file (it contains zero bytes).`); return; }
  ($('corpus-custom') as Input).checked = true;
  textArea.readOnly = true; // so chooseCorpus does not keep the old text
  customText = text;
  chooseCorpus();
});

// ---- settings and training controls ----

function readSettings(): TrainSettings {
  const num = (id: string) => {
    const raw = ($(id) as Input).value.trim();
    return raw === '' ? NaN : Number(raw);
  };
  const cell = ($('cellkind') as HTMLSelectElement).value as CellKind;
  return { cell, hiddenSize: num('hidden'), numLayers: num('layers'), seqLength: num('seq'), batchSize: num('batch'), lr: num('lr') };
}

/** The page's own checks, so a person reads what is wrong before the worker is bothered. */
function checkBeforeTraining(s: TrainSettings, text: string, fresh: boolean): string | null {
  const bad = checkSettings(s) ?? checkText(text, s);
  if (bad) return bad;
  return fresh ? checkModelSize(new Set(text).size, s) : null;
}

$('start').addEventListener('click', async () => {
  const s = readSettings();
  const bad = checkBeforeTraining(s, textArea.value, true);
  if (bad) { showMessage(bad); return; }
  hideMessage();
  resetProgress();
  const r = await ask({ type: 'start', text: textArea.value, settings: s, seed: (Math.random() * 2 ** 32) >>> 0 });
  if (r) { suggestInspectText(); }
});
$('pause').addEventListener('click', () => ask({ type: 'pause' }));
$('stop').addEventListener('click', () => ask({ type: 'stop' }));
$('resume').addEventListener('click', async () => {
  const s = readSettings();
  const bad = checkBeforeTraining(s, textArea.value, false);
  if (bad) { showMessage(bad); return; }
  hideMessage();
  await ask({ type: 'resume', text: textArea.value, settings: s });
});

// ---- progress ----

const chart = new LossChart($('loss-chart') as HTMLCanvasElement);
chart.draw();

function fmtTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

let speed = 0;
let best = { loss: Infinity, step: 0 };
function resetProgress(): void {
  chart.clear();
  lastStep = 0;
  speed = 0;
  best = { loss: Infinity, step: 0 };
  $('stat-best').textContent = '';
  $('overfit').hidden = true;
  for (const id of ['stat-step', 'stat-loss', 'stat-val', 'stat-speed', 'stat-time']) $(id).textContent = '–';
}
function onProgress(p: Progress): void {
  lastStep = p.step;
  $('stat-step').textContent = p.step.toLocaleString('en');
  if (Number.isFinite(p.lossAvg)) {
    $('stat-loss').textContent = p.lossAvg.toFixed(3);
    chart.addTrain({ step: p.step, loss: p.lossAvg });
  }
  if (p.valLoss !== undefined && Number.isFinite(p.valLoss)) {
    $('stat-val').textContent = p.valLoss.toFixed(3);
    chart.addVal({ step: p.step, loss: p.valLoss });
    if (p.valLoss < best.loss) best = { loss: p.valLoss, step: p.step };
    $('stat-best').textContent = `best ${best.loss.toFixed(3)} at step ${best.step.toLocaleString('en')}`;
    const note = $('overfit');
    const rising = p.valLoss > best.loss + 0.15 && p.step > best.step;
    note.hidden = !rising;
    if (rising) {
      note.textContent = `The validation loss has risen since step ${best.step.toLocaleString('en')} (best ${best.loss.toFixed(3)}) ` +
        'while the training loss keeps falling: the model is memorising this text instead of learning what generalises (overfitting). ' +
        'Stop here, or train on more text or a smaller model.';
    }
  }
  if (p.charsPerSec > 0) {
    speed = speed > 0 ? 0.8 * speed + 0.2 * p.charsPerSec : p.charsPerSec;
    $('stat-speed').textContent = Math.round(speed).toLocaleString('en');
  }
  $('stat-time').textContent = fmtTime(p.elapsedMs);
  if (model) { model.step = p.step; }
}

// ---- samples ----

const temperature = $('temperature') as Input;
function pushLive(): void {
  const live = ($('live') as Input).checked;
  void ask({ type: 'live', every: live ? 2500 : 0, prompt: ($('prompt') as Input).value, temperature: Number(temperature.value) });
}
temperature.addEventListener('input', () => { $('temperature-value').textContent = Number(temperature.value).toFixed(2); pushLive(); });
$('prompt').addEventListener('change', pushLive);
$('prompt').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !($('sample') as HTMLButtonElement).disabled) ($('sample') as HTMLButtonElement).click();
});
$('live').addEventListener('change', pushLive);

$('sample').addEventListener('click', async () => {
  const length = Number(($('sample-length') as Input).value);
  if (!Number.isInteger(length) || length < 1 || length > 5000) { showMessage(`Sample length must be a whole number from 1 to 5000 (got ${($('sample-length') as Input).value || 'nothing'}).`); return; }
  const r = await ask({
    type: 'sample', prompt: ($('prompt') as Input).value, temperature: Number(temperature.value), length,
    seed: (Math.random() * 2 ** 32) >>> 0,
  });
  if (r && r.type === 'sample') { hideMessage(); showSample(r.sample, false); }
});

function showSample(s: SampleResult, isLive: boolean): void {
  const out = $('sample-out');
  out.innerHTML = '';
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${isLive ? 'live sample' : 'sample'} at step ${lastStep.toLocaleString('en')} · temperature ${s.temperature.toFixed(2)}`;
  const p = document.createElement('span');
  p.className = 'prompt';
  p.textContent = s.prompt;
  const body = document.createElement('span');
  body.className = 'generated';
  body.textContent = s.text;
  out.append(meta, p, body);
  out.dataset.step = String(lastStep);
  showNext(s);
}

function showNext(s: SampleResult): void {
  const list = $('next-chars');
  list.innerHTML = '';
  list.dataset.prompt = s.prompt;
  list.dataset.probs = JSON.stringify(s.next);
  list.dataset.vocab = JSON.stringify(s.vocab);
  const order = s.next.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 10);
  const top = order[0]?.[0] ?? 1;
  for (const [p, i] of order) {
    const li = document.createElement('li');
    const ch = document.createElement('span');
    ch.className = 'ch';
    const c = s.vocab[i];
    ch.textContent = c === '\n' ? '↵' : c === ' ' ? '␣' : c === '\t' ? '⇥' : c;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${(100 * p) / top}%`;
    bar.append(fill);
    const pv = document.createElement('span');
    pv.className = 'p';
    pv.textContent = `${(100 * p).toFixed(1)}%`;
    li.append(ch, bar, pv);
    list.append(li);
  }
}

// ---- the look inside ----

let inspected: InspectResult | null = null;
const inspectText = $('inspect-text') as HTMLTextAreaElement;

/** A passage of the training text (from its held-out end) to look at, if the box is empty. */
function suggestInspectText(): void {
  if (inspectText.value.trim() !== '' && inspectText.dataset.auto !== '1') return;
  const chars = [...textArea.value];
  const start = Math.max(0, Math.floor(chars.length * 0.9));
  let passage = chars.slice(start, start + 420).join('');
  if (passage.length < 50) passage = chars.slice(0, 420).join('');
  inspectText.value = passage;
  inspectText.dataset.auto = '1';
}
inspectText.addEventListener('input', () => { inspectText.dataset.auto = '0'; });

$('inspect').addEventListener('click', async () => {
  if (inspectText.value.trim() === '') suggestInspectText();
  const r = await ask({ type: 'inspect', text: inspectText.value });
  if (r && r.type === 'inspect') {
    hideMessage();
    inspected = r.result;
    // offer the signals this cell has: tanh(c) and three gates (LSTM), two gates (GRU), h only (RNN)
    const signal = $('signal') as HTMLSelectElement;
    for (const opt of Array.from(signal.options)) {
      const has = opt.value === 'hidden' || (opt.value === 'cell' ? inspected.cell.length > 0 : inspected.gateNames.includes(opt.value));
      opt.hidden = !has;
      opt.disabled = !has;
    }
    if (signal.selectedOptions[0]?.disabled) signal.value = inspected.kind === 'lstm' ? 'cell' : 'hidden';
    const layerSel = $('layer') as HTMLSelectElement;
    const keep = Number(layerSel.value) || 0;
    layerSel.innerHTML = '';
    for (let l = 0; l < inspected.numLayers; l++) layerSel.add(new Option(`${l + 1} of ${inspected.numLayers}`, String(l)));
    layerSel.value = String(Math.min(keep, inspected.numLayers - 1));
    const cell = $('cell') as Input;
    cell.max = String(inspected.hiddenSize - 1);
    const ranked = rankCells(inspected, Number(layerSel.value));
    if (!(Number(cell.value) < inspected.hiddenSize) || cell.dataset.auto !== '0') cell.value = String(ranked[0] ?? 0);
    renderActivation();
    renderSaturation();
  }
});

function signalOf(r: InspectResult, layer: number): Float32Array {
  const sig = ($('signal') as HTMLSelectElement).value;
  if (sig === 'cell' && r.cell.length) return r.cell[layer];
  if (r.gates[layer][sig]) return r.gates[layer][sig];
  return r.hidden[layer];
}

/** Cells of a layer ordered by how much the chosen signal varies over the text (most first). */
function rankCells(r: InspectResult, layer: number): number[] {
  const a = signalOf(r, layer), H = r.hiddenSize, T = a.length / H;
  const score = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let m = 0, m2 = 0;
    for (let t = 0; t < T; t++) { const v = a[t * H + j]; m += v; m2 += v * v; }
    m /= T;
    score[j] = m2 / T - m * m;
  }
  return Array.from({ length: H }, (_, j) => j).sort((x, y) => score[y] - score[x]);
}

function colour(v: number, gate: boolean): string {
  // gates live in [0, 1]: shown on the same scale as 2v - 1
  const x = Math.max(-1, Math.min(1, gate ? 2 * v - 1 : v));
  const a = Math.abs(x) * 0.85;
  return x < 0 ? `rgba(var(--neg), ${a.toFixed(3)})` : `rgba(var(--pos), ${a.toFixed(3)})`;
}

function renderActivation(): void {
  const r = inspected;
  const box = $('activation');
  if (!r) return;
  const layer = Number(($('layer') as HTMLSelectElement).value) || 0;
  const cell = ($('cell') as Input);
  let j = Math.round(Number(cell.value));
  if (!Number.isFinite(j) || j < 0 || j >= r.hiddenSize) {
    showMessage(`Cell must be a whole number from 0 to ${r.hiddenSize - 1} (the layer has ${r.hiddenSize} cells).`);
    j = Math.max(0, Math.min(r.hiddenSize - 1, Number.isFinite(j) ? j : 0));
    cell.value = String(j);
  }
  const sig = ($('signal') as HTMLSelectElement).value;
  const gate = sig === 'input' || sig === 'forget' || sig === 'output';
  const a = signalOf(r, layer), H = r.hiddenSize;
  const frag = document.createDocumentFragment();
  let t = 0;
  for (const ch of r.text) {
    const v = a[t * H + j];
    const span = document.createElement('span');
    span.className = 'c';
    span.style.backgroundColor = colour(v, gate);
    if (Math.abs(gate ? 2 * v - 1 : v) > 0.65) span.style.color = '#fff';
    span.title = `${JSON.stringify(ch)} · ${v.toFixed(3)}`;
    span.dataset.v = v.toFixed(4);
    if (ch === '\n') {
      span.textContent = '↵';
      span.classList.add('nl');
      frag.append(span, '\n');
    } else {
      span.textContent = ch;
      frag.append(span);
    }
    t++;
  }
  box.innerHTML = '';
  box.append(frag);
  box.dataset.layer = String(layer);
  box.dataset.cell = String(j);
  box.dataset.kind = r.kind;
  const cap = document.createElement('div');
  cap.className = 'activation-caption';
  const names: Record<string, string> = {
    cell: 'cell state tanh(c)', hidden: 'hidden state h', input: 'input gate', forget: 'forget gate', output: 'output gate',
    reset: 'reset gate', update: 'update gate',
  };
  cap.textContent = `layer ${layer + 1}, cell ${j}: ${names[sig]} over ${t} characters · the TypeScript trace agrees with the wasm kernels' logits to ${r.checkDiff.toExponential(1)}`;
  box.append(cap);
  renderChips(layer, j);
}

function renderChips(layer: number, current: number): void {
  const r = inspected!;
  const chips = $('interesting');
  chips.innerHTML = '';
  const label = document.createElement('span');
  label.className = 'chips-label';
  label.textContent = 'Cells that vary most here:';
  chips.append(label);
  for (const j of rankCells(r, layer).slice(0, 10)) {
    const b = document.createElement('button');
    b.className = 'chip' + (j === current ? ' on' : '');
    b.textContent = String(j);
    b.addEventListener('click', () => { ($('cell') as Input).value = String(j); renderActivation(); });
    chips.append(b);
  }
}

function renderSaturation(): void {
  const r = inspected;
  const box = $('saturation');
  if (!r) return;
  box.innerHTML = '';
  if (r.gateNames.length === 0) {
    const p = document.createElement('p');
    p.className = 'sat-none';
    p.textContent = 'A vanilla RNN has no gates: h = tanh(W_ih x + W_hh h + b). Its hidden state is shown above.';
    box.append(p);
    return;
  }
  const plots: [HTMLCanvasElement, string][] = [];
  for (const gate of r.gateNames) {
    const panel = document.createElement('div');
    panel.className = 'sat-panel';
    panel.dataset.gate = gate;
    const h = document.createElement('h4');
    h.textContent = `${gate[0].toUpperCase()}${gate.slice(1)} gate`;
    const canvas = document.createElement('canvas');
    const table = document.createElement('table');
    table.className = 'sat-table';
    table.innerHTML = '<thead><tr><th>layer</th><th>&lt; 0.1</th><th>&gt; 0.9</th><th>neither</th></tr></thead>';
    const body = document.createElement('tbody');
    r.saturation.forEach((layer, l) => {
      const s = layer[gate];
      const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / a.length;
      const left = mean(s.left), right = mean(s.right);
      const tr = document.createElement('tr');
      const cells = [`${l + 1}`, pct(left), pct(right), pct(1 - left - right)];
      cells.forEach((c, k) => {
        const td = document.createElement('td');
        td.textContent = c;
        if (k === 0) { td.style.color = LAYER_COLORS[l % LAYER_COLORS.length]; td.style.fontWeight = '700'; }
        tr.append(td);
      });
      tr.dataset.left = String(left);
      tr.dataset.right = String(right);
      body.append(tr);
    });
    table.append(body);
    panel.append(h, canvas, table);
    box.append(panel);
    plots.push([canvas, gate]);
  }
  // drawn once all three panels are laid out, at their final size
  for (const [canvas, gate] of plots) drawSaturation(canvas, r.saturation.map((l) => l[gate]));
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

for (const id of ['layer', 'signal']) $(id).addEventListener('change', () => {
  if (!inspected) return;
  const ranked = rankCells(inspected, Number(($('layer') as HTMLSelectElement).value) || 0);
  if (($('cell') as Input).dataset.auto !== '0') ($('cell') as Input).value = String(ranked[0] ?? 0);
  renderActivation();
});
$('cell').addEventListener('change', () => { ($('cell') as Input).dataset.auto = '0'; renderActivation(); });
for (const [id, d] of [['cell-prev', -1], ['cell-next', 1]] as const) {
  $(id).addEventListener('click', () => {
    if (!inspected) return;
    const cell = $('cell') as Input;
    cell.dataset.auto = '0';
    cell.value = String((Number(cell.value) + d + inspected.hiddenSize) % inspected.hiddenSize);
    renderActivation();
  });
}
window.addEventListener('resize', () => { if (inspected) renderSaturation(); });

// ---- checkpoints ----

$('save').addEventListener('click', async () => {
  const r = await ask({ type: 'save' });
  if (r && r.type === 'saved') {
    const url = URL.createObjectURL(new Blob([r.bytes as BlobPart], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = r.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    showMessage(`Saved ${r.name} (${(r.bytes.length / 1024).toFixed(0)} KiB).`, 'info');
  }
});

$('load-file').addEventListener('change', async (ev) => {
  const input = ev.target as Input;
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  if (file.size > 512 * 2 ** 20) { showMessage(`“${file.name}” is ${(file.size / 2 ** 20).toFixed(0)} MiB; that is larger than any model this page runs.`); return; }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const r = await ask({ type: 'load', bytes, name: file.name }, [bytes.buffer]);
  if (r) {
    resetProgress();
    showMessage(`Loaded ${file.name}.`, 'info');
    if (model?.settings) {
      // show the model's sizes in the settings, so Resume continues with them
      const s = model.settings;
      ($('cellkind') as HTMLSelectElement).value = model.cell;
      ($('hidden') as Input).value = String(s.hiddenSize);
      ($('layers') as Input).value = String(s.numLayers);
      ($('seq') as Input).value = String(s.seqLength);
      ($('batch') as Input).value = String(s.batchSize);
      ($('lr') as Input).value = String(s.lr);
    }
    lastStep = model?.step ?? 0;
    $('stat-step').textContent = lastStep.toLocaleString('en');
    if (inspectText.value.trim() === '' || inspectText.dataset.auto === '1') suggestInspectText();
    await fitToVocabulary();
  }
});

/**
 * After loading a model trained on another text: a prompt the person did not type and a
 * passage picked for the look inside must use the model's characters. The passage then
 * becomes a sample of the model's own.
 */
async function fitToVocabulary(): Promise<void> {
  if (!model) return;
  const known = new Set(model.vocab);
  const fits = (t: string) => [...t].every((c) => known.has(c));
  const prompt = $('prompt') as Input;
  if (!promptTouched && !fits(prompt.value)) { prompt.value = ''; pushLive(); }
  if (inspectText.dataset.auto === '1' && !fits(inspectText.value)) {
    const r = await ask({ type: 'sample', prompt: '', temperature: 0.8, length: 400, seed: 1 });
    if (r && r.type === 'sample') { inspectText.value = r.sample.text; inspectText.dataset.auto = '1'; }
  }
}

// ---- start ----

chooseCorpus();
suggestInspectText();
pushLive();
