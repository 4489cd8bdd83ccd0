// Matrix products in the three shapes backpropagation needs, row-major f32.
// Dimensions: C is [M, N]; K is the dimension summed over.
// Every product ACCUMULATES into C (C += ...): backward passes sum gradient
// contributions, and forward passes start C from the bias. Callers zero or
// initialise C first.

import { madd } from "./simd_math";

// K is cut into blocks so that what a tile walks stays in L1. Rows of a
// power-of-two width land in the same few L1 sets (4 KiB aliasing), so the
// blocks are short; the A^T*B strip, read one row per k, wants them shorter still.
// Measured at H=256 (median ms): KC 256 / 128 / 32 gave dW_hh 41.5 / 36.4 / 32.5.
const KC: i32 = 128;
const KC_STRIDED: i32 = 32;

// A^T*B reads A down its columns: a 4-row strip of op(A) is 16 bytes from each of
// kc rows, a whole row apart, so often in one L1 set. Copied once per K block into
// a contiguous strip buffer, it is then read from L1 by every column panel
// (dW_hh at H=256: 33 -> 38 GFLOP/s plain, 42 -> 50 relaxed). Each thread has its
// own buffer: wasm globals belong to one instance, so `strip` is thread-local
// while the buffers sit in the shared memory, just above the static data (not a
// data segment: an imported memory would need its zeros shipped in the file).
// MAX_THREADS matches the API's limit.
const MAX_THREADS: i32 = 64;
const STRIP_BYTES: i32 = KC_STRIDED << 4;
const STRIPS: usize = (__heap_base + 63) & ~63;
let strip: usize = STRIPS;
export function use_strip_buffer(tid: i32): void {
  strip = STRIPS + <usize>(min(tid, MAX_THREADS - 1) * STRIP_BYTES);
}

// First byte the caller may lay its buffers out from.
export function heap_base(): usize { return STRIPS + <usize>(STRIP_BYTES * MAX_THREADS); }

// C[M,N] += A[M,K] * B[K,N]
export function matmul_ab(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32): void {
  gemm_a_strided(c, a, <usize>K << 2, 4, b, M, N, K);
}

// C[M,N] += A[K,M]^T * B[K,N]   (weight gradients: dW = dY^T X)
export function matmul_atb(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32): void {
  gemm_a_strided(c, a, 4, <usize>M << 2, b, M, N, K);
}

// Rows [i0, i1) of C[M,N] += A[K,M]^T * B[K,N]: one thread's share of a weight gradient
export function matmul_atb_rows(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, i0: i32, i1: i32): void {
  if (i1 > i0) gemm_a_strided(c + <usize>i0 * (<usize>N << 2), a + (<usize>i0 << 2), 4, <usize>M << 2, b, i1 - i0, N, K);
}

