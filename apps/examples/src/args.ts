// --name value command-line options, checked against the names and kinds a script takes.
import { ExampleError } from './csv.js';

export type Spec = Record<string, 'number' | 'string'>;

export function parseArgs(argv: string[], spec: Spec): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      throw new ExampleError(`options: ${Object.entries(spec).map(([k, v]) => `--${k} <${v}>`).join(' ')}`);
    }
    if (!a.startsWith('--') || !(a.slice(2) in spec)) throw new ExampleError(`unknown option ${JSON.stringify(a)}; options are ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    const name = a.slice(2), v = argv[++i];
    if (v === undefined) throw new ExampleError(`option --${name} needs a value`);
    if (spec[name] === 'number') {
      if (v.trim() === '' || !Number.isFinite(Number(v))) throw new ExampleError(`option --${name} must be a number, got ${JSON.stringify(v)}`);
      out[name] = Number(v);
    } else out[name] = v;
  }
  return out;
}

/** Runs a CLI's main, printing an example's or the library's error message without a stack. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: Error) => {
    console.error(e.name === 'ExampleError' || e.name === 'LstmError' ? `error: ${e.message}` : e);
    process.exitCode = 1;
  });
}
