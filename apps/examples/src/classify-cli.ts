// node dist/classify-cli.js [--cell gru --hidden 24 --steps 300 --batch 32 ...]
import type { ModelConfig } from '@lstm/wasm';
import { parseArgs, runMain } from './args.js';
import { runClassify } from './classify.js';
import { WAVE_CLASSES } from './data.js';

runMain(async () => {
  const a = parseArgs(process.argv.slice(2), {
    cell: 'string', hidden: 'number', steps: 'number', batch: 'number', minLength: 'number', maxLength: 'number',
    lr: 'number', testSize: 'number', seed: 'number', threads: 'number',
  });
  const cell = (a.cell ?? 'gru') as ModelConfig['cell'];
  console.log(`classifying noisy ${WAVE_CLASSES.join(' / ')} waves of ${a.minLength ?? 8} to ${a.maxLength ?? 40} steps with a ${cell}`);
  const r = await runClassify({ ...a, cell, log: (s: string) => console.log(s) } as never);
  console.log(`trained in ${r.seconds.toFixed(1)} s; training cross-entropy ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}`);
  console.log(`test accuracy ${(100 * r.accuracy).toFixed(1)}% (chance ${(100 / WAVE_CLASSES.length).toFixed(1)}%); confusion (rows: true class):`);
  r.confusion.forEach((row, i) => console.log(`  ${WAVE_CLASSES[i].padEnd(9)} ${row.map((c) => String(c).padStart(5)).join('')}`));
});
