import { formatWarning } from '../../src/data/volume.js';
import { describe, expect, it } from 'vitest';
import { centredCrop, correctBiasField, cropToRoi, normalizeIntensity, preprocessVolume, resizeInPlane } from '../../src/data/preprocess.js';
import { percentiles } from '../../src/data/image-ops.js';
import { diagonalAffine, type Volume } from '../../src/data/volume.js';
import { generateSubject } from '../../src/data/synth.js';
import { Rng } from '../../src/util/rng.js';

function ramp(dims: [number, number, number], spacing: [number, number, number] = [3, 0.5, 0.5]): Volume {
  const [D, H, W] = dims;
  const data = new Float32Array(D * H * W);
  for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) data[(d * H + h) * W + w] = 100 * d + 10 * h + w;
  return { data, dims, spacing, affine: diagonalAffine(spacing, [5, -7, 11]), warnings: [], source: 'ramp' };
}

/** World position (mm) of voxel (d, h, w) under a volume's affine. */
function world(v: Volume, d: number, h: number, w: number): number[] {
  const A = v.affine;
  return [0, 1, 2].map((r) => A[4 * r]! * d + A[4 * r + 1]! * h + A[4 * r + 2]! * w + A[4 * r + 3]!);
}

describe('crop and resize', () => {
  it('cropToRoi keeps the right voxels and their world positions', () => {
    const v = ramp([4, 6, 8]);
    const c = cropToRoi(v, { d: [1, 3], h: [2, 5], w: null });
    expect(c.dims).toEqual([2, 3, 8]);
    expect(c.data[0]).toBe(100 * 1 + 10 * 2 + 0);
    expect(c.data[c.data.length - 1]).toBe(100 * 2 + 10 * 4 + 7);
    expect(world(c, 0, 0, 0)).toEqual(world(v, 1, 2, 0));
    expect(() => cropToRoi(v, { d: [0, 5], h: null, w: null })).toThrow(/ramp: ROI.*axis D/);
  });

  it('centredCrop takes the middle window and keeps an axis whole when asked for more', () => {
    const v = ramp([2, 6, 8]);
    const c = centredCrop(v, [2, 20]);
    expect(c.dims).toEqual([2, 2, 8]);
    expect(c.data[0]).toBe(10 * 2);
  });

  it('resizeInPlane: bilinear values, D kept, spacing and affine follow the voxel centres', () => {
    const v = ramp([3, 8, 12]);
    const r = resizeInPlane(v, [4, 6]);
    expect(r.dims).toEqual([3, 4, 6]);
    expect(r.spacing).toEqual([3, 1, 1]);
    // A linear ramp is reproduced exactly by bilinear interpolation away from clamped borders:
    // output (h', w') samples input (2h' + 0.5, 2w' + 0.5).
    for (let h = 0; h < 4; h++) {
      for (let w = 0; w < 6; w++) {
        expect(r.data[(1 * 4 + h) * 6 + w]).toBeCloseTo(100 + 10 * (2 * h + 0.5) + (2 * w + 0.5), 4);
        const wr = world(r, 1, h, w);
        const ref = [5 + 3 * 1, -7 + 0.5 * (2 * h + 0.5), 11 + 0.5 * (2 * w + 0.5)];
        wr.forEach((x, i) => expect(x).toBeCloseTo(ref[i]!, 9));
      }
    }
    // Upsampling a constant stays constant.
    const flat: Volume = { ...v, data: new Float32Array(v.data.length).fill(7) };
    expect(new Set(resizeInPlane(flat, 17).data)).toEqual(new Set([7]));
  });
});

