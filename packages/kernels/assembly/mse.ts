// Mean squared error of a linear head, row by row (rows are independent, so
// threads split them; the mean is summed in row order for the same bits at any
// thread count). V outputs per row.
//   loss = (1/(M V)) * sum_r sum_j (y_rj - t_rj)^2     dy_rj = 2 (y_rj - t_rj) / (M V)
// where M counts the rows that take part (the caller's `scale` is 2 / (M V)).

// rowLoss: f64 out, sum_j (y_j - t_j)^2 of one row, summed in f64.
export function mse_forward_row(rowLoss: usize, y: usize, t: usize, V: i32): void {
  let s: f64 = 0;
  for (let j = 0; j < V; j++) {
    const e = <f64>load<f32>(y + (<usize>j << 2)) - <f64>load<f32>(t + (<usize>j << 2));
    s += e * e;
  }
  store<f64>(rowLoss, s);
}

// dy: [V] out (overwritten) = (y - t) * scale
export function mse_backward_row(dy: usize, y: usize, t: usize, V: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  let j = 0;
  for (; j + 4 <= V; j += 4) {
    const o = <usize>j << 2;
    v128.store(dy + o, f32x4.mul(f32x4.sub(v128.load(y + o), v128.load(t + o)), sv));
  }
  for (; j < V; j++) {
    const o = <usize>j << 2;
    store<f32>(dy + o, (load<f32>(y + o) - load<f32>(t + o)) * scale);
  }
}

export function sum_f64(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += load<f64>(x + (<usize>i << 3));
  return s;
}
