// Writes data/series.csv (the series of the forecasting example) from its seed.
import { writeFileSync } from 'node:fs';
import { makeSeries } from './data.js';

const y = makeSeries();
const lines = ['t,value', ...Array.from(y, (v, t) => `${t},${v.toFixed(4)}`)];
const file = new URL('../data/series.csv', import.meta.url);
writeFileSync(file, lines.join('\n') + '\n');
console.log(`wrote data/series.csv (${y.length} rows)`);
