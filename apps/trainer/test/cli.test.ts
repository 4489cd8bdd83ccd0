// End-to-end tests: they spawn the built lstm-train CLI with node, as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, decodeCheckpoint } from '@lstm/wasm';

const BIN = fileURLToPath(new URL('../bin/lstm-train.js', import.meta.url));
let dir: string;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
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

  it('resumes exactly: the same losses and weights as the run that never stopped', () => {
    // 1,425 characters to train on: 22 batches of 4 x 16 per pass, so 60 steps cross two epoch boundaries
    const common = ['--data', 'small.txt', ...TINY, '--checkpoint-every', '20', '--lr', '0.01'];
    const whole = run([...common, '--out', 'whole', '--steps', '60']);
    expect(whole.code).toBe(0);
    const first = run([...common, '--out', 'part', '--steps', '40']);
    expect(first.code).toBe(0);
    const second = run(['--resume', join('part', 'model.ckpt'), '--steps', '60']);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('resuming');
    const a = csvRows(join(dir, 'whole', 'loss.csv')), b = csvRows(join(dir, 'part', 'loss.csv'));
    expect(b).toHaveLength(60);
    expect(b).toEqual(a); // every loss, bit for bit (full-precision decimals)
    const ca = decodeCheckpoint(readFileSync(join(dir, 'whole', 'model.ckpt')));
    const cb = decodeCheckpoint(readFileSync(join(dir, 'part', 'model.ckpt')));
    expect(cb.header.step).toBe(60);
    expect(cb.params).toEqual(ca.params);
    expect(cb.optimizer!.m).toEqual(ca.optimizer!.m);
    expect(cb.optimizer!.v).toEqual(ca.optimizer!.v);
    expect(cb.header.rng).toEqual(ca.header.rng);
    expect((cb.header as { batcher: { position: number } }).batcher.position).toBe(60);
  });

  it('Ctrl-C saves a checkpoint, exits, and the run resumes from it', async () => {
    const child = spawn(process.execPath, [BIN, '--data', 'text.txt', '--out', 'interrupted', ...TINY, '--eval-every', '5', '--steps', '1000000'], { cwd: dir });
    let stdout = '', stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const code = await new Promise<number | null>((resolveExit) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (/^step \d+\//m.test(stdout) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolveExit(c));
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/stopped at step (\d+); saved .*model\.ckpt\. Continue with: lstm-train --resume/);
    expect(readdirSync(join(dir, 'interrupted')).sort()).toEqual(['loss.csv', 'loss.svg', 'model.ckpt']);
    const ckpt = decodeCheckpoint(readFileSync(join(dir, 'interrupted', 'model.ckpt')));
    const step = ckpt.header.step;
    expect(step).toBeGreaterThan(0);
    expect(ckpt.header.interrupted).toBe(true);
    expect(csvRows(join(dir, 'interrupted', 'loss.csv'))).toHaveLength(step);
    const more = run(['--resume', join('interrupted', 'model.ckpt'), '--steps', String(step + 10)]);
    expect(more.code).toBe(0);
    expect(decodeCheckpoint(readFileSync(join(dir, 'interrupted', 'model.ckpt'))).header.step).toBe(step + 10);
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
