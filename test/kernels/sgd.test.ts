import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { sgdStepRef, type SgdOptions } from '../../src/kernels/sgd.ref.js';
import { randomNormal as randomNormal64 } from '../../src/kernels/ref-util.js';
import { ARENA_ALIGN, FusedSgd, lrAt, packArena, planParamArena, type FusedSgdOptions, type LrSchedule } from '../../src/kernels/sgd.js';
import { relErr, testGpu } from '../helpers/gpu.js';

/** Random normals rounded to f32, so the float64 reference sees exactly the values the GPU gets. */
const randomNormal = (rng: Rng, n: number, mean = 0, std = 1) => Float64Array.from(randomNormal64(rng, n, mean, std), Math.fround);

interface SgdCase {
  name: string;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  param0: number[];
  grads: number[][];
  params: number[][];
  finalBuf: number[] | null;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/sgd/sgd.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: SgdCase[];
  schedules: { schedule: LrSchedule; lrs: number[] }[];
};

const TOL = 1e-4;

function unpack(arena: ArrayLike<number>, offsets: readonly number[], sizes: readonly number[]): number[][] {
  return sizes.map((s, t) => Array.from(arena).slice(offsets[t], offsets[t]! + s));
}

describe('fused SGD on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  it('the arena plan aligns every tensor to a block and maps blocks to tensors', () => {
    const l = planParamArena([5, 1024, 1025, 1]);
    expect(l.offsets).toEqual([0, 1024, 2048, 4096]);
    expect(l.total).toBe(5120);
    expect(Array.from(l.blockSegment)).toEqual([0, 1, 2, 2, 3]);
    expect(() => planParamArena([])).toThrow(/no parameter tensors/);
    expect(() => planParamArena([3, 0])).toThrow(/tensor 1 has size 0/);
  });

  const configs: FusedSgdOptions[] = [
    {},
    { weightDecay: 0.01 },
    { momentum: 0.9, weightDecay: 0.01 },
    { momentum: 0.8, dampening: 0.3, weightDecay: 0.1 },
    { momentum: 0.9, nesterov: true, weightDecay: 0.001 },
  ];
  for (const cfg of configs) {
    it(`4 steps over 5 tensors (odd sizes, per-tensor groups) ${JSON.stringify(cfg)} seed=${seed}`, async () => {
      const sizes = [7, 1024, 3000, 1, 2049];
      const groups = [{}, { weightDecay: 0 }, { lrScale: 0.5 }, { lrScale: 2, weightDecay: 0.05 }, {}];
      const layout = planParamArena(sizes);
      const opt = new FusedSgd(gpu, layout, { ...cfg, groups });
      let ref: Float64Array[] = sizes.map((s) => randomNormal(rng, s));
      let bufs: (Float64Array | null)[] = sizes.map(() => null);
      const param = gpu.tensor(packArena(layout, ref), [layout.total]);
      const lrs = [0.01, 0.01, 0.05, 0.002];
      for (const lr of lrs) {
        const g = sizes.map((s) => randomNormal(rng, s));
        const grad = gpu.tensor(packArena(layout, g), [layout.total]);
        opt.step(param, grad, lr);
        grad.release();
        const next = ref.map((p, t) => {
          const gr = groups[t] as { lrScale?: number; weightDecay?: number };
          const o: SgdOptions = {
            lr: lr * (gr.lrScale ?? 1),
            ...(cfg.momentum !== undefined ? { momentum: cfg.momentum } : {}),
            ...(cfg.dampening !== undefined ? { dampening: cfg.dampening } : {}),
            ...(cfg.nesterov !== undefined ? { nesterov: cfg.nesterov } : {}),
            weightDecay: gr.weightDecay ?? cfg.weightDecay ?? 0,
          };
          return sgdStepRef(p, g[t]!, bufs[t]!, o);
        });
        ref = next.map((r) => r.param);
        bufs = next.map((r) => r.buf);
      }
      const got = await param.read();
      const parts = unpack(got, layout.offsets, layout.sizes);
      parts.forEach((p, t) => expect(relErr(p, ref[t]!), `tensor ${t}`).toBeLessThan(TOL));
      // padding between tensors stays exactly zero
      for (let t = 0; t < sizes.length; t++) {
        const end = t + 1 < sizes.length ? layout.offsets[t + 1]! : layout.total;
        expect(got.slice(layout.offsets[t]! + sizes[t]!, end).every((v) => v === 0)).toBe(true);
      }
      if (opt.buffer) {
        const b = unpack(await opt.buffer.read(), layout.offsets, layout.sizes);
        // The buffer sums unit-scale gradients, so a 1-element buffer can nearly cancel (seed 670721848:
        // −2.15e-4 from terms of size ~1, where f32's ~1e-7 absolute error is 5e-4 relative): the error is
        // measured against the terms' scale (√n for unit-scale entries) when the buffer is smaller than that.
        b.forEach((v, t) => {
          const ref = bufs[t]!;
          const err = Math.hypot(...Array.from(v, (x, i) => x - ref[i]!));
          expect(err / Math.max(Math.hypot(...ref), Math.sqrt(ref.length)), `momentum ${t}`).toBeLessThan(TOL);
        });
      } else {
        expect(bufs.every((b) => b === null)).toBe(true);
      }
      expect(opt.steps).toBe(lrs.length);
      param.release();
      opt.release();
    });
  }

  it('reset() restarts the momentum buffer like a fresh optimizer', async () => {
    const layout = planParamArena([10]);
    const opt = new FusedSgd(gpu, layout, { momentum: 0.9 });
    const p0 = randomNormal(rng, 10);
    const g = randomNormal(rng, 10);
    const param = gpu.tensor(packArena(layout, [p0]), [layout.total]);
    const grad = gpu.tensor(packArena(layout, [g]), [layout.total]);
    opt.step(param, grad, 0.1);
    opt.reset();
    opt.step(param, grad, 0.1);
    const once = sgdStepRef(p0, g, null, { lr: 0.1, momentum: 0.9 });
    const want = sgdStepRef(once.param, g, null, { lr: 0.1, momentum: 0.9 });
    expect(relErr((await param.read()).slice(0, 10), want.param)).toBeLessThan(TOL);
    for (const t of [param, grad]) t.release();
    opt.release();
  });

  it('markStarted() continues a momentum buffer restored from a checkpoint', async () => {
    const layout = planParamArena([10]);
    const p0 = randomNormal(rng, 10);
    const [g1, g2] = [randomNormal(rng, 10), randomNormal(rng, 10)];
    const o = { lr: 0.05, momentum: 0.9, weightDecay: 0.01 };
    const s1 = sgdStepRef(p0, g1, null, o);
    const want = sgdStepRef(s1.param, g2, s1.buf, o);
    const opt = new FusedSgd(gpu, layout, o);
    const param = gpu.tensor(packArena(layout, [s1.param]), [layout.total]);
    gpu.write(opt.buffer!, packArena(layout, [s1.buf!]));
    opt.markStarted();
    const grad = gpu.tensor(packArena(layout, [g2]), [layout.total]);
    opt.step(param, grad, o.lr);
    expect(relErr((await param.read()).slice(0, 10), want.param)).toBeLessThan(TOL);
    expect(relErr((await opt.buffer!.read()).slice(0, 10), want.buf!)).toBeLessThan(TOL);
    expect(() => opt.markStarted(0)).toThrow(/markStarted/);
    for (const t of [param, grad]) t.release();
    opt.release();
  });

  it('one dispatch per step, whatever the number of tensors', async () => {
    const layout = planParamArena(Array.from({ length: 40 }, (_, i) => 1 + i * 37));
    const opt = new FusedSgd(gpu, layout, { momentum: 0.9, weightDecay: 0.01 });
    const param = gpu.tensor(new Float32Array(layout.total), [layout.total]);
    const grad = gpu.tensor(new Float32Array(layout.total), [layout.total]);
    await gpu.sync();
    gpu.startProfiling();
    opt.step(param, grad, 0.01);
    const report = await gpu.stopProfiling();
    expect(report.kernels.map((k) => [k.kernel, k.calls])).toEqual([['sgd-step', 1]]);
    for (const t of [param, grad]) t.release();
    opt.release();
  });

  it('rejects bad options and mismatched arenas', () => {
    const layout = planParamArena([3, 4]);
    expect(() => new FusedSgd(gpu, layout, { nesterov: true })).toThrow(/Nesterov/);
    expect(() => new FusedSgd(gpu, layout, { momentum: -1 })).toThrow(/momentum/);
    expect(() => new FusedSgd(gpu, layout, { groups: [{}] })).toThrow(/1 groups for 2 tensors/);
    const opt = new FusedSgd(gpu, layout);
    const p = gpu.tensor(new Float32Array(layout.total), [layout.total]);
    const small = gpu.tensor([1, 2, 3], [3]);
    expect(() => opt.step(p, small, 0.1)).toThrow(/arenas of 2048 elements/);
    expect(() => opt.step(p, p, 0.1)).toThrow(/different buffers/);
    expect(() => opt.step(p, p, Number.NaN)).toThrow(/lr/);
    expect(ARENA_ALIGN % 64).toBe(0); // 256-byte binding offset alignment
    for (const t of [p, small]) t.release();
    opt.release();
  });
});

