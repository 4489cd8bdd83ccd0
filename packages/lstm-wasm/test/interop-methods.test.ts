import { describe, it, expect } from 'vitest';
import { createModel, toSafetensors, loadSafetensors, toONNX, createModelFromSafetensors } from '../dist/index.js';

describe('model.toSafetensors() / toONNX()', () => {
  it('are the interop functions as methods, and a safetensors round trip restores every parameter', async () => {
    const a = await createModel({ inputSize: 7, hiddenSize: 5, numLayers: 2, outputSize: 7, seed: 3 });
    const b = await createModel({ inputSize: 7, hiddenSize: 5, numLayers: 2, outputSize: 7, seed: 4 });
    const bytes = a.toSafetensors();
    expect(bytes).toEqual(toSafetensors(a));
    expect(b.getFlatParameters()).not.toEqual(a.getFlatParameters());
    loadSafetensors(b, bytes);
    expect(b.getFlatParameters()).toEqual(a.getFlatParameters());
    expect((await createModelFromSafetensors(bytes)).getParameters()).toEqual(a.getParameters());
    expect(a.toONNX()).toEqual(toONNX(a));
    const other = await createModel({ inputSize: 7, hiddenSize: 6, outputSize: 7 });
    expect(() => loadSafetensors(other, bytes)).toThrow();
    expect(other.getParameters()['head.bias']).toHaveLength(7);
  });
});
