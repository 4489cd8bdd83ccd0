// The built page in a real browser: Debian's Chromium driven by playwright-core,
// against `vite preview` of dist/ on a random loopback port. Every request that
// leaves that origin is blocked and counted, so this also checks that the page
// works offline.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { extname } from 'node:path';
import { createModel, decodeCheckpoint, encodeCheckpoint, modelToCheckpoint, softmax } from '@lstm/wasm';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(root, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let server: PreviewServer;
let context: BrowserContext;
let page: Page;
let origin: string;
// origins the page may load from; anything else is blocked and counted
const allowed: string[] = [];
let tmp: string;
const consoleErrors: string[] = [];
const offsite: string[] = [];
const wasmResponses: { url: string; type: string | null }[] = [];

/** The lstm-train command of the workspace (apps/trainer), run with this Node. */
function trainerBin(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@lstm/trainer/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(pkgPath), pkg.bin['lstm-train']);
}
async function lstmTrain(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [trainerBin(), ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return stdout;
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.html'))) await build({ root, logLevel: 'warn' });
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  mkdirSync(artifacts, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'lstm-web-test-'));
  server = await preview({ root, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
  origin = new URL(server.resolvedUrls!.local[0]).origin;
  allowed.push(origin);
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
    acceptDownloads: true,
  });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) && new URL(url).pathname.endsWith('.wasm')) {
      // the worker's fetch of the kernels: note what the server said it is
      const response = await route.fetch();
      wasmResponses.push({ url, type: response.headers()['content-type'] ?? null });
      return route.fulfill({ response });
    }
    if (allowed.some((o) => url.startsWith(o)) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    offsite.push(url);
    return route.abort();
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A plain static file server for dist/, without the cross-origin isolation headers. */
async function plainServer(dir: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };
  const srv = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/\/$/, '/index.html'));
    if (!path.startsWith(dir) || !existsSync(path)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  // a browser keeps connections alive: end them, or close() waits for them
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => { srv.close(() => ok()); srv.closeAllConnections(); }) };
}

// ---- helpers ----

const text = async (sel: string) => (await page.textContent(sel))?.trim() ?? '';
const num = async (sel: string) => Number((await text(sel)).replace(/,/g, ''));

/** Waits for the message box to show text matching `re`, returns the text, and dismisses it. */
async function expectMessage(re: RegExp): Promise<string> {
  await page.waitForFunction((src) => {
    const box = document.getElementById('message')!;
    return !box.hidden && new RegExp(src).test(document.getElementById('message-text')!.textContent ?? '');
  }, re.source, { timeout: 15_000 }).catch(async () => {
    throw new Error(`expected a message matching ${re}; the page shows ${JSON.stringify(await text('#message-text'))} (hidden: ${await page.isHidden('#message')})`);
  });
  const msg = await text('#message-text');
  await page.click('#message-close');
  return msg;
}

/** Clicks a corpus choice as a person would (the radio itself is hidden under its label). */
async function pickCorpus(id: 'sonnets' | 'names' | 'custom'): Promise<void> {
  await page.click(`label:has(#corpus-${id})`);
  expect(await page.isChecked(`#corpus-${id}`)).toBe(true);
}

async function setSettings(s: Partial<Record<'hidden' | 'layers' | 'seq' | 'batch' | 'lr', string>>): Promise<void> {
  for (const [id, v] of Object.entries(s)) await page.fill(`#${id}`, v);
}

async function waitForState(state: string): Promise<void> {
  await page.waitForSelector(`#status[data-state="${state}"]`, { timeout: 20_000 });
}

async function nextCharProbs(): Promise<{ probs: number[]; vocab: string[]; prompt: string }> {
  return page.$eval('#next-chars', (el) => ({
    probs: JSON.parse((el as HTMLElement).dataset.probs!), vocab: JSON.parse((el as HTMLElement).dataset.vocab!),
    prompt: (el as HTMLElement).dataset.prompt!,
  }));
}

