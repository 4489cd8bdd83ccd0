// End-to-end tests: they spawn the built lstm-train CLI with node, as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, decodeCheckpoint, encodeCheckpoint, parameterSpecs } from '@lstm/wasm';

const BIN = fileURLToPath(new URL('../bin/lstm-train.js', import.meta.url));
let dir: string;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As run, without waiting: several runs share the two cores. */
function runAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/**
 * Starts a run and sends it `signal` once it reports a step of at least `after` (a plain progress
 * line, at every validation): the step it stops at is wherever the signal happens to land.
 */
function runAndStop(args: string[], signal: NodeJS.Signals, after: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stdout = '', stderr = '', sent = false;
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && [...stdout.matchAll(/^step (\d+)\//gm)].some((m) => Number(m[1]) >= after)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('close', (code, sig) => resolveRun({ code, signal: sig, stdout, stderr }));
  });
}

/** The samples a run printed during training: step -> text. */
function samples(stdout: string): Map<number, string> {
  return new Map([...stdout.matchAll(/^--- sample at step (\d+) [^\n]*---\n([\s\S]*?)\n---$/gm)].map((m) => [Number(m[1]), m[2]]));
}

type TrainHeader = { step: number; interrupted: boolean; batcher: { position: number }; carriedState: { h: string; c: string } };
const header = (ckpt: ReturnType<typeof decodeCheckpoint>) => ckpt.header as unknown as TrainHeader;

/** The parts of two final checkpoints that decide how training goes on: all equal, bit for bit. */
function expectSameTraining(path: string, reference: string) {
  const a = decodeCheckpoint(readFileSync(join(dir, path)));
  const b = decodeCheckpoint(readFileSync(join(dir, reference)));
  expect(a.header.step).toBe(b.header.step);
  expect(a.params).toEqual(b.params);
  expect(a.optimizer!.m).toEqual(b.optimizer!.m);
  expect(a.optimizer!.v).toEqual(b.optimizer!.v);
  expect(a.header.rng).toEqual(b.header.rng);
  expect(header(a).batcher).toEqual(header(b).batcher);
  expect(header(a).carriedState).toEqual(header(b).carriedState);
}

/** The carried state saved in a checkpoint, as float32 values. */
function carriedOf(path: string): { h: Float32Array; c: Float32Array } {
  const { h, c } = header(decodeCheckpoint(readFileSync(join(dir, path)))).carriedState;
  const floats = (s: string) => { const b = Buffer.from(s, 'base64'); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };
  return { h: floats(h), c: floats(c) };
}

/** A small text with structure to learn: sentences of a few words, from a fixed seed. */
function makeText(chars: number): string {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'to', 'big', 'red', 'hat', 'and', 'then', 'slept'];
  let x = 12345, out = '';
  while (out.length < chars) {
    const n = 3 + (x % 4);
    const s: string[] = [];
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      s.push(words[(x >>> 8) % words.length]);
    }
    out += s.join(' ') + '.\n';
  }
  return out;
}

// tiny sizes: every run takes well under a second of training
const TINY = ['--hidden', '24', '--batch-size', '4', '--seq-length', '16', '--sample-every', '0', '--eval-every', '10'];

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
}

