// Plain TypeScript forward passes (LSTM, GRU, vanilla RNN) that keep what the
// wasm kernels do not hand back: every gate and state at every step, for the
// "look inside" view. They read the weights from model.getParameters() (PyTorch's
// names and layouts: LSTM gates i, f, g, o; GRU r, z, n with the reset gate on
// W_hn h + b_hn) and are checked against model.forward's logits in
// test/inspect.test.ts and, on every use, in the worker.

export interface Dims { inputSize: number; hiddenSize: number; numLayers: number; outputSize: number }

/** One layer's values over the text, each [T, H] (time-major). */
export interface LayerTrace {
  /** input gate, forget gate, candidate (tanh), output gate */
  i: Float32Array; f: Float32Array; g: Float32Array; o: Float32Array;
  /** cell state and hidden state after each step */
  c: Float32Array; h: Float32Array;
}

export interface Trace { T: number; dims: Dims; layers: LayerTrace[]; /** [T, outputSize] */ logits: Float32Array }

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Runs the network over `tokens` (one stream, zero initial state), recording every gate. */
export function traceLstm(params: Record<string, Float32Array>, dims: Dims, tokens: ArrayLike<number>): Trace {
  const { inputSize: X, hiddenSize: H, numLayers: L, outputSize: V } = dims;
  const T = tokens.length;
  const layers: LayerTrace[] = [];
  let below: Float32Array | null = null; // the layer below's h, [T, H]
  for (let l = 0; l < L; l++) {
    const Wih = params[`lstm.weight_ih_l${l}`], Whh = params[`lstm.weight_hh_l${l}`];
    const bih = params[`lstm.bias_ih_l${l}`], bhh = params[`lstm.bias_hh_l${l}`];
    const inSize = l === 0 ? X : H;
    if (!Wih || Wih.length !== 4 * H * inSize || !Whh || Whh.length !== 4 * H * H || !bih || !bhh) {
      throw new Error(`traceLstm: parameters of layer ${l} are missing or have the wrong size`);
    }
    const tr: LayerTrace = {
      i: new Float32Array(T * H), f: new Float32Array(T * H), g: new Float32Array(T * H),
      o: new Float32Array(T * H), c: new Float32Array(T * H), h: new Float32Array(T * H),
    };
    const hPrev = new Float64Array(H), cPrev = new Float64Array(H);
    const pre = new Float64Array(4 * H);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < 4 * H; r++) {
        let s = bih[r] + bhh[r];
        if (l === 0) {
          // a token is a one-hot input: it picks one column of weight_ih
          const tok = tokens[t];
          if (!(tok >= 0 && tok < X)) throw new Error(`traceLstm: token ${tok} at ${t} is not in [0, ${X})`);
          s += Wih[r * X + tok];
        } else {
          const row = r * H, x = t * H;
          for (let k = 0; k < H; k++) s += Wih[row + k] * below![x + k];
        }
        const row = r * H;
        for (let k = 0; k < H; k++) s += Whh[row + k] * hPrev[k];
        pre[r] = s;
      }
      for (let j = 0; j < H; j++) {
        const ig = sigmoid(pre[j]), fg = sigmoid(pre[H + j]), gg = Math.tanh(pre[2 * H + j]), og = sigmoid(pre[3 * H + j]);
        const c = fg * cPrev[j] + ig * gg;
        const h = og * Math.tanh(c);
        const at = t * H + j;
        tr.i[at] = ig; tr.f[at] = fg; tr.g[at] = gg; tr.o[at] = og; tr.c[at] = c; tr.h[at] = h;
        cPrev[j] = c; hPrev[j] = h;
      }
    }
    layers.push(tr);
    below = tr.h;
  }
  const logits = headLogits(params, dims, T, layers[L - 1].h);
  return { T, dims, layers, logits };
}

/** Any cell's trace: per layer the hidden state, the cell state (LSTM) and the gates by name, each [T, H]. */
export interface CellTrace {
  T: number;
  layers: { h: Float32Array; c?: Float32Array; gates: Record<string, Float32Array> }[];
  /** [T, outputSize] */
  logits: Float32Array;
}

/** The gates each cell has, in the order the page shows them. */
export const GATE_NAMES = { lstm: ['input', 'forget', 'output'], gru: ['reset', 'update'], rnn: [] as string[] } as const;

