// Shared by the tests that compare with other tools (PyTorch, ONNX Runtime,
// TensorFlow.js): one tensor's largest difference relative to its largest
// value, an assertion on it, and a report of every comparison, printed at the end.
import { expect } from 'vitest';

/** float32 agreement after the same computation done another way */
export const REL_TOL = 1e-4;

export class Comparisons {
  readonly lines: string[] = [];
  constructor(private readonly width = 40) {}

  /** max|a - e| / max|e| (NaN counts as infinitely far), recorded in the report */
  rel(label: string, actual: ArrayLike<number> | number, expected: ArrayLike<number> | number): number {
    const a = typeof actual === 'number' ? [actual] : actual, e = typeof expected === 'number' ? [expected] : expected;
    expect(a.length, `${label}: length`).toBe(e.length);
    let d = 0, m = 0;
    for (let i = 0; i < e.length; i++) {
      const x = Math.abs(a[i] - e[i]);
      d = Number.isNaN(x) ? Infinity : Math.max(d, x);
      m = Math.max(m, Math.abs(e[i]));
    }
    const r = d / Math.max(m, 1e-30);
    this.lines.push(`  ${label.padEnd(this.width)} max|diff| ${d.toExponential(2).padStart(9)}  rel ${r.toExponential(2)}`);
    return r;
  }

  close(label: string, actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol = REL_TOL): void {
    const r = this.rel(label, actual, expected);
    expect(r, `${label}: relative difference ${r.toExponential(2)} over ${tol}`).toBeLessThanOrEqual(tol);
  }

  print(title: string): void {
    if (this.lines.length) console.log(`${title}:\n${this.lines.join('\n')}`);
  }
}

/** A small seeded generator of uniform numbers in [0, 1) for test data. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}
