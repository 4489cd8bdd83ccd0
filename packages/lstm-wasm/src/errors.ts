/** Every error @lstm/wasm throws for bad input or misuse; the message names the argument. */
export class LstmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LstmError';
  }
}

export function checkInt(where: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new LstmError(`${where}: ${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

export function checkNumber(where: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new LstmError(`${where}: ${name} must be a finite number in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

/** A Float32Array of exactly `length` finite values. */
export function checkFloats(where: string, name: string, a: unknown, length: number, shape: string): Float32Array {
  if (!(a instanceof Float32Array)) throw new LstmError(`${where}: ${name} must be a Float32Array ${shape}, got ${describe(a)}`);
  if (a.length !== length) throw new LstmError(`${where}: ${name} must have ${length} values ${shape}, got ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new LstmError(`${where}: ${name}[${i}] is ${a[i]}; every value must be finite`);
  }
  return a;
}

/** An Int32Array of exactly `length` ids in [0, limit). */
export function checkIds(where: string, name: string, a: unknown, length: number, limit: number, shape: string): Int32Array {
  if (!(a instanceof Int32Array)) throw new LstmError(`${where}: ${name} must be an Int32Array ${shape}, got ${describe(a)}`);
  if (a.length !== length) throw new LstmError(`${where}: ${name} must have ${length} values ${shape}, got ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] < 0 || a[i] >= limit) throw new LstmError(`${where}: ${name}[${i}] is ${a[i]}; ids must be in [0, ${limit})`);
  }
  return a;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v;
}