describe('intensity normalisation', () => {
  it('clips to the 0.5/99.5 percentiles and z-scores', () => {
    const rng = new Rng(2);
    const v: Volume = { ...ramp([4, 16, 16]), data: rng.normalArray(4 * 16 * 16, 50, 10) };
    v.data[5] = 1e6; // outlier must be clipped
    const n = normalizeIntensity(v);
    const [pl, ph] = percentiles(v.data, [0.5, 99.5]) as [number, number];
    const clipped = Array.from(v.data, (x) => Math.min(ph, Math.max(pl, x)));
    const mean = clipped.reduce((a, b) => a + b, 0) / clipped.length;
    const sd = Math.sqrt(clipped.reduce((a, b) => a + (b - mean) ** 2, 0) / clipped.length);
    n.data.forEach((x, i) => expect(x).toBeCloseTo((clipped[i]! - mean) / sd, 4));
    let m = 0;
    let s2 = 0;
    for (const x of n.data) m += x;
    m /= n.data.length;
    for (const x of n.data) s2 += (x - m) ** 2;
    expect(Math.abs(m)).toBeLessThan(1e-5);
    expect(Math.sqrt(s2 / n.data.length)).toBeCloseTo(1, 4);
  });

  it('a constant volume becomes zeros with a warning', () => {
    const v: Volume = { ...ramp([2, 3, 3]), data: new Float32Array(18).fill(4) };
    const n = normalizeIntensity(v);
    expect(Array.from(n.data)).toEqual(new Array(18).fill(0));
    expect(n.warnings.map(formatWarning).join()).toMatch(/constant/);
  });
});

/** Coefficient of variation (SD / mean) of the voxels selected by `sel`. */
function cv(data: Float32Array, sel: Uint8Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (sel[i]) (s += data[i]!), n++;
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < data.length; i++) if (sel[i]) ss += (data[i]! - mean) ** 2;
  return Math.sqrt(ss / n) / mean;
}

/** Three tissues under a smooth multiplicative field, 2 % noise; `uniform` marks the background tissue away from the disc. */
function biasPhantom(logField: (d: number, h: number, w: number) => number): { vol: Volume; truth: Float32Array; uniform: Uint8Array } {
  const D = 12;
  const H = 64;
  const W = 64;
  const rng = new Rng(42);
  const data = new Float32Array(D * H * W);
  const truth = new Float32Array(D * H * W);
  const uniform = new Uint8Array(D * H * W);
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const i = (d * H + h) * W + w;
        const r = Math.hypot(h - 30 - d, w - 34);
        let t = 100; // "muscle"
        if (r < 12)
          t = 220; // "fat" disc
        else if (r < 16)
          t = 40; // dark "wall" ring
        else if (r > 19) uniform[i] = 1;
        const field = Math.exp(logField(d / D, h / H, w / W));
        truth[i] = field;
        data[i] = t * field * (1 + 0.02 * rng.normal());
      }
    }
  }
  return { vol: { data, dims: [D, H, W], spacing: [3.1, 0.9, 0.9], affine: diagonalAffine([3.1, 0.9, 0.9]), warnings: [] }, truth, uniform };
}

function logCorrelation(a: Float32Array, b: Float32Array): number {
  let sx = 0,
    sy = 0,
    sxx = 0,
    syy = 0,
    sxy = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const x = Math.log(a[i]!);
    const y = Math.log(b[i]!);
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  return (sxy - (sx * sy) / n) / Math.sqrt((sxx - (sx * sx) / n) * (syy - (sy * sy) / n));
}

