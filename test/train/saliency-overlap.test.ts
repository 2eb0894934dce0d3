import { describe, expect, it } from 'vitest';
import { distanceToMask, saliencyNearRegion } from '../../src/train/saliency-overlap.js';
import { Rng } from '../../src/util/rng.js';

/** Brute force: distance from each voxel centre to the nearest mask voxel centre. */
function bruteDistance(mask: ArrayLike<number>, dims: [number, number, number], sp: [number, number, number]): Float64Array {
  const [D, H, W] = dims;
  const pts: [number, number, number][] = [];
  for (let d = 0; d < D; d++)
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) if (mask[(d * H + h) * W + w]! > 0.5) pts.push([d * sp[0], h * sp[1], w * sp[2]]);
  const out = new Float64Array(D * H * W);
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        let best = Infinity;
        for (const p of pts) best = Math.min(best, (d * sp[0] - p[0]) ** 2 + (h * sp[1] - p[1]) ** 2 + (w * sp[2] - p[2]) ** 2);
        out[(d * H + h) * W + w] = Math.sqrt(best);
      }
    }
  }
  return out;
}

describe('distanceToMask', () => {
  it('equals brute force on anisotropic grids with sparse, dense and single-voxel masks', () => {
    const rng = new Rng(31);
    const cases: { dims: [number, number, number]; sp: [number, number, number]; p: number }[] = [
      { dims: [5, 9, 7], sp: [3.1, 0.7, 0.9], p: 0.05 },
      { dims: [1, 12, 13], sp: [1, 1.33, 1.33], p: 0.3 },
      { dims: [7, 6, 5], sp: [2.5, 1, 1], p: 0.01 },
      { dims: [4, 4, 4], sp: [1, 1, 1], p: 0.9 },
    ];
    for (const c of cases) {
      const n = c.dims[0] * c.dims[1] * c.dims[2];
      const mask = new Float32Array(n);
      for (let i = 0; i < n; i++) mask[i] = rng.next() < c.p ? 0.5 + 0.5 * rng.next() + 1e-3 : 0.5 * rng.next();
      if (!mask.some((m) => m > 0.5)) mask[rng.int(0, n)] = 1;
      const got = distanceToMask(mask, c.dims, c.sp);
      const want = bruteDistance(mask, c.dims, c.sp);
      for (let i = 0; i < n; i++) expect(got[i]!).toBeCloseTo(want[i]!, 9);
    }
    const one = new Float32Array(3 * 5 * 5);
    one[(1 * 5 + 2) * 5 + 2] = 1;
    const d = distanceToMask(one, [3, 5, 5], [3, 1, 1]);
    expect(d[(0 * 5 + 2) * 5 + 2]).toBeCloseTo(3, 12);
    expect(d[(2 * 5 + 4) * 5 + 4]).toBeCloseTo(Math.sqrt(9 + 4 + 4), 12);
  });

  it('is Infinity everywhere for an empty mask, and rejects mismatched inputs', () => {
    expect(Array.from(distanceToMask(new Float32Array(8), [2, 2, 2], [1, 1, 1])).every((x) => x === Infinity)).toBe(true);
    expect(() => distanceToMask(new Float32Array(7), [2, 2, 2], [1, 1, 1])).toThrow(/need 8/);
    expect(() => distanceToMask(new Float32Array(8), [2, 2, 2], [1, 0, 1])).toThrow(/spacing/);
  });
});

describe('saliencyNearRegion', () => {
  const dims: [number, number, number] = [4, 10, 10];
  const sp: [number, number, number] = [3, 1, 1];
  const n = 400;
  const mask = new Float32Array(n);
  for (let h = 4; h < 6; h++) for (let w = 4; w < 6; w++) mask[(1 * 10 + h) * 10 + w] = 1;

  it('a map on the region puts all its mass there; an even map gives enrichment 1', () => {
    const onRegion = Float32Array.from(mask, (m) => m * 2.5);
    const [r0] = saliencyNearRegion(onRegion, { mask }, dims, sp, [0]);
    expect(r0!.mass).toBe(1);
    expect(r0!.volume).toBeCloseTo(4 / 400, 12);
    expect(r0!.enrichment).toBeCloseTo(100, 9);
    const even = new Float32Array(n).fill(0.3);
    for (const r of saliencyNearRegion(even, { mask }, dims, sp, [0, 1, 3, 5])) {
      expect(r.mass).toBeCloseTo(r.volume, 12);
      expect(r.enrichment).toBeCloseTo(1, 9);
    }
  });

  it('counts by distance in mm: the neighbouring slice (3 mm) is within 3 mm, not within 2', () => {
    const s = new Float32Array(n);
    s[(2 * 10 + 4) * 10 + 4] = 1; // one slice above a region voxel
    s[(1 * 10 + 0) * 10 + 0] = 1; // same slice, 4·√2 mm from the nearest region voxel
    const [r2, r3, r6] = saliencyNearRegion(s, { mask }, dims, sp, [2, 3, 6]);
    expect(r2!.mass).toBe(0);
    expect(r3!.mass).toBe(0.5);
    expect(r6!.mass).toBe(1);
  });

  it('top share and peak: the most salient voxels, not the diffuse rest', () => {
    // A faint even background over the whole grid (most of the mass) and 4 strong voxels on the region.
    const s = new Float32Array(n).fill(0.01);
    for (let h = 4; h < 6; h++) for (let w = 4; w < 6; w++) s[(1 * 10 + h) * 10 + w] = 1;
    const [r0] = saliencyNearRegion(s, { mask }, dims, sp, [0], 0.01);
    expect(r0!.mass).toBeCloseTo(4 / (4 + 396 * 0.01), 6); // f32 background
    expect(r0!.top).toBe(1);
    expect(r0!.peak).toBe(true);
    // The peak elsewhere: the top-4 holds it plus 3 region voxels.
    s[0] = 2;
    const [q0] = saliencyNearRegion(s, { mask }, dims, sp, [0], 0.01);
    expect(q0!.top).toBe(0.75);
    expect(q0!.peak).toBe(false);
    expect(() => saliencyNearRegion(s, { mask }, dims, sp, [0], 0)).toThrow(/topFraction/);
  });

  it('takes precomputed distances, and rejects negative or non-finite saliency', () => {
    const dist = distanceToMask(mask, dims, sp);
    const s = new Float32Array(n).fill(1);
    expect(saliencyNearRegion(s, { distance: dist }, dims, sp)).toEqual(saliencyNearRegion(s, { mask }, dims, sp));
    s[3] = -1;
    expect(() => saliencyNearRegion(s, { mask }, dims, sp)).toThrow(/non-negative/);
    s[3] = NaN;
    expect(() => saliencyNearRegion(s, { mask }, dims, sp)).toThrow(/non-negative/);
  });
});
