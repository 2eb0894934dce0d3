import { describe, expect, it } from 'vitest';
import {
  AUGMENTATION_NAMES,
  type AugmentParams,
  type AugmentationName,
  applyAugmentCpu,
  augmentConfig,
  identityAugmentParams,
  sampleAugmentParams,
} from '../../src/data/augment-params.js';
import { diagonalAffine, type Volume } from '../../src/data/volume.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { augmentBatchGpu } from '../../src/kernels/augment.js';
import { CPU_TUNING, GPU_TUNING, forceReductionTuning } from '../../src/kernels/reduce.js';
import { Rng } from '../../src/util/rng.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

// Small odd shapes (CI is SwiftShader on 2 cores); W odd so rows are not a multiple of anything.
const D = 3;
const H = 20;
const W = 23;

function volume(rng: Rng, d = D, h = H, w = W): Volume {
  const data = new Float32Array(d * h * w);
  const fx = rng.uniform(2, 5);
  const fy = rng.uniform(2, 5);
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) data[(z * h + y) * w + x] = 100 + 30 * Math.sin(x / fx + z) * Math.cos(y / fy) + 5 * rng.normal();
    }
  }
  return { data, dims: [d, h, w], spacing: [3, 1, 1], affine: diagonalAffine([3, 1, 1]), warnings: [] };
}

/** Runs the GPU path on volumes of one shape into a NaN-poisoned output; returns each volume's data. */
async function gpuAugment(gpu: Gpu, vols: Volume[], params: AugmentParams[]): Promise<Float32Array[]> {
  const [d, h, w] = vols[0]!.dims;
  const n = d * h * w;
  const host = new Float32Array(vols.length * n);
  vols.forEach((v, i) => host.set(v.data, i * n));
  const shape = [vols.length, 1, d, h, w];
  const x = gpu.tensor(host, shape);
  const out = poisoned(gpu, shape);
  const y = augmentBatchGpu(gpu, x, params, out);
  expect(y).toBe(out);
  const got = await y.read();
  x.release();
  out.release();
  return vols.map((_, i) => got.slice(i * n, (i + 1) * n));
}

const withOp = (patch: Partial<AugmentParams>): AugmentParams => ({ ...identityAugmentParams(), ...patch });

function odd(rng: Rng, lo: number, hi: number): number {
  return lo + 2 * rng.int(0, (hi - lo) / 2 + 1);
}

/** One op at a random, clearly non-trivial strength (wider ranges than training uses). */
function randomOp(name: AugmentationName, rng: Rng): Partial<AugmentParams> {
  switch (name) {
    case 'elastic':
      return { elastic: { magnitude: rng.uniform(0.005, 0.03), sigma: rng.uniform(0.05, 0.12), seed: rng.nextU32() } };
    case 'optical':
      return { optical: { k: rng.uniform(-0.6, 0.6), dy: rng.uniform(-0.05, 0.05), dx: rng.uniform(-0.05, 0.05) } };
    case 'grid': {
      const steps = rng.int(2, 7);
      return {
        grid: { steps, xs: Array.from({ length: steps }, () => rng.uniform(0.7, 1.3)), ys: Array.from({ length: steps }, () => rng.uniform(0.7, 1.3)) },
      };
    }
    case 'shift':
      return { shift: { dy: rng.uniform(-0.1, 0.1), dx: rng.uniform(-0.1, 0.1) } };
    case 'scale':
      return { scale: { factor: rng.uniform(0.8, 1.25) } };
    case 'rotate':
      return { rotate: { degrees: rng.uniform(-180, 180) } };
    case 'crop': {
      const size = rng.uniform(0.5, 1);
      return { crop: { size, y0: rng.uniform(0, 1 - size), x0: rng.uniform(0, 1 - size) } };
    }
    case 'hflip':
      return { hflip: true };
    case 'clahe':
      return { clahe: { clipLimit: rng.uniform(0.5, 4), tiles: [rng.int(1, 9), rng.int(1, 9)] } };
    case 'brightness':
      return { brightness: { beta: rng.uniform(-0.3, 0.3) } };
    case 'contrast':
      return { contrast: { alpha: rng.uniform(0.5, 1.5) } };
    case 'motionBlur':
      return { motionBlur: { size: odd(rng, 3, 9), angle: rng.uniform(0, 180) } };
    case 'medianBlur':
      return { medianBlur: { size: odd(rng, 3, 11) } };
    case 'gaussianBlur':
      return { gaussianBlur: { size: odd(rng, 3, 9), sigma: rng.next() < 0.5 ? 0 : rng.uniform(0.5, 3) } };
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? NaN : m;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/**
 * CLAHE is discontinuous in its input: a value on a histogram-bin edge t = (v − lo)/(hi − lo)·256 ∈ ℤ
 * jumps a whole map step when it crosses it, and with clipping one moved count shifts the map of its
 * whole tile. The GPU computes t in f32 (error ~3e-5 bins), the reference in float64, so the GPU's
 * documented tolerance is: values within that of a bin edge may take the neighbouring bin. Test inputs
 * that enter CLAHE are therefore moved 1e-3 bins off any edge (about 0.2 % of the pixels, by less than
 * 1e-3 of the range; min and max untouched), and then GPU and reference must agree like any continuous op.
 */
function awayFromBinEdges(data: Float32Array, margin = 1e-3, bins = 256): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const out = data.slice();
  if (!(hi > lo)) return out;
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if (v === lo || v === hi) continue;
    const t = ((v - lo) / (hi - lo)) * bins;
    const k = Math.round(t);
    if (Math.abs(t - k) < margin) out[i] = lo + ((k + margin) * (hi - lo)) / bins;
  }
  return out;
}

