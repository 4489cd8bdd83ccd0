// Small helpers shared by the model tests.
import { expect } from 'vitest';
import { LstmError, type Batch, type GradientResult, type LstmModel } from '../dist/index.js';
import { randn } from '../../kernels/test/harness';

/** Throws an LstmError whose message matches `pattern`. */
export function expectError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, `expected an error matching ${pattern}`).toBeInstanceOf(LstmError);
  expect((err as Error).message).toMatch(pattern);
}

/** The same for an async call (createModel). */
export async function expectRejection(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  let err: unknown;
  try { await promise; } catch (e) { err = e; }
  expect(err, `expected an error matching ${pattern}`).toBeInstanceOf(LstmError);
  expect((err as Error).message).toMatch(pattern);
}

/**
 * Seeded weights of about +-0.5 in every tensor: that keeps the gates away from
 * saturation, so every path carries gradient (what gradient checks need).
 */
export function randomizeWeights(m: LstmModel): LstmModel {
  const p = m.getParameters();
  let k = 0;
  for (const name of Object.keys(p)) p[name] = randn(p[name].length, 1000 + 17 * k++, 0.5);
  m.setParameters(p);
  return m;
}

/**
 * Checks the analytic gradients `r` of `batch` against float32 central
 * differences of the model's own loss: a few entries of every parameter tensor,
 * of dense inputs and of the initial state (c0 only for an LSTM). eps = 1e-2
 * keeps rounding noise (about 1e-7 * loss / eps) near 2e-5 while truncation error
 * stays near 1e-4 relative; an entry passes when |fd - analytic| <= 3e-5 +
 * 1e-2 |analytic|. Each ratio of the two sides goes to `seen` (for a report).
 * Returns how many analytic gradients were well above the noise floor (> 1e-3).
 */
export function expectFiniteDifferences(m: LstmModel, batch: Batch, r: GradientResult, lstm: boolean, seen?: (ratio: number) => void): number {
  const eps = 1e-2;
  const check = (what: string, j: number, fd: number, an: number) => {
    const ratio = Math.abs(fd - an) / (3e-5 + 1e-2 * Math.abs(an));
    seen?.(ratio);
    expect(ratio, `${what}[${j}]: finite difference ${fd}, analytic ${an}`).toBeLessThanOrEqual(1);
  };
  const lossOf = (b: Batch) => m.forward(b).loss!;
  const P = m.getParameters();
  let large = 0;
  for (const name of Object.keys(P)) {
    const n = P[name].length;
    for (const j of new Set([0, n - 1, Math.floor(n / 2), Math.floor(n / 3), Math.floor((2 * n) / 3)])) {
      const q = { ...P, [name]: P[name].slice() };
      q[name][j] = P[name][j] + eps; m.setParameters(q); const lp = lossOf(batch);
      q[name][j] = P[name][j] - eps; m.setParameters(q); const lm = lossOf(batch);
      m.setParameters(P);
      check(name, j, (lp - lm) / (2 * eps), r.grads[name][j]);
      if (Math.abs(r.grads[name][j]) > 1e-3) large++;
    }
  }
  const perturb = (what: string, base: Float32Array, grad: Float32Array, make: (x: Float32Array) => Batch) => {
    for (const j of new Set([0, base.length - 1, Math.floor(base.length / 2)])) {
      const x = base.slice();
      x[j] = base[j] + eps; const lp = lossOf(make(x));
      x[j] = base[j] - eps; const lm = lossOf(make(x));
      check(what, j, (lp - lm) / (2 * eps), grad[j]);
    }
  };
  if (batch.inputs) perturb('inputs', batch.inputs, r.inputGrad!, (x) => ({ ...batch, inputs: x }));
  const n = r.initialStateGrad.h.length;
  const h = batch.initialState?.h ?? new Float32Array(n);
  const c = batch.initialState?.c ?? new Float32Array(n);
  const state = (hh: Float32Array, cc: Float32Array) => (lstm ? { h: hh, c: cc } : { h: hh });
  perturb('h0', h, r.initialStateGrad.h, (x) => ({ ...batch, initialState: state(x, c) }));
  if (lstm) perturb('c0', c, r.initialStateGrad.c, (x) => ({ ...batch, initialState: state(h, x) }));
  return large;
}
