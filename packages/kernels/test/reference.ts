// Plain scalar reference of the seeds' equations, in float64, one loop per formula.
// Every SIMD kernel is checked against it. Layouts are the kernels' (row-major,
// time-major, PyTorch gate order i, f, g, o).

export type Vec = Float64Array;

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** C[M,N] += A[M,K] B[K,N] */
export function matmulAB(C: Vec, A: ArrayLike<number>, B: ArrayLike<number>, M: number, N: number, K: number) {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
    C[i * N + j] += s;
  }
}
/** C[M,N] += A[K,M]^T B[K,N] */
export function matmulATB(C: Vec, A: ArrayLike<number>, B: ArrayLike<number>, M: number, N: number, K: number) {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[k * M + i] * B[k * N + j];
    C[i * N + j] += s;
  }
}
/** C[M,N] += A[M,K] B[N,K]^T */
export function matmulABT(C: Vec, A: ArrayLike<number>, B: ArrayLike<number>, M: number, N: number, K: number) {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[i * K + k] * B[j * K + k];
    C[i * N + j] += s;
  }
}

/** One step, B rows: pre-activations a [B,4H] -> activations, c, tanh(c), h. */
export function cellForward(a: ArrayLike<number>, cPrev: ArrayLike<number>, B: number, H: number) {
  const gates = new Float64Array(B * 4 * H), c = new Float64Array(B * H), tc = new Float64Array(B * H), h = new Float64Array(B * H);
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const r = b * 4 * H;
    const i = sigmoid(a[r + j]), f = sigmoid(a[r + H + j]), g = Math.tanh(a[r + 2 * H + j]), o = sigmoid(a[r + 3 * H + j]);
    gates[r + j] = i; gates[r + H + j] = f; gates[r + 2 * H + j] = g; gates[r + 3 * H + j] = o;
    c[b * H + j] = f * cPrev[b * H + j] + i * g;
    tc[b * H + j] = Math.tanh(c[b * H + j]);
    h[b * H + j] = o * tc[b * H + j];
  }
  return { gates, c, tc, h };
}

/** Gradients w.r.t. pre-activations [B,4H] and c_{t-1}, from dh_t and dc_t. */
export function cellBackward(gates: ArrayLike<number>, cPrev: ArrayLike<number>, tc: ArrayLike<number>, dh: ArrayLike<number>, dcNext: ArrayLike<number>, B: number, H: number) {
  const da = new Float64Array(B * 4 * H), dcPrev = new Float64Array(B * H);
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const r = b * 4 * H, s = b * H + j;
    const i = gates[r + j], f = gates[r + H + j], g = gates[r + 2 * H + j], o = gates[r + 3 * H + j];
    const dc = dcNext[s] + dh[s] * o * (1 - tc[s] * tc[s]);
    da[r + j] = dc * g * i * (1 - i);
    da[r + H + j] = dc * cPrev[s] * f * (1 - f);
    da[r + 2 * H + j] = dc * i * (1 - g * g);
    da[r + 3 * H + j] = dh[s] * tc[s] * o * (1 - o);
    dcPrev[s] = dc * f;
  }
  return { da, dcPrev };
}

export interface RefParams { wIh: Vec[]; wHh: Vec[]; bIh: Vec[]; bHh: Vec[]; wV: Vec; bV: Vec }

/**
 * The whole model in float64: L layers, head, mean cross-entropy; forward and full BPTT.
 * x: dense [T,B,X] or null with tokens [T,B].
 */
