// WebAssembly SIMD128 peak of this machine, from a compute-bound loop.
//
// The module is assembled here byte by byte (no toolchain): one exported function
// run(iterations: i32) -> f32 keeps N independent f32x4 accumulators in locals and, per
// loop iteration and per unrolled copy, does acc = acc * m + c on each of them with
// f32x4.mul + f32x4.add (no fused multiply-add: relaxed SIMD needs a Node flag).
// m = 0.9999 and c = 0.0001 keep every accumulator near 1 (no overflow, no denormals).
// With N accumulators there are N independent mul->add chains, enough to hide the
// latencies when N >= 12 on current x86 cores.

const SIMD = 0xfd;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function f32Bytes(x: number): number[] {
  return [...new Uint8Array(new Float32Array([x]).buffer)];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Bytes of the peak module with `accumulators` f32x4 chains and `unroll` copies of the body per loop trip. */
export function peakModuleBytes(accumulators: number, unroll: number): Uint8Array<ArrayBuffer> {
  const N = accumulators;
  const iters = 0; // param local
  const acc = (i: number) => 1 + i;
  const mLocal = 1 + N, cLocal = 2 + N;
  const code: number[] = [];
  const localGet = (i: number) => code.push(0x20, ...uleb(i));
  const localSet = (i: number) => code.push(0x21, ...uleb(i));
  const splat = (x: number) => code.push(0x43, ...f32Bytes(x), SIMD, ...uleb(0x13)); // f32.const; f32x4.splat
  const simd = (op: number) => code.push(SIMD, ...uleb(op));
  const F32X4_ADD = 0xe4, F32X4_MUL = 0xe6, F32X4_EXTRACT_LANE = 0x1f;

  // distinct starting values for the accumulators
  for (let i = 0; i < N; i++) { splat(1 + i / 64); localSet(acc(i)); }
  splat(0.9999); localSet(mLocal);
  splat(0.0001); localSet(cLocal);
  // block { loop { body; iters -= 1; br_if (iters != 0) 0 } }  (caller passes iters >= 1)
  code.push(0x02, 0x40, 0x03, 0x40);
  for (let u = 0; u < unroll; u++) {
    for (let i = 0; i < N; i++) {
      localGet(acc(i)); localGet(mLocal); simd(F32X4_MUL);
      localGet(cLocal); simd(F32X4_ADD);
      localSet(acc(i));
    }
  }
  localGet(iters); code.push(0x41, 0x01, 0x6b); // i32.const 1; i32.sub
  code.push(0x22, ...uleb(iters)); // local.tee
  code.push(0x0d, 0x00); // br_if 0 (the loop)
  code.push(0x0b, 0x0b); // end loop, end block
  // return the sum of lane 0 of every accumulator, so nothing is dead
  code.push(0x43, ...f32Bytes(0));
  for (let i = 0; i < N; i++) {
    localGet(acc(i)); simd(F32X4_EXTRACT_LANE); code.push(0x00);
    code.push(0x92); // f32.add
  }
  code.push(0x0b); // end function

  const locals = vec([[...uleb(N + 2), 0x7b]]); // N + 2 v128 locals
  const body = [...locals, ...code];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0x01, 0x7f, 0x01, 0x7d]])), // type 0: (i32) -> f32
    ...section(3, vec([[0x00]])), // function 0 has type 0
    ...section(7, vec([[...uleb(3), ...[...'run'].map((ch) => ch.charCodeAt(0)), 0x00, 0x00]])), // export "run" = func 0
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ];
  return new Uint8Array(bytes);
}

export interface PeakResult {
  /** best GFLOP/s over the variants and repeats */
  gflops: number;
  accumulators: number;
  variants: { accumulators: number; gflops: number }[];
  note: string;
}

/** Runs each variant for about `seconds` in a few repeats and keeps the best. */
export async function measureSimdPeak(seconds = 0.25, repeats = 5, accumulatorChoices = [12, 13, 14, 16]): Promise<PeakResult> {
  const unroll = 4;
  const variants: { accumulators: number; gflops: number }[] = [];
  for (const N of accumulatorChoices) {
    const instance = await WebAssembly.instantiate(new WebAssembly.Module(peakModuleBytes(N, unroll)));
    const run = instance.exports.run as (iters: number) => number;
    const flopsPerIter = N * 2 * 4 * unroll;
    // calibrate: tier up, then size the loop to the time budget
    run(1000); run(100000);
    let iters = 100000;
    for (;;) {
      const t0 = performance.now();
      run(iters);
      const dt = performance.now() - t0;
      if (dt > 20) { iters = Math.max(1, Math.round(iters * (seconds * 1000) / dt)); break; }
      iters *= 4;
    }
    let best = 0;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const v = run(iters);
      const dt = (performance.now() - t0) / 1000;
      if (!Number.isFinite(v)) throw new Error('peak kernel produced a non-finite value');
      best = Math.max(best, (flopsPerIter * iters) / dt / 1e9);
    }
    variants.push({ accumulators: N, gflops: best });
  }
  const top = variants.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return {
    gflops: top.gflops,
    accumulators: top.accumulators,
    variants,
    note: `f32x4.mul + f32x4.add, body unrolled ${unroll}x, best of ${repeats} runs of ~${seconds}s per variant, one thread`,
  };
}