describe('fused SGD on the GPU vs torch.optim.SGD goldens', async () => {
  const gpu = await testGpu();
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch}), as one tensor and split in two`, async () => {
      for (const sizes of [[7], [3, 4]]) {
        const layout = planParamArena(sizes);
        const split = (v: number[]) => (sizes.length === 1 ? [v] : [v.slice(0, 3), v.slice(3)]);
        const opt = new FusedSgd(gpu, layout, { momentum: c.momentum, dampening: c.dampening, weightDecay: c.weightDecay, nesterov: c.nesterov });
        const param = gpu.tensor(packArena(layout, split(c.param0)), [layout.total]);
        for (const [k, g] of c.grads.entries()) {
          const grad = gpu.tensor(packArena(layout, split(g)), [layout.total]);
          opt.step(param, grad, c.lr);
          grad.release();
          const got = unpack(await param.read(), layout.offsets, layout.sizes).flat();
          expect(relErr(got, c.params[k]!), `after step ${k + 1}`).toBeLessThan(TOL);
        }
        if (c.finalBuf) expect(relErr(unpack(await opt.buffer!.read(), layout.offsets, layout.sizes).flat(), c.finalBuf)).toBeLessThan(TOL);
        else expect(opt.buffer).toBeNull();
        param.release();
        opt.release();
      }
    });
  }

  it('lrAt is the reference schedule (torch StepLR / CosineAnnealingLR)', () => {
    for (const s of golden.schedules) {
      s.lrs.forEach((want, e) => expect(Math.abs(lrAt(s.schedule, e) - want)).toBeLessThan(1e-12));
    }
  });
});
