// A plain TypeScript LSTM forward pass that keeps what the wasm kernels do not
// hand back: every gate and the cell state at every step, for the "look inside"
// view. It reads the weights from model.getParameters() (PyTorch's names and
// layouts, gate order i, f, g, o) and is checked against model.forward's logits
// in test/inspect.test.ts.

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
  const W = params['head.weight'], b = params['head.bias'];
  if (!W || W.length !== V * H || !b || b.length !== V) throw new Error('traceLstm: head parameters are missing or have the wrong size');
  const logits = new Float32Array(T * V);
  const top = layers[L - 1].h;
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) {
      let s = b[v];
      for (let k = 0; k < H; k++) s += W[v * H + k] * top[t * H + k];
      logits[t * V + v] = s;
    }
  }
  return { T, dims, layers, logits };
}

/** Per unit, the fraction of steps a gate spends below 0.1 (left) and above 0.9 (right). */
export interface GateSaturation { left: Float32Array; right: Float32Array }
export type LayerSaturation = Record<'input' | 'forget' | 'output', GateSaturation>;

export const SATURATION_LOW = 0.1;
export const SATURATION_HIGH = 0.9;

export function gateSaturation(trace: Trace): LayerSaturation[] {
  const H = trace.dims.hiddenSize, T = trace.T;
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
  return trace.layers.map((l) => ({ input: one(l.i), forget: one(l.f), output: one(l.o) }));
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
