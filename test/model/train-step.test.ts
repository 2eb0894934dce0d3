/**
 * The whole engine on a small network: PyTorch golden of one training step, a finite-difference check
 * of every parameter tensor's gradient, and flat device memory over repeated steps.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backward, leaf, noGrad } from '../../src/graph/autograd.js';
import { SGD } from '../../src/model/optimizer.js';
import { StagingNet } from '../../src/model/resnet.js';
import type { Batch } from '../../src/train/dataset.js';
import { DEFAULT_LOSS, type LossConfig, batchLoss } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { restoreTuning, setTuning, type Tuning } from '../../src/kernels/tuning.js';
import { relErr, testGpu } from '../helpers/gpu.js';
import { type RefLossOptions, refFeatures, refLoss } from '../helpers/ref-net.js';

interface T {
  shape: number[];
  data: number[];
}
interface Golden {
  width: number;
  input: T;
  labels: (0 | 1)[];
  repSlices: number[][];
  loss: number;
  init: Record<string, T>;
  grads: Record<string, T>;
  after: Record<string, T>;
}

const LOSS: LossConfig = { ...DEFAULT_LOSS, triplet: 1, center: 0, margin: 0.2, tripletNormalize: true, sliceLossWeight: 1 };

describe('full network on the GPU', async () => {
  const gpu = await testGpu();

  // Once as tuned (this small network's convolutions all take the direct kernels), once with every 3-tap
  // depth convolution forced through Winograd (depth F(4,3), and 3×3×3 ones also F(2,3) in-plane).
  const winograd: Partial<Tuning> = {
    depthWinograd: { tiles: [4], minChannels: 1, maxWork: 2, inPlane: true, inPlaneMinChannels: 1, minTiles: 1, minMacs: 0 },
  };
  for (const [label, patch] of [
    ['direct convolutions', {}],
    ['Winograd convolutions', winograd],
  ] as const) {
    it(`one f-rMC5 + bilinear + focal + triplet step matches PyTorch (loss, every gradient, SGD update, BN stats) — ${label}`, async () => {
      const saved = setTuning(gpu, patch);
      try {
        const g = JSON.parse(readFileSync(new URL('../fixtures/golden/model/frmc5-bilinear-step.json', import.meta.url), 'utf8')) as Golden;
        const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: g.width }).materialize(gpu, new Rng(0));
        for (const [name, p] of model.namedParameters()) gpu.write(p.value.data, g.init[name]!.data);
        for (const [name, b] of model.namedBuffers()) if (b.dtype === 'f32') gpu.write(b.value, g.init[name]!.data);
        const batch: Batch = {
          data: Float32Array.from(g.input.data),
          shape: g.input.shape as Batch['shape'],
          labels: g.labels,
          ids: g.labels.map((_, i) => String(i)),
          repSlices: g.repSlices,
        };
        const opt = new SGD(gpu, [...model.namedParameters()], { lr: 0.01, momentum: 0.9, weightDecay: 0.01 });
        const lossValue = await gpu.tidy(async () => {
          const x = leaf(gpu.tensor(batch.data, batch.shape), false);
          const { total } = batchLoss(model, x, batch, LOSS, null);
          total.retain();
          backward(total);
          return (await total.read())[0]!;
        });
        expect(Math.abs(lossValue - g.loss) / Math.abs(g.loss)).toBeLessThan(1e-3);
        const worst: [string, number][] = [];
        for (const [name, p] of model.namedParameters()) {
          const e = relErr(await p.value.grad!.read(), g.grads[name]!.data);
          worst.push([name, e]);
        }
        worst.sort((a, b) => b[1] - a[1]);
        expect(worst[0]![1], `worst gradient: ${worst[0]![0]}`).toBeLessThan(1e-3);
        opt.step(0.01);
        model.zeroGrad();
        for (const [name, p] of model.namedParameters()) {
          expect(relErr(await p.value.read(), g.after[name]!.data), `${name} after SGD`).toBeLessThan(1e-3);
        }
        for (const [name, b] of model.namedBuffers()) {
          if (b.dtype === 'f32') expect(relErr(await b.value.read(), g.after[name]!.data), `${name} after step`).toBeLessThan(1e-3);
        }
        opt.release();
        model.release();
      } finally {
        restoreTuning(gpu, saved);
      }
    });
  }

  /**
   * Central difference of the float64 reference loss along `dir` (unit vector over one tensor). The loss is
   * piecewise smooth (ReLU, max-pool, the triplet's mining): a kink within the step mixes two branches'
   * slopes (seen: a ReLU input 3e-6 from 0), so h shrinks by 10× until two successive steps agree.
   */
  function centralDiff(f: (t: number) => number): { value: number; h: number; smooth: boolean } {
    const at = (h: number) => (f(h) - f(-h)) / (2 * h);
    let prev = at(1e-5);
    for (const h of [1e-6, 1e-7, 1e-8]) {
      const cur = at(h);
      if (Math.abs(cur - prev) <= 1e-3 * Math.max(Math.abs(cur), Math.abs(prev), 1e-3)) return { value: cur, h, smooth: true };
      prev = cur;
    }
    return { value: prev, h: 1e-8, smooth: false };
  }

  type FdVerdict = 'agrees' | 'f32-conditioning' | 'disagrees';
  interface FdRow {
    name: string;
    analytic: number;
    /** d loss / d dir of the float64 reference. */
    numeric: number;
    /** The same with the heads evaluated at the GPU's float32 slice features (the reference's plus their f32 error). */
    atDeviceFeatures: number;
    verdict: FdVerdict;
  }

  /**
   * Directional finite differences of the float64 reference vs the GPU autograd, one random direction per
   * parameter tensor. Relative error against max(|fd|, |autograd|, 1e-3); below the floor an f32 gradient
   * carries f32 rounding of the whole loss (seen: 1e-5-sized BN-weight directions off by 2e-6), not a bug.
   *
   * A tensor that disagrees by more than 2e-2 is put down to float32 conditioning only when the float64
   * gradient of the loss with the heads fed the GPU's own float32 features (f_ref + (f_gpu − f_ref); that
   * error must stay below 1e-4 of the largest feature, 2e-5 at most in 200 seeds) agrees within 2e-2: then the whole gap is what the f32 rounding of the
   * features, amplified by the loss, explains (see the known seeds below).
   */
  async function fdCompare(seed: number): Promise<{ rows: FdRow[]; featureError: number; smallestFeature: number; kinks: string[] }> {
    const rng = new Rng(seed);
    const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, rng.fork());
    const shape: Batch['shape'] = [4, 1, 3, 16, 16];
    const batch: Batch = { data: rng.normalArray(4 * 3 * 256), shape, labels: [0, 1, 0, 1], ids: ['a', 'b', 'c', 'd'], repSlices: [[1], [0], [2], [1, 2]] };
    await gpu.tidy(async () => {
      const { total } = batchLoss(model, leaf(gpu.tensor(batch.data, shape), false), batch, LOSS, null);
      backward(total);
    });
    const deviceFeatures = await gpu.tidy(() => noGrad(() => model.features(leaf(gpu.tensor(batch.data, shape), false))).data.read());
    const params = new Map<string, Float64Array>();
    for (const [name, p] of model.namedParameters()) params.set(name, Float64Array.from(await p.value.read()));
    const refF = refFeatures(model, params, batch).y;
    const offset = Float64Array.from(refF, (v, i) => deviceFeatures[i]! - v);
    const rows: FdRow[] = [];
    const kinks: string[] = [];
    const dump: Record<string, { shape: number[]; value: number[]; grad: number[]; direction: number[] }> = {};
    for (const [name, p] of model.namedParameters()) {
      const grad = await p.value.grad!.read();
      const w0 = params.get(name)!;
      const v = rng.normalArray(w0.length);
      dump[name] = { shape: [...p.value.shape], value: Array.from(w0), grad: Array.from(grad), direction: Array.from(v) };
      const vn = Math.hypot(...v);
      let analytic = 0;
      for (let i = 0; i < v.length; i++) analytic += (grad[i]! * v[i]!) / vn;
      const along = (opts: RefLossOptions) => (t: number) => {
        params.set(
          name,
          Float64Array.from(w0, (z, i) => z + (t * v[i]!) / vn),
        );
        return refLoss(model, params, batch, LOSS, opts);
      };
      const plain = centralDiff(along({}));
      const shifted = centralDiff(along({ featureOffset: offset }));
      params.set(name, w0);
      if (!plain.smooth || !shifted.smooth) kinks.push(name);
      const err = (fd: number) => Math.abs(fd - analytic) / Math.max(Math.abs(fd), Math.abs(analytic), 1e-3);
      const verdict: FdVerdict = err(plain.value) <= 2e-2 ? 'agrees' : err(shifted.value) <= 2e-2 ? 'f32-conditioning' : 'disagrees';
      rows.push({ name, analytic, numeric: plain.value, atDeviceFeatures: shifted.value, verdict });
    }
    model.release();
    // For scripts/fd-seeds-torch.py: the same weights, batch and directions through PyTorch in f32 and f64.
    const dumpDir = process.env.VOXELGRAD_FD_DUMP;
    if (dumpDir) {
      mkdirSync(dumpDir, { recursive: true });
      const numeric = Object.fromEntries(rows.map((r) => [r.name, r.numeric]));
      const file = {
        seed,
        loss: LOSS,
        input: { shape, data: Array.from(batch.data) },
        labels: batch.labels,
        repSlices: batch.repSlices,
        params: dump,
        numeric,
      };
      writeFileSync(`${dumpDir}/seed-${seed}.json`, JSON.stringify(file));
    }
    const positive = refF.filter((z) => z > 0);
    const featureError = Math.max(...offset.map(Math.abs)) / Math.max(...refF.map(Math.abs));
    return { rows, featureError, smallestFeature: Math.min(...positive), kinks };
  }

  const show = (r: FdRow) =>
    `${r.name}: fd ${r.numeric.toExponential(4)} (at the GPU's f32 features ${r.atDeviceFeatures.toExponential(4)}) vs autograd ${r.analytic.toExponential(4)}`;

  // Fixed seeds, so CI is deterministic; VOXELGRAD_SEED=<seed>[,<seed>…] checks others
  // (VOXELGRAD_FD_DUMP=<dir> also writes each seed's weights, batch and gradients for the PyTorch twin).
  const fdSeeds = process.env.VOXELGRAD_SEED ? process.env.VOXELGRAD_SEED.split(',').map(Number) : [11, 12, 13];
  it(`float64 finite differences of the whole network agree with the GPU autograd (every parameter tensor; 3-D stage, bilinear head, focal + triplet), seeds ${fdSeeds.join(', ')}`, async () => {
    // Every seed is checked before failing, so a sweep (VOXELGRAD_SEED=1000,1001,…) lists all of them.
    const problems: string[] = [];
    for (const seed of fdSeeds) {
      const r = await fdCompare(seed);
      expect(r.rows.length).toBeGreaterThan(40);
      if (r.kinks.length) problems.push(`seed ${seed}: a kink within 1e-8 of the point along ${r.kinks.join(', ')}`);
      if (!(r.featureError < 1e-4))
        problems.push(`seed ${seed}: GPU slice features differ from float64 by ${r.featureError.toExponential(2)} (relative to the largest)`);
      for (const x of r.rows.filter((y) => y.verdict === 'disagrees')) problems.push(`seed ${seed}: ${show(x)}`);
      const conditioned = r.rows.filter((x) => x.verdict === 'f32-conditioning');
      if (conditioned.length) {
        const lines = conditioned.map((x) => `seed ${seed}: float32 conditioning: ${show(x)}`);
        console.log(lines.join('\n'));
        // The fixed seeds are well conditioned; a replayed seed may not be (about 1 in 40, see below).
        if (!process.env.VOXELGRAD_SEED) problems.push(...lines);
      }
    }
    expect(problems).toEqual([]);
  });

  // Seeds where the GPU gradient of a few tensors differs from the float64 finite difference by 8–25 %.
  // PyTorch on the same weights and batch (scripts/fd-seeds-torch.py) gives the same picture: float64
  // autograd = the finite difference (< 1e-3), float32 off by 4–10 % in the same tensors, in the same
  // direction. So it is float32 conditioning, not a bug. Where: the head. At width 1 the last stage's
  // planes are 1×1, so each slice feature is one ReLU output; here one is tiny (9.5e-4, 2.0e-4) though
  // the terms it is the difference of are O(1), so its float32 value is off by ~1e-6 (0.1–0.5 %). The
  // bilinear signed square root makes the loss's curvature in that feature large (√(f_i·f_j) has second
  // derivative ∝ f_i^(−3/2)), and the triplet term's gradient on the twice-normalised embedding is
  // ~50× the focal term's (hence "only with the triplet"): moving that one feature by 1e-6 moves the
  // exact gradient of these tensors by 4–9 % (all other features together: < 3e-4); their directional
  // derivatives are small (cancellations: 2.6e-3 to 1.5e-2 against 0.1–1 elsewhere), so it shows as a
  // large relative error. Fed the GPU's own float32 features, the float64 gradient agrees to < 2e-2.
  // A sweep of seeds 1000–1199: 5 such seeds (milder ones, without a tiny feature, the same mechanism),
  // 0 disagreements; before the step-halving above, 2 more seeds failed because the finite difference
  // itself crossed a ReLU kink (an input 3e-6 from 0; PyTorch float64 sided with the GPU).
  const conditionedSeeds: [number, string[]][] = [
    [677576323, ['layer2.0.bn2.bias']],
    [106, ['bn1.weight']],
  ];
  it("seeds 677576323 and 106: the gap on a few tensors is float32 conditioning at a tiny slice feature, and the f64 gradient at the GPU's features agrees", async () => {
    for (const [seed, tensors] of conditionedSeeds) {
      const r = await fdCompare(seed);
      expect(r.kinks, `seed ${seed}`).toEqual([]);
      expect(r.featureError, `seed ${seed}: GPU slice features vs float64, relative to the largest`).toBeLessThan(1e-4);
      expect(r.smallestFeature, `seed ${seed}: no longer has a tiny slice feature (did the initialisation change? pick new seeds)`).toBeLessThan(1e-3);
      expect(r.rows.filter((x) => x.verdict === 'disagrees').map(show), `seed ${seed}`).toEqual([]);
      const conditioned = r.rows.filter((x) => x.verdict === 'f32-conditioning').map((x) => x.name);
      for (const t of tensors) expect(conditioned, `seed ${seed}: ${t} should differ by more than 2e-2 (f32 conditioning)`).toContain(t);
    }
  });

  it('20 training steps leave live device bytes flat', async () => {
    const rng = new Rng(5);
    const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 2 }).materialize(gpu, rng.fork());
    const opt = new SGD(gpu, [...model.namedParameters()], { lr: 0.01, momentum: 0.9, weightDecay: 0.01 });
    const shape: Batch['shape'] = [4, 1, 4, 32, 32];
    const batch: Batch = { data: rng.normalArray(4 * 4 * 1024), shape, labels: [0, 1, 1, 0], ids: ['a', 'b', 'c', 'd'], repSlices: [[1], [2], [1, 2], [3]] };
    const step = () =>
      gpu.tidy(async () => {
        const { total } = batchLoss(model, leaf(gpu.tensor(batch.data, shape), false), batch, LOSS, null);
        total.retain();
        backward(total);
        opt.step(0.01);
        model.zeroGrad();
        return (await total.read())[0]!;
      });
    await step();
    await gpu.sync();
    const base = gpu.memory();
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) losses.push(await step());
    await gpu.sync();
    const after = gpu.memory();
    expect(after.liveBytes).toBe(base.liveBytes);
    expect(after.liveTensors).toBe(base.liveTensors);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Same batch every step: the optimizer must make progress on it.
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    opt.release();
    model.release();
  });
});
