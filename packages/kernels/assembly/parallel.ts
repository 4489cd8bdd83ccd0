// Work sharing between the threads of one model. Every thread runs the same
// step function on its own share (rows of a product, batch rows of the time loop)
// and meets the others at barriers. A share is always a whole number of tiles,
// and every output element is computed by exactly the code and in the order the
// single-thread run uses, so results are identical for any thread count.
//
// The control block (16 i32 slots) lives in shared memory:
export const C_GEN = 0;      // job generation: bumped by the main thread to start a job
export const C_JOB = 1;
export const C_DESC = 2;     // descriptor of the job
export const C_COUNT = 16;   // barrier: threads arrived (own cache line)
export const C_SENSE = 32;   // barrier: flips when the last thread arrives (own cache line)
export const CONTROL_SLOTS = 48;

export const JOB_EXIT = -1;

// Spin this many times before sleeping: most waits are microseconds, and a
// browser's main thread may not sleep at all (canWait = false).
const SPINS = 20000;

// @ts-ignore: decorator
@inline function at(ctl: usize, s: i32): usize { return ctl + (<usize>s << 2); }

export function barrier(ctl: usize, nt: i32, canWait: bool): void {
  if (nt <= 1) return;
  const sense = atomic.load<i32>(at(ctl, C_SENSE));
  if (atomic.add<i32>(at(ctl, C_COUNT), 1) == nt - 1) {
    atomic.store<i32>(at(ctl, C_COUNT), 0);
    atomic.store<i32>(at(ctl, C_SENSE), sense ^ 1);
    atomic.notify(at(ctl, C_SENSE), nt);
  } else {
    let spins = 0;
    while (atomic.load<i32>(at(ctl, C_SENSE)) == sense) {
      if (canWait && ++spins > SPINS) memory.atomic.wait32(at(ctl, C_SENSE), sense, -1);
    }
  }
}

// Start of thread tid's share of n items, cut at multiples of align.
// @ts-ignore: decorator
@inline export function share_start(n: i32, tid: i32, nt: i32, align: i32): i32 {
  const units = (n + align - 1) / align;
  return min(n, <i32>((<i64>units * <i64>tid) / <i64>nt) * align);
}

// Main thread: wake the workers for a job. They pick up the descriptor and run
// the same step function with their own thread ids.
export function start_job(ctl: usize, job: i32, d: usize, nt: i32): void {
  if (nt <= 1) return;
  atomic.store<i32>(at(ctl, C_JOB), job);
  atomic.store<i32>(at(ctl, C_DESC), <i32>d);
  atomic.add<i32>(at(ctl, C_GEN), 1);
  atomic.notify(at(ctl, C_GEN), nt);
}

// Worker: sleep until a job arrives; returns the job and leaves its descriptor at C_DESC.
export function wait_job(ctl: usize, seen: i32): i32 {
  while (atomic.load<i32>(at(ctl, C_GEN)) == seen) memory.atomic.wait32(at(ctl, C_GEN), seen, -1);
  return atomic.load<i32>(at(ctl, C_JOB));
}
