// One numeric column out of a CSV file: enough CSV for time series (comma
// separated, optional header, optional double quotes around a field).

/** Bad input to an example: the message names the file, line and column. */
export class ExampleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExampleError';
  }
}

function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

const isNumber = (s: string) => s !== '' && Number.isFinite(Number(s));

/**
 * The values of one column, in file order. `column` is a header name or a 0-based
 * index. The first line is a header when any of its fields is not a number (a
 * column given by name needs one). Blank lines are skipped; every other cell of the
 * column must be a finite number.
 */
export function readCsvColumn(text: string, column: string | number, file = 'the CSV'): Float64Array {
  const lines = text.split(/\r?\n/);
  let first = 0;
  while (first < lines.length && lines[first].trim() === '') first++;
  if (first === lines.length) throw new ExampleError(`${file} is empty`);
  const head = fields(lines[first]);
  const hasHeader = head.some((f) => !isNumber(f));
  let index: number;
  if (typeof column === 'number') {
    if (!Number.isInteger(column) || column < 0) throw new ExampleError(`column must be a header name or an index >= 0, got ${column}`);
    index = column;
  } else {
    if (!hasHeader) throw new ExampleError(`${file} has no header line, so column "${column}" cannot be found; give the column's index instead`);
    index = head.indexOf(column);
    if (index < 0) throw new ExampleError(`${file} has no column "${column}"; its columns are ${head.map((h) => `"${h}"`).join(', ')}`);
  }
  const name = hasHeader && index < head.length ? `"${head[index]}"` : `${index}`;
  const values: number[] = [];
  for (let i = hasHeader ? first + 1 : first; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const f = fields(lines[i]);
    if (index >= f.length) throw new ExampleError(`${file} line ${i + 1} has ${f.length} fields, so no column ${name}`);
    if (!isNumber(f[index])) throw new ExampleError(`${file} line ${i + 1}, column ${name}: ${JSON.stringify(f[index])} is not a number`);
    values.push(Number(f[index]));
  }
  if (values.length === 0) throw new ExampleError(`${file} has no data lines`);
  return Float64Array.from(values);
}