describe('bias-field correction (N4-like approximation)', () => {
  const cases = [
    {
      what: 'coil-like Gaussian fall-off plus a through-slice drift (default model: degree 2 in-plane, 1 across)',
      field: (d: number, h: number, w: number) => 0.5 * Math.exp(-((h - 0.2) ** 2 + (w - 0.7) ** 2) / 0.5) + 0.1 * (d - 0.5),
      opts: {},
    },
    {
      what: 'a wavier field, sin + cos(1.3 pi), with the cubic model',
      field: (d: number, h: number, w: number) => 0.35 * Math.sin(Math.PI * w) + 0.25 * Math.cos(1.3 * Math.PI * h) + 0.1 * (d - 0.5),
      opts: { inPlaneDegree: 3, sliceDegree: 2 },
    },
  ];
  for (const c of cases) {
    it(`reduces the coefficient of variation inside a uniform tissue: ${c.what}`, () => {
      const { vol, truth, uniform } = biasPhantom(c.field);
      const t0 = performance.now();
      const res = correctBiasField(vol, c.opts);
      const ms = performance.now() - t0;
      const before = cv(vol.data, uniform);
      const after = cv(res.volume.data, uniform);
      const corr = logCorrelation(truth, res.field);
      console.log(
        `bias field (${c.what}): CV in uniform tissue ${before.toFixed(4)} -> ${after.toFixed(4)} ` +
          `(${(100 * (1 - after / before)).toFixed(1)} % reduction; noise floor 0.020), ` +
          `field log-correlation ${corr.toFixed(3)}, ${res.iterations} iterations, ${ms.toFixed(0)} ms`,
      );
      expect(after).toBeLessThan(before * 0.5);
      expect(corr).toBeGreaterThan(0.9);
    });
  }

  it("on synthetic rectal MR volumes it removes most of the generator's bias field", () => {
    const lines: string[] = [];
    for (let seed = 0; seed < 3; seed++) {
      const s = generateSubject(new Rng(seed), { label: 'T3', size: 48, slices: 10, difficulty: 0.2 });
      const [D, H, W] = s.volume.dims;
      const bc = s.anatomy.bias;
      // The generator's log field (same formula as synth.ts) on the voxel grid.
      const truth = new Float64Array(D * H * W);
      for (let d = 0; d < D; d++) {
        const z = (2 * d) / (D - 1) - 1;
        for (let h = 0; h < H; h++) {
          const y = (2 * (h + 0.5)) / H - 1;
          for (let w = 0; w < W; w++) {
            const x = (2 * (w + 0.5)) / W - 1;
            truth[(d * H + h) * W + w] = bc[0]! * x + bc[1]! * y + bc[2]! * x * x + bc[3]! * y * y + bc[4]! * x * y + bc[5]! * z;
          }
        }
      }
      const est = Float64Array.from(correctBiasField(s.volume).field, Math.log);
      const n = truth.length;
      const mt = truth.reduce((p, q) => p + q, 0) / n;
      const me = est.reduce((p, q) => p + q, 0) / n;
      let before = 0;
      let after = 0;
      for (let i = 0; i < n; i++) {
        before += (truth[i]! - mt) ** 2;
        after += (truth[i]! - mt - (est[i]! - me)) ** 2;
      }
      lines.push(`seed ${seed}: log-field SD ${Math.sqrt(before / n).toFixed(3)} -> residual ${Math.sqrt(after / n).toFixed(3)}`);
      expect(Math.sqrt(after / n)).toBeLessThan(0.6 * Math.sqrt(before / n));
    }
    console.log(`bias field on synthetic MR: ${lines.join('; ')}`);
  });

  it('leaves an unbiased piecewise-constant volume nearly unchanged', () => {
    const D = 6,
      H = 32,
      W = 32;
    const data = new Float32Array(D * H * W);
    for (let i = 0; i < data.length; i++) data[i] = i % W < 16 ? 80 : 160;
    const vol: Volume = { data, dims: [D, H, W], spacing: [3, 1, 1], affine: diagonalAffine([3, 1, 1]), warnings: [] };
    const res = correctBiasField(vol);
    let worst = 0;
    for (const f of res.field) worst = Math.max(worst, Math.abs(Math.log(f)));
    expect(worst).toBeLessThan(0.01);
  });

  it('refuses a volume with no foreground', () => {
    const vol: Volume = { data: new Float32Array(64), dims: [1, 8, 8], spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), warnings: [], source: 'empty' };
    expect(() => correctBiasField(vol)).toThrow(/empty: bias-field correction needs/);
  });
});

describe('preprocessVolume', () => {
  it('chains bias correction, ROI crop, resize and normalisation', () => {
    const rng = new Rng(8);
    const v: Volume = { ...ramp([5, 40, 40]), data: rng.uniformArray(5 * 40 * 40, 50, 150) };
    const out = preprocessVolume(v, { roi: { d: null, h: [4, 36], w: [8, 32] }, size: 16 });
    expect(out.dims).toEqual([5, 16, 16]);
    expect(out.spacing).toEqual([3, 1, 0.75]);
    let m = 0;
    for (const x of out.data) m += x;
    expect(Math.abs(m / out.data.length)).toBeLessThan(1e-5);
  });
});
