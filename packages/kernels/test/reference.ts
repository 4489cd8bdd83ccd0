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

// ---------------------------------------------------------------- every cell, every loss

export type CellKind = 'lstm' | 'gru' | 'rnn';
export type LossKind = 'crossEntropy' | 'crossEntropyLast' | 'mse' | 'mseLast';

/** Parameters of cellsModelReference; peep[l] = [w_ci, w_cf, w_co] ([3H]) for a peephole LSTM. */
export interface CellsRefParams extends RefParams { peep?: Vec[] }

/**
 * The model of cellsModelReference in float64 with its full BPTT, for any cell and
 * loss, with optional per-sequence lengths: positions t >= lengths[b] take no part
 * in the loss; for the last-step losses only t = lengths[b] - 1 does. The equations
 * are written out once per cell:
 *   LSTM  i = s(a_i + w_ci c') f = s(a_f + w_cf c') g = tanh(a_g) c = f c' + i g
 *         o = s(a_o + w_co c)  h = o tanh(c)                (a = x W_ih^T + b_ih + h' W_hh^T + b_hh)
 *   GRU   r = s(gi_r + gh_r)   z = s(gi_z + gh_z)  n = tanh(gi_n + r gh_n)  h = (1-z) n + z h'
 *         (gi = x W_ih^T + b_ih, gh = h' W_hh^T + b_hh)
 *   RNN   h = tanh(x W_ih^T + b_ih + h' W_hh^T + b_hh)
 * targets: ids [T,B] / [B], or values [T,B,V] / [B,V] for MSE.
 */
