import { describe, expect, it } from 'vitest';
import {
  buildSliceModel,
  classifyPoint,
  generateCohort,
  generateSubject,
  planCohort,
  renderTissueSlice,
  sliceZ,
  subjectAnatomy,
  TISSUE,
  tumourCrossSection,
  tumourVolumeMm3,
  type SynthSubject,
} from '../../src/data/synth.js';
import { tumourSize } from '../../src/data/synth-size.js';
import { Rng } from '../../src/util/rng.js';

/** Fine label map of one slice plane around the rectum (0.25 mm grid over a 50 mm window: the T2 wall
 * reaches at most ~24 mm from the centre). */
function fineLabels(s: SynthSubject, d: number): { lab: Uint8Array; n: number } {
  const a = s.anatomy;
  const z = sliceZ(d, a.slices, a.sliceMm);
  const m = buildSliceModel(a, z);
  const n = 200;
  const step = 0.25;
  const lab = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) lab[i * n + j] = classifyPoint(m, m.cx + (j - n / 2 + 0.5) * step, m.cy + (i - n / 2 + 0.5) * step);
  }
  return { lab, n };
}

const OUTSIDE_WALL = new Set<number>([TISSUE.fat, TISSUE.fascia, TISSUE.node, TISSUE.vessel, TISSUE.fibrosis, TISSUE.other]);

/** Tumour pixels that touch (4-neighbourhood) tissue outside the rectal wall. */
function tumourTouchingOutside(lab: Uint8Array, n: number): number {
  let c = 0;
  for (let i = 1; i < n - 1; i++) {
    for (let j = 1; j < n - 1; j++) {
      if (lab[i * n + j] !== TISSUE.tumour) continue;
      if ([lab[(i - 1) * n + j]!, lab[(i + 1) * n + j]!, lab[i * n + j - 1]!, lab[i * n + j + 1]!].some((t) => OUTSIDE_WALL.has(t))) c++;
    }
  }
  return c;
}

function tumourSlices(s: SynthSubject): number[] {
  const [D, H, W] = s.volume.dims;
  const out: number[] = [];
  for (let d = 0; d < D; d++) {
    let a = 0;
    for (let i = 0; i < H * W; i++) a += s.tumourFraction[d * H * W + i]!;
    if (a > 0) out.push(d);
  }
  return out;
}

