import { describe, expect, it } from 'vitest';
import {
  createModel, encodeCheckpoint, decodeCheckpoint, modelToCheckpoint, applyCheckpoint, createModelFromCheckpoint, checkpointRng,
  crc32, parameterCount, LstmError, Rng, type Checkpoint,
} from '../dist/index.js';

const model = { inputSize: 5, hiddenSize: 4, numLayers: 2, outputSize: 5 };
const N = parameterCount(model);

function sample(withOptimizer = true): Checkpoint {
  const rng = new Rng(7);
  const floats = () => Float32Array.from({ length: N }, () => rng.uniform(-1, 1));
  const ckpt: Checkpoint = {
    header: {
      model, vocab: ['\n', 'a', 'b', 'é', '😀'],
      optimizer: withOptimizer ? { type: 'adam', step: 12, config: { type: 'adam', lr: 0.002, clipNorm: 5 } } : null,
      step: 12, rng: Array.from(new Rng(3).state), note: { text: 'free field', list: [1, 2] },
    },
    params: floats(),
  };
  if (withOptimizer) ckpt.optimizer = { m: floats(), v: floats() };
  return ckpt;
}

/** Recomputes the trailing CRC so a deliberate edit is not reported as corruption. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** A checkpoint file whose JSON header is replaced by `json` (sealed with a correct CRC). */
function withHeaderText(json: string, floats: number): Uint8Array {
  const text = new TextEncoder().encode(json);
  const start = 16 + Math.ceil(text.length / 4) * 4;
  const out = new Uint8Array(start + 4 * floats + 4);
  out.set(new TextEncoder().encode('LSTMCKPT'));
  const dv = new DataView(out.buffer);
  dv.setUint32(8, 1, true);
  dv.setUint32(12, text.length, true);
  out.set(text, 16);
  return reseal(out);
}

