import { describe, expect, it } from 'vitest';
import { add, relu, scale } from '../../src/kernels/elementwise.js';
import { formatProfile } from '../../src/gpu/profiler.js';
import { testGpu } from '../helpers/gpu.js';

describe('profiling', async () => {
  const gpu = await testGpu();

  it('gives a per-kernel table with call counts and non-negative times', async () => {
    const n = 1 << 16;
    const x = gpu.tensor(new Float32Array(n).fill(1), [n]);
    gpu.startProfiling();
    gpu.tidy(() => {
      for (let i = 0; i < 5; i++) relu(add(scale(x, 2), x));
    });
    const report = await gpu.stopProfiling();
    const byName = Object.fromEntries(report.kernels.map((k) => [k.kernel, k]));
    expect(byName.unary!.calls).toBe(10); // scale + relu share the unary kernel
    expect(byName.binary!.calls).toBe(5);
    for (const k of report.kernels) {
      expect(k.totalMs).toBeGreaterThanOrEqual(0);
      expect(k.meanMs).toBeCloseTo(k.totalMs / k.calls, 9);
    }
    expect(report.totalMs).toBeGreaterThan(0);
    expect(report.source).toBe(gpu.features.has('timestamp-query') ? 'timestamp-query' : 'wall-clock');
    expect(formatProfile(report)).toMatch(/unary\s+10/);
    x.release();
  });
});