export function cellsModelReference(p: CellsRefParams, dims: { L: number; X: number; H: number; V: number; T: number; B: number },
  opts: { cell: CellKind; loss: LossKind; lengths?: ArrayLike<number> },
  x: ArrayLike<number> | null, tokens: ArrayLike<number> | null, targets: ArrayLike<number>, h0?: ArrayLike<number>, c0?: ArrayLike<number>) {
  const { L, X, H, V, T, B } = dims;
  const { cell, loss } = opts;
  const G = cell === 'lstm' ? 4 * H : cell === 'gru' ? 3 * H : H;
  const n = B * H;
  const len = (b: number) => (opts.lengths ? opts.lengths[b] : T);
  const last = loss === 'mseLast' || loss === 'crossEntropyLast';
  const included = (t: number, b: number) => (last ? t === len(b) - 1 : t < len(b));
  const layerIn: Vec[] = [];
  // per layer and step: what backward needs
  type StepCache = { hPrev: Vec; cPrev: Vec; acts: Vec; gh: Vec; c: Vec; tc: Vec; h: Vec };
  const cache: StepCache[][] = [];
  let input: Vec = new Float64Array(T * B * X);
  if (x) input.set(x); else for (let r = 0; r < T * B; r++) input[r * X + tokens![r]] = 1;
  const finalH = new Float64Array(L * n), finalC = new Float64Array(cell === 'lstm' ? L * n : 0);
  for (let l = 0; l < L; l++) {
    const Xl = l === 0 ? X : H;
    const peep = p.peep?.[l];
    layerIn.push(input);
    cache.push([]);
    let h = new Float64Array(n), c = new Float64Array(n);
    if (h0) for (let i = 0; i < n; i++) h[i] = h0[l * n + i];
    if (c0) for (let i = 0; i < n; i++) c[i] = c0[l * n + i];
    const out = new Float64Array(T * n);
    for (let t = 0; t < T; t++) {
      const xt = input.subarray(t * B * Xl, (t + 1) * B * Xl);
      const gi = new Float64Array(B * G), gh = new Float64Array(B * G);
      for (let b = 0; b < B; b++) for (let q = 0; q < G; q++) { gi[b * G + q] = p.bIh[l][q]; gh[b * G + q] = p.bHh[l][q]; }
      matmulABT(gi, xt, p.wIh[l], B, G, Xl);
      matmulABT(gh, h, p.wHh[l], B, G, H);
      const acts = new Float64Array(B * G), hn = new Float64Array(n), cn = new Float64Array(n), tc = new Float64Array(n);
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
        const r = b * G, s = b * H + j;
        if (cell === 'lstm') {
          const a = (k: number) => gi[r + k * H + j] + gh[r + k * H + j];
          const ig = sigmoid(a(0) + (peep ? peep[j] * c[s] : 0));
          const fg = sigmoid(a(1) + (peep ? peep[H + j] * c[s] : 0));
          const gg = Math.tanh(a(2));
          cn[s] = fg * c[s] + ig * gg;
          const og = sigmoid(a(3) + (peep ? peep[2 * H + j] * cn[s] : 0));
          tc[s] = Math.tanh(cn[s]);
          hn[s] = og * tc[s];
          acts[r + j] = ig; acts[r + H + j] = fg; acts[r + 2 * H + j] = gg; acts[r + 3 * H + j] = og;
        } else if (cell === 'gru') {
          const rg = sigmoid(gi[r + j] + gh[r + j]);
          const zg = sigmoid(gi[r + H + j] + gh[r + H + j]);
          const ng = Math.tanh(gi[r + 2 * H + j] + rg * gh[r + 2 * H + j]);
          hn[s] = (1 - zg) * ng + zg * h[s];
          acts[r + j] = rg; acts[r + H + j] = zg; acts[r + 2 * H + j] = ng;
        } else {
          hn[s] = Math.tanh(gi[r + j] + gh[r + j]);
          acts[r + j] = hn[s];
        }
      }
      cache[l].push({ hPrev: h, cPrev: c, acts, gh, c: cn, tc, h: hn });
      h = hn; c = cn;
      out.set(h, t * n);
    }
    for (let b = 0; b < B; b++) {
      const st = cache[l][len(b) - 1];
      finalH.set(st.h.subarray(b * H, (b + 1) * H), l * n + b * H);
      if (cell === 'lstm') finalC.set(st.c.subarray(b * H, (b + 1) * H), l * n + b * H);
    }
    input = out;
  }
  const M = T * B;
  const logits = new Float64Array(M * V);
  for (let r = 0; r < M; r++) for (let v = 0; v < V; v++) logits[r * V + v] = p.bV[v];
  matmulABT(logits, input, p.wV, M, V, H);
  let count = 0;
  for (let r = 0; r < M; r++) if (included(Math.floor(r / B), r % B)) count++;
  let lossSum = 0;
  const dlogits = new Float64Array(M * V);
  const mse = loss === 'mse' || loss === 'mseLast';
  for (let r = 0; r < M; r++) {
    const t = Math.floor(r / B), b = r % B;
    if (!included(t, b)) continue;
    const tr = last ? b : r;
    if (mse) {
      for (let v = 0; v < V; v++) {
        const e = logits[r * V + v] - targets[tr * V + v];
        lossSum += e * e;
        dlogits[r * V + v] = (2 * e) / (count * V);
      }
    } else {
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, logits[r * V + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits[r * V + v] - m);
      const lse = m + Math.log(s);
      lossSum += lse - logits[r * V + targets[tr]];
      for (let v = 0; v < V; v++) dlogits[r * V + v] = (Math.exp(logits[r * V + v] - lse) - (v === targets[tr] ? 1 : 0)) / count;
    }
  }
  const lossValue = lossSum / (mse ? count * V : count);
  const grads = {
    wIh: p.wIh.map((w) => new Float64Array(w.length)), wHh: p.wHh.map((w) => new Float64Array(w.length)),
    bIh: p.bIh.map((w) => new Float64Array(w.length)), bHh: p.bHh.map((w) => new Float64Array(w.length)),
    peep: (p.peep ?? []).map((w) => new Float64Array(w.length)),
    wV: new Float64Array(p.wV.length), bV: new Float64Array(p.bV.length),
  };
  let dOut = new Float64Array(M * H);
  matmulAB(dOut, dlogits, p.wV, M, H, V);
  matmulATB(grads.wV, dlogits, input, V, H, M);
  for (let r = 0; r < M; r++) for (let v = 0; v < V; v++) grads.bV[v] += dlogits[r * V + v];
  const dh0 = new Float64Array(L * n), dc0 = new Float64Array(cell === 'lstm' ? L * n : 0);
  let dInput = new Float64Array(0);
  for (let l = L - 1; l >= 0; l--) {
    const Xl = l === 0 ? X : H;
    const peep = p.peep?.[l];
    dInput = new Float64Array(T * B * Xl);
    let dhNext: Vec = new Float64Array(n), dc: Vec = new Float64Array(n);
    for (let t = T - 1; t >= 0; t--) {
      const st = cache[l][t];
      const dh = new Float64Array(n);
      for (let i = 0; i < n; i++) dh[i] = dOut[t * n + i] + dhNext[i];
      const dgi = new Float64Array(B * G), dgh = new Float64Array(B * G);
      const dhPrev = new Float64Array(n), dcPrev = new Float64Array(n);
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
        const r = b * G, s = b * H + j, a = st.acts;
        if (cell === 'lstm') {
          const ig = a[r + j], fg = a[r + H + j], gg = a[r + 2 * H + j], og = a[r + 3 * H + j];
          const dao = dh[s] * st.tc[s] * og * (1 - og);
          const dct = dc[s] + dh[s] * og * (1 - st.tc[s] * st.tc[s]) + (peep ? dao * peep[2 * H + j] : 0);
          const dai = dct * gg * ig * (1 - ig), daf = dct * st.cPrev[s] * fg * (1 - fg), dag = dct * ig * (1 - gg * gg);
          dgi[r + j] = dai; dgi[r + H + j] = daf; dgi[r + 2 * H + j] = dag; dgi[r + 3 * H + j] = dao;
          dcPrev[s] = dct * fg + (peep ? dai * peep[j] + daf * peep[H + j] : 0);
          if (peep) {
            grads.peep[l][j] += dai * st.cPrev[s];
            grads.peep[l][H + j] += daf * st.cPrev[s];
            grads.peep[l][2 * H + j] += dao * st.c[s];
          }
        } else if (cell === 'gru') {
          const rg = a[r + j], zg = a[r + H + j], ng = a[r + 2 * H + j];
          const dan = dh[s] * (1 - zg) * (1 - ng * ng);
          const dar = dan * st.gh[r + 2 * H + j] * rg * (1 - rg);
          const daz = dh[s] * (st.hPrev[s] - ng) * zg * (1 - zg);
          dgi[r + j] = dar; dgi[r + H + j] = daz; dgi[r + 2 * H + j] = dan;
          dgh[r + j] = dar; dgh[r + H + j] = daz; dgh[r + 2 * H + j] = dan * rg;
          dhPrev[s] = dh[s] * zg;
        } else {
          dgi[r + j] = dh[s] * (1 - a[r + j] * a[r + j]);
        }
      }
      if (cell !== 'gru') dgh.set(dgi);
      dc = dcPrev;
      matmulAB(dhPrev, dgh, p.wHh[l], B, H, G);
      dhNext = dhPrev;
      matmulATB(grads.wHh[l], dgh, st.hPrev, G, H, B);
      matmulATB(grads.wIh[l], dgi, layerIn[l].subarray(t * B * Xl, (t + 1) * B * Xl), G, Xl, B);
      for (let b = 0; b < B; b++) for (let q = 0; q < G; q++) { grads.bIh[l][q] += dgi[b * G + q]; grads.bHh[l][q] += dgh[b * G + q]; }
      const dIn = new Float64Array(B * Xl);
      matmulAB(dIn, dgi, p.wIh[l], B, Xl, G);
      dInput.set(dIn, t * B * Xl);
    }
    dh0.set(dhNext, l * n);
    if (cell === 'lstm') dc0.set(dc, l * n);
    dOut = dInput;
  }
  return { loss: lossValue, logits, grads, inputGrad: dInput, dh0, dc0, finalH, finalC };
}