export function modelReference(p: RefParams, dims: { L: number; X: number; H: number; V: number; T: number; B: number },
  x: ArrayLike<number> | null, tokens: ArrayLike<number> | null, targets: ArrayLike<number>, h0?: ArrayLike<number>, c0?: ArrayLike<number>) {
  const { L, X, H, V, T, B } = dims;
  const G = 4 * H, n = B * H;
  const layerIn: Vec[] = [];
  const hs: Vec[][] = [], cs: Vec[][] = [], acts: { gates: Vec; tc: Vec }[][] = [];
  let input: Vec = new Float64Array(T * B * X);
  if (x) input.set(x); else for (let r = 0; r < T * B; r++) input[r * X + tokens![r]] = 1;
  for (let l = 0; l < L; l++) {
    const Xl = l === 0 ? X : H;
    layerIn.push(input);
    hs.push([]); cs.push([]); acts.push([]);
    let h = new Float64Array(n), c = new Float64Array(n);
    if (h0) for (let i = 0; i < n; i++) h[i] = h0[l * n + i];
    if (c0) for (let i = 0; i < n; i++) c[i] = c0[l * n + i];
    hs[l].push(h); cs[l].push(c);
    const out = new Float64Array(T * n);
    for (let t = 0; t < T; t++) {
      const a = new Float64Array(B * G);
      for (let b = 0; b < B; b++) for (let q = 0; q < G; q++) a[b * G + q] = p.bIh[l][q] + p.bHh[l][q];
      matmulABT(a, input.subarray(t * B * Xl, (t + 1) * B * Xl), p.wIh[l], B, G, Xl);
      matmulABT(a, h, p.wHh[l], B, G, H);
      const r = cellForward(a, c, B, H);
      h = r.h; c = r.c;
      hs[l].push(h); cs[l].push(c); acts[l].push({ gates: r.gates, tc: r.tc });
      out.set(h, t * n);
    }
    input = out;
  }
  const M = T * B;
  const logits = new Float64Array(M * V);
  for (let r = 0; r < M; r++) for (let v = 0; v < V; v++) logits[r * V + v] = p.bV[v];
  matmulABT(logits, input, p.wV, M, V, H);
  let loss = 0;
  const dlogits = new Float64Array(M * V);
  for (let r = 0; r < M; r++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[r * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[r * V + v] - m);
    const lse = m + Math.log(s);
    loss += lse - logits[r * V + targets[r]];
    for (let v = 0; v < V; v++) dlogits[r * V + v] = (Math.exp(logits[r * V + v] - lse) - (v === targets[r] ? 1 : 0)) / M;
  }
  loss /= M;
  // backward, in reverse order of the forward
  const grads = {
    wIh: p.wIh.map((w) => new Float64Array(w.length)), wHh: p.wHh.map((w) => new Float64Array(w.length)),
    bIh: p.bIh.map((w) => new Float64Array(w.length)), bHh: p.bHh.map((w) => new Float64Array(w.length)),
    wV: new Float64Array(p.wV.length), bV: new Float64Array(p.bV.length),
  };
  let dOut = new Float64Array(M * H);
  matmulAB(dOut, dlogits, p.wV, M, H, V);
  matmulATB(grads.wV, dlogits, input, V, H, M);
  for (let r = 0; r < M; r++) for (let v = 0; v < V; v++) grads.bV[v] += dlogits[r * V + v];
  const dh0 = new Float64Array(L * n), dc0 = new Float64Array(L * n);
  let dInput = new Float64Array(0);
  for (let l = L - 1; l >= 0; l--) {
    const Xl = l === 0 ? X : H;
    dInput = new Float64Array(T * B * Xl);
    let dhNext: Vec = new Float64Array(n), dc: Vec = new Float64Array(n);
    for (let t = T - 1; t >= 0; t--) {
      const dh = new Float64Array(n);
      for (let i = 0; i < n; i++) dh[i] = dOut[t * n + i] + dhNext[i];
      const { da, dcPrev } = cellBackward(acts[l][t].gates, cs[l][t], acts[l][t].tc, dh, dc, B, H);
      dc = dcPrev;
      dhNext = new Float64Array(n);
      matmulAB(dhNext, da, p.wHh[l], B, H, G);
      matmulATB(grads.wHh[l], da, hs[l][t], G, H, B);
      matmulATB(grads.wIh[l], da, layerIn[l].subarray(t * B * Xl, (t + 1) * B * Xl), G, Xl, B);
      for (let b = 0; b < B; b++) for (let q = 0; q < G; q++) { grads.bIh[l][q] += da[b * G + q]; grads.bHh[l][q] += da[b * G + q]; }
      const dIn = new Float64Array(B * Xl);
      matmulAB(dIn, da, p.wIh[l], B, Xl, G);
      dInput.set(dIn, t * B * Xl);
    }
    dh0.set(dhNext, l * n); dc0.set(dc, l * n);
    dOut = dInput;
  }
  const finalH = new Float64Array(L * n), finalC = new Float64Array(L * n);
  for (let l = 0; l < L; l++) { finalH.set(hs[l][T], l * n); finalC.set(cs[l][T], l * n); }
  return { loss, logits, grads, inputGrad: dInput, dh0, dc0, finalH, finalC };
}
