/**
 * A small seeded generator (xorshift128, state seeded through a splitmix32 hash).
 * Pure 32-bit integer arithmetic, so the same seed gives the same numbers in
 * every JavaScript engine.
 */
export class Rng {
  private s: Uint32Array;
  constructor(seed: number | Uint32Array) {
    if (seed instanceof Uint32Array) { this.s = Uint32Array.from(seed); return; }
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    let t = s[3];
    t ^= t << 11;
    t ^= t >>> 8;
    s[3] = s[2]; s[2] = s[1]; s[1] = s[0];
    t ^= s[0] ^ (s[0] >>> 19);
    s[0] = t;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number { return this.nextU32() / 4294967296; }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
  /** The state, to save and restore a stream exactly. */
  get state(): Uint32Array { return Uint32Array.from(this.s); }
}
