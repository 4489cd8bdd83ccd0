import { describe, expect, it } from 'vitest';
import {
  createModel, CharVocab, CharBatcher, softmax, sampleFromLogits, generateText, evaluateTokens, describeChar, LstmError, Rng,
} from '../dist/index.js';

describe('CharVocab', () => {
  it('is the sorted distinct code points of the text', () => {
    const v = CharVocab.fromText('banana\nBé😀a');
    expect(v.chars).toEqual(['\n', 'B', 'a', 'b', 'n', 'é', '😀']);
    expect(v.size).toBe(7);
    const ids = v.encode('a😀\nB');
    expect(Array.from(ids)).toEqual([2, 6, 0, 1]);
    expect(v.decode(ids)).toBe('a😀\nB');
    expect(v.idOf('z')).toBe(-1);
  });

  it('names the unknown character and where it is', () => {
    const v = CharVocab.fromText('abc');
    expect(() => v.encode('abxc', 'the prompt')).toThrow(LstmError);
    expect(() => v.encode('abxc', 'the prompt')).toThrow("the prompt has character 'x' (U+0078) at position 2, which is not in the vocabulary of 3 characters");
    expect(() => v.encode('a\tb')).toThrow(/'\\t' \(U\+0009\)/);
    expect(() => v.decode([0, 3])).toThrow(/id 3 at index 1/);
  });

  it('rejects empty text, duplicates and multi-character entries', () => {
    expect(() => CharVocab.fromText('')).toThrow(/empty/);
    expect(() => new CharVocab(['a', 'a'])).toThrow(/appears twice/);
    expect(() => new CharVocab(['ab'])).toThrow(/must be one character/);
    expect(describeChar('😀')).toBe("'😀' (U+1F600)");
  });
});

describe('CharBatcher', () => {
  const data = Int32Array.from({ length: 103 }, (_, i) => i);

  it('cuts B streams into chunks of T, targets shifted by one, time-major', () => {
    const b = new CharBatcher(data, 4, 5);
    expect(b.streamLength).toBe(25); // floor(102 / 4)
    expect(b.chunksPerEpoch).toBe(5);
    const first = b.next();
    expect(first.seqLength).toBe(5);
    expect(first.batchSize).toBe(4);
    // [t, b] = stream b's token t
    for (let t = 0; t < 5; t++) {
      for (let s = 0; s < 4; s++) {
        expect(first.tokens[t * 4 + s]).toBe(s * 25 + t);
        expect(first.targets[t * 4 + s]).toBe(s * 25 + t + 1);
      }
    }
    const second = b.next();
    // the next chunk continues each stream where the last stopped
    expect(second.tokens[0 * 4 + 2]).toBe(2 * 25 + 5);
    expect(first.targets[4 * 4 + 2]).toBe(second.tokens[0 * 4 + 2]);
  });

  it('starts the streams over after an epoch and resumes from a saved position', () => {
    const b = new CharBatcher(data, 4, 5);
    const all = Array.from({ length: 12 }, () => b.next());
    expect(b.position).toBe(12);
    expect(b.epoch).toBe(2);
    expect(b.chunk).toBe(2);
    expect(all[5].tokens).toEqual(all[0].tokens);
    const resumed = new CharBatcher(data, 4, 5, 7);
    expect(resumed.next().tokens).toEqual(all[7].tokens);
    expect(resumed.next().targets).toEqual(all[8].targets);
  });

  it('never reads past the end of the data', () => {
    const b = new CharBatcher(data, 3, 7);
    for (let i = 0; i < b.chunksPerEpoch; i++) {
      const x = b.next();
      expect(Math.max(...x.targets)).toBeLessThan(data.length);
    }
  });

  it('needs at least B*T+1 tokens', () => {
    expect(() => new CharBatcher(data.subarray(0, 20), 4, 5)).toThrow(/20 tokens are too few for batchSize 4 x seqLength 5; one batch needs at least 21/);
    expect(() => new CharBatcher(data.subarray(0, 21), 4, 5)).not.toThrow();
  });
});