function decodeError(bytes: Uint8Array): string {
  try {
    decodeCheckpoint(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(LstmError);
    return (e as Error).message;
  }
  throw new Error('decodeCheckpoint accepted the bytes');
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('checkpoint codec', () => {
  it('round-trips header, parameters and optimizer moments exactly', () => {
    const ckpt = sample();
    const bytes = encodeCheckpoint(ckpt);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('LSTMCKPT');
    const dv = new DataView(bytes.buffer);
    expect(dv.getUint32(8, true)).toBe(1);
    const jsonLen = dv.getUint32(12, true);
    const start = 16 + Math.ceil(jsonLen / 4) * 4;
    expect(bytes.length).toBe(start + 4 * 3 * N + 4);
    expect(dv.getFloat32(start, true)).toBe(ckpt.params[0]);
    const back = decodeCheckpoint(bytes);
    expect(back.header).toEqual(ckpt.header);
    expect(back.params).toEqual(ckpt.params);
    expect(back.optimizer!.m).toEqual(ckpt.optimizer!.m);
    expect(back.optimizer!.v).toEqual(ckpt.optimizer!.v);
  });

  it('round-trips without optimizer state, and from an offset view', () => {
    const ckpt = sample(false);
    const bytes = encodeCheckpoint(ckpt);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const back = decodeCheckpoint(padded.subarray(3));
    expect(back.optimizer).toBeUndefined();
    expect(back.header.optimizer).toBeNull();
    expect(back.params).toEqual(ckpt.params);
  });

  it('refuses to encode inconsistent checkpoints', () => {
    const a = sample();
    expect(() => encodeCheckpoint({ ...a, params: a.params.subarray(1) })).toThrow(/params must be a Float32Array of \d+ values/);
    expect(() => encodeCheckpoint({ ...a, optimizer: undefined })).toThrow(/give both or neither/);
    expect(() => encodeCheckpoint({ ...a, header: { ...a.header, vocab: ['ab'] } })).toThrow(/vocab\[0\] must be one character/);
  });

  it('rejects bytes that are not a checkpoint', () => {
    expect(decodeError(new TextEncoder().encode('hello world, this is just text'))).toMatch(/not a @lstm\/wasm checkpoint/);
    expect(decodeError(new Uint8Array(0))).toMatch(/empty/);
  });

  it('rejects another format version', () => {
    const bytes = encodeCheckpoint(sample());
    new DataView(bytes.buffer).setUint32(8, 2, true);
    expect(decodeError(reseal(bytes))).toMatch(/format version 2, this reader knows 1/);
  });

  it('reports truncation at any length', () => {
    const bytes = encodeCheckpoint(sample());
    for (const len of [4, 12, 20, 100, bytes.length - 4 * N, bytes.length - 1]) {
      expect(decodeError(bytes.slice(0, len))).toMatch(/truncated/);
    }
  });

  it('reports a flipped bit anywhere as a checksum mismatch', () => {
    const bytes = encodeCheckpoint(sample());
    for (const at of [20, 40, bytes.length - 4 * N, bytes.length - 8, bytes.length - 2]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(decodeError(bad)).toMatch(/checksum mismatch/);
    }
  });

  it('reports a header that is not JSON', () => {
    expect(decodeError(withHeaderText('{"model": {', N))).toMatch(/header is not valid JSON/);
  });

  it('reports a parameter count that does not match the model config', () => {
    const header = { ...sample(false).header };
    expect(decodeError(withHeaderText(JSON.stringify(header), N + 3))).toMatch(new RegExp(`holds ${N + 3} float values, but model .* has ${N} parameters`));
    const bigger = { ...header, model: { ...model, hiddenSize: 8 } };
    expect(decodeError(withHeaderText(JSON.stringify(bigger), N))).toMatch(/has \d+ parameters/);
  });

  it('reports header fields of the wrong type', () => {
    const header = { ...sample(false).header, model: { ...model, numLayers: 0 } };
    expect(decodeError(withHeaderText(JSON.stringify(header), N))).toMatch(/numLayers must be an integer/);
    const rng = { ...sample(false).header, rng: [1, 2] };
    expect(decodeError(withHeaderText(JSON.stringify(rng), N))).toMatch(/header.rng must be 4 uint32/);
  });
});

describe('model helpers', () => {
  it('saves and restores a trained model and its optimizer, continuing identically', async () => {
    const cfg = { inputSize: 6, hiddenSize: 8, numLayers: 1, outputSize: 6 };
    const opt = { type: 'adam' as const, lr: 0.01 };
    const T = 5, B = 3;
    const rng = new Rng(11);
    const batch = () => {
      const tokens = Int32Array.from({ length: T * B }, () => rng.nextU32() % 6);
      return { tokens, targets: tokens.map((t) => (t + 1) % 6), seqLength: T, batchSize: B };
    };
    const batches = Array.from({ length: 6 }, batch);
    const a = await createModel({ ...cfg, seed: 4 });
    for (const b of batches.slice(0, 3)) a.trainStep(b, opt);
    const bytes = encodeCheckpoint(modelToCheckpoint(a, { vocab: [...'abcdef'], optimizer: opt, step: 3, rng: new Rng(5) }));
    const ckpt = decodeCheckpoint(bytes);
    expect(ckpt.header.optimizer).toEqual({ type: 'adam', step: 3, config: opt });
    expect(checkpointRng(ckpt)!.nextU32()).toBe(new Rng(5).nextU32());
    const b = await createModel({ ...cfg, seed: 99 });
    applyCheckpoint(b, ckpt);
    expect(b.getFlatParameters()).toEqual(a.getFlatParameters());
    for (const x of batches.slice(3)) expect(b.trainStep(x, opt)).toBe(a.trainStep(x, opt));
    expect(b.getFlatParameters()).toEqual(a.getFlatParameters());
    const other = await createModel({ ...cfg, hiddenSize: 9 });
    expect(() => applyCheckpoint(other, ckpt)).toThrow(/the checkpoint is for model/);
  });

  it('keeps the cell type: a GRU checkpoint has GRU-sized parameters and loads into a GRU', async () => {
    const cfg = { inputSize: 5, hiddenSize: 6, numLayers: 2, outputSize: 5 };
    expect(parameterCount({ ...cfg, cell: 'gru' })).toBeLessThan(parameterCount(cfg));
    const gru = await createModel({ ...cfg, cell: 'gru', seed: 3 });
    const bytes = encodeCheckpoint(modelToCheckpoint(gru, { step: 0 }));
    const ckpt = decodeCheckpoint(bytes);
    expect(ckpt.header.model.cell).toBe('gru');
    expect(ckpt.params).toHaveLength(parameterCount({ ...cfg, cell: 'gru' }));
    const back = await createModelFromCheckpoint(ckpt);
    expect(back.cell).toBe('gru');
    expect(back.getFlatParameters()).toEqual(gru.getFlatParameters());
    const lstm = await createModel({ ...cfg });
    expect(() => applyCheckpoint(lstm, ckpt)).toThrow(/the checkpoint is for model/);
    const asLstm = { ...ckpt.header, model: { ...cfg } };
    expect(decodeError(withHeaderText(JSON.stringify(asLstm), ckpt.params.length))).toMatch(/has \d+ parameters/);
    const badCell = { ...ckpt.header, model: { ...cfg, cell: 'transformer' } };
    expect(decodeError(withHeaderText(JSON.stringify(badCell), ckpt.params.length))).toMatch(/header.model.cell must be one of lstm, gru, rnn/);
  });
});
