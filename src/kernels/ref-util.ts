/**
 * Shared helpers for the float64 CPU references (`*.ref.ts`): shape checks, the project's relative
 * error metric, and central finite differences for gradient checks. Pure code, no Node modules, so
 * GPU tests in Node and in a page can use the same references.
 */
import type { Triple } from './axes.js';
import type { Rng } from '../util/rng.js';

/** Tensor shape, NCDHW order for feature maps. */
export type Shape = readonly number[];
/** Anisotropic parameter in (depth, height, width) order (the kernels' type, axes.ts). */
export type { Triple };
/** Anything the references read: Float64Array, Float32Array (read exactly in f64), number[]. */
export type NumArray = ArrayLike<number>;

/** Number of elements of a shape (1 for a scalar shape []). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Throws unless `shape` has one of the allowed ranks and only positive integer extents. */
export function checkShape(shape: Shape, ranks: number | readonly number[], name: string): void {
  const allowed = typeof ranks === 'number' ? [ranks] : ranks;
  if (!allowed.includes(shape.length)) {
    throw new Error(`${name} has rank ${shape.length} (shape [${shape.join(', ')}]); expected rank ${allowed.join(' or ')}`);
  }
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 1) {
      throw new Error(`${name} shape [${shape.join(', ')}] has a non-positive or non-integer extent; every extent must be an integer >= 1`);
    }
  }
}

/** Throws unless `data` holds exactly numel(shape) elements. */
export function checkLength(data: NumArray, shape: Shape, name: string): void {
  const n = numel(shape);
  if (data.length !== n) {
    throw new Error(`${name} has ${data.length} elements but its shape [${shape.join(', ')}] needs ${n}; pass matching data and shape`);
  }
}

/** Validates a (depth, height, width) triple of integers >= `min` and returns it as a fresh tuple. */
export function checkTriple(t: Triple | undefined, fallback: Triple, min: number, name: string): [number, number, number] {
  const v = t ?? fallback;
  if (v.length !== 3 || !v.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`${name} must be three integers >= ${min} in (depth, height, width) order, got [${Array.from(v).join(', ')}]`);
  }
  return [v[0], v[1], v[2]];
}

/** Sum of a[i]·b[i] in float64. */
export function dot(a: NumArray, b: NumArray): number {
  if (a.length !== b.length) throw new Error(`dot of arrays of different lengths ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The project's error metric: ||out − ref||₂ / ||ref||₂. When ref is all zeros it returns
 * ||out||₂ instead (an absolute error), so a zero reference still demands a zero output.
 * NaN anywhere gives NaN, which fails every `< tol` comparison as it should.
 */
export function relErr(out: NumArray, ref: NumArray): number {
  if (out.length !== ref.length) {
    throw new Error(`relErr of arrays of different lengths: out ${out.length}, ref ${ref.length}`);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i]! - ref[i]!;
    num += d * d;
    den += ref[i]! * ref[i]!;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** max |a[i] − b[i]|. */
export function maxAbsDiff(a: NumArray, b: NumArray): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff of arrays of different lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // also lets NaN through
  }
  return m;
}

/** Float64Array of standard normals drawn from `rng` (Rng.normalArray is float32). */
export function randomNormal(rng: Rng, n: number, mean = 0, std = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(mean, std);
  return out;
}

/** Float64Array of uniforms in [lo, hi) drawn from `rng`. */
export function randomUniform(rng: Rng, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/**
 * Central finite differences (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h of a scalar function at the given
 * coordinates (all of them by default). `x` is perturbed in place and restored exactly.
 * Returns a Float64Array of x.length; coordinates not in `coords` are left 0.
 */
export function finiteDiffGrad(f: (x: Float64Array) => number, x: Float64Array, opts: { h?: number; coords?: readonly number[] } = {}): Float64Array {
  const h = opts.h ?? 1e-6;
  const g = new Float64Array(x.length);
  const coords = opts.coords ?? Array.from({ length: x.length }, (_, i) => i);
  for (const i of coords) {
    if (!(i >= 0 && i < x.length)) throw new Error(`finiteDiffGrad coordinate ${i} is outside [0, ${x.length})`);
    const x0 = x[i]!;
    x[i] = x0 + h;
    const fp = f(x);
    x[i] = x0 - h;
    const fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

export interface GradCheckResult {
  /** relErr of the analytic gradient against finite differences, on the checked coordinates. */
  relErr: number;
  /** Largest absolute difference on the checked coordinates. */
  maxAbsErr: number;
  /** The coordinates that were checked. */
  coords: number[];
}

/**
 * Compares an analytic gradient of the scalar `f` at `x` with central finite differences.
 * Checks every coordinate when x.length <= maxCoords (default 256), else the first, the last and a
 * random sample (needs `rng`) — enough to catch indexing bugs while keeping tests fast.
 */
export function gradCheck(
  f: (x: Float64Array) => number,
  x: Float64Array,
  analytic: NumArray,
  opts: { h?: number; maxCoords?: number; rng?: Rng } = {},
): GradCheckResult {
  if (analytic.length !== x.length) {
    throw new Error(`gradCheck: analytic gradient has ${analytic.length} elements, x has ${x.length}`);
  }
  const maxCoords = opts.maxCoords ?? 256;
  let coords: number[];
  if (x.length <= maxCoords) {
    coords = Array.from({ length: x.length }, (_, i) => i);
  } else {
    if (!opts.rng) throw new Error(`gradCheck: x has ${x.length} > maxCoords=${maxCoords} elements; pass an rng to sample coordinates`);
    const picked = new Set<number>([0, x.length - 1]);
    while (picked.size < maxCoords) picked.add(opts.rng.int(0, x.length));
    coords = Array.from(picked).sort((a, b) => a - b);
  }
  const fd = finiteDiffGrad(f, x, { h: opts.h ?? 1e-6, coords });
  const a = coords.map((i) => analytic[i]!);
  const n = coords.map((i) => fd[i]!);
  return { relErr: relErr(a, n), maxAbsErr: maxAbsDiff(a, n), coords };
}