const GEOMETRIC = ['elastic', 'optical', 'grid', 'shift', 'scale', 'rotate', 'crop', 'hflip'] as const;

/** The geometric part of a parameter set and the rest (intensity ops and blurs). */
function split(p: AugmentParams): [AugmentParams, AugmentParams] {
  const geo = identityAugmentParams();
  const rest = { ...p };
  for (const k of GEOMETRIC) {
    (geo as unknown as Record<string, unknown>)[k] = p[k];
    (rest as unknown as Record<string, unknown>)[k] = k === 'hflip' ? false : null;
  }
  return [geo, rest];
}

describe('GPU augmentation vs applyAugmentCpu', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;

  it(`each of the 14 ops alone, two volumes with different parameters, seed=${seed}`, async () => {
    const rng = new Rng(seed);
    const live = gpu.memory().liveTensors;
    for (const name of AUGMENTATION_NAMES) {
      const vols = [volume(rng), volume(rng)];
      if (name === 'clahe') for (const v of vols) v.data = awayFromBinEdges(v.data);
      const params = [withOp(randomOp(name, rng)), withOp(randomOp(name, rng))];
      const got = await gpuAugment(gpu, vols, params);
      for (let b = 0; b < 2; b++) {
        const want = applyAugmentCpu(vols[b]!, params[b]!).data;
        const what = `${name} ${JSON.stringify(params[b]![name])}`;
        if (name === 'medianBlur' || name === 'hflip') expect(maxAbsDiff(got[b]!, want), what).toBe(0);
        else expect(relErr(got[b]!, want), what).toBeLessThan(1e-4);
      }
    }
    expect(gpu.memory().liveTensors, 'temporaries released').toBe(live);
  });

  it(`full random parameter sets (every op on, and the training defaults), batch of 3, seed=${seed}`, async () => {
    const rng = new Rng(seed ^ 0x5bd1e995);
    const allOn = augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])));
    for (const config of [allOn, undefined]) {
      for (let rep = 0; rep < 2; rep++) {
        const vols = [volume(rng), volume(rng), volume(rng)];
        const params = vols.map(() => sampleAugmentParams(rng, config));
        const got = await gpuAugment(gpu, vols, params);
        // Geometric part alone, on the same volumes, in one batch.
        const geoGot = await gpuAugment(
          gpu,
          vols,
          params.map((p) => split(p)[0]),
        );
        // The rest alone on the GPU's geometric output: the one call above must equal the two stages
        // bit for bit (same kernels on the same data), which checks the composition inside one call.
        const staged = await gpuAugment(
          gpu,
          geoGot.map((d, i) => ({ ...vols[i]!, data: d })),
          params.map((p) => split(p)[1]),
        );
        for (let b = 0; b < 3; b++) {
          const what = JSON.stringify(params[b]);
          expect(Array.from(got[b]!), what).toEqual(Array.from(staged[b]!));
          const [geo, rest] = split(params[b]!);
          expect(relErr(geoGot[b]!, applyAugmentCpu(vols[b]!, geo).data), what).toBeLessThan(1e-4);
          if (!params[b]!.clahe) {
            expect(relErr(got[b]!, applyAugmentCpu(vols[b]!, params[b]!).data), what).toBeLessThan(1e-4);
          } else {
            // CLAHE's input, moved off bin edges, through the rest of the chain on both sides.
            const mid = { ...vols[b]!, data: awayFromBinEdges(geoGot[b]!) };
            const [gpuRest] = await gpuAugment(gpu, [mid], [rest]);
            expect(relErr(gpuRest!, applyAugmentCpu(mid, rest).data), what).toBeLessThan(1e-4);
          }
        }
      }
    }
  });

  it(`a 48×48 plane with 8×8 CLAHE tiles and a wide elastic kernel, batch of 1, seed=${seed}`, async () => {
    const rng = new Rng(seed ^ 0x1234567);
    const v = volume(rng, 2, 48, 48);
    const geo = withOp({ elastic: { magnitude: 0.02, sigma: 0.3, seed: rng.nextU32() } });
    const rest = withOp({ clahe: { clipLimit: 2, tiles: [8, 8] }, medianBlur: { size: 5 } });
    const [warped] = await gpuAugment(gpu, [v], [geo]);
    expect(relErr(warped!, applyAugmentCpu(v, geo).data)).toBeLessThan(1e-4);
    const mid = { ...v, data: awayFromBinEdges(warped!) };
    const [got] = await gpuAugment(gpu, [mid], [rest]);
    expect(relErr(got!, applyAugmentCpu(mid, rest).data)).toBeLessThan(1e-4);
  });
  it(`the discrete-GPU launch shapes (wide CLAHE and reduction workgroups) on this adapter too, seed=${seed}`, async () => {
    const rng = new Rng(seed ^ 0x7f4a7c15);
    const allOn = augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])));
    const v = volume(rng);
    v.data = awayFromBinEdges(v.data);
    const rest = split(sampleAugmentParams(rng, allOn))[1];
    for (const tuning of [GPU_TUNING, CPU_TUNING]) {
      forceReductionTuning(tuning);
      try {
        const [got] = await gpuAugment(gpu, [v], [rest]);
        expect(relErr(got!, applyAugmentCpu(v, rest).data), `threads ${tuning.threads}`).toBeLessThan(1e-4);
      } finally {
        forceReductionTuning(null);
      }
    }
  });
});

