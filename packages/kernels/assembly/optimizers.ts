// Parameter updates over the flat parameter buffer. Parameters, gradients and
// optimizer moments share one layout, so each optimizer is one loop over n floats.
// Semantics follow torch.optim (SGD, Adam, AdamW, RMSprop, Adagrad with their
// default variants); bias corrections are computed by the caller in f64.

// sum of squares in f64: the global norm must not lose small tensors to rounding
export function sum_of_squares(g: usize, n: i32): f64 {
  let acc = f32x4.splat(0);
  let total: f64 = 0;
  let i = 0;
  // flush the f32 lanes into f64 every 1024 elements
  while (i + 4 <= n) {
    const end = min(n & ~3, i + 1024);
    for (; i < end; i += 4) { const v = v128.load(g + (<usize>i << 2)); acc = f32x4.add(acc, f32x4.mul(v, v)); }
    total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
    acc = f32x4.splat(0);
  }
  for (; i < n; i++) { const v = <f64>load<f32>(g + (<usize>i << 2)); total += v * v; }
  return total;
}

export function scale_array(g: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(g + (<usize>i << 2), f32x4.mul(v128.load(g + (<usize>i << 2)), sv));
  for (; i < n; i++) store<f32>(g + (<usize>i << 2), load<f32>(g + (<usize>i << 2)) * s);
}

// Clip by global L2 norm (torch.nn.utils.clip_grad_norm_): scale by
// maxNorm / (norm + 1e-6) when the norm exceeds maxNorm (maxNorm 0: never).
export function clip_factor(norm: f64, maxNorm: f32): f32 {
  return maxNorm > 0 && norm > <f64>maxNorm ? <f32>(<f64>maxNorm / (norm + 1e-6)) : 1;
}

// The whole clip on one thread; returns the norm before clipping.
export function clip_grad_norm(g: usize, n: i32, maxNorm: f32): f32 {
  const norm = Math.sqrt(sum_of_squares(g, n));
  const s = clip_factor(norm, maxNorm);
  if (s != 1) scale_array(g, n, s);
  return <f32>norm;
}

// SGD with momentum mu and L2 weight decay:  g += wd*p;  m = mu*m + g;  p -= lr*m
export function sgd_update(p: usize, g: usize, m: usize, n: i32, lr: f32, mu: f32, wd: f32): void {
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(mu), vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = f32x4.add(v128.load(g + o), f32x4.mul(vwd, pv));
    const mv = f32x4.add(f32x4.mul(vmu, v128.load(m + o)), gv);
    v128.store(m + o, mv);
    v128.store(p + o, f32x4.sub(pv, f32x4.mul(vlr, mv)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    const mv = mu * load<f32>(m + o) + (load<f32>(g + o) + wd * pv);
    store<f32>(m + o, mv);
    store<f32>(p + o, pv - lr * mv);
  }
}

// Adam / AdamW. decoupled = 0: Adam with L2 (g += wd*p); 1: AdamW (p *= 1 - lr*wd).
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)      bc_k = 1 - b_k^t
// The caller passes c1 = 1 - b1 and c2 = 1 - b2 computed in f64 (in f32, 1 - 0.999
// is 1.3e-5 off, which inflated every Adam step by 6e-6 against torch), and
// stepSize = lr / bc1, invBc2 = 1 / bc2.
export function adam_update(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, b2: f32, c1: f32, c2: f32,
  eps: f32, wd: f32, stepSize: f32, invBc2: f32, decoupled: bool): void {
  const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2);
  const veps = f32x4.splat(eps), vstep = f32x4.splat(stepSize), vinv = f32x4.splat(invBc2);
  const l2 = f32x4.splat(decoupled ? 0 : wd);
  const shrink = f32x4.splat(decoupled ? 1 - lr * wd : 1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = f32x4.mul(v128.load(p + o), shrink);
    const gv = f32x4.add(v128.load(g + o), f32x4.mul(l2, v128.load(p + o)));
    const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, gv));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vc2, f32x4.mul(gv, gv)));
    v128.store(m + o, mv); v128.store(v + o, vv);
    const den = f32x4.add(f32x4.sqrt(f32x4.mul(vv, vinv)), veps);
    v128.store(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(vstep, mv), den)));
  }
  const l2s: f32 = decoupled ? 0 : wd, shrinks: f32 = decoupled ? 1 - lr * wd : 1;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p0 = load<f32>(p + o);
    const gv = load<f32>(g + o) + l2s * p0;
    const mv = b1 * load<f32>(m + o) + c1 * gv;
    const vv = b2 * load<f32>(v + o) + c2 * (gv * gv);
    store<f32>(m + o, mv); store<f32>(v + o, vv);
    store<f32>(p + o, p0 * shrinks - stepSize * mv / (Mathf.sqrt(vv * invBc2) + eps));
  }
}

// RMSprop (alpha = decay, as torch):  v = a*v + (1-a)*g^2;  p -= lr * g / (sqrt(v) + eps)
// Adagrad (torch):                    v += g^2;             p -= lr * g / (sqrt(v) + eps)
// The same loop: Adagrad is a = 1 with (1-a) replaced by 1.
export function rms_update(p: usize, g: usize, v: usize, n: i32, lr: f32, keep: f32, add: f32, eps: f32, wd: f32): void {
  const vk = f32x4.splat(keep), va = f32x4.splat(add), vlr = f32x4.splat(lr), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = f32x4.add(v128.load(g + o), f32x4.mul(vwd, pv));
    const vv = f32x4.add(f32x4.mul(vk, v128.load(v + o)), f32x4.mul(va, f32x4.mul(gv, gv)));
    v128.store(v + o, vv);
    v128.store(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(vlr, gv), f32x4.add(f32x4.sqrt(vv), veps))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    const gv = load<f32>(g + o) + wd * pv;
    const vv = keep * load<f32>(v + o) + add * (gv * gv);
    store<f32>(v + o, vv);
    store<f32>(p + o, pv - lr * gv / (Mathf.sqrt(vv) + eps));
  }
}
