/**
 * Per-axis parameters of the volumetric ops (kernel, stride, padding, dilation), always in (depth,
 * height, width) order — one type and one check for every op and layer that takes them.
 */
import { GpuError } from '../gpu/errors.js';

/** A per-axis parameter in (depth, height, width) order. */
export type Triple = readonly [number, number, number];

/**
 * Checks a per-axis parameter and returns it as a fresh triple: three integers ≥ `min`, or one integer
 * ≥ `min` meaning the same on every axis (torch.nn.functional's shorthand; the graph ops accept it, the
 * kernels do not pass it); `undefined` takes `fallback`. Anything else — a wrong length, a fraction,
 * NaN, a value below `min`, a string — is a GpuError('usage') naming the op and the parameter.
 */
export function triple(op: string, name: string, v: number | Triple | undefined, fallback: number | Triple, min: number): [number, number, number] {
  const t: unknown = v === undefined ? fallback : v;
  const axes: unknown = typeof t === 'number' ? [t, t, t] : t;
  if (!Array.isArray(axes) || axes.length !== 3 || !axes.every((e) => typeof e === 'number' && Number.isInteger(e) && e >= min)) {
    const got = Array.isArray(t) ? `[${t.map(String).join(', ')}]` : typeof t === 'string' ? JSON.stringify(t) : String(t);
    throw new GpuError('usage', `${op}: ${name} must be three integers >= ${min} in (depth, height, width) order, or one integer for all three, got ${got}`);
  }
  return [axes[0], axes[1], axes[2]];
}