/** Samples with the given prompt and waits for the result. */
async function sampleWith(prompt: string): Promise<void> {
  await page.fill('#prompt', prompt);
  await page.$eval('#next-chars', (el) => { delete (el as HTMLElement).dataset.prompt; });
  await page.click('#sample');
  await page.waitForFunction((p) => document.getElementById('next-chars')!.dataset.prompt === p, prompt, { timeout: 15_000 });
}

/** The next-character distribution of a checkpoint after a prompt, in Node, fed one character at a time. */
async function nodeNextProbs(bytes: Uint8Array, prompt: string): Promise<number[]> {
  const ckpt = decodeCheckpoint(bytes);
  const m = ckpt.header.model;
  const model = await createModel({ inputSize: m.inputSize, hiddenSize: m.hiddenSize, numLayers: m.numLayers, outputSize: m.outputSize });
  model.setFlatParameters(ckpt.params);
  model.resetState();
  let logits = new Float32Array(0);
  for (const ch of prompt) {
    const id = ckpt.header.vocab.indexOf(ch);
    expect(id, `prompt character ${JSON.stringify(ch)} in the vocabulary`).toBeGreaterThanOrEqual(0);
    logits = model.step([id]);
  }
  model.dispose();
  return Array.from(softmax(logits));
}

const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

// ---- the tests, in order, on one page ----

