import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { add, relu, scale } from '../../src/kernels/elementwise.js';
import { GpuError } from '../../src/gpu/errors.js';
import { sizeClass } from '../../src/gpu/pool.js';
import { testGpu } from '../helpers/gpu.js';

describe('tensors and memory', async () => {
  const gpu = await testGpu();

  it('1,000 add/relu steps leave live device bytes where they started', async () => {
    const rng = new Rng(1);
    const n = 4096;
    let x = gpu.tensor(rng.uniformArray(n), [n]);
    const w = gpu.tensor(rng.uniformArray(n), [n]);
    await gpu.sync();
    const before = gpu.memory();
    for (let step = 0; step < 1000; step++) {
      const next = gpu.tidy(() => relu(add(scale(x, 0.5), w)));
      x.release();
      x = next;
    }
    await gpu.sync();
    const after = gpu.memory();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.liveTensors).toBe(before.liveTensors);
    // Steady state must come from the pool, not from new driver allocations.
    expect(after.allocations - before.allocations).toBeLessThanOrEqual(3);
    const vals = await x.read();
    expect(vals.every(Number.isFinite)).toBe(true);
    x.release();
    w.release();
  });

  it('tidy keeps returned tensors and releases the rest, nested', () => {
    const start = gpu.memory().liveTensors;
    const kept = gpu.tidy(() => {
      const a = gpu.tensor([1, 2], [2]);
      const inner = gpu.tidy(() => {
        const b = scale(a, 2);
        scale(b, 3); // dropped
        return { b };
      });
      return [inner.b];
    });
    expect(gpu.memory().liveTensors).toBe(start + 1);
    expect(kept[0]!.released).toBe(false);
    kept[0]!.release();
    expect(gpu.memory().liveTensors).toBe(start);
  });

  it('keep() moves a tensor out of the scope', () => {
    const start = gpu.memory().liveTensors;
    let k: ReturnType<typeof gpu.empty> | null = null;
    gpu.tidy(() => {
      k = gpu.keep(gpu.empty([8]));
      gpu.empty([8]);
    });
    expect(gpu.memory().liveTensors).toBe(start + 1);
    k!.release();
  });

  it('use after release is a clear error', () => {
    const t = gpu.tensor([1], [1]);
    t.release();
    expect(() => scale(t, 2)).toThrow(/used after release/);
  });

  it('a tensor over maxBufferSize names the limit (tensors over one binding: test/gpu/limits.test.ts)', () => {
    const limit = gpu.limits.maxBufferSize!;
    const elems = Math.floor(limit / 4) + 1;
    let err: unknown;
    try {
      gpu.empty([elems]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kind).toBe('over-limit');
    expect((err as Error).message).toMatch(/maxBufferSize/);
  });

  it('a buffer released past the pool cap while work that uses it is still unsubmitted is destroyed only after the submit', async () => {
    // (Found at the paper preset's size: a 201 MB activation released mid-step when the free lists held
    // 2 GiB was destroyed before its last kernels were submitted, and the submit failed.)
    const cap = gpu.pool.maxPooledBytes;
    gpu.pool.trim();
    gpu.pool.maxPooledBytes = 0;
    try {
      const before = gpu.memory().allocatedBytes;
      const a = gpu.tensor([1, 2, 3, 4], [4]);
      const b = gpu.tidy(() => relu(scale(a, -1, 2))); // encoded, not submitted (the tidy releases the scaled temporary)
      a.release(); // over the cap: destroyed once the encoder is submitted
      expect(await b.read()).toEqual(Float32Array.from([1, 0, 0, 0]));
      b.release();
      await gpu.sync();
      expect(gpu.memory().allocatedBytes).toBe(before);
      expect(gpu.memory().pooledBytes).toBe(0);
    } finally {
      gpu.pool.maxPooledBytes = cap;
    }
  });

  it('size classes: powers of two up to 16 MiB, then 4 MiB steps', () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(257)).toBe(512);
    expect(sizeClass(16 * 2 ** 20)).toBe(16 * 2 ** 20);
    expect(sizeClass(16 * 2 ** 20 + 1)).toBe(20 * 2 ** 20);
  });

  it('rejects invalid shapes and data length mismatches', () => {
    expect(() => gpu.empty([2, -1])).toThrow(/non-negative integers/);
    expect(() => gpu.tensor([1, 2, 3], [2, 2])).toThrow(/needs 4/);
  });
});
