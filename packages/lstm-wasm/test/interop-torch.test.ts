// safetensors round trips with real PyTorch (Debian's python3-torch at /usr/bin/python3, run
// once for the whole file; test/torch_interop.py is its side):
//  A. a model trained here, exported with toSafetensors and loaded by load_state_dict(strict=True)
//     into nn.LSTM + nn.Linear gives the same outputs; three Adam steps continued in PyTorch
//     match three continued here (PyTorch's result is read back from the file it saved).
//  B. a model PyTorch initialised and saved (float32, float64, float16, bfloat16) loads with
//     createModelFromSafetensors and gives the same loss, logits, state and gradients, and
//     three SGD-with-momentum steps match.
//  C. nn.GRU, nn.RNN and a 2-layer nn.LSTM from PyTorch: the same through safetensors (the cell
//     read from the shapes), and the graphs torch.onnx.export writes load with createModelFromONNX.
// PyTorch computes in float64 from the float32 weights; tolerance: max|diff| / max|ref| <= 1e-4.
// Build first: (cd packages/kernels && npm run build) && (cd packages/lstm-wasm && npm run build)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel, createModelFromONNX, createModelFromSafetensors, loadSafetensors, parametersFromSafetensors, readSafetensors, toSafetensors,
  type Batch, type LstmModel,
} from '../dist/index.js';
import { Comparisons, lcg } from './compare';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch_interop.py', import.meta.url));
const cmp = new Comparisons(44);
const close = cmp.close.bind(cmp);
const A = {
  config: { inputSize: 5, hiddenSize: 6, numLayers: 2, outputSize: 4 },
  T: 7, B: 3, steps: 3,
  optimizer: { type: 'adam', lr: 0.01 } as const,
  torchOptim: { lr: 0.01 },
};
const B = {
  config: { inputSize: 7, hiddenSize: 5, numLayers: 1, outputSize: 7 },
  T: 6, B: 2, steps: 3, seed: 1234,
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 } as const,
  torchOptim: { lr: 0.1, momentum: 0.9 },
};

const C = [
  { cell: 'gru', inputSize: 4, hiddenSize: 5, numLayers: 2, outputSize: 3, seed: 11, T: 5, B: 2 },
  { cell: 'rnn', inputSize: 3, hiddenSize: 6, numLayers: 1, outputSize: 4, seed: 12, T: 6, B: 3 },
  { cell: 'lstm', inputSize: 5, hiddenSize: 4, numLayers: 2, outputSize: 6, seed: 13, T: 4, B: 2 },
] as const;
const batchesC: Batch[] = [];

let dir = '';
let results: any;
let batchA: Batch, batchB: Batch;
let trainedA: LstmModel;
let fileA: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lstm-torch-'));
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`${PYTHON} cannot import torch (install Debian's python3-torch: apt-get install python3-torch): ${probe.error?.message ?? probe.stderr}`);
  }
  const r = lcg(42);
  const u = (n: number, s = 1) => Float32Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * s));
  const ids = (n: number, k: number) => Int32Array.from({ length: n }, () => Math.floor(r() * k));

  // A: trained here for 5 Adam steps, then exported
  const ca = A.config;
  batchA = {
    inputs: u(A.T * A.B * ca.inputSize), targets: ids(A.T * A.B, ca.outputSize), seqLength: A.T, batchSize: A.B,
    initialState: { h: u(ca.numLayers * A.B * ca.hiddenSize, 0.5), c: u(ca.numLayers * A.B * ca.hiddenSize, 0.5) },
  };
  trainedA = await createModel({ ...ca, seed: 7 });
  for (let s = 0; s < 5; s++) trainedA.trainStep(batchA, { type: 'adam', lr: 0.05 });
  fileA = toSafetensors(trainedA);
  writeFileSync(join(dir, 'A.safetensors'), fileA);

  const cb = B.config;
  batchB = {
    tokens: ids(B.T * B.B, cb.inputSize), targets: ids(B.T * B.B, cb.outputSize), seqLength: B.T, batchSize: B.B,
    initialState: { h: u(B.B * cb.hiddenSize, 0.5), c: u(B.B * cb.hiddenSize, 0.5) },
  };
  const json = (b: Batch) => ({
    seqLength: b.seqLength, batchSize: b.batchSize, targets: Array.from(b.targets),
    ...(b.inputs ? { inputs: Array.from(b.inputs) } : { tokens: Array.from(b.tokens!) }),
    initialState: { h: Array.from(b.initialState!.h), c: Array.from(b.initialState!.c) },
  });
  for (const c of C) {
    const n = c.numLayers * c.B * c.hiddenSize;
    batchesC.push({
      inputs: u(c.T * c.B * c.inputSize), targets: ids(c.T * c.B, c.outputSize), seqLength: c.T, batchSize: c.B,
      initialState: c.cell === 'lstm' ? { h: u(n, 0.5), c: u(n, 0.5) } : { h: u(n, 0.5), c: new Float32Array(0) },
    });
  }
  writeFileSync(join(dir, 'input.json'), JSON.stringify({
    A: { config: ca, batch: json(batchA), steps: A.steps, torchOptim: A.torchOptim },
    B: { config: cb, batch: json(batchB), steps: B.steps, seed: B.seed, torchOptim: B.torchOptim },
    C: C.map((c, i) => ({ ...c, batch: json(batchesC[i]) })),
  }));
  const run = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`torch_interop.py failed (status ${run.status}):\n${run.stderr}\n${run.stdout}`);
  results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  trainedA?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  cmp.print(`PyTorch ${results?.torch} vs @lstm/wasm`);
});

