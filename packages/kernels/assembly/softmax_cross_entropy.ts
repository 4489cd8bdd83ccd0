import { exp4, exp1 } from "./simd_math";

// Softmax cross-entropy over rows of logits, fused so the probabilities are never
// stored: forward keeps each row's log-sum-exp, backward rebuilds softmax from it.
// Dimensions: M rows (T*B positions), V classes.
//   loss = (1/M) * sum_r [ lse_r - z_r[y_r] ],  lse_r = m_r + log sum_j exp(z_rj - m_r)
//   dz_rj = (exp(z_rj - lse_r) - [j == y_r]) / M

// lse: [M] out; rowLoss: [M] f64 out, each row's loss. Rows are independent, so
// threads split them; the mean is summed in row order (mean_f64) for the same
// bits at any thread count.
export function softmax_cross_entropy_forward(lse: usize, rowLoss: usize, logits: usize, targets: usize, M: i32, V: i32): void {
  const ld = <usize>V << 2;
  for (let r = 0; r < M; r++) {
    const z = logits + <usize>r * ld;
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= V; j += 4) mv = f32x4.max(mv, v128.load(z + (<usize>j << 2)));
    let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < V; j++) m = max(m, load<f32>(z + (<usize>j << 2)));
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= V; j += 4) sv = f32x4.add(sv, exp4(f32x4.sub(v128.load(z + (<usize>j << 2)), ms)));
    let s = f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1) + f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3);
    for (; j < V; j++) s += exp1(load<f32>(z + (<usize>j << 2)) - m);
    const l = <f64>m + Math.log(<f64>s);
    store<f32>(lse + (<usize>r << 2), <f32>l);
    store<f64>(rowLoss + (<usize>r << 3), l - <f64>load<f32>(z + (<usize>load<i32>(targets + (<usize>r << 2)) << 2)));
  }
}

export function mean_f64(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += load<f64>(x + (<usize>i << 3));
  return s / <f64>n;
}

// dlogits: [M, V] out (overwritten). total: the number of rows the mean runs
// over (M itself, or more when these M rows are one thread's share).
export function softmax_cross_entropy_backward(dlogits: usize, logits: usize, lse: usize, targets: usize, M: i32, V: i32, total: i32): void {
  const ld = <usize>V << 2;
  const inv: f32 = <f32>(1.0 / <f64>total);
  const invv = f32x4.splat(inv);
  for (let r = 0; r < M; r++) {
    const z = logits + <usize>r * ld, d = dlogits + <usize>r * ld;
    const l = load<f32>(lse + (<usize>r << 2));
    const lv = f32x4.splat(l);
    let j = 0;
    for (; j + 4 <= V; j += 4) v128.store(d + (<usize>j << 2), f32x4.mul(exp4(f32x4.sub(v128.load(z + (<usize>j << 2)), lv)), invv));
    for (; j < V; j++) store<f32>(d + (<usize>j << 2), exp1(load<f32>(z + (<usize>j << 2)) - l) * inv);
    const py = d + (<usize>load<i32>(targets + (<usize>r << 2)) << 2);
    store<f32>(py, load<f32>(py) - inv);
  }
}