/** Runs an LSTM, GRU or RNN over `tokens` (one stream, zero initial state), recording every gate. */
export function traceCells(params: Record<string, Float32Array>, dims: Dims, cell: 'lstm' | 'gru' | 'rnn', tokens: ArrayLike<number>): CellTrace {
  if (cell === 'lstm') {
    const t = traceLstm(params, dims, tokens);
    return { T: t.T, logits: t.logits, layers: t.layers.map((l) => ({ h: l.h, c: l.c, gates: { input: l.i, forget: l.f, output: l.o } })) };
  }
  const { inputSize: X, hiddenSize: H, numLayers: L } = dims;
  const T = tokens.length, G = cell === 'gru' ? 3 * H : H;
  const layers: CellTrace['layers'] = [];
  let below: Float32Array | null = null;
  for (let l = 0; l < L; l++) {
    const Wih = params[`${cell}.weight_ih_l${l}`], Whh = params[`${cell}.weight_hh_l${l}`];
    const bih = params[`${cell}.bias_ih_l${l}`], bhh = params[`${cell}.bias_hh_l${l}`];
    const inSize = l === 0 ? X : H;
    if (!Wih || Wih.length !== G * inSize || !Whh || Whh.length !== G * H || !bih || !bhh) {
      throw new Error(`traceCells: ${cell} parameters of layer ${l} are missing or have the wrong size`);
    }
    const h = new Float32Array(T * H);
    const gates: Record<string, Float32Array> = cell === 'gru' ? { reset: new Float32Array(T * H), update: new Float32Array(T * H) } : {};
    const hPrev = new Float64Array(H), gi = new Float64Array(G), gh = new Float64Array(G);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < G; r++) {
        let si = bih[r];
        if (l === 0) si += Wih[r * X + tokens[t]];
        else for (let k = 0; k < H; k++) si += Wih[r * H + k] * below![t * H + k];
        let sh = bhh[r];
        for (let k = 0; k < H; k++) sh += Whh[r * H + k] * hPrev[k];
        gi[r] = si; gh[r] = sh;
      }
      for (let j = 0; j < H; j++) {
        let v: number;
        if (cell === 'gru') {
          const rg = sigmoid(gi[j] + gh[j]), zg = sigmoid(gi[H + j] + gh[H + j]);
          const n = Math.tanh(gi[2 * H + j] + rg * gh[2 * H + j]);
          v = (1 - zg) * n + zg * hPrev[j];
          gates.reset[t * H + j] = rg; gates.update[t * H + j] = zg;
        } else {
          v = Math.tanh(gi[j] + gh[j]);
        }
        h[t * H + j] = v;
      }
      for (let j = 0; j < H; j++) hPrev[j] = h[t * H + j];
    }
    layers.push({ h, gates });
    below = h;
  }
  return { T, layers, logits: headLogits(params, dims, T, layers[L - 1].h) };
}

function headLogits(params: Record<string, Float32Array>, dims: Dims, T: number, top: Float32Array): Float32Array {
  const { hiddenSize: H, outputSize: V } = dims;
  const W = params['head.weight'], b = params['head.bias'];
  if (!W || W.length !== V * H || !b || b.length !== V) throw new Error('trace: head parameters are missing or have the wrong size');
  const logits = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) {
      let s = b[v];
      for (let k = 0; k < H; k++) s += W[v * H + k] * top[t * H + k];
      logits[t * V + v] = s;
    }
  }
  return logits;
}

/** Per unit, the fraction of steps a gate spends below 0.1 (left) and above 0.9 (right). */
export interface GateSaturation { left: Float32Array; right: Float32Array }
export type LayerSaturation = Record<'input' | 'forget' | 'output', GateSaturation>;

export const SATURATION_LOW = 0.1;
export const SATURATION_HIGH = 0.9;

export function gateSaturation(trace: Trace): LayerSaturation[] {
  return trace.layers.map((l) => {
    const s = saturationOf({ input: l.i, forget: l.f, output: l.o }, trace.dims.hiddenSize, trace.T);
    return { input: s.input, forget: s.forget, output: s.output };
  });
}

/** gateSaturation for any named gates, each [T, H]. */
export function saturationOf(gates: Record<string, Float32Array>, H: number, T: number): Record<string, GateSaturation> {
  const one = (g: Float32Array): GateSaturation => {
    const left = new Float32Array(H), right = new Float32Array(H);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < H; j++) {
        const v = g[t * H + j];
        if (v < SATURATION_LOW) left[j]++;
        else if (v > SATURATION_HIGH) right[j]++;
      }
    }
    for (let j = 0; j < H; j++) { left[j] /= Math.max(T, 1); right[j] /= Math.max(T, 1); }
    return { left, right };
  };
  const out: Record<string, GateSaturation> = {};
  for (const [name, g] of Object.entries(gates)) out[name] = one(g);
  return out;
}

/** Softmax with a temperature, in float64, as a plain array. */
export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  const out = new Array<number>(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) { out[i] = Math.exp(logits[i] / temperature - max); sum += out[i]; }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