describe('defining properties on the GPU path', async () => {
  const gpu = await testGpu();
  const seed = ((Number(process.env.VOXELGRAD_SEED) || Date.now()) >>> 0) ^ 0x9e3779b9;

  it(`horizontal flip twice is the identity, bit for bit; identity params copy the volume, seed=${seed}`, async () => {
    const rng = new Rng(seed);
    const v = volume(rng);
    const [once] = await gpuAugment(gpu, [v], [withOp({ hflip: true })]);
    const [twice] = await gpuAugment(gpu, [{ ...v, data: once! }], [withOp({ hflip: true })]);
    expect(once![0]).toBe(v.data[W - 1]);
    expect(Array.from(twice!)).toEqual(Array.from(v.data));
    const [same] = await gpuAugment(gpu, [v], [identityAugmentParams()]);
    expect(Array.from(same!)).toEqual(Array.from(v.data));
    // An unchanged volume behind an augmented one: the copy lands at its own offset in the batch.
    const [, second] = await gpuAugment(gpu, [v, v], [withOp({ hflip: true }), identityAugmentParams()]);
    expect(Array.from(second!)).toEqual(Array.from(v.data));
  });

  it(`zero strength of every op is the identity, seed=${seed}`, async () => {
    const v = volume(new Rng(seed));
    const zero: Partial<AugmentParams>[] = [
      { elastic: { magnitude: 0, sigma: 0.08, seed: 7 } },
      { optical: { k: 0, dy: 0.04, dx: -0.03 } },
      { grid: { steps: 5, xs: [1, 1, 1, 1, 1], ys: [1, 1, 1, 1, 1] } },
      { shift: { dy: 0, dx: 0 } },
      { scale: { factor: 1 } },
      { rotate: { degrees: 0 } },
      { crop: { size: 1, y0: 0, x0: 0 } },
      { brightness: { beta: 0 } },
      { contrast: { alpha: 1 } },
      { motionBlur: { size: 1, angle: 30 } },
      { medianBlur: { size: 1 } },
      { gaussianBlur: { size: 1, sigma: 0 } },
    ];
    const got = await gpuAugment(
      gpu,
      zero.map(() => v),
      zero.map(withOp),
    );
    zero.forEach((z, i) => expect(relErr(got[i]!, v.data), JSON.stringify(z)).toBeLessThan(1e-6));
    const all = Object.assign({}, ...zero);
    const [together] = await gpuAugment(gpu, [v], [withOp(all)]);
    expect(relErr(together!, v.data)).toBeLessThan(1e-6);
  });

  it(`blurs keep constants constant and preserve the mean; CLAHE of a constant volume is a copy, seed=${seed}`, async () => {
    const flat: Volume = { ...volume(new Rng(seed)), data: new Float32Array(D * H * W).fill(42) };
    const ops: Partial<AugmentParams>[] = [
      { motionBlur: { size: 7, angle: 33 } },
      { medianBlur: { size: 5 } },
      { gaussianBlur: { size: 7, sigma: 0 } },
      { clahe: { clipLimit: 2, tiles: [4, 4] } },
    ];
    const got = await gpuAugment(
      gpu,
      ops.map(() => flat),
      ops.map(withOp),
    );
    ops.forEach((op, i) => expect(maxAbsDiff(got[i]!, flat.data), JSON.stringify(op)).toBeLessThan(1e-4));
    const v = volume(new Rng(seed + 1));
    const blurs = ops.slice(0, 3);
    const out = await gpuAugment(
      gpu,
      blurs.map(() => v),
      blurs.map(withOp),
    );
    blurs.forEach((op, i) => expect(Math.abs(mean(out[i]!) - mean(v.data)) / mean(v.data), JSON.stringify(op)).toBeLessThan(5e-3));
  });

  it(`every slice gets the same transform, seed=${seed}`, async () => {
    const v = volume(new Rng(seed + 2), 2);
    v.data.copyWithin(H * W, 0, H * W);
    const allOn = augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])));
    const [out] = await gpuAugment(gpu, [v], [sampleAugmentParams(new Rng(seed), allOn)]);
    expect(Array.from(out!.subarray(H * W))).toEqual(Array.from(out!.subarray(0, H * W)));
  });
});

