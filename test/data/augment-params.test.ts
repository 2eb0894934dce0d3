import { describe, expect, it } from 'vitest';
import {
  AUGMENTATION_NAMES,
  AUGMENT_SETS,
  DEFAULT_AUGMENT_CONFIG,
  restrictAugmentConfig,
  applyAugmentCpu,
  augmentConfig,
  buildDisplacementField,
  elasticDisplacement,
  identityAugmentParams,
  motionBlurKernel,
  sampleAugmentParams,
  type AugmentParams,
} from '../../src/data/augment-params.js';
import { clahe, convolveSeparable, gaussianKernel1d, medianFilter, resizeBilinear } from '../../src/data/image-ops.js';
import { diagonalAffine, type Volume } from '../../src/data/volume.js';
import { Rng } from '../../src/util/rng.js';

const H = 20;
const W = 24;

function vol(seed = 1, D = 3, h = H, w = W): Volume {
  const rng = new Rng(seed);
  // Smooth-ish content plus noise, positive.
  const data = new Float32Array(D * h * w);
  for (let d = 0; d < D; d++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) data[(d * h + y) * w + x] = 100 + 30 * Math.sin(x / 3 + d) * Math.cos(y / 4) + 5 * rng.normal();
    }
  }
  return { data, dims: [D, h, w], spacing: [3, 1, 1], affine: diagonalAffine([3, 1, 1]), warnings: [] };
}

const withOp = (patch: Partial<AugmentParams>): AugmentParams => ({ ...identityAugmentParams(), ...patch });

function identityGrid(h: number, w: number): Float32Array {
  const f = new Float32Array(2 * h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) (f[y * w + x] = y), (f[h * w + y * w + x] = x);
  return f;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

describe('parameter sampling', () => {
  it("names the paper's 14 augmentations and is deterministic per seed", () => {
    expect(AUGMENTATION_NAMES.length).toBe(14);
    expect(sampleAugmentParams(new Rng(5))).toEqual(sampleAugmentParams(new Rng(5)));
    expect(JSON.parse(JSON.stringify(sampleAugmentParams(new Rng(5))))).toEqual(sampleAugmentParams(new Rng(5)));
  });

  it('fires each op with its probability and keeps values inside the configured ranges', () => {
    const rng = new Rng(9);
    const counts: Record<string, number> = {};
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const p = sampleAugmentParams(rng);
      for (const name of AUGMENTATION_NAMES) if (p[name]) counts[name] = (counts[name] ?? 0) + 1;
      if (p.rotate) expect(Math.abs(p.rotate.degrees)).toBeLessThanOrEqual(45);
      if (p.scale) expect(Math.abs(p.scale.factor - 1)).toBeLessThanOrEqual(0.1);
      if (p.shift) expect(Math.max(Math.abs(p.shift.dx), Math.abs(p.shift.dy))).toBeLessThanOrEqual(0.0625);
      if (p.crop) expect(p.crop.size >= 0.8 && p.crop.y0 + p.crop.size <= 1 && p.crop.x0 + p.crop.size <= 1).toBe(true);
      if (p.motionBlur) expect([3, 5, 7]).toContain(p.motionBlur.size);
      if (p.medianBlur) expect([3, 5, 7]).toContain(p.medianBlur.size);
      if (p.gaussianBlur) expect([3, 5, 7]).toContain(p.gaussianBlur.size);
      if (p.grid) p.grid.xs.concat(p.grid.ys).forEach((f) => expect(Math.abs(f - 1)).toBeLessThanOrEqual(0.3));
      if (p.clahe) expect(p.clahe.clipLimit >= 1 && p.clahe.clipLimit <= 4).toBe(true);
      if (p.brightness) expect(Math.abs(p.brightness.beta)).toBeLessThanOrEqual(0.2);
      if (p.contrast) expect(Math.abs(p.contrast.alpha - 1)).toBeLessThanOrEqual(0.2);
    }
    for (const name of AUGMENTATION_NAMES) expect(Math.abs(counts[name]! / n - 0.5), name).toBeLessThan(0.05);
  });

  it('p = 0 gives the identity, p = 1 fires everything; changing one p leaves other ops unchanged', () => {
    const none = augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 0 }])));
    expect(sampleAugmentParams(new Rng(3), none)).toEqual(identityAugmentParams());
    const all = augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])));
    const p = sampleAugmentParams(new Rng(3), all);
    for (const name of AUGMENTATION_NAMES) expect(p[name], name).toBeTruthy();
    const noRotate = sampleAugmentParams(new Rng(3), augmentConfig({ ...Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])), rotate: { p: 0 } }));
    expect({ ...noRotate, rotate: p.rotate }).toEqual(p);
    expect(() => augmentConfig({ blur: {} } as never)).toThrow(/unknown augmentation 'blur'/);
    expect(DEFAULT_AUGMENT_CONFIG.grid.steps).toBe(5);
  });
});

