// Bad input for the options of issue 7: cells, peepholes, losses, lengths, step() on
// dense input and forecast(). Every case throws an LstmError naming the problem and
// leaves the model usable.
import { describe, it, expect, beforeAll } from 'vitest';
import { createModel, LstmError, type LstmModel, type Batch } from '../dist/index.js';
import { expectError, expectRejection } from './helpers';


const X = 3, H = 5, V = 2, T = 4, B = 3;
const base = { inputSize: X, hiddenSize: H, outputSize: V };

describe('createModel rejects options that do not go together', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown cell', { ...base, cell: 'lstmx' }, /cell must be one of lstm, gru, rnn, got "lstmx"/],
    ['peepholes on a GRU', { ...base, cell: 'gru', peepholes: true }, /peepholes are an option of the LSTM cell only, not of cell 'gru'/],
    ['peepholes on an RNN', { ...base, cell: 'rnn', peepholes: true }, /peepholes .* not of cell 'rnn'/],
    ['peepholes as a string', { ...base, peepholes: 'yes' }, /peepholes must be true or false, got "yes"/],
    ['an unknown loss', { ...base, loss: 'mae' }, /loss must be one of crossEntropy, mse, mseLast, crossEntropyLast, got "mae"/],
    ['forgetBias on a GRU', { ...base, cell: 'gru', forgetBias: 1 }, /forgetBias .* cell 'gru' has no forget gate/],
  ];
  for (const [name, cfg, pattern] of cases) {
    it(name, () => expectRejection(createModel(cfg as never), pattern));
  }
});

describe('bad batches for regression, classification and variable lengths', () => {
  let mse: LstmModel, cls: LstmModel, gru: LstmModel;
  const inputs = () => Float32Array.from({ length: T * B * X }, (_, i) => Math.sin(i));
  const mseBatch = (): Batch => ({ inputs: inputs(), targets: new Float32Array(T * B * V), seqLength: T, batchSize: B, lengths: Int32Array.from([4, 2, 3]) });
  const clsBatch = (): Batch => ({ inputs: inputs(), targets: Int32Array.from([0, 1, 1]), seqLength: T, batchSize: B });
  let mseLoss = 0, clsLoss = 0;
  beforeAll(async () => {
    mse = await createModel({ ...base, cell: 'gru', loss: 'mse' });
    cls = await createModel({ ...base, loss: 'crossEntropyLast', peepholes: true });
    gru = await createModel({ ...base, cell: 'gru', loss: 'mseLast' });
    mseLoss = mse.computeGradients(mseBatch()).loss;
    clsLoss = cls.computeGradients(clsBatch()).loss;
  });
  const mseCases: [string, () => unknown, RegExp][] = [
    ['class ids as regression targets', () => ({ ...mseBatch(), targets: new Int32Array(T * B * V) }), /targets must be a Float32Array \[seqLength=4, batchSize=3, outputSize=2\]/],
    ['regression targets of the wrong length', () => ({ ...mseBatch(), targets: new Float32Array(T * B) }), /targets must have 24 values/],
    ['NaN in the targets', () => { const b = mseBatch(); (b.targets as Float32Array)[5] = NaN; return b; }, /targets\[5\] is NaN/],
    ['lengths of the wrong count', () => ({ ...mseBatch(), lengths: Int32Array.from([4, 2]) }), /lengths must have 3 values \[batchSize=3\], one per sequence, got 2/],
    ['a length of 0', () => ({ ...mseBatch(), lengths: Int32Array.from([4, 0, 3]) }), /lengths\[1\] is 0; every length must be in \[1, seqLength=4\]/],
    ['a length longer than the batch', () => ({ ...mseBatch(), lengths: Int32Array.from([4, 2, 5]) }), /lengths\[2\] is 5; every length must be in \[1, seqLength=4\]/],
    ['lengths as a plain array', () => ({ ...mseBatch(), lengths: [4, 2, 3] }), /lengths must be an Int32Array \[batchSize=3\]/],
    ['a cell state for a GRU', () => ({ ...mseBatch(), initialState: { h: new Float32Array(B * H), c: new Float32Array(B * H) } }), /initialState.c: a GRU has no cell state; give initialState as \{ h \}/],
  ];
  for (const [name, make, pattern] of mseCases) {
    it(`mse: ${name}`, () => {
      expectError(() => mse.computeGradients(make() as Batch), pattern);
      expect(mse.computeGradients(mseBatch()).loss).toBe(mseLoss);
    });
  }
  const clsCases: [string, () => unknown, RegExp][] = [
    ['one target per step instead of per sequence', () => ({ ...clsBatch(), targets: new Int32Array(T * B) }), /targets must have 3 values \[batchSize=3\] \(one class per sequence/],
    ['a class id out of range', () => ({ ...clsBatch(), targets: Int32Array.from([0, 2, 1]) }), /targets\[1\] is 2; ids must be in \[0, 2\)/],
    ['float targets', () => ({ ...clsBatch(), targets: new Float32Array(B) }), /targets must be an Int32Array/],
    ['no cell state for the LSTM', () => ({ ...clsBatch(), initialState: { h: new Float32Array(B * H) } }), /initialState.c must be a Float32Array/],
  ];
  for (const [name, make, pattern] of clsCases) {
    it(`crossEntropyLast: ${name}`, () => {
      expectError(() => cls.computeGradients(make() as Batch), pattern);
      expect(cls.computeGradients(clsBatch()).loss).toBe(clsLoss);
    });
  }
  it('mseLast: targets per step instead of per sequence', () => {
    expectError(() => gru.computeGradients({ inputs: inputs(), targets: new Float32Array(T * B * V), seqLength: T, batchSize: B }),
      /targets must have 6 values \[batchSize=3, outputSize=2\] \(loss 'mseLast': one target per sequence\)/);
  });
  it('step: dense input that is not whole rows of inputSize', () => {
    expectError(() => mse.step(new Float32Array(4)), /dense input must be a Float32Array \[batch, inputSize=3\], a whole number of rows of 3; got 4 values/);
  });
  it('forecast: outputSize differs from inputSize, bad history, bad steps', async () => {
    expectError(() => mse.forecast(new Float32Array(6), 3), /outputSize \(2\) must equal inputSize \(3\)/);
    const f = await createModel({ inputSize: 2, hiddenSize: 4, outputSize: 2, loss: 'mse' });
    expectError(() => f.forecast(new Float32Array(3), 2), /history must be a Float32Array \[T >= 1, batchSize=1, inputSize=2\]/);
    expectError(() => f.forecast(new Float32Array(0), 2), /history must be/);
    expectError(() => f.forecast(Float32Array.from([1, NaN]), 2), /history\[1\] is NaN/);
    expectError(() => f.forecast(new Float32Array(4), 0), /steps must be an integer in \[1, /);
    expectError(() => f.forecast(new Float32Array(4), 2, 3), /history must be .*batchSize=3/);
    expect(f.forecast(new Float32Array(4), 2).length).toBe(4);
  });
});
