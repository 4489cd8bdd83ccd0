// The data the examples use, generated from fixed seeds.
import { Rng } from '@lstm/wasm';

/** A standard normal number (Box-Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng.next(), v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * The series shipped as data/series.csv: an hourly-looking signal with a slow trend,
 * a daily cycle (period 24), a weekly-ish one (period 7 * 24 / 8 = 21) and noise:
 *   y_t = 10 + 0.004 t + 3 sin(2 pi t / 24) + 1.5 sin(2 pi t / 21 + 1) + N(0, 0.3^2)
 */
export function makeSeries(n = 800, seed = 2024): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, (_, t) =>
    10 + 0.004 * t + 3 * Math.sin((2 * Math.PI * t) / 24) + 1.5 * Math.sin((2 * Math.PI * t) / 21 + 1) + 0.3 * gaussian(rng));
}

export const WAVE_CLASSES = ['sine', 'square', 'triangle'] as const;

/**
 * One sequence of the classification example: a sine, square or triangle wave of
 * random period (5 to 14 steps), phase and amplitude (0.5 to 1.5), with Gaussian noise
 * (0.15) and a random length in [minLength, maxLength].
 */
export function makeWave(rng: Rng, cls: number, minLength: number, maxLength: number): Float32Array {
  const len = minLength + Math.floor(rng.next() * (maxLength - minLength + 1));
  const period = rng.uniform(5, 14), phase = rng.next(), amp = rng.uniform(0.5, 1.5);
  return Float32Array.from({ length: len }, (_, t) => {
    const u = (t / period + phase) % 1; // position in the cycle, [0, 1)
    const wave = cls === 0 ? Math.sin(2 * Math.PI * u) : cls === 1 ? (u < 0.5 ? 1 : -1) : 1 - 4 * Math.abs(u - 0.5);
    return amp * wave + 0.15 * gaussian(rng);
  });
}