describe('displacement field', () => {
  it('identity params give the exact pixel grid and applyAugmentCpu returns the input bit for bit', () => {
    expect(Array.from(buildDisplacementField(identityAugmentParams(), H, W))).toEqual(Array.from(identityGrid(H, W)));
    const v = vol();
    expect(Array.from(applyAugmentCpu(v, identityAugmentParams()).data)).toEqual(Array.from(v.data));
  });

  it('zero strength of every geometric op is the identity', () => {
    const zero: Partial<AugmentParams>[] = [
      { elastic: { magnitude: 0, sigma: 0.08, seed: 7 } },
      { optical: { k: 0, dy: 0.04, dx: -0.03 } },
      { grid: { steps: 5, xs: [1, 1, 1, 1, 1], ys: [1, 1, 1, 1, 1] } },
      { shift: { dy: 0, dx: 0 } },
      { scale: { factor: 1 } },
      { rotate: { degrees: 0 } },
      { crop: { size: 1, y0: 0, x0: 0 } },
    ];
    const id = identityGrid(H, W);
    for (const z of zero) expect(maxAbsDiff(buildDisplacementField(withOp(z), H, W), id), JSON.stringify(z)).toBeLessThan(1e-5);
    const all = Object.assign({}, ...zero);
    expect(maxAbsDiff(buildDisplacementField(withOp(all), H, W), id)).toBeLessThan(1e-5);
  });

  it('horizontal flip twice is the identity', () => {
    const v = vol(2);
    const f = withOp({ hflip: true });
    const once = applyAugmentCpu(v, f);
    expect(once.data[0]).toBe(v.data[W - 1]);
    expect(Array.from(applyAugmentCpu(once, f).data)).toEqual(Array.from(v.data));
  });

  it('rotate by 90 degrees on a square image is an exact index permutation; four of them are the identity', () => {
    const n = 16;
    const v = vol(3, 2, n, n);
    const r = applyAugmentCpu(v, withOp({ rotate: { degrees: 90 } }));
    // Output (y, x) samples input at x_src = cx + ry, y_src = cy - rx, i.e. (y_src, x_src) = (n-1-x, y).
    for (let d = 0; d < 2; d++) {
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) expect(r.data[(d * n + y) * n + x]).toBeCloseTo(v.data[(d * n + (n - 1 - x)) * n + y]!, 3);
      }
    }
    let x4 = v;
    for (let i = 0; i < 4; i++) x4 = applyAugmentCpu(x4, withOp({ rotate: { degrees: 90 } }));
    expect(maxAbsDiff(x4.data, v.data)).toBeLessThan(1e-3);
  });

  it('integer shift moves content by whole pixels; scale is a zoom about the centre', () => {
    const v = vol(4);
    const s = applyAugmentCpu(v, withOp({ shift: { dy: 2 / H, dx: -3 / W } }));
    for (let y = 2; y < H; y++) for (let x = 0; x < W - 3; x++) expect(s.data[y * W + x]).toBeCloseTo(v.data[(y - 2) * W + x + 3]!, 3);
    const f = buildDisplacementField(withOp({ scale: { factor: 2 } }), H, W);
    const cy = (H - 1) / 2;
    const cx = (W - 1) / 2;
    for (const [y, x] of [
      [0, 0],
      [5, 17],
      [19, 23],
    ] as const) {
      expect(f[y * W + x]).toBeCloseTo(cy + (y - cy) / 2, 5);
      expect(f[H * W + y * W + x]).toBeCloseTo(cx + (x - cx) / 2, 5);
    }
  });

  it('crop samples its window and resizes it to the full image (matches a bilinear resize of the window)', () => {
    const n = 16;
    const v = vol(5, 1, n, n);
    const c = applyAugmentCpu(v, withOp({ crop: { size: 0.5, y0: 0.25, x0: 0.5 } }));
    // Window rows 4..11, columns 8..15 resized 8 -> 16 (align_corners = false), edge-clamped.
    const win = new Float32Array(64);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) win[y * 8 + x] = v.data[(y + 4) * n + x + 8]!;
    const ref = resizeBilinear(win, 1, 8, 8, 16, 16);
    // Interior pixels (away from the window border, where clamping vs reflecting differs) agree.
    for (let y = 1; y < 15; y++) for (let x = 1; x < 15; x++) expect(c.data[y * n + x]).toBeCloseTo(ref[y * 16 + x]!, 3);
  });

  it('ops compose in the paper order: the output pixel goes through hflip first and elastic last', () => {
    const p = withOp({ shift: { dy: 0.1, dx: 0.05 }, scale: { factor: 1.1 }, rotate: { degrees: 30 }, hflip: true });
    const f = buildDisplacementField(p, H, W);
    const cy = (H - 1) / 2;
    const cx = (W - 1) / 2;
    const t = (30 * Math.PI) / 180;
    for (const [y, x] of [
      [3, 4],
      [10, 20],
      [19, 0],
    ] as [number, number][]) {
      let [yy, xx]: [number, number] = [y, W - 1 - x]; // hflip
      [yy, xx] = [cy - Math.sin(t) * (xx - cx) + Math.cos(t) * (yy - cy), cx + Math.cos(t) * (xx - cx) + Math.sin(t) * (yy - cy)]; // rotate
      [yy, xx] = [cy + (yy - cy) / 1.1, cx + (xx - cx) / 1.1]; // scale
      [yy, xx] = [yy - 0.1 * H, xx - 0.05 * W]; // shift
      expect(f[y * W + x]).toBeCloseTo(yy, 4);
      expect(f[H * W + y * W + x]).toBeCloseTo(xx, 4);
    }
  });

  it('optical distortion follows the radial model; grid distortion is monotone with pinned ends', () => {
    const k = 0.3;
    const f = buildDisplacementField(withOp({ optical: { k, dy: 0, dx: 0 } }), H, W);
    const cy = (H - 1) / 2;
    const cx = (W - 1) / 2;
    const [y, x] = [2, 21];
    const ny = (y - cy) / H;
    const nx = (x - cx) / W;
    const r2 = nx * nx + ny * ny;
    expect(f[H * W + y * W + x]).toBeCloseTo(cx + nx * (1 + k * r2 + k * r2 * r2) * W, 4);
    const g = buildDisplacementField(withOp({ grid: { steps: 4, xs: [1.3, 0.7, 1.2, 0.8], ys: [0.9, 1.1, 1, 1] } }), H, W);
    for (let xx = 1; xx < W; xx++) expect(g[H * W + xx]!).toBeGreaterThan(g[H * W + xx - 1]!);
    // Edge coordinates 0 and W map to themselves: the first/last pixel centres stay within half a cell.
    expect(g[H * W]! + 0.5).toBeGreaterThan(0);
    expect(g[H * W + W - 1]! + 0.5).toBeLessThanOrEqual(W + 1e-9);
  });

  it('elastic: RMS displacement is magnitude x size, smooth, and fixed by the seed', () => {
    const e = { magnitude: 0.02, sigma: 0.1, seed: 12 };
    const n = 32;
    const { dy, dx } = elasticDisplacement(e, n, n);
    let ss = 0;
    let sx = 0;
    let sd = 0;
    for (let i = 0; i < n * n; i++) (ss += dy[i]! ** 2 + dx[i]! ** 2), (sx += dx[i]! ** 2);
    for (let y = 0; y < n; y++) for (let x = 1; x < n; x++) sd += (dx[y * n + x]! - dx[y * n + x - 1]!) ** 2;
    expect(Math.sqrt(ss / (n * n))).toBeCloseTo(0.02 * n, 4);
    // Smooth: neighbour differences are far smaller than the field (white noise would give sqrt(2) x).
    expect(Math.sqrt(sd / (n * (n - 1))) / Math.sqrt(sx / (n * n))).toBeLessThan(0.4);
    expect(Array.from(elasticDisplacement(e, n, n).dx)).toEqual(Array.from(dx));
    expect(Array.from(elasticDisplacement({ ...e, seed: 13 }, n, n).dx)).not.toEqual(Array.from(dx));
  });

  it('every slice gets the same transform', () => {
    const v = vol(6, 2);
    v.data.copyWithin(H * W, 0, H * W); // two identical slices
    const out = applyAugmentCpu(v, sampleAugmentParams(new Rng(1), augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])))));
    expect(Array.from(out.data.subarray(H * W))).toEqual(Array.from(out.data.subarray(0, H * W)));
  });
});