describe('bad input', async () => {
  const gpu = await testGpu();

  it('rejects wrong shapes, a parameter count that does not match, unsupported sizes and aliasing', () => {
    const x = gpu.tensor(new Float32Array(2 * 4 * 5 * 6), [2, 1, 4, 5, 6]);
    const id = identityAugmentParams();
    expect(() => augmentBatchGpu(gpu, x.view([2, 4, 5, 6]), [id, id])).toThrow(/\[B, 1, D, H, W\]/);
    expect(() => augmentBatchGpu(gpu, x, [id])).toThrow(/1 parameter sets for a batch of 2/);
    expect(() => augmentBatchGpu(gpu, x, [id, withOp({ medianBlur: { size: 13 } })])).toThrow(/params\[1\]\.medianBlur\.size .*1\.\.11/);
    expect(() => augmentBatchGpu(gpu, x, [withOp({ gaussianBlur: { size: 4, sigma: 0 } }), id])).toThrow(/params\[0\]\.gaussianBlur\.size/);
    expect(() => augmentBatchGpu(gpu, x, [withOp({ scale: { factor: 0 } }), id])).toThrow(/scale\.factor must be > 0/);
    expect(() => augmentBatchGpu(gpu, x, [withOp({ grid: { steps: 3, xs: [1, 1], ys: [1, 1, 1] } }), id])).toThrow(/grid needs/);
    expect(() => augmentBatchGpu(gpu, x, [id, id], x)).toThrow(/must not alias/);
    x.release();
  });
});
