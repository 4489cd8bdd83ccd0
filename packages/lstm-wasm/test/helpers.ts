// Small helpers shared by the model tests.
import { expect } from 'vitest';
import { LstmError, type LstmModel } from '../dist/index.js';
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
