// SIMD elementwise math accurate to float32, four lanes per call.
// The scalar forms run the same vector code on one lane, so tails of a row
// get bit-identical results to the lanes in the body.

// x + a*b: one fused instruction in the relaxed-SIMD build, two in the plain one
// (where the result is the same as the separate multiply and add written out)
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, x);
  return f32x4.add(x, f32x4.mul(a, b));
}

// exp by Cody-Waite range reduction x = n*ln2 + r, |r| <= ln2/2, and a degree-6
// polynomial for e^r (Cephes expf coefficients); 2^n is built in the exponent bits.
// Rounding x*log2(e) to n uses the 1.5*2^23 trick: adding it leaves n in the low
// mantissa bits of t, so neither floor nor a float-to-int conversion is needed
// (V8 lowers both, and wasm's NaN-exact min/max, to long instruction sequences;
// pmin/pmax are single instructions and, with x first, still pass NaN through).
// The clamp keeps n in [-126, 127] so the scale is always a normal float.
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1.0));
  // t's mantissa holds 2^22 + n; adding 127 and shifting by 23 leaves n + 127 as the exponent
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), exp4(f32x4.neg(x))));
}

// tanh as an odd rational function p(x)/q(x) (degree 13 over 6, the minimax fit
// Eigen uses); unlike 2*sigmoid(2x)-1 it keeps full relative accuracy near 0.
// Beyond |x| = 7.905 tanh rounds to +-1 in float32, so the clamp is exact.
// Separate multiplies and adds even in the relaxed build: fused, the polynomials
// round so that the clamp no longer gives exactly +-1 (PyTorch's tanh does).
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const x2 = f32x4.mul(xc, xc);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-08));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-05));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-04));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-03));
  p = f32x4.mul(p, xc);
  let q = f32x4.splat(1.19825839466702e-06);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-04));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-03));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-03));
  // below 4e-4 the rational's rounding exceeds that of tanh(x) = x itself
  const tiny = f32x4.lt(f32x4.abs(x), f32x4.splat(0.0004));
  return v128.bitselect(x, f32x4.div(p, q), tiny);
}

// Not inlined: they serve only the tails of rows whose length is not a multiple
// of 4, and an inlined copy of the vector code at each of those sites cost 4.3 KB
// of wasm (29.5 -> 25.2 KB).
export function exp1(x: f32): f32 { return f32x4.extract_lane(exp4(f32x4.splat(x)), 0); }
export function sigmoid1(x: f32): f32 { return f32x4.extract_lane(sigmoid4(f32x4.splat(x)), 0); }
export function tanh1(x: f32): f32 { return f32x4.extract_lane(tanh4(f32x4.splat(x)), 0); }

// Array forms, exported so tests can measure the error of every lane and tail.
export function exp_array(y: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), exp4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), exp1(load<f32>(x + (<usize>i << 2))));
}
export function sigmoid_array(y: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), sigmoid4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), sigmoid1(load<f32>(x + (<usize>i << 2))));
}
export function tanh_array(y: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), tanh4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), tanh1(load<f32>(x + (<usize>i << 2))));
}