describe('intensity ops and blurs', () => {
  it('brightness adds beta x (max - min); contrast scales about the mean', () => {
    const v = vol(7);
    let min = Infinity;
    let max = -Infinity;
    for (const x of v.data) [min, max] = [Math.min(min, x), Math.max(max, x)];
    const b = applyAugmentCpu(v, withOp({ brightness: { beta: 0.15 } }));
    b.data.forEach((x, i) => expect(x).toBeCloseTo(v.data[i]! + 0.15 * (max - min), 3));
    const m = mean(v.data);
    const c = applyAugmentCpu(v, withOp({ contrast: { alpha: 1.2 } }));
    c.data.forEach((x, i) => expect(x).toBeCloseTo(m + 1.2 * (v.data[i]! - m), 3));
    expect(mean(c.data)).toBeCloseTo(m, 3);
  });

  it('blurs keep constants constant and preserve the mean', () => {
    const flat: Volume = { ...vol(), data: new Float32Array(3 * H * W).fill(42) };
    for (const op of [{ motionBlur: { size: 7, angle: 33 } }, { medianBlur: { size: 5 } }, { gaussianBlur: { size: 7, sigma: 0 } }]) {
      const out = applyAugmentCpu(flat, withOp(op));
      expect(maxAbsDiff(out.data, flat.data), JSON.stringify(op)).toBeLessThan(1e-4);
    }
    const v = vol(8);
    for (const op of [{ motionBlur: { size: 5, angle: 120 } }, { gaussianBlur: { size: 5, sigma: 0 } }, { medianBlur: { size: 3 } }]) {
      const out = applyAugmentCpu(v, withOp(op));
      expect(Math.abs(mean(out.data) - mean(v.data)) / mean(v.data), JSON.stringify(op)).toBeLessThan(5e-3);
    }
  });

  it('Gaussian and motion kernels sum to 1 and are centred (a linear ramp is unchanged inside)', () => {
    const g = gaussianKernel1d(7, 0);
    expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(g[0]).toBeCloseTo(g[6]!, 12);
    const k = motionBlurKernel(7, 30);
    let sum = 0;
    let cy = 0;
    let cx = 0;
    k.forEach((w, i) => ((sum += w), (cy += w * Math.floor(i / 7)), (cx += w * (i % 7))));
    expect(sum).toBeCloseTo(1, 6);
    expect(cy).toBeCloseTo(3, 6);
    expect(cx).toBeCloseTo(3, 6);
    const ramp = new Float32Array(H * W).map((_, i) => 2 * (i % W) + 3 * Math.floor(i / W));
    const out = convolveSeparable(ramp, H, W, g, g);
    for (let y = 3; y < H - 3; y++) for (let x = 3; x < W - 3; x++) expect(out[y * W + x]).toBeCloseTo(ramp[y * W + x]!, 3);
  });

  it('median blur removes isolated impulses exactly', () => {
    const img = new Float32Array(H * W).fill(10);
    img[5 * W + 7] = 1000;
    img[12 * W + 3] = -1000;
    expect(Array.from(medianFilter(img, H, W, 3))).toEqual(new Array(H * W).fill(10));
  });

  it('CLAHE with one tile and no clipping is global histogram equalisation; output stays in range', () => {
    const rng = new Rng(4);
    const img = Float32Array.from({ length: H * W }, () => rng.uniform(0, 1) ** 3);
    const lo = 0;
    const hi = 1;
    const out = clahe(img, H, W, lo, hi, 0, [1, 1], 16);
    const bin = (v: number): number => Math.max(0, Math.min(15, Math.floor(v * 16)));
    const hist = new Array(16).fill(0);
    img.forEach((v) => hist[bin(v)]++);
    const cdf: number[] = [];
    hist.reduce((a, c, i) => ((cdf[i] = a + c), a + c), 0);
    img.forEach((v, i) => expect(out[i]).toBeCloseTo((cdf[bin(v)]! / (H * W)) * (hi - lo) + lo, 5));
    const v = vol(9);
    const c = applyAugmentCpu(v, withOp({ clahe: { clipLimit: 2, tiles: [4, 4] } }));
    let min = Infinity;
    let max = -Infinity;
    for (const x of v.data) [min, max] = [Math.min(min, x), Math.max(max, x)];
    for (const x of c.data) expect(x >= min - 1e-3 && x <= max + 1e-3).toBe(true);
    // Clipping limits contrast gain: the clipped result is closer to the input than unclipped equalisation.
    const strong = applyAugmentCpu(v, withOp({ clahe: { clipLimit: 0, tiles: [4, 4] } }));
    expect(maxAbsDiff(c.data, v.data)).toBeLessThan(maxAbsDiff(strong.data, v.data));
  });
});

