// Time-series forecasting: a recurrent model with a linear head and mean squared
// error on every step learns to predict the next value of a series; forecast()
// then runs it on its own predictions for `horizon` steps past the end of the
// training part, which are compared with the held-out truth.
import { createModel, type ModelConfig } from '@lstm/wasm';

type CellType = NonNullable<ModelConfig['cell']>;
import { Rng } from '@lstm/wasm';
import { ExampleError } from './csv.js';

export interface ForecastOptions {
  /** the whole series; its last `horizon` values are held out */
  series: Float64Array;
  horizon?: number;
  cell?: CellType;
  hidden?: number;
  layers?: number;
  /** training windows: steps per sequence and sequences per batch */
  window?: number;
  batch?: number;
  /** training steps (batches) */
  steps?: number;
  lr?: number;
  /** steps of the training part the model reads before forecasting */
  context?: number;
  seed?: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface ForecastResult {
  rmse: number;
  /** baselines: the last value repeated; the value one day (24 steps) earlier; the training mean */
  persistenceRmse: number;
  seasonalRmse: number;
  meanRmse: number;
  /** training loss (MSE of the standardised series) over the first and the last 10% of the steps */
  firstLoss: number;
  lastLoss: number;
  forecast: Float64Array;
  truth: Float64Array;
  seconds: number;
}

const rmseOf = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
};

export async function runForecast(o: ForecastOptions): Promise<ForecastResult> {
  const { series, horizon = 48, cell = 'gru', hidden = 32, layers = 1, window = 96, batch = 16, steps = 2000, lr = 5e-3,
    context = 96, seed = 1, threads = 1, log = () => {} } = o;
  const n = series.length, trainLen = n - horizon;
  if (trainLen < window + 2 || trainLen < context || trainLen < 24) {
    throw new ExampleError(`the series has ${n} values: too short to hold out ${horizon} and train on windows of ${window} with ${context} steps of context`);
  }
  // standardise with the training part's statistics
  let mean = 0, sq = 0;
  for (let i = 0; i < trainLen; i++) mean += series[i];
  mean /= trainLen;
  for (let i = 0; i < trainLen; i++) sq += (series[i] - mean) ** 2;
  const std = Math.sqrt(sq / trainLen) || 1;
  const z = Float32Array.from(series, (v) => (v - mean) / std);

  const model = await createModel({ inputSize: 1, hiddenSize: hidden, numLayers: layers, outputSize: 1, cell, loss: 'mse', seed, threads });
  const rng = new Rng(seed);
  const t0 = performance.now();
  const inputs = new Float32Array(window * batch), targets = new Float32Array(window * batch);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    for (let b = 0; b < batch; b++) {
      const s = Math.floor(rng.next() * (trainLen - window - 1));
      for (let t = 0; t < window; t++) { inputs[t * batch + b] = z[s + t]; targets[t * batch + b] = z[s + t + 1]; }
    }
    // step size down to a tenth over the run
    const rate = lr * (1 - 0.9 * (step / steps));
    losses.push(model.trainStep({ inputs, targets, seqLength: window, batchSize: batch }, { type: 'adam', lr: rate, clipNorm: 1 }));
    if ((step + 1) % Math.max(1, Math.floor(steps / 5)) === 0) log(`step ${step + 1}/${steps}: training MSE ${losses[step].toFixed(4)} (standardised)`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tenth = Math.max(1, Math.floor(steps / 10));
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

  const pred = model.forecast(z.slice(trainLen - context, trainLen), horizon);
  model.dispose();
  const forecast = Float64Array.from(pred, (v) => v * std + mean);
  const truth = series.slice(trainLen);
  const last = series[trainLen - 1];
  return {
    rmse: rmseOf(forecast, truth),
    persistenceRmse: rmseOf(new Float64Array(horizon).fill(last), truth),
    seasonalRmse: rmseOf(Float64Array.from({ length: horizon }, (_, i) => series[trainLen + (i % 24) - 24]), truth),
    meanRmse: rmseOf(new Float64Array(horizon).fill(mean), truth),
    firstLoss: avg(losses.slice(0, tenth)),
    lastLoss: avg(losses.slice(-tenth)),
    forecast, truth, seconds,
  };
}