describe('sampling', () => {
  it('softmax with temperature and top-k', () => {
    const logits = [1, 3, 2, 0];
    const p = softmax(logits);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(p[1] / p[2]).toBeCloseTo(Math.E, 10);
    const cold = softmax(logits, { temperature: 0.5 });
    expect(cold[1] / cold[2]).toBeCloseTo(Math.E ** 2, 8);
    const top2 = softmax(logits, { topK: 2 });
    expect(top2[0]).toBe(0);
    expect(top2[3]).toBe(0);
    expect(top2[1] + top2[2]).toBeCloseTo(1, 12);
    expect(Array.from(softmax(logits, { temperature: 0 }))).toEqual([0, 1, 0, 0]);
    expect(() => softmax(logits, { temperature: -1 })).toThrow(/temperature/);
  });

  it('draws with the softmax frequencies, deterministically for a seed', () => {
    const logits = [0, Math.log(3), -Infinity];
    const rng = new Rng(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleFromLogits(logits, rng)]++;
    expect(counts[2]).toBe(0);
    expect(counts[1] / 20000).toBeGreaterThan(0.73);
    expect(counts[1] / 20000).toBeLessThan(0.77);
    const a = Array.from({ length: 50 }, ((r) => () => sampleFromLogits([1, 2, 3, 4], r))(new Rng(9)));
    const b = Array.from({ length: 50 }, ((r) => () => sampleFromLogits([1, 2, 3, 4], r))(new Rng(9)));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(1);
    const topOne = Array.from({ length: 20 }, () => sampleFromLogits([1, 2, 3, 4], rng, { topK: 1 }));
    expect(new Set(topOne)).toEqual(new Set([3]));
  });
});

describe('generation and evaluation on a model', () => {
  it('learns a cycle, generates it from a prompt and evaluates it lower than at the start', async () => {
    const text = 'abcd'.repeat(60);
    const vocab = CharVocab.fromText(text);
    const data = vocab.encode(text);
    const model = await createModel({ inputSize: 4, hiddenSize: 16, outputSize: 4, seed: 2 });
    const before = evaluateTokens(model, data, { batchSize: 3, seqLength: 7 });
    expect(before.count).toBe(3 * Math.floor((data.length - 1) / 3));
    const batcher = new CharBatcher(data, 4, 8);
    for (let i = 0; i < 150; i++) {
      if (batcher.chunk === 0) model.resetState();
      model.trainStep({ ...batcher.next(), stateful: true }, { type: 'adam', lr: 0.03 });
    }
    const after = evaluateTokens(model, data, { batchSize: 3, seqLength: 7 });
    expect(after.loss).toBeLessThan(before.loss / 10);
    const out = generateText(model, vocab, new Rng(1), { prompt: 'ab', length: 10, temperature: 0 });
    expect(out).toBe('cdabcdabcd');
    const pieces: string[] = [];
    const sampled = generateText(model, vocab, new Rng(3), { length: 8, onText: (c) => pieces.push(c) });
    expect(pieces.join('')).toBe(sampled);
    expect(sampled).toHaveLength(8);
    expect(() => generateText(model, vocab, new Rng(1), { prompt: 'abz', length: 3 })).toThrow(/the prompt has character 'z'/);
  });

  it('generates and evaluates with a GRU too (no cell state)', async () => {
    const vocab = CharVocab.fromText('xyz');
    const model = await createModel({ inputSize: 3, hiddenSize: 5, outputSize: 3, cell: 'gru' });
    const out = generateText(model, vocab, new Rng(1), { prompt: 'xy', length: 5 });
    expect([...out].every((c) => vocab.has(c))).toBe(true);
    expect(evaluateTokens(model, vocab.encode('xyzxyzxyz'), { batchSize: 2, seqLength: 3 }).loss).toBeGreaterThan(0);
  });
});
