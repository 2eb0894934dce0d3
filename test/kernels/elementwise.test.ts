import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import * as ew from '../../src/kernels/elementwise.js';
import * as ref from '../../src/kernels/elementwise.ref.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

// Odd sizes on purpose: partial last workgroup, non-multiple-of-4 lengths.
const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
const SIZES = [1, 7, 255, 257, 1000, 4099];

describe('elementwise kernels vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh data each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  for (const n of SIZES) {
    it(`add/sub/mul/scale/relu/sigmoid/exp n=${n} seed=${seed}`, async () => {
      const a = rng.uniformArray(n, -3, 3);
      const b = rng.uniformArray(n, -3, 3);
      const ta = gpu.tensor(a, [n]);
      const tb = gpu.tensor(b, [n]);
      // A sum is judged against the size of its terms, |a| + |alpha·b|: when they nearly cancel (likely
      // at n = 1) the f32 rounding of the terms (alpha = −0.37 itself is not an f32) dwarfs the result.
      const terms = (alpha: number) => Float64Array.from(a, (v, i) => Math.abs(v) + Math.abs(alpha * b[i]!));
      const cases: [string, () => Promise<Float32Array>, Float64Array, Float64Array?][] = [
        ['add', () => ew.add(ta, tb, 1, poisoned(gpu, [n])).read(), ref.addRef(a, b), terms(1)],
        ['axpy', () => ew.add(ta, tb, -0.37, poisoned(gpu, [n])).read(), ref.addRef(a, b, -0.37), terms(-0.37)],
        ['sub', () => ew.sub(ta, tb, 1, poisoned(gpu, [n])).read(), ref.subRef(a, b), terms(1)],
        ['mul', () => ew.mul(ta, tb, poisoned(gpu, [n])).read(), ref.mulRef(a, b)],
        ['scale', () => ew.scale(ta, 2.5, -1, poisoned(gpu, [n])).read(), ref.scaleRef(a, 2.5, -1)],
        ['relu', () => ew.relu(ta, poisoned(gpu, [n])).read(), ref.reluRef(a)],
        ['reluBackward', () => ew.reluBackward(tb, ta, poisoned(gpu, [n])).read(), ref.reluBackwardRef(b, a)],
        ['sigmoid', () => ew.sigmoid(ta, poisoned(gpu, [n])).read(), ref.sigmoidRef(a)],
        ['exp', () => ew.exp(ta, poisoned(gpu, [n])).read(), ref.expRef(a)],
      ];
      for (const [name, run, want, scale] of cases) {
        const got = await gpu.tidy(run);
        expect(scale ? relErr(got, want) * (norm(want) / norm(scale)) : relErr(got, want), name).toBeLessThan(1e-6);
      }
      ta.release();
      tb.release();
    });
  }

  it('fill and copy write every element (poisoned destination)', async () => {
    for (const n of SIZES) {
      const src = gpu.tensor(rng.uniformArray(n), [n]);
      const dst = poisoned(gpu, [n]);
      ew.copy(src, dst);
      expect(Array.from(await dst.read())).toEqual(Array.from(await src.read()));
      ew.fill(dst, 3.25);
      expect((await dst.read()).every((v) => v === 3.25)).toBe(true);
      src.release();
      dst.release();
    }
  });

  it('copies integer tensors bit-exactly', async () => {
    const data = Int32Array.from({ length: 33 }, (_, i) => (i * 2654435761) | 0);
    const t = gpu.tensor(data, [33], 'i32');
    const c = ew.copy(t);
    expect(Array.from(await c.read())).toEqual(Array.from(data));
    t.release();
    c.release();
  });

  it('sigmoid stays finite at ±50 and ±1e4', async () => {
    const x = [-1e4, -50, -1, 0, 1, 50, 1e4];
    const t = gpu.tensor(x, [x.length]);
    const s = await gpu.tidy(() => ew.sigmoid(t).read());
    expect(s.every(Number.isFinite)).toBe(true);
    expect(relErr(s, ref.sigmoidRef(x))).toBeLessThan(1e-6);
    t.release();
  });

  it('uses a 2-D grid beyond 65,535 workgroups per dimension', async () => {
    // 65,535 × 256 + 1000 elements: the first size that needs gid.y > 0 with 256-thread groups.
    const n = 65535 * 256 + 1000;
    const t = poisoned(gpu, [n]);
    ew.fill(t, 1.5);
    const back = await t.read();
    let bad = 0;
    for (let i = 0; i < n; i++) if (back[i] !== 1.5) bad++;
    expect(bad).toBe(0);
    t.release();
  });

  it('rejects mismatched sizes and aliasing with clear errors', () => {
    const a = gpu.tensor([1, 2, 3], [3]);
    const b = gpu.tensor([1, 2], [2]);
    expect(() => ew.add(a, b)).toThrow(/differ in size/);
    expect(() => ew.add(a, a, 1, a)).toThrow(/must not alias/);
    a.release();
    b.release();
  });
});
