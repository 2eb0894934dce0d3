import { describe, expect, it } from 'vitest';
import { GpuError } from '../../src/gpu/errors.js';
import { type Triple, triple } from '../../src/kernels/axes.js';

describe('triple: the one check of per-axis (depth, height, width) parameters', () => {
  it('accepts three integers >= min, one integer for all three axes, and the fallback for undefined', () => {
    expect(triple('op', 'stride', [1, 2, 3], 1, 1)).toEqual([1, 2, 3]);
    expect(triple('op', 'stride', 2, 1, 1)).toEqual([2, 2, 2]);
    expect(triple('op', 'pad', undefined, 0, 0)).toEqual([0, 0, 0]);
    expect(triple('op', 'stride', undefined, [1, 3, 3], 1)).toEqual([1, 3, 3]);
    const t: Triple = [1, 1, 1];
    expect(triple('op', 'stride', t, 1, 1)).not.toBe(t); // a fresh array the caller may keep
  });

  it('refuses malformed values with a usage error naming the op, the parameter and the value', () => {
    const bad: unknown[] = [[1, 2], [1, 2, 3, 4], [1, 0, 1], [1, 1.5, 1], [1, Number.NaN, 1], [1, Infinity, 1], 0, -1, 1.5, Number.NaN, '2', [1, '2', 1], null];
    for (const v of bad) {
      let err: unknown;
      try {
        triple('maxPool3d', 'kernel size', v as Triple, 1, 1);
      } catch (e) {
        err = e;
      }
      expect(err, String(v)).toBeInstanceOf(GpuError);
      expect((err as GpuError).kind).toBe('usage');
      expect((err as GpuError).message).toMatch(
        /^maxPool3d: kernel size must be three integers >= 1 in \(depth, height, width\) order, or one integer for all three, got /,
      );
    }
    expect(() => triple('conv3d', 'pad', [0, -1, 0], 0, 0)).toThrow(
      'conv3d: pad must be three integers >= 0 in (depth, height, width) order, or one integer for all three, got [0, -1, 0]',
    );
    expect(() => triple('conv3d', 'stride', '2' as never, 1, 1)).toThrow(/got "2"$/);
  });
});
