// The examples, run briefly: the CSV reader, the forecasting and the classification
// examples as library calls, and the CLIs as a user runs them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExampleError, readCsvColumn } from '../src/csv.js';
import { makeSeries } from '../src/data.js';
import { runForecast } from '../src/forecast.js';
import { runClassify } from '../src/classify.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function expectError(fn: () => unknown, pattern: RegExp) {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(ExampleError);
  expect((err as Error).message).toMatch(pattern);
}

describe('readCsvColumn', () => {
  it('reads a column by name or index, with or without a header, quoted fields and blank lines', () => {
    const text = 't,"value",note\n0,1.5,a\n\n1,-2e-1,"b, c"\r\n2, 3 ,d\n';
    expect(Array.from(readCsvColumn(text, 'value'))).toEqual([1.5, -0.2, 3]);
    expect(Array.from(readCsvColumn(text, 0))).toEqual([0, 1, 2]);
    expect(Array.from(readCsvColumn('4\n5\n6', 0))).toEqual([4, 5, 6]);
  });
  it('names the file, line and column of a cell that is not a number', () => {
    expectError(() => readCsvColumn('t,value\n0,1\n1,abc\n', 'value', 'x.csv'), /x.csv line 3, column "value": "abc" is not a number/);
    expectError(() => readCsvColumn('t,value\n0,1\n1,\n', 'value', 'x.csv'), /line 3, column "value": "" is not a number/);
    expectError(() => readCsvColumn('t,value\n0,1\n1,NaN\n', 'value', 'x.csv'), /"NaN" is not a number/);
  });
  it('rejects a missing column, short lines, empty files and names without a header', () => {
    expectError(() => readCsvColumn('t,value\n0,1\n', 'price', 'x.csv'), /x.csv has no column "price"; its columns are "t", "value"/);
    expectError(() => readCsvColumn('t,value\n0,1\n1\n', 'value', 'x.csv'), /x.csv line 3 has 1 fields, so no column "value"/);
    expectError(() => readCsvColumn('\n\n', 0, 'x.csv'), /x.csv is empty/);
    expectError(() => readCsvColumn('t,value\n', 'value', 'x.csv'), /x.csv has no data lines/);
    expectError(() => readCsvColumn('1,2\n3,4\n', 'value', 'x.csv'), /has no header line/);
  });
  it('the shipped data/series.csv is the generator\'s series', () => {
    const shipped = readCsvColumn(readFileSync(here('../data/series.csv'), 'utf8'), 'value');
    const made = makeSeries();
    expect(shipped.length).toBe(made.length);
    shipped.forEach((v, i) => expect(Math.abs(v - made[i])).toBeLessThanOrEqual(5e-5));
  });
});

describe('the examples, briefly', () => {
  it('forecast: a GRU trained for 600 steps beats the flat baselines on the held-out 48 steps', async () => {
    const series = readCsvColumn(readFileSync(here('../data/series.csv'), 'utf8'), 'value');
    const r = await runForecast({ series, steps: 600, window: 48 });
    expect(r.forecast.length).toBe(48);
    expect(r.lastLoss).toBeLessThan(r.firstLoss / 2);
    expect(r.rmse).toBeLessThan(r.persistenceRmse / 2);
    expect(r.rmse).toBeLessThan(r.meanRmse / 2);
  });
  it('classify: a GRU trained for 200 steps on variable-length waves is well above chance', async () => {
    const r = await runClassify({ steps: 200, testSize: 300 });
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
    expect(r.accuracy).toBeGreaterThan(0.55);
  });
});

describe('the command lines', () => {
  const run = (script: string, args: string[]) => spawnSync(process.execPath, [here(`../dist/${script}`), ...args], { encoding: 'utf8', timeout: 60_000 });
  it('forecast-cli reports the RMSE of the forecast and the baselines', () => {
    const r = run('forecast-cli.js', ['--data', here('../data/series.csv'), '--column', 'value', '--steps', '50', '--window', '32']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/RMSE over the held-out 48 steps/);
    expect(r.stdout).toMatch(/repeat the last 24 steps \(daily cycle\)\s+1\.\d+/);
  });
  it('forecast-cli: a CSV with a non-numeric cell, an unknown option, a bad number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lstm-examples-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'day,sales\n1,10\n2,eleven\n');
    let r = run('forecast-cli.js', ['--data', bad, '--column', 'sales']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: .*bad.csv line 3, column "sales": "eleven" is not a number/);
    r = run('forecast-cli.js', ['--data', bad, '--colum', 'sales']);
    expect(r.stderr).toMatch(/unknown option "--colum"/);
    r = run('forecast-cli.js', ['--data', here('../data/series.csv'), '--steps', 'many']);
    expect(r.stderr).toMatch(/option --steps must be a number, got "many"/);
    r = run('forecast-cli.js', ['--data', here('../data/series.csv'), '--cell', 'lstm2']);
    expect(r.stderr).toMatch(/error: createModel: cell must be one of lstm, gru, rnn, got "lstm2"/);
  });
  it('classify-cli prints the accuracy and the confusion matrix', () => {
    const r = run('classify-cli.js', ['--steps', '20', '--testSize', '60']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test accuracy \d+\.\d% \(chance 33\.3%\)/);
    expect(r.stdout).toMatch(/triangle\s+\d+\s+\d+\s+\d+/);
  });
});