// A*B and A^T*B differ only in how A is walked: element (i, k) of op(A) sits at
// a + i*ai + k*ak bytes. B rows are contiguous, so each tile of C is a few f32x4
// accumulators fed by one broadcast of A and two vector loads of B per k.
function gemm_a_strided(c: usize, a: usize, ai: usize, ak: usize, b: usize, M: i32, N: i32, K: i32): void {
  const ldb = <usize>N << 2;
  // Which operand stays in cache decides the loop order. When A is walked along
  // rows (A^T*B: its tile is 4 floats from each of kc rows, a strided strip)
  // the strip is kept in L1 and B's block streams from L2; when A is contiguous
  // the 8-column panel of B is kept and A's rows stream.
  const rowsOuter = ak > ai;
  const KB = rowsOuter ? KC_STRIDED : KC;
  for (let k0 = 0; k0 < K; k0 += KB) {
    const kc = min(KB, K - k0);
    const a0 = a + <usize>k0 * ak;
    const b0 = b + <usize>k0 * ldb;
    const N8 = N & ~7;
    if (rowsOuter) {
      let i = 0;
      for (; i + 4 <= M; i += 4) {
        // ai == 4 here: the strip's 4 floats of each row are adjacent
        let pa = a0 + (<usize>i << 2);
        for (let k = 0; k < kc; k++) { v128.store(strip + (<usize>k << 4), v128.load(pa)); pa += ak; }
        for (let j = 0; j < N8; j += 8) tile4x8(c + (<usize>i * ldb) + (<usize>j << 2), strip, 4, 16, b0 + (<usize>j << 2), ldb, kc);
      }
      for (; i < M; i++) {
        for (let j = 0; j < N8; j += 8) tile1x8(c + (<usize>i * ldb) + (<usize>j << 2), a0 + <usize>i * ai, ak, b0 + (<usize>j << 2), ldb, kc);
      }
    } else {
      for (let j = 0; j < N8; j += 8) {
        let i = 0;
        for (; i + 4 <= M; i += 4) tile4x8(c + (<usize>i * ldb) + (<usize>j << 2), a0 + <usize>i * ai, ai, ak, b0 + (<usize>j << 2), ldb, kc);
        for (; i < M; i++) tile1x8(c + (<usize>i * ldb) + (<usize>j << 2), a0 + <usize>i * ai, ak, b0 + (<usize>j << 2), ldb, kc);
      }
    }
    let j = N8;
    for (; j + 4 <= N; j += 4) {
      for (let i = 0; i < M; i++) tile1x4(c + (<usize>i * ldb) + (<usize>j << 2), a0 + <usize>i * ai, ak, b0 + (<usize>j << 2), ldb, kc);
    }
    for (; j < N; j++) {
      for (let i = 0; i < M; i++) {
        let s: f32 = 0;
        let pa = a0 + <usize>i * ai;
        let pb = b0 + (<usize>j << 2);
        for (let k = 0; k < kc; k++) { s += load<f32>(pa) * load<f32>(pb); pa += ak; pb += ldb; }
        const pc = c + (<usize>i * ldb) + (<usize>j << 2);
        store<f32>(pc, load<f32>(pc) + s);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function tile4x8(c: usize, a: usize, ai: usize, ak: usize, b: usize, ldb: usize, kc: i32): void {
  const c1 = c + ldb, c2 = c1 + ldb, c3 = c2 + ldb;
  let x00 = v128.load(c), x01 = v128.load(c, 16);
  let x10 = v128.load(c1), x11 = v128.load(c1, 16);
  let x20 = v128.load(c2), x21 = v128.load(c2, 16);
  let x30 = v128.load(c3), x31 = v128.load(c3, 16);
  let pa = a, pb = b;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let s = v128.load32_splat(pa);
    x00 = madd(s, b0, x00); x01 = madd(s, b1, x01);
    s = v128.load32_splat(pa + ai);
    x10 = madd(s, b0, x10); x11 = madd(s, b1, x11);
    s = v128.load32_splat(pa + 2 * ai);
    x20 = madd(s, b0, x20); x21 = madd(s, b1, x21);
    s = v128.load32_splat(pa + 3 * ai);
    x30 = madd(s, b0, x30); x31 = madd(s, b1, x31);
    pa += ak; pb += ldb;
  }
  v128.store(c, x00); v128.store(c, x01, 16);
  v128.store(c1, x10); v128.store(c1, x11, 16);
  v128.store(c2, x20); v128.store(c2, x21, 16);
  v128.store(c3, x30); v128.store(c3, x31, 16);
}

// @ts-ignore: decorator
@inline function tile1x8(c: usize, a: usize, ak: usize, b: usize, ldb: usize, kc: i32): void {
  let x0 = v128.load(c), x1 = v128.load(c, 16);
  let pa = a, pb = b;
  for (let k = 0; k < kc; k++) {
    const s = v128.load32_splat(pa);
    x0 = madd(s, v128.load(pb), x0);
    x1 = madd(s, v128.load(pb, 16), x1);
    pa += ak; pb += ldb;
  }
  v128.store(c, x0); v128.store(c, x1, 16);
}

// @ts-ignore: decorator
@inline function tile1x4(c: usize, a: usize, ak: usize, b: usize, ldb: usize, kc: i32): void {
  let x0 = v128.load(c);
  let pa = a, pb = b;
  for (let k = 0; k < kc; k++) {
    x0 = madd(v128.load32_splat(pa), v128.load(pb), x0);
    pa += ak; pb += ldb;
  }
  v128.store(c, x0);
}

// C[M,N] += A[M,K] * B[N,K]^T   (a Linear layer's forward with PyTorch's [out, in] weight)
// Both operands are contiguous along K, so each entry is a dot product: tiles of
// 2 x 4 entries keep eight f32x4 partial sums and reduce them once at the end.
// Blocks of B's rows (about 16 KB) are the outer loop and stay in L1 while every
// row of A passes (the head: M = T*B rows of A, 1-2 MB, against a B of V rows:
// 4 rows at a time streamed A from L2 sixteen times: 2.2 -> 1.7 ms at H=256).
// An odd last row takes a one-row tile that does, entry for entry, the same
// operations as the pair tile: any split of M gives the same bits.
export function matmul_abt(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32): void {
  const lda = <usize>K << 2;
  const ldc = <usize>N << 2;
  const M2 = M & ~1, N4 = N & ~3;
  // (when A itself fits in L1, as in the recurrence at small B, 4 rows at a time is best)
  const NB = M * K <= 8192 ? 4 : max(4, (16384 / max(K << 2, 1)) & ~3);
  for (let jb = 0; jb < N4; jb += NB) {
    const je = min(jb + NB, N4);
    for (let i = 0; i < M2; i += 2) {
      for (let j = jb; j < je; j += 4) tile2x4_dot(c + <usize>i * ldc + (<usize>j << 2), ldc, a + <usize>i * lda, b + <usize>j * lda, lda, K);
    }
    if (M2 < M) {
      for (let j = jb; j < je; j += 4) tile1x4_dot(c + <usize>M2 * ldc + (<usize>j << 2), a + <usize>M2 * lda, b + <usize>j * lda, lda, K);
    }
  }
  for (let j = N4; j < N; j++) {
    const bj = b + <usize>j * lda;
    for (let i = 0; i < M; i++) {
      const p = c + <usize>i * ldc + (<usize>j << 2);
      store<f32>(p, load<f32>(p) + dot(a + <usize>i * lda, bj, K));
    }
  }
}

// @ts-ignore: decorator
@inline function tile2x4_dot(c0: usize, ldc: usize, a0: usize, b0: usize, lda: usize, K: i32): void {
  const a1 = a0 + lda;
  const b1 = b0 + lda, b2 = b1 + lda, b3 = b2 + lda;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    const va0 = v128.load(a0 + o), va1 = v128.load(a1 + o);
    const vb0 = v128.load(b0 + o), vb1 = v128.load(b1 + o), vb2 = v128.load(b2 + o), vb3 = v128.load(b3 + o);
    s00 = madd(va0, vb0, s00); s01 = madd(va0, vb1, s01);
    s02 = madd(va0, vb2, s02); s03 = madd(va0, vb3, s03);
    s10 = madd(va1, vb0, s10); s11 = madd(va1, vb1, s11);
    s12 = madd(va1, vb2, s12); s13 = madd(va1, vb3, s13);
  }
  // four row sums at once: lane r of the result is the sum of s_r's lanes
  let r0 = hsum4(s00, s01, s02, s03), r1 = hsum4(s10, s11, s12, s13);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const vb = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(b0 + o)), 1, load<f32>(b1 + o)), 2, load<f32>(b2 + o)), 3, load<f32>(b3 + o));
    r0 = madd(v128.load32_splat(a0 + o), vb, r0);
    r1 = madd(v128.load32_splat(a1 + o), vb, r1);
  }
  const c1 = c0 + ldc;
  v128.store(c0, f32x4.add(v128.load(c0), r0));
  v128.store(c1, f32x4.add(v128.load(c1), r1));
}

