// The checks behind the page's messages for bad settings and bad text.
import { describe, expect, it } from 'vitest';
import { charCount, checkModelSize, checkSettings, checkText, minTextLength, parameterCount } from '../src/validate';
import { createModel } from '@lstm/wasm';

const ok = { hiddenSize: 64, numLayers: 1, seqLength: 32, batchSize: 16, lr: 0.005 };

describe('checkSettings', () => {
  it('accepts sensible settings', () => expect(checkSettings(ok)).toBeNull());
  it('names the setting that is out of range', () => {
    expect(checkSettings({ ...ok, hiddenSize: 100000 })).toMatch(/^Hidden size must be a whole number from 1 to 1024 \(got 100000\)/);
    expect(checkSettings({ ...ok, numLayers: 0 })).toMatch(/^Layers/);
    expect(checkSettings({ ...ok, seqLength: 1.5 })).toMatch(/^Sequence length/);
    expect(checkSettings({ ...ok, batchSize: NaN })).toMatch(/^Batch size .*got nothing/);
    expect(checkSettings({ ...ok, lr: 0 })).toMatch(/^Learning rate/);
    expect(checkSettings({ ...ok, lr: Infinity })).toMatch(/^Learning rate/);
  });
  it('refuses shapes whose activations would not fit a page', () => {
    expect(checkSettings({ hiddenSize: 1024, numLayers: 4, seqLength: 512, batchSize: 512, lr: 0.01 })).toMatch(/too large for a page/);
  });
});

describe('model size', () => {
  it('counts parameters as the library lays them out', async () => {
    for (const [V, H, L] of [[59, 64, 1], [20, 8, 3]]) {
      const m = await createModel({ inputSize: V, hiddenSize: H, numLayers: L, outputSize: V });
      expect(parameterCount(V, { hiddenSize: H, numLayers: L })).toBe(m.parameterCount);
      m.dispose();
    }
  });
  it('refuses models past the parameter limit', () => {
    expect(checkModelSize(60, ok)).toBeNull();
    expect(checkModelSize(60, { ...ok, hiddenSize: 1024, numLayers: 4 })).toMatch(/million parameters/);
  });
});

describe('checkText', () => {
  it('says when the text is empty or blank', () => {
    expect(checkText('', ok)).toMatch(/empty/);
    expect(checkText(' \n\t ', ok)).toMatch(/empty/);
  });
  it('says when the text is shorter than one batch plus the held-out share', () => {
    const need = minTextLength(ok);
    expect(need).toBeGreaterThan(16 * 32 + 1);
    expect(checkText('x'.repeat(need - 1), ok)).toMatch(new RegExp(`has ${need - 1} characters.*at least ${need}`));
    expect(checkText('x'.repeat(need), ok)).toBeNull();
  });
  it('counts code points, not UTF-16 units', () => {
    expect(charCount('a☃😀')).toBe(3);
  });
});