describe('safetensors with PyTorch: a model trained here', () => {
  it('loads in PyTorch with load_state_dict(strict=True), as float32, under state_dict names', () => {
    expect(results.A_dtypes).toEqual(['torch.float32']);
    expect([...results.A_keys].sort()).toEqual(Object.keys(trainedA.getParameters()).sort());
    const st = readSafetensors(fileA);
    expect(st.metadata.format).toBe('pt');
    for (const t of st.tensors.values()) expect(t.dtype).toBe('F32');
  });

  it('gives PyTorch the same outputs', () => {
    const f = trainedA.forward(batchA);
    close('A loss', f.loss!, results.A_outputs.loss);
    close('A logits', f.logits, results.A_outputs.logits);
    close('A h_n', f.finalState.h, results.A_outputs.h);
    close('A c_n', f.finalState.c, results.A_outputs.c);
  });

  it('three more Adam steps match in PyTorch and here', async () => {
    const model = await createModelFromSafetensors(fileA);
    try {
      const losses: number[] = [];
      for (let s = 0; s < A.steps; s++) losses.push(model.trainStep(batchA, A.optimizer));
      close('A continued: losses', losses, results.A_losses);
      // PyTorch's weights after its three steps, read from the file it saved
      const torchAfter = parametersFromSafetensors(readFileSync(join(dir, 'A_torch.safetensors')));
      expect(torchAfter.config).toEqual(A.config);
      const mine = model.getParameters();
      for (const name of Object.keys(mine)) {
        close(`A continued: ${name}`, mine[name], torchAfter.params[name]);
        close(`A continued (json): ${name}`, mine[name], results.A_params[name]);
      }
    } finally {
      model.dispose();
    }
  });
});

