import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { matmul } from '../../src/kernels/matmul.js';
import { BROADCAST_NOWHERE, restoreTuning, setTuning, tuningFor } from '../../src/kernels/tuning.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

/** Independent float64 product of op(A)·op(B) for one batch entry. */
function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (transA ? a[t * m + i]! : a[i * k + t]!) * (transB ? b[j * k + t]! : b[t * n + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

describe('matmul vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  // Odd sizes on purpose: 1, primes, non-multiples of the 16-column panel, of 4 and of WG·TM rows.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 17, 5],
    [7, 1, 3],
    [5, 3, 1],
    [33, 19, 13],
    [130, 47, 66],
    [64, 64, 64],
    [257, 31, 9],
  ];
  for (const [m, n, k] of shapes) {
    it(`[${m}×${k}]·[${k}×${n}] with every transpose, seed=${seed}`, async () => {
      const a = rng.uniformArray(m * k, -1, 1);
      const b = rng.uniformArray(k * n, -1, 1);
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          // The same logical product; the stored layout follows the flags.
          const aData = transA ? transpose(a, m, k) : a;
          const bData = transB ? transpose(b, k, n) : b;
          const ta = gpu.tensor(aData, transA ? [k, m] : [m, k]);
          const tb = gpu.tensor(bData, transB ? [n, k] : [k, n]);
          const out = poisoned(gpu, [m, n]);
          matmul(ta, tb, { transA, transB }, out);
          const got = await out.read();
          const want = refMatmul(Float64Array.from(aData), Float64Array.from(bData), m, n, k, transA, transB);
          expect(relErr(got, want), `transA=${transA} transB=${transB}`).toBeLessThan(1e-5);
          ta.release();
          tb.release();
          out.release();
        }
      }
    });
  }

  it(`every rows-per-invocation choice (TM 1, 2, 4) on a ragged product, seed=${seed}`, async () => {
    const [m, n, k] = [75, 21, 10];
    const a = rng.uniformArray(m * k, -1, 1);
    const b = rng.uniformArray(k * n, -1, 1);
    const want = refMatmul(Float64Array.from(a), Float64Array.from(b), m, n, k, false, false);
    const ta = gpu.tensor(a, [m, k]);
    const tb = gpu.tensor(b, [k, n]);
    const saved = tuningFor(gpu);
    try {
      // Each shape compiles a pipeline (seconds on CPU drivers), so WG varies along with TM.
      // On 8-lane subgroups the 4-lane panel sharing is exercised too (sg8 off for one shape).
      for (const [tm, wg, sg8] of [
        [1, 32, saved.sg8],
        [2, 16, false],
        [4, 64, saved.sg8],
      ] as const) {
        setTuning(gpu, { matmul: { wg, tm }, sg8 });
        const out = poisoned(gpu, [m, n]);
        matmul(ta, tb, {}, out);
        expect(relErr(await out.read(), want), `tm=${tm} wg=${wg}`).toBeLessThan(1e-5);
        out.release();
      }
    } finally {
      restoreTuning(gpu, saved);
      ta.release();
      tb.release();
    }
  });

  it(`the workgroup-memory tiled variant (hardware GPUs, no subgroups) on ragged and batched products, seed=${seed}`, async () => {
    const saved = tuningFor(gpu);
    try {
      setTuning(gpu, { broadcast: BROADCAST_NOWHERE });
      for (const [m, n, k, transA, transB] of [
        [1, 1, 1, false, false],
        [70, 65, 19, false, true],
        [33, 130, 66, true, false],
      ] as const) {
        const a = rng.uniformArray(m * k, -1, 1);
        const b = rng.uniformArray(k * n, -1, 1);
        const ta = gpu.tensor(transA ? transpose(a, m, k) : a, transA ? [k, m] : [m, k]);
        const tb = gpu.tensor(transB ? transpose(b, k, n) : b, transB ? [n, k] : [k, n]);
        const out = poisoned(gpu, [m, n]);
        matmul(ta, tb, { transA, transB }, out);
        expect(relErr(await out.read(), refMatmul(a, b, m, n, k, false, false)), `[${m}, ${n}, ${k}]`).toBeLessThan(1e-5);
        for (const t of [ta, tb, out]) t.release();
      }
      const [bs, m, n, k] = [2, 9, 20, 7];
      const a = rng.uniformArray(bs * m * k, -1, 1);
      const b = rng.uniformArray(k * n, -1, 1);
      const ta = gpu.tensor(a, [bs, m, k]);
      const tb = gpu.tensor(b, [k, n]);
      const got = await matmul(ta, tb).read();
      const want = new Float64Array(bs * m * n);
      for (let i = 0; i < bs; i++) want.set(refMatmul(a.subarray(i * m * k, (i + 1) * m * k), b, m, n, k, false, false), i * m * n);
      expect(relErr(got, want), 'batched, shared B').toBeLessThan(1e-5);
      ta.release();
      tb.release();
    } finally {
      restoreTuning(gpu, saved);
    }
  });

  it(`batched: [B, M, K]·[B, K, N], shared 2-D operands on either side, seed=${seed}`, async () => {
    const [bs, m, n, k] = [3, 9, 20, 7];
    const a = rng.uniformArray(bs * m * k, -1, 1);
    const b = rng.uniformArray(bs * k * n, -1, 1);
    const ta = gpu.tensor(a, [bs, m, k]);
    const tb = gpu.tensor(b, [bs, k, n]);
    const tb2 = gpu.tensor(b.subarray(0, k * n), [k, n]);
    const ta2 = gpu.tensor(a.subarray(0, m * k), [m, k]);
    const cases: [string, () => Float32Array | Promise<Float32Array>, (i: number) => Float64Array][] = [
      [
        'both batched',
        () => matmul(ta, tb, {}, poisoned(gpu, [bs, m, n])).read(),
        (i) => refMatmul(a.subarray(i * m * k, (i + 1) * m * k), b.subarray(i * k * n, (i + 1) * k * n), m, n, k, false, false),
      ],
      [
        'shared B',
        () => matmul(ta, tb2, {}, poisoned(gpu, [bs, m, n])).read(),
        (i) => refMatmul(a.subarray(i * m * k, (i + 1) * m * k), b.subarray(0, k * n), m, n, k, false, false),
      ],
      [
        'shared A',
        () => matmul(ta2, tb, {}, poisoned(gpu, [bs, m, n])).read(),
        (i) => refMatmul(a.subarray(0, m * k), b.subarray(i * k * n, (i + 1) * k * n), m, n, k, false, false),
      ],
    ];
    for (const [name, run, ref] of cases) {
      const got = await gpu.tidy(run);
      const want = new Float64Array(bs * m * n);
      for (let i = 0; i < bs; i++) want.set(ref(i), i * m * n);
      expect(relErr(got, want), name).toBeLessThan(1e-5);
    }
    for (const t of [ta, tb, ta2, tb2]) t.release();
  });

  it('does not leak: the packed operand is released', async () => {
    const a = gpu.tensor(rng.uniformArray(12, -1, 1), [3, 4]);
    const b = gpu.tensor(rng.uniformArray(20, -1, 1), [4, 5]);
    const before = gpu.memory().liveTensors;
    const c = matmul(a, b);
    await gpu.sync();
    expect(gpu.memory().liveTensors).toBe(before + 1);
    for (const t of [a, b, c]) t.release();
  });

  it('rejects mismatched shapes, batches, dtypes and aliasing with clear errors', () => {
    const a = gpu.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = gpu.tensor([1, 2, 3, 4], [2, 2]);
    const i = gpu.tensor([1, 2, 3, 4], [2, 2], 'i32');
    expect(() => matmul(a, b)).toThrow(/inner sizes differ/);
    expect(() => matmul(b, b, {}, b)).toThrow(/must not alias/);
    expect(() => matmul(b, i)).toThrow(/f32/);
    expect(() => matmul(gpu.tensor(new Float32Array(24), [2, 3, 4]), gpu.tensor(new Float32Array(36), [3, 4, 3]))).toThrow(/batch sizes 2 and 3 differ/);
    expect(() => matmul(gpu.tensor([1], [1]), b)).toThrow(/matrix/);
    for (const t of [a, b, i]) t.release();
  });
});

function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j]!;
  return t;
}
