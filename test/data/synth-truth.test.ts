import { describe, expect, it } from 'vitest';
import { preprocessVolume } from '../../src/data/preprocess.js';
import { generateSubject, sliceZ, tumourCrossSection } from '../../src/data/synth.js';
import { truthMasks } from '../../src/data/synth-truth.js';
import { Rng } from '../../src/util/rng.js';

const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
};

describe('synthetic ground truth on a voxel grid', () => {
  const opts = { size: 48, slices: 12, fovMm: 64, difficulty: 0, sizeMatched: true } as const;
  const t3 = generateSubject(new Rng(21), { ...opts, label: 'T3' });
  const t2 = generateSubject(new Rng(21), { ...opts, label: 'T2' });

  it('the tumour mask on the volume’s own grid matches the renderer’s partial-volume tumour fraction', () => {
    const m = truthMasks(t3.anatomy, t3.volume);
    expect(Math.abs(sum(m.tumour) / sum(t3.tumourFraction) - 1)).toBeLessThan(0.03);
    let diff = 0;
    for (let i = 0; i < m.tumour.length; i++) diff += Math.abs(m.tumour[i]! - t3.tumourFraction[i]!);
    expect(diff / sum(t3.tumourFraction)).toBeLessThan(0.15);
  });

  it('criterion region: inside the tumour; T3 = its extramural part; the same voxels for a T2 of the same seed', () => {
    const m3 = truthMasks(t3.anatomy, t3.volume);
    const m2 = truthMasks(t2.anatomy, t2.volume);
    for (let i = 0; i < m3.criterion.length; i++) expect(m3.criterion[i]!).toBeLessThanOrEqual(m3.tumour[i]! + 1e-7);
    expect(sum(m3.criterion)).toBeGreaterThan(3);
    expect(Array.from(m2.criterion)).toEqual(Array.from(m3.criterion));
    // Voxel fractions × voxel area vs the exact extramural cross-sections, slice by slice.
    const a = t3.anatomy;
    const [D, H, W] = t3.volume.dims;
    const px2 = t3.volume.spacing[1] * t3.volume.spacing[2];
    let exact = 0;
    for (let d = 0; d < D; d++)
      for (let k = 0; k < 3; k++) exact += tumourCrossSection(a, sliceZ(d, D, a.sliceMm) + ((k + 0.5) / 3 - 0.5) * a.sliceMm).extramural / 3;
    expect(Math.abs((sum(m3.criterion) * px2) / exact - 1)).toBeLessThan(0.08);
    void H;
    void W;
  });

  it('follows the volume through the preprocessing crop and resize (affine), and through a depth window', () => {
    const pre = preprocessVolume(t3.volume, { biasField: false, roi: { d: null, h: [4, 44], w: [6, 42] }, size: 32, normalize: false });
    const onPre = truthMasks(t3.anatomy, pre);
    const onOrig = truthMasks(t3.anatomy, t3.volume);
    const moved = preprocessVolume(
      { ...t3.volume, data: onOrig.tumour },
      { biasField: false, roi: { d: null, h: [4, 44], w: [6, 42] }, size: 32, normalize: false },
    );
    let diff = 0;
    for (let i = 0; i < onPre.tumour.length; i++) diff += Math.abs(onPre.tumour[i]! - moved.data[i]!);
    expect(diff / sum(moved.data)).toBeLessThan(0.2);
    expect(Math.abs(sum(onPre.tumour) / sum(moved.data) - 1)).toBeLessThan(0.05);
    // A window of 4 slices starting at slice 5: the masks of those slices.
    const [, H, W] = pre.dims;
    const win = { dims: [4, H, W] as [number, number, number], affine: pre.affine };
    const w = truthMasks(t3.anatomy, win, { sliceOffset: 5 });
    expect(Array.from(w.tumour)).toEqual(Array.from(onPre.tumour.subarray(5 * H * W, 9 * H * W)));
  });

  it('rejects a grid that is not axial in the synthetic frame', () => {
    const A = t3.volume.affine.slice();
    [A[0], A[2]] = [A[2]!, A[0]!];
    expect(() => truthMasks(t3.anatomy, { dims: t3.volume.dims, affine: A })).toThrow(/axial/);
  });
});
