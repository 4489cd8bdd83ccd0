// The page's plain-TypeScript LSTM (used for the activation view and the gate
// statistics) must compute the same network as the wasm kernels.
import { describe, expect, it } from 'vitest';
import { createModel } from '@lstm/wasm';
import { gateSaturation, softmax, traceCells, traceLstm } from '../src/inspect';

describe('traceLstm', () => {
  for (const [layers, hidden] of [[1, 24], [2, 16], [3, 8]] as const) {
    it(`matches model.forward's logits (${layers} layer(s), hidden ${hidden})`, async () => {
      const V = 11;
      const model = await createModel({ inputSize: V, hiddenSize: hidden, numLayers: layers, outputSize: V, seed: 7 });
      // train a few steps so the weights are not just their initial values
      const T = 12, B = 3;
      const tokens = Int32Array.from({ length: T * B }, (_, k) => (k * 7 + 3) % V);
      const targets = Int32Array.from({ length: T * B }, (_, k) => (k * 5 + 1) % V);
      for (let s = 0; s < 5; s++) model.trainStep({ tokens, targets, seqLength: T, batchSize: B }, { type: 'adam', lr: 0.05 });

      const text = Int32Array.from({ length: 40 }, (_, k) => (k * k + 2 * k) % V);
      const want = model.forward({ tokens: text, seqLength: text.length, batchSize: 1 });
      const trace = traceLstm(model.getParameters(), model.config, text);
      expect(trace.logits.length).toBe(want.logits.length);
      let maxDiff = 0;
      for (let i = 0; i < want.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(trace.logits[i] - want.logits[i]));
      expect(maxDiff).toBeLessThan(1e-4);
      // and the final state matches the kernels' final state
      const H = hidden, last = text.length - 1;
      for (let l = 0; l < layers; l++) {
        for (let j = 0; j < H; j++) {
          expect(trace.layers[l].h[last * H + j]).toBeCloseTo(want.finalState.h[l * H + j], 4);
          expect(trace.layers[l].c[last * H + j]).toBeCloseTo(want.finalState.c[l * H + j], 4);
        }
      }
      model.dispose();
    });
  }

  it('counts saturated gate steps per unit', () => {
    // a hand-made trace: unit 0's input gate is 0.05 twice and 0.95 once over 4 steps
    const H = 2, T = 4;
    const mk = (vals: number[]) => Float32Array.from(vals);
    const trace = {
      T, dims: { inputSize: 1, hiddenSize: H, numLayers: 1, outputSize: 1 }, logits: new Float32Array(T),
      layers: [{
        i: mk([0.05, 0.5, 0.05, 0.5, 0.95, 0.5, 0.5, 0.5]),
        f: mk([0.5, 0.99, 0.5, 0.99, 0.5, 0.99, 0.5, 0.99]),
        o: mk([0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9]), // exactly at the thresholds: not saturated
        g: new Float32Array(T * H), c: new Float32Array(T * H), h: new Float32Array(T * H),
      }],
    };
    const [s] = gateSaturation(trace);
    expect(Array.from(s.input.left)).toEqual([0.5, 0]);
    expect(Array.from(s.input.right)).toEqual([0.25, 0]);
    expect(Array.from(s.forget.right)).toEqual([0, 1]);
    expect(Array.from(s.output.left)).toEqual([0, 0]);
    expect(Array.from(s.output.right)).toEqual([0, 0]);
  });

  it('softmax sums to one and sharpens with a low temperature', () => {
    const p1 = softmax([1, 2, 3]), p01 = softmax([1, 2, 3], 0.1);
    expect(p1.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p01[2]).toBeGreaterThan(p1[2]);
    expect(p01[2]).toBeGreaterThan(0.99);
  });
});

describe('traceCells (GRU and vanilla RNN)', () => {
  for (const cell of ['gru', 'rnn'] as const) {
    for (const layers of [1, 2]) {
      it(`${cell}: matches model.forward's logits and final state (${layers} layer(s))`, async () => {
        const V = 9, H = 13;
        const model = await createModel({ inputSize: V, hiddenSize: H, numLayers: layers, outputSize: V, seed: 5, cell });
        const T = 10, B = 2;
        const tokens = Int32Array.from({ length: T * B }, (_, k) => (k * 5 + 2) % V);
        const targets = Int32Array.from({ length: T * B }, (_, k) => (k * 3 + 1) % V);
        for (let s = 0; s < 5; s++) model.trainStep({ tokens, targets, seqLength: T, batchSize: B }, { type: 'adam', lr: 0.05 });
        const text = Int32Array.from({ length: 30 }, (_, k) => (k * k + k) % V);
        const want = model.forward({ tokens: text, seqLength: text.length, batchSize: 1 });
        const trace = traceCells(model.getParameters(), model.config, cell, text);
        let maxDiff = 0;
        for (let i = 0; i < want.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(trace.logits[i] - want.logits[i]));
        expect(maxDiff).toBeLessThan(1e-4);
        const last = text.length - 1;
        for (let l = 0; l < layers; l++) {
          for (let j = 0; j < H; j++) expect(trace.layers[l].h[last * H + j]).toBeCloseTo(want.finalState.h[l * H + j], 4);
        }
        expect(Object.keys(trace.layers[0].gates)).toEqual(cell === 'gru' ? ['reset', 'update'] : []);
        if (cell === 'gru') for (const g of Object.values(trace.layers[0].gates)) expect(g.every((v) => v > 0 && v < 1)).toBe(true);
        model.dispose();
      });
    }
  }
});