// one row of tile2x4_dot (generation runs one sequence: M = 1)
// @ts-ignore: decorator
@inline function tile1x4_dot(c0: usize, a0: usize, b0: usize, lda: usize, K: i32): void {
  const b1 = b0 + lda, b2 = b1 + lda, b3 = b2 + lda;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    const va0 = v128.load(a0 + o);
    s00 = madd(va0, v128.load(b0 + o), s00); s01 = madd(va0, v128.load(b1 + o), s01);
    s02 = madd(va0, v128.load(b2 + o), s02); s03 = madd(va0, v128.load(b3 + o), s03);
  }
  let r0 = hsum4(s00, s01, s02, s03);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const vb = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(b0 + o)), 1, load<f32>(b1 + o)), 2, load<f32>(b2 + o)), 3, load<f32>(b3 + o));
    r0 = madd(v128.load32_splat(a0 + o), vb, r0);
  }
  v128.store(c0, f32x4.add(v128.load(c0), r0));
}

// @ts-ignore: decorator
@inline function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  // transpose-and-add: two rounds of pairwise shuffles
  const t0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}

function dot(a: usize, b: usize, K: i32): f32 {
  let s = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) s = madd(v128.load(a + (<usize>k << 2)), v128.load(b + (<usize>k << 2)), s);
  let r = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; k < K; k++) r += load<f32>(a + (<usize>k << 2)) * load<f32>(b + (<usize>k << 2));
  return r;
}

