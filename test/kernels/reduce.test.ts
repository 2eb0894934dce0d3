import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { broadcastMid, CPU_TUNING, forceReductionTuning, GPU_TUNING, sumMid, type MidView } from '../../src/kernels/reduce.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

/** Plain float64 loops over the [outer, mid, inner] view. */
function sumMidLoops(x: ArrayLike<number>, v: MidView, alpha: number): Float64Array {
  const out = new Float64Array(v.outer * v.inner);
  for (let o = 0; o < v.outer; o++) {
    for (let m = 0; m < v.mid; m++) {
      for (let i = 0; i < v.inner; i++) out[o * v.inner + i] += x[(o * v.mid + m) * v.inner + i]!;
    }
  }
  return out.map((s) => s * alpha);
}

function broadcastMidLoops(y: ArrayLike<number>, v: MidView, alpha: number): Float64Array {
  const out = new Float64Array(v.outer * v.mid * v.inner);
  for (let o = 0; o < v.outer; o++) {
    for (let m = 0; m < v.mid; m++) {
      for (let i = 0; i < v.inner; i++) out[(o * v.mid + m) * v.inner + i] = alpha * y[o * v.inner + i]!;
    }
  }
  return out;
}

// inner = 1 (in-plane sums), inner < 64 (partial column blocks), inner > 64 (several blocks, last
// partial), long mid axes split into chunks (and a second level of partials), batch-like outer sizes.
const VIEWS: MidView[] = [
  { outer: 6, mid: 35, inner: 1 },
  { outer: 1, mid: 1, inner: 1 },
  { outer: 5, mid: 1000, inner: 3 },
  { outer: 3, mid: 37, inner: 130 },
  { outer: 2, mid: 9000, inner: 1 },
  { outer: 1, mid: 70001, inner: 2 },
  { outer: 1, mid: 5, inner: 1031 },
  { outer: 4, mid: 0, inner: 3 },
];

describe('generic middle-axis reduction on the GPU vs float64 loops', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);

  // The reduction is shaped per adapter; both shapings run here whatever the adapter.
  for (const v of VIEWS) {
    for (const [label, tuning] of [
      ['GPU', GPU_TUNING],
      ['CPU', CPU_TUNING],
    ] as const) {
      it(`sumMid and broadcastMid [${v.outer}, ${v.mid}, ${v.inner}], ${label} shaping seed=${seed}`, async () => {
        forceReductionTuning(tuning);
        const live = gpu.memory().liveTensors;
        const n = v.outer * v.mid * v.inner;
        const x = rng.uniformArray(n, -1, 2);
        const alpha = rng.uniform(0.5, 2);
        await gpu
          .tidy(async () => {
            const tx = gpu.tensor(x, [n]);
            const s = sumMid(tx, v, { alpha, out: poisoned(gpu, [v.outer * v.inner]) });
            const got = await s.read();
            const want = sumMidLoops(x, v, alpha);
            if (v.mid === 0) expect(Array.from(got)).toEqual(Array.from(want));
            else expect(relErr(got, want)).toBeLessThan(1e-5);

            const y = rng.uniformArray(v.outer * v.inner, -1, 1);
            const b = broadcastMid(gpu.tensor(y, [v.outer, v.inner]), v, { alpha, out: poisoned(gpu, [n]) });
            expect(relErr(await b.read(), broadcastMidLoops(y, v, alpha))).toBeLessThan(1e-6);
          })
          .finally(() => forceReductionTuning(null));
        expect(gpu.memory().liveTensors).toBe(live);
      });
    }
  }

  it('is deterministic: the same input gives bit-identical sums', async () => {
    const v = { outer: 2, mid: 20000, inner: 1 };
    const x = rng.normalArray(40000);
    await gpu.tidy(async () => {
      const t = gpu.tensor(x, [40000]);
      const a = await sumMid(t, v).read();
      const b = await sumMid(t, v).read();
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  });

  it('takes a result shape and rejects mismatched sizes and aliasing', () => {
    gpu.tidy(() => {
      const t = gpu.tensor(new Float32Array(24), [2, 3, 4]);
      expect(sumMid(t, { outer: 2, mid: 3, inner: 4 }, { shape: [2, 1, 4] }).shape).toEqual([2, 1, 4]);
      expect(() => sumMid(t, { outer: 2, mid: 3, inner: 3 })).toThrow(/needs 18/);
      expect(() => sumMid(t, { outer: 2, mid: 3, inner: 4 }, { shape: [9] })).toThrow(/must hold 8/);
      expect(() => broadcastMid(t, { outer: 24, mid: 2, inner: 1 }, { out: t })).toThrow(/48 elements/);
      expect(() => broadcastMid(t, { outer: 24, mid: 1, inner: 1 }, { out: t })).toThrow(/must not alias/);
    });
  });
});