describe('safetensors with PyTorch: a model created by PyTorch', () => {
  it('loads with its sizes inferred from the shapes, bit-exact (float32 file)', async () => {
    const model = await createModelFromSafetensors(readFileSync(join(dir, 'B.safetensors')));
    try {
      expect(model.config).toEqual(B.config);
      const p = model.getParameters();
      for (const [name, v] of Object.entries(results.B_params_f32 as Record<string, number[]>)) {
        expect(Array.from(p[name]), name).toEqual(v);
      }
    } finally {
      model.dispose();
    }
  });

  it('reads float64, float16 and bfloat16 files as PyTorch rounds them', () => {
    const f64 = parametersFromSafetensors(readFileSync(join(dir, 'B_f64.safetensors')));
    const f16 = parametersFromSafetensors(readFileSync(join(dir, 'B_f16.safetensors')));
    const bf16 = parametersFromSafetensors(readFileSync(join(dir, 'B_bf16.safetensors')));
    for (const name of Object.keys(results.B_params_f32)) {
      expect(Array.from(f64.params[name]), `f64 ${name}`).toEqual(results.B_params_f32[name]);
      expect(Array.from(f16.params[name]), `f16 ${name}`).toEqual(results.B_params_f16[name]);
      expect(Array.from(bf16.params[name]), `bf16 ${name}`).toEqual(results.B_params_bf16[name]);
    }
  });

  it('gives the same loss, logits, final state and gradients', async () => {
    const model = await createModel({ ...B.config, seed: 99 });
    try {
      loadSafetensors(model, readFileSync(join(dir, 'B.safetensors')));
      const r = model.computeGradients(batchB);
      close('B loss', r.loss, results.B_outputs.loss);
      close('B logits', r.logits, results.B_outputs.logits);
      close('B h_n', r.finalState.h, results.B_outputs.h);
      close('B c_n', r.finalState.c, results.B_outputs.c);
      expect(Object.keys(r.grads).sort()).toEqual(Object.keys(results.B_grads).sort());
      for (const name of Object.keys(results.B_grads)) close(`B grad ${name}`, r.grads[name], results.B_grads[name]);
    } finally {
      model.dispose();
    }
  });

  it('three SGD (momentum) steps match', async () => {
    const model = await createModelFromSafetensors(readFileSync(join(dir, 'B.safetensors')));
    try {
      const losses: number[] = [];
      for (let s = 0; s < B.steps; s++) losses.push(model.trainStep(batchB, B.optimizer));
      close('B continued: losses', losses, results.B_losses);
      const p = model.getParameters();
      for (const name of Object.keys(results.B_params)) close(`B continued: ${name}`, p[name], results.B_params[name]);
    } finally {
      model.dispose();
    }
  });
});

describe('GRU, RNN and LSTM models from PyTorch: safetensors and torch.onnx.export', () => {
  C.forEach((c, i) => {
    const { T: _t, B: _b, seed: _s, ...rest } = c;
    const config = { ...rest } as Record<string, unknown>;
    if (c.cell === 'lstm') delete config.cell;

    it(`${c.cell} x${c.numLayers}: safetensors gives the same loss, logits, state and gradients`, async () => {
      const model = await createModelFromSafetensors(readFileSync(join(dir, `C${i}.safetensors`)));
      try {
        expect(model.config).toEqual(config);
        const e = results.C[i];
        expect(Object.keys(model.getParameters()).sort()).toEqual([...e.keys].sort());
        const batch = batchesC[i];
        const r = model.computeGradients(c.cell === 'lstm' ? batch : { ...batch, initialState: { h: batch.initialState!.h } });
        close(`C ${c.cell} loss`, r.loss, e.loss);
        close(`C ${c.cell} logits`, r.logits, e.logits);
        close(`C ${c.cell} h_n`, r.finalState.h, e.h);
        if (c.cell === 'lstm') close(`C ${c.cell} c_n`, r.finalState.c, e.c);
        for (const name of Object.keys(e.grads)) close(`C ${c.cell} grad ${name}`, r.grads[name], e.grads[name]);
      } finally {
        model.dispose();
      }
    });

    it(`${c.cell} x${c.numLayers}: the ONNX file torch.onnx.export wrote imports and gives the same logits`, async () => {
      const model = await createModelFromONNX(readFileSync(join(dir, `C${i}.onnx`)));
      try {
        expect(model.config).toEqual(config);
        const f = model.forward({ inputs: batchesC[i].inputs, seqLength: c.T, batchSize: c.B });
        close(`C ${c.cell} torch.onnx.export logits`, f.logits, results.C[i].zeroStateLogits);
        // and the same weights as the safetensors file
        const st = parametersFromSafetensors(readFileSync(join(dir, `C${i}.safetensors`)));
        const p = model.getParameters();
        for (const name of Object.keys(st.params)) expect(Array.from(p[name]), name).toEqual(Array.from(st.params[name]));
      } finally {
        model.dispose();
      }
    });
  });
});