describe('synthetic rectal MR subject', () => {
  it('has the paper geometry: S x S x N, ~0.44 mm at S = 256, ~3.1 mm slices, integer non-negative voxels', () => {
    const s = generateSubject(new Rng(1), { label: 'T3', size: 32 });
    const [D, H, W] = s.volume.dims;
    expect([H, W]).toEqual([32, 32]);
    expect(D).toBeGreaterThanOrEqual(20);
    expect(D).toBeLessThanOrEqual(30);
    expect(s.volume.spacing[0]).toBeGreaterThanOrEqual(2.7);
    expect(s.volume.spacing[0]).toBeLessThanOrEqual(3.5);
    // FOV = 256 * 0.44 mm (±8 % jitter), so S = 256 would give ~0.44 mm pixels.
    expect((s.volume.spacing[1] * 32) / 256).toBeGreaterThan(0.44 * 0.91);
    expect((s.volume.spacing[1] * 32) / 256).toBeLessThan(0.44 * 1.09);
    const A = s.volume.affine;
    expect(Math.hypot(A[0]!, A[4]!, A[8]!)).toBeCloseTo(s.volume.spacing[0], 9);
    expect(Math.hypot(A[2]!, A[6]!, A[10]!)).toBeCloseTo(s.volume.spacing[2], 9);
    for (const x of s.volume.data) {
      if (!(Number.isInteger(x) && x >= 0)) throw new Error(`voxel ${x} is not a non-negative integer`);
    }
  });

  it('is deterministic per seed, and the anatomy does not depend on the matrix size', () => {
    const a = generateSubject(new Rng(5), { label: 'T2', size: 24, slices: 8 });
    const b = generateSubject(new Rng(5), { label: 'T2', size: 24, slices: 8 });
    expect(Array.from(a.volume.data)).toEqual(Array.from(b.volume.data));
    const c = generateSubject(new Rng(5), { label: 'T2', size: 40, slices: 8 });
    expect(c.anatomy).toEqual(a.anatomy);
    expect(Array.from(c.volume.data)).not.toEqual(Array.from(a.volume.data));
  });

  it('T2 tumour never leaves the muscularis propria; T3 tumour breaks through into the mesorectal fat', () => {
    for (let seed = 0; seed < 4; seed++) {
      for (const difficulty of [0, 0.5, 1]) {
        for (const label of ['T2', 'T3'] as const) {
          const s = generateSubject(new Rng(1000 + seed), { label, size: 16, slices: [10, 14], difficulty });
          const slices = label === 'T2' ? tumourSlices(s) : s.representativeSlices;
          let touching = 0;
          for (const d of slices) {
            const { lab, n } = fineLabels(s, d);
            touching += tumourTouchingOutside(lab, n);
          }
          if (label === 'T2') {
            expect(touching, `T2 seed ${seed} d=${difficulty}`).toBe(0);
            expect(s.extensionMm).toBe(0);
          } else {
            expect(touching, `T3 seed ${seed} d=${difficulty}: breach visible on the representative slices`).toBeGreaterThan(0);
            expect(s.extensionMm).toBeGreaterThan(0.3);
          }
        }
      }
    }
  });

  it('draws the wall layers in order: lumen, mucosa, submucosa (bright), muscularis (dark), fat (bright), fascia', () => {
    const s = generateSubject(new Rng(3), { label: 'T2', size: 16, slices: 12 });
    const a = s.anatomy;
    // A ray away from the tumour, at the first slice (the tumour sits mid-stack).
    const m = buildSliceModel(a, sliceZ(0, a.slices, a.sliceMm));
    const ang = a.tumour.angle + Math.PI;
    const seq: number[] = [];
    for (let r = 0; r < 60; r += 0.05) {
      const t = classifyPoint(m, m.cx + r * Math.cos(ang), m.cy + r * Math.sin(ang));
      if (t === TISSUE.vessel || t === TISSUE.node) continue;
      if (seq[seq.length - 1] !== t) seq.push(t);
    }
    expect(seq.slice(0, 6)).toEqual([TISSUE.lumen, TISSUE.mucosa, TISSUE.submucosa, TISSUE.muscularis, TISSUE.fat, TISSUE.fascia]);
    const sig = a.signal;
    expect(sig.submucosa).toBeGreaterThan(sig.mucosa);
    expect(sig.muscularis).toBeLessThan(sig.tumour);
    expect(sig.tumour).toBeLessThan(sig.fat);
    expect(sig.fascia).toBeLessThan(0.3);
  });

  it('records representative slices (1-3, contiguous, widest tumour) and an ROI that holds the tumour', () => {
    for (let seed = 0; seed < 8; seed++) {
      const s = generateSubject(new Rng(50 + seed), { label: seed % 2 ? 'T3' : 'T2', size: 20, slices: [12, 16] });
      const [D, H, W] = s.volume.dims;
      const rep = s.representativeSlices;
      expect(rep.length).toBeGreaterThanOrEqual(1);
      expect(rep.length).toBeLessThanOrEqual(3);
      rep.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(D);
        if (i) expect(d).toBe(rep[i - 1]! + 1);
      });
      const area = Array.from({ length: D }, (_, d) => s.tumourFraction.subarray(d * H * W, (d + 1) * H * W).reduce((p, q) => p + q, 0));
      const widest = area.indexOf(Math.max(...area));
      if (s.label === 'T2') expect(rep).toContain(widest);
      expect(area[rep[0]!]!).toBeGreaterThan(0);
      const roi = s.roi;
      for (let d = 0; d < D; d++) {
        for (let h = 0; h < H; h++) {
          for (let w = 0; w < W; w++) {
            if (s.tumourFraction[(d * H + h) * W + w]! > 0) {
              const inside = d >= roi.d![0] && d < roi.d![1] && h >= roi.h![0] && h < roi.h![1] && w >= roi.w![0] && w < roi.w![1];
              if (!inside) throw new Error(`seed ${seed}: tumour voxel (${d},${h},${w}) outside ROI ${JSON.stringify(roi)}`);
            }
          }
        }
      }
    }
  });

  it('has partial volume (fractional tumour voxels), Rician noise and a smooth bias field', () => {
    const s = generateSubject(new Rng(9), { label: 'T3', size: 32, slices: 12, difficulty: 0.5 });
    let frac = 0;
    for (const f of s.tumourFraction) if (f > 0.05 && f < 0.95) frac++;
    expect(frac).toBeGreaterThan(10);
    // Rician: the darkest tissue (air in the lumen or cortex) is never exactly zero on average.
    const a = s.anatomy;
    expect(a.noise).toBeGreaterThan(0.02);
    expect(a.bias.some((c) => Math.abs(c) > 0)).toBe(true);
    // Fat voxels vary: noise and bias, not a flat constant.
    const lab = renderTissueSlice(a, sliceZ(0, a.slices, a.sliceMm), 32);
    const fat: number[] = [];
    lab.forEach((t, i) => t === TISSUE.fat && fat.push(s.volume.data[i]!));
    const mean = fat.reduce((p, q) => p + q, 0) / fat.length;
    const sd = Math.sqrt(fat.reduce((p, q) => p + (q - mean) ** 2, 0) / fat.length);
    expect(sd / mean).toBeGreaterThan(0.01);
  });

  it('difficulty shrinks the T3 extension and raises the noise', () => {
    const gen = (d: number) =>
      Array.from({ length: 12 }, (_, i) => generateSubject(new Rng(70 + i), { label: 'T3', size: 8, slices: 10, difficulty: d }).anatomy);
    const mean = (x: number[]): number => x.reduce((p, q) => p + q, 0) / x.length;
    const easy = gen(0);
    const hard = gen(1);
    expect(mean(easy.map((a) => a.outgrowth.depth))).toBeGreaterThan(2.5 * mean(hard.map((a) => a.outgrowth.depth)));
    expect(mean(hard.map((a) => a.noise))).toBeGreaterThan(2 * mean(easy.map((a) => a.noise)));
  });

  it('size-matched: a T2 and a T3 from the same seed have the same tumour; only the muscularis differs', () => {
    for (let seed = 0; seed < 6; seed++) {
      for (const difficulty of [0, 0.5, 1]) {
        const t2 = subjectAnatomy(new Rng(300 + seed), { label: 'T2', difficulty, slices: [12, 16], sizeMatched: true }).anatomy;
        const t3 = subjectAnatomy(new Rng(300 + seed), { label: 'T3', difficulty, slices: [12, 16], sizeMatched: true }).anatomy;
        expect(t3.tumour).toEqual(t2.tumour);
        expect({ ...t3.outgrowth, fade: 0 }).toEqual(t2.outgrowth);
        expect(tumourSize(t3)).toEqual(tumourSize(t2));
        let pushed = 0;
        for (let d = 0; d < t2.slices; d++) {
          const z = sliceZ(d, t2.slices, t2.sliceMm);
          const m2 = buildSliceModel(t2, z);
          const m3 = buildSliceModel(t3, z);
          expect(Array.from(m3.tumourIn)).toEqual(Array.from(m2.tumourIn));
          expect(Array.from(m3.tumourOut)).toEqual(Array.from(m2.tumourOut));
          for (let b = 0; b < m2.tumourOut.length; b++) {
            // T2's muscularis is only ever pushed outward, and always stays outside the tumour.
            expect(m2.muscularisEnd[b]!).toBeGreaterThanOrEqual(m3.muscularisEnd[b]!);
            expect(m2.muscularisEnd[b]! - Math.max(m2.tumourOut[b]!, m2.tumourIn[b]!)).toBeGreaterThanOrEqual(t2.tumour.minRemaining - 1e-9);
            if (m2.muscularisEnd[b]! > m3.muscularisEnd[b]!) pushed++;
          }
          expect(tumourCrossSection(t2, z).extramural).toBe(0);
        }
        expect(pushed, `seed ${seed} d=${difficulty}: the outgrowth pushes the T2 muscularis somewhere`).toBeGreaterThan(0);
      }
    }
  });

  it('default size model: the same seed gives a larger T3 tumour (1.15x in length, arc and bulge: ~1.3x the volume)', () => {
    for (let seed = 0; seed < 4; seed++) {
      const opts = { difficulty: 0.5, slices: 40 } as const; // a long stack: no length cap
      const t2 = subjectAnatomy(new Rng(400 + seed), { ...opts, label: 'T2' }).anatomy;
      const t3 = subjectAnatomy(new Rng(400 + seed), { ...opts, label: 'T3' }).anatomy;
      expect(t3.tumour.halfLength / t2.tumour.halfLength).toBeCloseTo(1.15, 9);
      expect(t3.tumour.inward / t2.tumour.inward).toBeCloseTo(1.15, 9);
      const ratio = tumourVolumeMm3(t3) / tumourVolumeMm3(t2);
      expect(ratio).toBeGreaterThan(1.2);
      expect(ratio).toBeLessThan(1.45);
    }
  });

  it('measures tumour size on the geometry as rendering does (volume, window, largest slice area)', () => {
    for (let seed = 0; seed < 3; seed++) {
      const s = generateSubject(new Rng(500 + seed), { label: seed ? 'T3' : 'T2', size: 64, slices: 30, fovMm: 64, difficulty: 0.3, jitterSpacing: false });
      const a = s.anatomy;
      const [D, H, W] = s.volume.dims;
      const px2 = (a.fovMm / H) * (a.fovMm / W);
      const area = Array.from({ length: D }, (_, d) => s.tumourFraction.subarray(d * H * W, (d + 1) * H * W).reduce((p, q) => p + q, 0) * px2);
      const size = tumourSize(a, 8);
      // A 30-slice stack holds the whole tumour: the rendered volume is the integral on the slice grid.
      const rendered = area.reduce((p, q) => p + q, 0) * a.sliceMm;
      expect(Math.abs(rendered / size.volumeMm3 - 1)).toBeLessThan(0.05);
      expect(Math.abs(Math.max(...area) / size.maxAreaMm2 - 1)).toBeLessThan(0.03);
      const start = Math.max(0, Math.min(D - 8, s.representativeSlices[0]! - 4));
      expect(size.windowMm3).toBeLessThanOrEqual(size.volumeMm3 * 1.05);
      expect(size.windowMm3).toBeGreaterThan(0.5 * area.slice(start, start + 8).reduce((p, q) => p + q, 0) * a.sliceMm);
    }
  });

  it('rejects bad options with clear errors', () => {
    expect(() => generateSubject(new Rng(1), { label: 'T4' as 'T2' })).toThrow(/label must be T2 or T3/);
    expect(() => generateSubject(new Rng(1), { label: 'T2', difficulty: 2 })).toThrow(/difficulty must be in \[0, 1\]/);
    expect(() => generateSubject(new Rng(1), { label: 'T2', size: 3 })).toThrow(/size must be/);
    expect(() => generateSubject(new Rng(1), { label: 'T2', size: 16, slices: 0 })).toThrow(/slices must be/);
  });
});

describe('synthetic cohort', () => {
  it('default plan follows the paper: 168 T2 and 399 T3, shuffled, unique ids and seeds', () => {
    const plan = planCohort({ seed: 3 });
    expect(plan.length).toBe(567);
    expect(plan.filter((p) => p.label === 'T2').length).toBe(168);
    expect(new Set(plan.map((p) => p.subject)).size).toBe(567);
    expect(new Set(plan.map((p) => p.seed)).size).toBe(567);
    expect(plan.slice(0, 20).some((p) => p.label === 'T2')).toBe(true);
    expect(planCohort({ seed: 3 })).toEqual(plan);
  });

  it('generateCohort is seeded, reports progress, and each subject can be regenerated alone', () => {
    const calls: string[] = [];
    const opts = { n2: 2, n3: 3, seed: 11, size: 12, slices: 6 as number };
    const c = generateCohort(opts, (done, total) => calls.push(`${done}/${total}`));
    expect(calls).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
    expect(c.map((s) => s.label).filter((l) => l === 'T3').length).toBe(3);
    expect(c[2]!.volume.source).toBe(c[2]!.subject);
    const again = generateCohort(opts);
    expect(Array.from(again[4]!.volume.data)).toEqual(Array.from(c[4]!.volume.data));
  });
});