// dst[cols, rows] = src[rows, cols]^T
export function transpose(dst: usize, src: usize, rows: i32, cols: i32): void {
  transpose_rows(dst, src, rows, cols, 0, rows);
}

// the part coming from source rows [r0, r1)
// Destination rows are written in order: walking the source in order instead
// wrote a float every rows*4 bytes, 4 KiB apart at H=256, all in a few L1 sets
// (W_ih^T for token input, 1024 x 65: 193 -> 24 us).
export function transpose_rows(dst: usize, src: usize, rows: i32, cols: i32, r0: i32, r1: i32): void {
  const lds = <usize>cols << 2;
  for (let c = 0; c < cols; c++) {
    const d = dst + ((<usize>c * <usize>rows) << 2);
    let s = src + (<usize>r0 * lds) + (<usize>c << 2);
    for (let r = r0; r < r1; r++) { store<f32>(d + (<usize>r << 2), load<f32>(s)); s += lds; }
  }
}

// out[N] += sum over rows of Y[M, N]   (bias gradients)
// Row by row, so Y streams once in order and out stays in L1 (walking one
// column group down all rows cost 3.3 ms a step at H=128; this, 0.3 ms).
export function add_column_sums(out: usize, y: usize, M: i32, N: i32): void {
  add_column_sums_range(out, y, M, N, 0, N);
}

// columns [j0, j1) only
export function add_column_sums_range(out: usize, y: usize, M: i32, N: i32, j0: i32, j1: i32): void {
  const ld = <usize>N << 2;
  const o = <usize>j0 << 2;
  for (let i = 0; i < M; i++) add_row(out + o, y + <usize>i * ld + o, j1 - j0);
}

// Y[M, N] = b1[N] + b2[N] for every row (b2 may be 0: absent)
export function fill_rows(y: usize, b1: usize, b2: usize, M: i32, N: i32): void {
  const ld = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const row = y + <usize>i * ld;
    if (b2) {
      let j = 0;
      for (; j + 4 <= N; j += 4) v128.store(row + (<usize>j << 2), f32x4.add(v128.load(b1 + (<usize>j << 2)), v128.load(b2 + (<usize>j << 2))));
      for (; j < N; j++) store<f32>(row + (<usize>j << 2), load<f32>(b1 + (<usize>j << 2)) + load<f32>(b2 + (<usize>j << 2)));
    } else {
      memory.copy(row, b1, ld);
    }
  }
}

// dst[cols, rows] += src[rows, cols]^T, for destination rows (source columns) [c0, c1)
export function transpose_add(dst: usize, src: usize, rows: i32, cols: i32, c0: i32, c1: i32): void {
  for (let r = 0; r < rows; r++) {
    const s = src + (<usize>r * <usize>cols << 2);
    for (let c = c0; c < c1; c++) {
      const p = dst + ((<usize>c * <usize>rows + <usize>r) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(s + (<usize>c << 2)));
    }
  }
}

// y[N] += x[N]
// @ts-ignore: decorator
@inline export function add_row(y: usize, x: usize, N: i32): void {
  let j = 0;
  for (; j + 4 <= N; j += 4) v128.store(y + (<usize>j << 2), f32x4.add(v128.load(y + (<usize>j << 2)), v128.load(x + (<usize>j << 2))));
  for (; j < N; j++) store<f32>(y + (<usize>j << 2), load<f32>(y + (<usize>j << 2)) + load<f32>(x + (<usize>j << 2)));
}
