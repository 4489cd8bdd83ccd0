// node dist/forecast-cli.js --data data/series.csv --column value [--horizon 48 --cell gru --hidden 32 --steps 600 ...]
import { readFileSync } from 'node:fs';
import type { ModelConfig } from '@lstm/wasm';
import { parseArgs, runMain } from './args.js';
import { ExampleError, readCsvColumn } from './csv.js';
import { runForecast } from './forecast.js';

runMain(async () => {
  const a = parseArgs(process.argv.slice(2), {
    data: 'string', column: 'string', horizon: 'number', cell: 'string', hidden: 'number', layers: 'number',
    window: 'number', batch: 'number', steps: 'number', lr: 'number', context: 'number', seed: 'number', threads: 'number',
  });
  if (a.data === undefined) throw new ExampleError('--data <file.csv> is required');
  const file = String(a.data);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new ExampleError(`cannot read ${file}: ${(e as Error).message}`); }
  const col = a.column === undefined ? 0 : /^\d+$/.test(String(a.column)) ? Number(a.column) : String(a.column);
  const series = readCsvColumn(text, col, file);
  const cell = (a.cell ?? 'gru') as ModelConfig['cell'];
  console.log(`${file}: ${series.length} values; ${cell} forecasting the last ${a.horizon ?? 48}`);
  const r = await runForecast({ ...a, series, cell, log: (s: string) => console.log(s) } as never);
  console.log(`trained in ${r.seconds.toFixed(1)} s; training MSE ${r.firstLoss.toFixed(4)} -> ${r.lastLoss.toFixed(4)} (standardised)`);
  console.log(`RMSE over the held-out ${r.truth.length} steps:`);
  console.log(`  ${cell} forecast (own predictions fed back)  ${r.rmse.toFixed(3)}`);
  console.log(`  repeat the last value                    ${r.persistenceRmse.toFixed(3)}`);
  console.log(`  repeat the last 24 steps (daily cycle)   ${r.seasonalRmse.toFixed(3)}`);
  console.log(`  training mean                            ${r.meanRmse.toFixed(3)}`);
});