/** Every file under the folder with its bytes, to prove nothing changed. */
function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(folder)) out[f] = readFileSync(join(folder, f)).toString('base64');
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lstm-train-test-'));
  writeFileSync(join(dir, 'text.txt'), makeText(6000));
  writeFileSync(join(dir, 'small.txt'), makeText(1500));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lstm-train', () => {
  it('--help shows every option', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const o of ['--data', '--out', '--steps', '--cell', '--hidden', '--layers', '--seq-length', '--batch-size', '--lr', '--optimizer',
      '--clip', '--seed', '--val-fraction', '--sample-every', '--checkpoint-every', '--resume']) {
      expect(r.stdout).toContain(o);
    }
    const s = run(['sample', '--help']);
    for (const o of ['--checkpoint', '--prompt', '--length', '--temperature', '--top-k', '--seed']) expect(s.stdout).toContain(o);
  });

  it('trains: the loss falls, and it writes the checkpoint, the curves and samples', () => {
    const r = run(['--data', 'text.txt', '--out', 'short', ...TINY, '--steps', '150', '--lr', '0.01', '--sample-every', '75', '--sample-length', '40']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(join(dir, 'short')).sort();
    expect(files).toEqual(['loss.csv', 'loss.svg', 'model.ckpt']); // no temporary files left
    const rows = csvRows(join(dir, 'short', 'loss.csv'));
    expect(rows).toHaveLength(150);
    const val = rows.filter((row) => row[3] !== '').map((row) => Number(row[3]));
    expect(val.length).toBe(15);
    expect(val[val.length - 1]).toBeLessThan(val[0] - 0.5);
    const firstTrain = Number(rows[0][1]), lastSmooth = Number(rows[149][2]);
    expect(lastSmooth).toBeLessThan(firstTrain - 1);
    // plain progress lines (stdout is not a terminal), samples and the summary
    expect(r.stdout).toMatch(/^step 150\/150 \| loss \d+\.\d+ bpc \| val \d+\.\d+ bpc \| [\d,]+ char\/s \| ETA/m);
    expect(r.stdout).toContain('--- sample at step 75');
    expect(r.stdout).toMatch(/validation \d+\.\d+ bits\/char/);
    const svg = readFileSync(join(dir, 'short', 'loss.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('validation');
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    const ckpt = decodeCheckpoint(readFileSync(join(dir, 'short', 'model.ckpt')));
    expect(ckpt.header.step).toBe(150);
    expect(ckpt.header.model.hiddenSize).toBe(24);
    expect(ckpt.header.vocab.join('')).toBe([...new Set(makeText(6000))].sort().join(''));
    expect(ckpt.header.optimizer).toMatchObject({ type: 'adam', step: 150 });
  });

  // 1,425 characters to train on: 22 batches of 4 x 16 per pass, so 60 steps cross two pass boundaries
  // and the stops at steps 40 and 30 are in the middle of a pass, where the carried state matters (and are
  // validation steps, as the end of a run is)
  for (const [cell, layers, stop] of [['lstm', '1', 40], ['gru', '2', 30]] as const) {
    it(`resumes exactly from a checkpoint (${cell}, ${layers} layer(s)): the same losses and weights as the run that never stopped`, () => {
      const common = ['--data', 'small.txt', ...TINY, '--cell', cell, '--layers', layers, '--lr', '0.01'];
      // the unbroken run writes no checkpoint before the end: writing them does not change the training
      const whole = run([...common, '--out', `whole-${cell}`, '--steps', '60', '--checkpoint-every', '0']);
      expect(whole.code).toBe(0);
      const first = run([...common, '--out', `part-${cell}`, '--steps', String(stop), '--checkpoint-every', '20']);
      expect(first.code).toBe(0);
      const saved = carriedOf(join(`part-${cell}`, 'model.ckpt'));
      expect(saved.h).toHaveLength(Number(layers) * 4 * 24);
      expect(saved.c).toHaveLength(cell === 'lstm' ? Number(layers) * 4 * 24 : 0);
      expect(saved.h.some((v) => v !== 0)).toBe(true);
      const second = run(['--resume', join(`part-${cell}`, 'model.ckpt'), '--steps', '60']);
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('resuming');
      expect(second.stdout).not.toContain('no carried state');
      const a = csvRows(join(dir, `whole-${cell}`, 'loss.csv')), b = csvRows(join(dir, `part-${cell}`, 'loss.csv'));
      expect(b).toHaveLength(60);
      expect(b).toEqual(a); // every loss, bit for bit (full-precision decimals)
      expectSameTraining(join(`part-${cell}`, 'model.ckpt'), join(`whole-${cell}`, 'model.ckpt'));
      expect(header(decodeCheckpoint(readFileSync(join(dir, `part-${cell}`, 'model.ckpt')))).batcher.position).toBe(60);
    });
  }

  it('Ctrl-C at any step, or a crash after a periodic checkpoint, resumes bit for bit', async () => {
    // 5,700 characters to train on: 89 batches of 4 x 16 per pass. Validation every 5 steps (a progress
    // line each time), a sample every 9 (it draws from the run's random stream), a checkpoint every 7.
    const common = ['--data', 'text.txt', ...TINY, '--eval-every', '5', '--sample-every', '9', '--sample-length', '12', '--lr', '0.01'];
    const [int, crash] = await Promise.all([
      runAndStop([...common, '--out', 'ctrl-c', '--checkpoint-every', '7', '--steps', '1000000'], 'SIGINT', 30),
      runAndStop([...common, '--out', 'crash', '--checkpoint-every', '7', '--steps', '1000000'], 'SIGKILL', 30),
    ]);

    // Ctrl-C: the step it was on finishes, then the checkpoint, the curves, exit 130
    expect(int.code).toBe(130);
    expect(int.stderr).toMatch(/stopped at step (\d+); saved .*model\.ckpt\. Continue with: lstm-train --resume/);
    expect(readdirSync(join(dir, 'ctrl-c')).sort()).toEqual(['loss.csv', 'loss.svg', 'model.ckpt']);
    const intCkpt = decodeCheckpoint(readFileSync(join(dir, 'ctrl-c', 'model.ckpt')));
    const intStep = intCkpt.header.step;
    expect(header(intCkpt).interrupted).toBe(true);
    expect(intStep).toBeGreaterThanOrEqual(30);
    expect(csvRows(join(dir, 'ctrl-c', 'loss.csv'))).toHaveLength(intStep);
    expect(carriedOf(join('ctrl-c', 'model.ckpt')).h.some((v) => v !== 0)).toBe(true);

    // killed outright: what is left is the last periodic checkpoint (never a half-written one)
    expect(crash.signal).toBe('SIGKILL');
    const crashCkpt = decodeCheckpoint(readFileSync(join(dir, 'crash', 'model.ckpt')));
    const crashStep = crashCkpt.header.step;
    expect(header(crashCkpt).interrupted).toBe(false);
    expect(crashStep % 7).toBe(0);
    expect(crashStep).toBeGreaterThanOrEqual(28);

    // both go on to the same total, past the end of the first pass; the reference run never stops and
    // writes no checkpoint before its end
    const total = Math.max(intStep, crashStep, 89) + 16;
    const [moreInt, moreCrash, whole] = await Promise.all([
      runAsync(['--resume', join('ctrl-c', 'model.ckpt'), '--steps', String(total)]),
      runAsync(['--resume', join('crash', 'model.ckpt'), '--steps', String(total)]),
      runAsync([...common, '--out', 'unbroken', '--checkpoint-every', '0', '--steps', String(total)]),
    ]);
    for (const r of [moreInt, moreCrash, whole]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const reference = csvRows(join(dir, 'unbroken', 'loss.csv'));
    expect(reference).toHaveLength(total);
    expect(csvRows(join(dir, 'ctrl-c', 'loss.csv'))).toEqual(reference);
    expect(csvRows(join(dir, 'crash', 'loss.csv'))).toEqual(reference);
    expectSameTraining(join('ctrl-c', 'model.ckpt'), join('unbroken', 'model.ckpt'));
    expectSameTraining(join('crash', 'model.ckpt'), join('unbroken', 'model.ckpt'));
    // the samples printed after resuming are the unbroken run's too
    const all = samples(whole.stdout);
    for (const [r, from] of [[moreInt, intStep], [moreCrash, crashStep]] as const) {
      const printed = samples(r.stdout);
      expect(printed.size).toBe(Math.floor(total / 9) - Math.floor(from / 9));
      for (const [step, text] of printed) expect(text).toBe(all.get(step));
    }
  });

  it('sampling and validation leave the carried training state alone, even on its shape (--batch-size 1 --seq-length 1)', () => {
    // 1,000 characters, 2 held out: validation then runs on batch 1 x 1 too, as sampling always does
    writeFileSync(join(dir, 'thousand.txt'), makeText(1000).slice(0, 1000));
    const common = ['--data', 'thousand.txt', '--hidden', '16', '--batch-size', '1', '--seq-length', '1', '--val-fraction', '0.0025', '--steps', '60', '--checkpoint-every', '0'];
    const busy = run([...common, '--out', 'busy', '--eval-every', '4', '--sample-every', '3', '--sample-length', '5']);
    const quiet = run([...common, '--out', 'quiet', '--eval-every', '0', '--sample-every', '0']);
    expect(busy.code).toBe(0);
    expect(quiet.code).toBe(0);
    expect(busy.stdout).toContain('998 to train on, 2 for validation');
    expect(samples(busy.stdout).size).toBe(20);
    const a = csvRows(join(dir, 'busy', 'loss.csv')), b = csvRows(join(dir, 'quiet', 'loss.csv'));
    expect(a.filter((row) => row[3] !== '')).toHaveLength(15);
    // the training losses (and so the weights) are the same with or without the validations and samples
    expect(a.map((row) => row.slice(0, 3))).toEqual(b.map((row) => row.slice(0, 3)));
    const ca = decodeCheckpoint(readFileSync(join(dir, 'busy', 'model.ckpt'))), cb = decodeCheckpoint(readFileSync(join(dir, 'quiet', 'model.ckpt')));
    expect(ca.params).toEqual(cb.params);
    expect(header(ca).carriedState).toEqual(header(cb).carriedState);
  });

  it('resumes a checkpoint without a carried state (an older lstm-train) from a zero state, and says so', () => {
    expect(run(['--data', 'small.txt', ...TINY, '--out', 'older', '--steps', '20']).code).toBe(0);
    const path = join(dir, 'older', 'model.ckpt');
    const ckpt = decodeCheckpoint(readFileSync(path));
    delete (ckpt.header as Record<string, unknown>).carriedState;
    writeFileSync(path, encodeCheckpoint(ckpt));
    const r = run(['--resume', join('older', 'model.ckpt'), '--steps', '25']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('note: the checkpoint has no carried state (an older lstm-train wrote it)');
    expect(csvRows(join(dir, 'older', 'loss.csv'))).toHaveLength(25);
  });

  it('samples: the prompt first, the length asked, the same text for the same seed', () => {
    const ckpt = join('short', 'model.ckpt');
    const a = run(['sample', '--checkpoint', ckpt, '--prompt', 'the ', '--length', '80', '--seed', '5']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const text = a.stdout.replace(/\n$/, '');
    expect(text.startsWith('the ')).toBe(true);
    expect([...text]).toHaveLength(84);
    expect(run(['sample', '--checkpoint', ckpt, '--prompt', 'the ', '--length', '80', '--seed', '5']).stdout).toBe(a.stdout);
    expect(run(['sample', '--checkpoint', ckpt, '--prompt', 'the ', '--length', '80', '--seed', '6']).stdout).not.toBe(a.stdout);
    // the trained model writes the words it saw, mostly
    const words = text.split(/[\s.]+/).filter(Boolean);
    const known = new Set(makeText(6000).split(/[\s.]+/));
    expect(words.filter((w) => known.has(w)).length / words.length).toBeGreaterThan(0.5);
    const greedy = run(['sample', '--checkpoint', ckpt, '--length', '30', '--temperature', '0', '--seed', '1']);
    const greedy2 = run(['sample', '--checkpoint', ckpt, '--length', '30', '--temperature', '0', '--seed', '2']);
    expect(greedy.stdout).toBe(greedy2.stdout);
  });

  it('a reader that stops early (lstm-train sample | head) ends the command quietly', async () => {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [BIN, 'sample', '--checkpoint', join('short', 'model.ckpt'), '--length', '200000'], { cwd: dir });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (c) => done({ code: c, stderr: err }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('a run that diverges', () => {
  it('stops at a non-finite loss with one line on stderr, and keeps the last good checkpoint', () => {
    expect(run(['--data', 'text.txt', '--out', 'diverge', ...TINY, '--steps', '10']).code).toBe(0);
    const path = join(dir, 'diverge', 'model.ckpt');
    // head weights at the edge of float32 (still finite, so they load): the next logits overflow
    const ckpt = decodeCheckpoint(readFileSync(path));
    const spec = parameterSpecs({ L: ckpt.header.model.numLayers, X: ckpt.header.model.inputSize, H: ckpt.header.model.hiddenSize, V: ckpt.header.model.outputSize })
      .find((t) => t.name === 'head.weight')!;
    ckpt.params.fill(3e38, spec.offset, spec.offset + spec.length);
    writeFileSync(path, encodeCheckpoint(ckpt));
    const saved = readFileSync(path);
    const r = run(['--resume', join('diverge', 'model.ckpt'), '--steps', '20']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // the first step's loss may still be finite (large logits that cancel); the update then overflows
    expect(r.stderr).toMatch(/training diverged at step 1[12] \(the loss is (NaN|-?Infinity)\); try a lower --lr or a --clip value \(the last checkpoint is kept\)/);
    expect(readFileSync(path)).toEqual(saved);
  });
});

describe('bad input: one line on stderr, non-zero exit, nothing overwritten', () => {
  let guarded: string;
  let before: Record<string, string>;

  beforeAll(() => {
    // a finished run whose files must survive every bad call aimed at it
    expect(run(['--data', 'text.txt', '--out', 'guarded', ...TINY, '--steps', '20']).code).toBe(0);
    guarded = join(dir, 'guarded');
    before = snapshot(guarded);
    writeFileSync(join(dir, 'empty.txt'), '');
    writeFileSync(join(dir, 'short.txt'), 'just a few words\n');
    writeFileSync(join(dir, 'binary.bin'), Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    mkdirSync(join(dir, 'folder'), { recursive: true });
    const good = readFileSync(join(guarded, 'model.ckpt'));
    writeFileSync(join(dir, 'truncated.ckpt'), good.subarray(0, Math.floor(good.length / 2)));
    const corrupt = Uint8Array.from(good);
    corrupt[corrupt.length - 100] ^= 0x40;
    writeFileSync(join(dir, 'corrupt.ckpt'), corrupt);
    const v2 = Uint8Array.from(good);
    const dv = new DataView(v2.buffer);
    dv.setUint32(8, 2, true);
    dv.setUint32(v2.length - 4, crc32(v2.subarray(0, v2.length - 4)), true);
    writeFileSync(join(dir, 'v2.ckpt'), v2);
    copyFileSync(join(dir, 'text.txt'), join(dir, 'not-a-checkpoint.ckpt'));
    const damaged = decodeCheckpoint(good);
    header(damaged).carriedState.h = 'AAAA';
    writeFileSync(join(dir, 'damaged-carry.ckpt'), encodeCheckpoint(damaged));
    // a run whose text file is gone by the time it is resumed
    copyFileSync(join(dir, 'small.txt'), join(dir, 'gone.txt'));
    expect(run(['--data', 'gone.txt', '--out', 'orphan', ...TINY, '--steps', '5']).code).toBe(0);
    rmSync(join(dir, 'gone.txt'));
  });

  const cases: [string, () => string[], RegExp][] = [
    ['a missing file', () => ['--data', 'nope.txt'], /cannot read --data "nope.txt": no such file; check the path/],
    ['a folder as the data file', () => ['--data', 'folder'], /--data "folder" is a folder; give a UTF-8 text file/],
    ['an empty file', () => ['--data', 'empty.txt'], /--data "empty.txt" is empty/],
    ['a file shorter than one batch', () => ['--data', 'short.txt'], /has \d+ characters to train on.*fewer than the \d+ .*one batch needs; use a longer text or smaller --batch-size/],
    ['binary data', () => ['--data', 'binary.bin'], /--data "binary.bin" is not UTF-8 text \(invalid byte 0x[0-9a-f]{2} at offset \d+\); give a UTF-8 text file/],
    ['a non-numeric option', () => ['--data', 'text.txt', '--steps', 'lots'], /option '--steps <n>' argument 'lots' is invalid\. It must be an integer from 1 to/],
    ['an out-of-range option', () => ['--data', 'text.txt', '--val-fraction', '0.9'], /argument '0\.9' is invalid\. It must be a number from 0 to 0\.5/],
    ['a zero hidden size', () => ['--data', 'text.txt', '--hidden', '0'], /'--hidden <n>' argument '0' is invalid/],
    ['a negative learning rate', () => ['--data', 'text.txt', '--lr', '-0.1'], /'--lr <x>' argument '-0\.1' is invalid/],
    ['an unknown optimizer', () => ['--data', 'text.txt', '--optimizer', 'lion'], /Allowed choices are adam, adamw, sgd, rmsprop, adagrad/],
    ['an unknown option', () => ['--data', 'text.txt', '--hiden', '5'], /unknown option '--hiden'. Run lstm-train --help/],
    ['a fresh run over an existing checkpoint', () => ['--data', 'text.txt'], /model\.ckpt" already exists; continue it with --resume/],
    ['a truncated checkpoint', () => ['--resume', 'truncated.ckpt'], /cannot use --resume "truncated.ckpt": the checkpoint is truncated: \d+ bytes of the \d+/],
    ['a corrupt checkpoint', () => ['--resume', 'corrupt.ckpt'], /cannot use --resume "corrupt.ckpt": checksum mismatch/],
    ['a checkpoint of another format version', () => ['--resume', 'v2.ckpt'], /format version 2, this reader knows 1/],
    ['a file that is not a checkpoint', () => ['--resume', 'not-a-checkpoint.ckpt'], /not a @lstm\/wasm checkpoint/],
    ['a missing checkpoint', () => ['--resume', 'missing.ckpt'], /cannot read --resume "missing.ckpt": no such file/],
    ['a checkpoint with a damaged carried state', () => ['--resume', 'damaged-carry.ckpt', '--steps', '40'], /--resume "damaged-carry.ckpt" has a damaged carried state \(it should be 96 float32 values per tensor, for 1 layer\(s\) x batch 4 x hidden 24\)/],
    ['changing the model when resuming', () => ['--resume', join('guarded', 'model.ckpt'), '--hidden', '32', '--steps', '40'], /--hidden 32 differs from the checkpoint's 24/],
    ['resuming a finished run without more steps', () => ['--resume', join('guarded', 'model.ckpt')], /already at step 20 of 20; pass --steps/],
    ['resuming when the text file is gone', () => ['--resume', join('orphan', 'model.ckpt'), '--steps', '10'], /the text file the checkpoint was trained on is not usable \(cannot read --data ".*gone\.txt": no such file\); pass --data with that text/],
    ['resuming on other text', () => ['--resume', join('guarded', 'model.ckpt'), '--data', 'short.txt', '--steps', '40'], /not the text the checkpoint was trained on/],
    ['sampling a truncated checkpoint', () => ['sample', '--checkpoint', 'truncated.ckpt'], /cannot use --checkpoint "truncated.ckpt": the checkpoint is truncated/],
    ['sampling a checkpoint of another version', () => ['sample', '--checkpoint', 'v2.ckpt'], /format version 2/],
    ['a prompt outside the vocabulary', () => ['sample', '--checkpoint', join('guarded', 'model.ckpt'), '--prompt', 'the Zebra'], /the --prompt has character 'Z' \(U\+005A\) at position 4, which is not in the vocabulary .*; use only characters the model was trained on/],
    ['a bad temperature', () => ['sample', '--checkpoint', join('guarded', 'model.ckpt'), '--temperature', 'hot'], /'--temperature <x>' argument 'hot' is invalid/],
  ];

  for (const [what, args, message] of cases) {
    it(what, () => {
      const extra = args()[0] === 'sample' ? [] : ['--out', 'guarded', ...TINY];
      const r = run([...extra, ...args()]);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^lstm-train: /);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
      expect(snapshot(guarded)).toEqual(before);
    });
  }

  it('no bad call left any file behind', () => {
    expect(existsSync(join(dir, 'runs'))).toBe(false);
    expect(readdirSync(guarded).sort()).toEqual(['loss.csv', 'loss.svg', 'model.ckpt']);
  });
});