describe('augmentation sets', () => {
  it('light keeps only the rigid and intensity ops, with the same draws as the full set', () => {
    const light = restrictAugmentConfig(DEFAULT_AUGMENT_CONFIG, 'light');
    for (const name of AUGMENTATION_NAMES) {
      const kept = (AUGMENT_SETS.light as readonly string[]).includes(name);
      expect(light[name].p, name).toBe(kept ? DEFAULT_AUGMENT_CONFIG[name].p : 0);
    }
    expect(DEFAULT_AUGMENT_CONFIG.elastic.p).toBeGreaterThan(0); // the input is not modified
    // Each op consumes its draws whether or not it fires, so the kept ops get identical parameters.
    let fired = 0;
    for (let seed = 0; seed < 40; seed++) {
      const all = sampleAugmentParams(new Rng(seed), DEFAULT_AUGMENT_CONFIG);
      const some = sampleAugmentParams(new Rng(seed), light);
      for (const name of AUGMENTATION_NAMES) {
        if ((AUGMENT_SETS.light as readonly string[]).includes(name)) expect(some[name], name).toEqual(all[name]);
        else expect(some[name], name).toBe(name === 'hflip' ? false : null);
      }
      if (some.rotate) fired++;
    }
    expect(fired).toBeGreaterThan(5);
    expect(restrictAugmentConfig(DEFAULT_AUGMENT_CONFIG, 'paper')).toEqual(DEFAULT_AUGMENT_CONFIG);
    expect(() => restrictAugmentConfig(DEFAULT_AUGMENT_CONFIG, 'bogus' as never)).toThrow(/unknown augmentation set 'bogus'/);
  });
});