describe('browser demo', () => {
  it('loads offline, fetches the wasm as application/wasm, with no console errors', async () => {
    await page.goto(origin + '/');
    await waitForState('idle');
    expect(await text('#engine')).toMatch(/WebAssembly SIMD/);
    // vite preview serves the page cross-origin isolated: the threads build runs in the worker
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await text('#engine')).toMatch(/ [2-4] threads/);
    expect(await page.isEnabled('#start')).toBe(true);
    expect(await text('#text-info')).toMatch(/sonnets/i);
    expect(wasmResponses.length).toBeGreaterThan(0);
    expect(wasmResponses[0].type).toBe('application/wasm');
    expect(offsite).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('says what is wrong with bad text and absurd sizes, and starts nothing', async () => {
    await pickCorpus('custom');
    await page.fill('#text', '');
    await page.click('#start');
    expect(await expectMessage(/empty/i)).toMatch(/text is empty/);

    await page.fill('#text', 'To be, or not to be: that is the question.');
    await setSettings({ hidden: '16', layers: '1', seq: '16', batch: '8', lr: '0.01' });
    await page.click('#start');
    await page.waitForSelector('#message:not([hidden])');
    await page.screenshot({ path: join(artifacts, 'bad-input.png') });
    expect(await expectMessage(/too short/)).toMatch(/has 42 characters/);

    await pickCorpus('sonnets');
    await setSettings({ hidden: '100000' });
    await page.click('#start');
    expect(await expectMessage(/Hidden size/)).toMatch(/from 1 to 1024/);
    await setSettings({ hidden: '16', layers: '0' });
    await page.click('#start');
    await expectMessage(/Layers must be a whole number from 1 to 4/);
    await setSettings({ layers: '1', lr: '50' });
    await page.click('#start');
    await expectMessage(/Learning rate must be a number/);
    await setSettings({ lr: '0.01', batch: '2.5' });
    await page.click('#start');
    await expectMessage(/Batch size must be a whole number/);
    await setSettings({ hidden: '1024', layers: '4', seq: '512', batch: '512' });
    await page.click('#start');
    await expectMessage(/too large for a page/);
    await setSettings({ seq: '32', batch: '16' });
    await page.click('#start');
    await expectMessage(/million parameters/);

    // nothing was started by any of that
    expect(await page.getAttribute('#status', 'data-state')).toBe('idle');
  });

  it('rejects a file that is not a checkpoint, with a message', async () => {
    await page.setInputFiles('#load-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just some text, not a model\n') });
    expect(await expectMessage(/cannot be loaded/)).toMatch(/notes\.txt.*not a @lstm\/wasm checkpoint/);
    await page.setInputFiles('#load-file', { name: 'empty.ckpt', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) });
    await expectMessage(/empty\.ckpt.*empty/);
    expect(await page.getAttribute('#status', 'data-state')).toBe('idle');
  });

  it('trains in the worker: the displayed loss falls while the page stays responsive', async () => {
    await pickCorpus('sonnets');
    await setSettings({ hidden: '48', layers: '2', seq: '32', batch: '16', lr: '0.01' });
    await page.click('#start');
    await waitForState('training');
    // the first report: the loss of the untrained model is about ln(vocabulary size)
    await page.waitForFunction(() => document.getElementById('stat-loss')!.textContent !== '–', undefined, { timeout: 15_000 });
    const firstLoss = await num('#stat-loss');
    const vocab = new Set(await page.inputValue('#text')).size;
    expect(firstLoss).toBeGreaterThan(Math.log(vocab) * 0.75);
    await page.waitForFunction(() => Number(document.getElementById('stat-step')!.textContent!.replace(/,/g, '')) >= 400, undefined, { timeout: 60_000 });
    // the main thread answers promptly while the worker trains
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    expect(Date.now() - t0).toBeLessThan(1000);
    const laterLoss = await num('#stat-loss');
    expect(laterLoss).toBeLessThan(firstLoss - 0.8);
    expect(await num('#stat-speed')).toBeGreaterThan(0);
    const val = await num('#stat-val');
    expect(val).toBeGreaterThan(0);
    expect(val).toBeLessThan(firstLoss);
    const points = await page.$eval('#loss-chart', (c) => [Number((c as HTMLElement).dataset.trainPoints), Number((c as HTMLElement).dataset.valPoints)]);
    expect(points[0]).toBeGreaterThan(5);
    expect(points[1]).toBeGreaterThan(1);
    // a live sample arrived while training
    await page.waitForFunction(() => (document.querySelector('#sample-out .generated')?.textContent ?? '').length > 0, undefined, { timeout: 10_000 });
  });

  it('pauses, resumes and stops', async () => {
    await page.click('#pause');
    await waitForState('paused');
    const at = await num('#stat-step');
    await page.waitForTimeout(400);
    expect(await num('#stat-step')).toBe(at);
    await page.click('#resume');
    await waitForState('training');
    await page.waitForFunction((s) => Number(document.getElementById('stat-step')!.textContent!.replace(/,/g, '')) > s + 20, at, { timeout: 15_000 });
    await page.click('#stop');
    await waitForState('stopped');
    expect(await page.isEnabled('#resume')).toBe(true);
    expect(await page.isEnabled('#save')).toBe(true);
  });

  it('samples after a prompt, and names prompt characters the model never saw', async () => {
    await page.fill('#sample-length', '300');
    await sampleWith('Shall I ');
    const generated = await text('#sample-out .generated');
    const { probs, vocab } = await nextCharProbs();
    expect([...(await page.$eval('#sample-out .generated', (e) => e.textContent ?? ''))].length).toBe(300);
    for (const ch of generated) expect(vocab).toContain(ch);
    expect(probs.length).toBe(vocab.length);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(await page.$$eval('#next-chars li', (l) => l.length)).toBe(10);

    await page.fill('#prompt', 'Shall I ☃ compare');
    await page.click('#sample');
    expect(await expectMessage(/never saw/)).toMatch(/☃/);
    await page.fill('#sample-length', '0');
    await page.click('#sample');
    await expectMessage(/Sample length must be/);
    await page.fill('#sample-length', '120');
    // the worker still works after the bad requests
    await sampleWith('When ');
    expect([...(await page.$eval('#sample-out .generated', (e) => e.textContent ?? ''))].length).toBe(120);
  });

  it('shows the activation of a chosen cell over the text, and the gate saturation', async () => {
    const passage = await page.inputValue('#inspect-text');
    expect(passage.length).toBeGreaterThan(100);
    await page.click('#inspect');
    await page.waitForSelector('#activation span.c', { timeout: 15_000 });
    const spans = await page.$$eval('#activation span.c', (s) => s.map((e) => ({ bg: (e as HTMLElement).style.backgroundColor, v: Number((e as HTMLElement).dataset.v) })));
    expect(spans.length).toBe([...passage].length);
    expect(new Set(spans.map((s) => s.bg)).size).toBeGreaterThan(10);
    for (const s of spans) expect(Math.abs(s.v)).toBeLessThanOrEqual(1);
    // the TypeScript trace agrees with the kernels
    const caption = await text('.activation-caption');
    const diff = Number(/to ([0-9.e+-]+)$/.exec(caption)![1]);
    expect(diff).toBeLessThan(1e-3);

    // another cell and layer give other colours
    const before = spans.map((s) => s.bg).join();
    await page.selectOption('#layer', '1');
    await page.click('#cell-next');
    const after = await page.$$eval('#activation span.c', (s) => s.map((e) => (e as HTMLElement).style.backgroundColor).join());
    expect(after).not.toBe(before);
    expect(await page.getAttribute('#activation', 'data-layer')).toBe('1');

    // one scatter plot per gate, one dot per unit, and fractions that add up
    const panels = await page.$$eval('.sat-panel', (ps) => ps.map((p) => ({
      gate: (p as HTMLElement).dataset.gate, points: Number((p.querySelector('canvas') as HTMLElement).dataset.points),
      rows: [...p.querySelectorAll('tbody tr')].map((r) => [Number((r as HTMLElement).dataset.left), Number((r as HTMLElement).dataset.right)]),
    })));
    expect(panels.map((p) => p.gate)).toEqual(['input', 'forget', 'output']);
    for (const p of panels) {
      expect(p.points).toBe(48 * 2);
      expect(p.rows.length).toBe(2);
      for (const [l, r] of p.rows) { expect(l).toBeGreaterThanOrEqual(0); expect(r).toBeGreaterThanOrEqual(0); expect(l + r).toBeLessThanOrEqual(1); }
    }
    // a trained forget gate is open more often than shut (the paper's observation)
    const forget = panels[1].rows[0];
    expect(forget[1]).toBeGreaterThan(forget[0]);
  });

  it('screenshot of the trained page', async () => {
    await page.fill('#sample-length', '400');
    await sampleWith('Shall I ');
    await page.selectOption('#layer', '0');
    await page.click('#interesting .chip');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, 'trained.png'), fullPage: true });
    expect(readFileSync(join(artifacts, 'trained.png')).length).toBeGreaterThan(50_000);
  });

  it('names the characters of the text to look at that the model never saw', async () => {
    await page.fill('#inspect-text', 'Snowman: ☃');
    await page.click('#inspect');
    expect(await expectMessage(/never saw/)).toMatch(/☃/);
  });

  it('saves a checkpoint that decodes and that lstm-train samples from', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const path = join(tmp, 'page.ckpt');
    await download.saveAs(path);
    expect(download.suggestedFilename()).toMatch(/\.ckpt$/);
    const bytes = readFileSync(path);
    const ckpt = decodeCheckpoint(bytes);
    expect(ckpt.header.model).toMatchObject({ hiddenSize: 48, numLayers: 2 });
    expect(ckpt.header.step).toBe(await num('#stat-step'));
    expect(ckpt.optimizer).toBeDefined();

    // the CLI opens it: its greedy next character after the prompt is the page's most likely one
    await sampleWith('Shall I ');
    const { probs, vocab } = await nextCharProbs();
    const best = vocab[probs.indexOf(Math.max(...probs))];
    const out = await lstmTrain('sample', '--checkpoint', path, '--prompt', 'Shall I ', '--length', '1', '--temperature', '0');
    expect(out.replace(/\n$/, '')).toBe('Shall I ' + best);

    // and the page's probabilities are the checkpoint's, computed in Node
    expect(maxAbsDiff(probs, await nodeNextProbs(bytes, 'Shall I '))).toBeLessThan(2e-5);
  });

  it('loads a checkpoint written by lstm-train and gives its next-character probabilities', async () => {
    const dataPath = join(tmp, 'data.txt');
    const lines = ['abracadabra', 'banana bandana', 'cabana', 'abba', 'dada', 'bacaba'];
    writeFileSync(dataPath, Array.from({ length: 60 }, (_, i) => lines[i % lines.length]).join('\n') + '\n');
    const outDir = join(tmp, 'cli-run');
    await lstmTrain('--data', dataPath, '--out', outDir, '--steps', '40', '--hidden', '24', '--layers', '2',
      '--seq-length', '16', '--batch-size', '4', '--sample-every', '0', '--eval-every', '0', '--checkpoint-every', '0', '--seed', '3');
    const ckptPath = join(outDir, 'model.ckpt');
    const bytes = readFileSync(ckptPath);
    await page.fill('#inspect-text', ''); // (the page picks a passage when the box is empty)
    await page.setInputFiles('#load-file', { name: 'model.ckpt', mimeType: 'application/octet-stream', buffer: bytes });
    await waitForState('stopped');
    await page.waitForFunction(() => /model\.ckpt/.test(document.getElementById('model-info')!.textContent ?? ''));
    expect(await text('#model-info')).toMatch(/2 × LSTM\(24\)/);
    expect(await text('#model-info')).toMatch(/40 steps/);

    const prompt = 'banana ab';
    await sampleWith(prompt);
    const { probs, vocab } = await nextCharProbs();
    expect(vocab).toEqual(decodeCheckpoint(bytes).header.vocab);
    const want = await nodeNextProbs(bytes, prompt);
    expect(maxAbsDiff(probs, want)).toBeLessThan(2e-5);
    // the CLI's greedy choice after the prompt is the page's most likely character
    const out = await lstmTrain('sample', '--checkpoint', ckptPath, '--prompt', prompt, '--length', '1', '--temperature', '0');
    expect(out.replace(/\n$/, '')).toBe(prompt + vocab[probs.indexOf(Math.max(...probs))]);

    // the passage to look at was sonnet text; it becomes a sample in this model's characters, and the look inside works
    await page.waitForFunction((v) => [...(document.getElementById('inspect-text') as HTMLTextAreaElement).value].every((c) => v.includes(c)), vocab, { timeout: 10_000 });
    const passage = await page.inputValue('#inspect-text');
    await page.click('#inspect');
    await page.waitForFunction((n) => document.querySelectorAll('#activation span.c').length === n && document.getElementById('activation')!.dataset.cell !== undefined, [...passage].length, { timeout: 10_000 });
    expect(await page.$$eval('.sat-panel canvas', (cs) => cs.map((c) => Number((c as HTMLElement).dataset.points)))).toEqual([48, 48, 48]);

    // a prompt outside this model's vocabulary
    await page.fill('#prompt', 'Shall I');
    await page.click('#sample');
    await expectMessage(/never saw/);
  });

  it('rejects corrupt and truncated checkpoints and keeps the loaded model working', async () => {
    const good = readFileSync(join(tmp, 'cli-run', 'model.ckpt'));
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length >> 1] ^= 0x55;
    await page.setInputFiles('#load-file', { name: 'corrupt.ckpt', mimeType: 'application/octet-stream', buffer: corrupt });
    expect(await expectMessage(/corrupt\.ckpt/)).toMatch(/checksum|corrupt/);
    await page.setInputFiles('#load-file', { name: 'short.ckpt', mimeType: 'application/octet-stream', buffer: good.subarray(0, good.length - 100) });
    await expectMessage(/short\.ckpt.*truncated/);
    // a well-formed checkpoint of a model that is not on text
    const m = await createModel({ inputSize: 3, hiddenSize: 4, outputSize: 2 });
    const dense = encodeCheckpoint({ header: { model: m.config, vocab: [], optimizer: null, step: 0, rng: null }, params: m.getFlatParameters() });
    m.dispose();
    await page.setInputFiles('#load-file', { name: 'dense.ckpt', mimeType: 'application/octet-stream', buffer: Buffer.from(dense) });
    await expectMessage(/dense\.ckpt.*no vocabulary/);
    // a character model with a cell the page does not trace (peepholes)
    const g = await createModel({ inputSize: 3, hiddenSize: 4, outputSize: 3, peepholes: true });
    const peep = encodeCheckpoint(modelToCheckpoint(g, { vocab: ['a', 'b', 'c'] }));
    g.dispose();
    await page.setInputFiles('#load-file', { name: 'peep.ckpt', mimeType: 'application/octet-stream', buffer: Buffer.from(peep) });
    await expectMessage(/peep\.ckpt.*LSTM with peepholes.*LSTM, GRU or RNN cells only/);

    // the model loaded before is still there and answers
    expect(await text('#model-info')).toMatch(/2 × LSTM\(24\)/);
    await sampleWith('abba');
    expect((await nextCharProbs()).probs.length).toBeGreaterThan(3);
  });

  it('resumes training a loaded model, and refuses text with characters outside its vocabulary', async () => {
    // the sonnets have characters the CLI model never saw
    await pickCorpus('sonnets');
    await page.click('#resume');
    await expectMessage(/not in the vocabulary|never saw/);
    await pickCorpus('custom');
    await page.fill('#text', Array.from({ length: 80 }, () => 'abracadabra\nbanana bandana').join('\n'));
    await page.click('#resume');
    await waitForState('training');
    await page.waitForFunction(() => Number(document.getElementById('stat-step')!.textContent!.replace(/,/g, '')) > 60, undefined, { timeout: 15_000 });
    await page.click('#stop');
    await waitForState('stopped');
  });

  it('trains a GRU and a vanilla RNN, and looks inside them (GRU: reset and update gates; RNN: no gates)', async () => {
    await pickCorpus('sonnets');
    for (const [cell, label, gates] of [['gru', 'GRU', ['reset', 'update']], ['rnn', 'RNN', []]] as const) {
      await page.selectOption('#cellkind', cell);
      await setSettings({ hidden: '16', layers: '1', seq: '16', batch: '8', lr: '0.01' });
      await page.click('#start');
      await waitForState('training');
      await page.waitForFunction(() => Number(document.getElementById('stat-step')!.textContent!.replace(/,/g, '')) >= 30, undefined, { timeout: 30_000 });
      await page.click('#stop');
      await waitForState('stopped');
      expect(await text('#model-info')).toMatch(new RegExp(`1 × ${label}\\(16\\)`));
      await page.fill('#inspect-text', (await page.inputValue('#text')).slice(0, 300));
      await page.click('#inspect');
      await page.waitForFunction((c) => (document.querySelector('#activation') as HTMLElement | null)?.dataset.kind === c, cell, { timeout: 15_000 });
      const caption = await text('.activation-caption');
      expect(Number(/to ([0-9.e+-]+)$/.exec(caption)![1])).toBeLessThan(1e-3);
      const offered = await page.$$eval('#signal option', (os) => os.filter((o) => !(o as HTMLOptionElement).disabled).map((o) => (o as HTMLOptionElement).value));
      expect(offered).toEqual(['hidden', ...gates]);
      const panels = await page.$$eval('.sat-panel', (ps) => ps.map((p) => (p as HTMLElement).dataset.gate));
      expect(panels).toEqual([...gates]);
      if (gates.length === 0) expect(await text('.sat-none')).toMatch(/no gates/);
      await page.screenshot({ path: join(artifacts, `look-inside-${cell}.png`), fullPage: true });
      await sampleWith('the');
      expect((await nextCharProbs()).probs.length).toBeGreaterThan(3);
    }
    await page.selectOption('#cellkind', 'lstm');
  });

  it('served without cross-origin isolation, falls back to one thread and still trains', async () => {
    const plain = await plainServer(join(root, 'dist'));
    allowed.push(plain.origin);
    const p2 = await context.newPage();
    const errors: string[] = [];
    p2.on('pageerror', (e) => errors.push(e.message));
    p2.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    try {
      await p2.goto(plain.origin + '/');
      await p2.waitForSelector('#status[data-state="idle"]', { timeout: 20_000 });
      expect(await p2.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await p2.textContent('#engine')).toMatch(/· 1 thread/);
      await p2.fill('#hidden', '16');
      await p2.fill('#layers', '1');
      await p2.fill('#seq', '16');
      await p2.fill('#batch', '8');
      await p2.click('#start');
      await p2.waitForFunction(() => Number(document.getElementById('stat-step')!.textContent!.replace(/,/g, '')) >= 20, undefined, { timeout: 30_000 });
      expect(Number((await p2.textContent('#stat-loss'))!.trim())).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await p2.close();
      await plain.close();
    }
  });

  it('left no console errors and made no requests off the page origin', () => {
    expect(consoleErrors).toEqual([]);
    expect(offsite).toEqual([]);
  });
});
