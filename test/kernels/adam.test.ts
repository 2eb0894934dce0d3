import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FusedAdam, type FusedAdamOptions } from '../../src/kernels/adam.js';
import { adamStepRef, type AdamState } from '../../src/kernels/adam.ref.js';
import { randomNormal as randomNormal64 } from '../../src/kernels/ref-util.js';
import { packArena, planParamArena } from '../../src/kernels/sgd.js';
import { Rng } from '../../src/util/rng.js';
import { relErr, testGpu } from '../helpers/gpu.js';
import type { AdamCase } from './adam.ref.test.js';

const randomNormal = (rng: Rng, n: number) => Float64Array.from(randomNormal64(rng, n), Math.fround);
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/adam/adam.json', import.meta.url), 'utf8')) as { torch: string; cases: AdamCase[] };
const TOL = 1e-4;

function unpack(arena: ArrayLike<number>, offsets: readonly number[], sizes: readonly number[]): number[][] {
  return sizes.map((s, t) => Array.from(arena).slice(offsets[t], offsets[t]! + s));
}

describe('fused Adam on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  const configs: FusedAdamOptions[] = [
    {},
    { weightDecay: 0.01 },
    { weightDecay: 0.05, decoupled: false },
    { beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 },
  ];
  for (const cfg of configs) {
    it(`5 steps over 5 tensors (odd sizes, per-tensor groups) ${JSON.stringify(cfg)} seed=${seed}`, async () => {
      const sizes = [7, 1024, 3000, 1, 2049];
      const groups = [{}, { weightDecay: 0 }, { lrScale: 0.5 }, { lrScale: 10, weightDecay: 0.02 }, {}];
      const layout = planParamArena(sizes);
      const opt = new FusedAdam(gpu, layout, { ...cfg, groups });
      let ref: Float64Array[] = sizes.map((s) => randomNormal(rng, s));
      let states: (AdamState | null)[] = sizes.map(() => null);
      const param = gpu.tensor(packArena(layout, ref), [layout.total]);
      for (const [k, lr] of [1e-3, 1e-3, 5e-3, 2e-4, 1e-3].entries()) {
        // Gradients of changing scale, so the second moment and ε both matter.
        const g = sizes.map((s) => Float64Array.from(randomNormal(rng, s), (x) => Math.fround(x * 10 ** ((k % 3) - 1))));
        const grad = gpu.tensor(packArena(layout, g), [layout.total]);
        opt.step(param, grad, lr);
        grad.release();
        const next = ref.map((p, t) => {
          const gr = groups[t] as { lrScale?: number; weightDecay?: number };
          return adamStepRef(p, g[t]!, states[t]!, {
            lr: lr * (gr.lrScale ?? 1),
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            eps: cfg.eps,
            weightDecay: gr.weightDecay ?? cfg.weightDecay ?? 0,
            decoupled: cfg.decoupled,
          });
        });
        ref = next.map((r) => r.param);
        states = next.map((r) => r.state);
      }
      const got = await param.read();
      unpack(got, layout.offsets, layout.sizes).forEach((p, t) => expect(relErr(p, ref[t]!), `tensor ${t}`).toBeLessThan(TOL));
      unpack(await opt.m.read(), layout.offsets, layout.sizes).forEach((m, t) => expect(relErr(m, states[t]!.m), `m ${t}`).toBeLessThan(TOL));
      unpack(await opt.v.read(), layout.offsets, layout.sizes).forEach((v, t) => expect(relErr(v, states[t]!.v), `v ${t}`).toBeLessThan(TOL));
      // padding between tensors stays exactly zero, in the parameters and both moments
      for (const arena of [got, await opt.m.read(), await opt.v.read()]) {
        for (let t = 0; t < sizes.length; t++) {
          const end = t + 1 < sizes.length ? layout.offsets[t + 1]! : layout.total;
          expect(arena.slice(layout.offsets[t]! + sizes[t]!, end).every((v) => v === 0)).toBe(true);
        }
      }
      expect(opt.steps).toBe(5);
      param.release();
      opt.release();
    });
  }

  it('setSteps() continues moments restored from a checkpoint (bias corrections from the saved step)', async () => {
    const layout = planParamArena([10]);
    const p0 = randomNormal(rng, 10);
    const gs = [randomNormal(rng, 10), randomNormal(rng, 10), randomNormal(rng, 10)];
    const o = { lr: 0.01, weightDecay: 0.01 };
    const s1 = adamStepRef(p0, gs[0]!, null, o);
    const s2 = adamStepRef(s1.param, gs[1]!, s1.state, o);
    const want = adamStepRef(s2.param, gs[2]!, s2.state, o);
    const opt = new FusedAdam(gpu, layout, o);
    const param = gpu.tensor(packArena(layout, [s2.param]), [layout.total]);
    gpu.write(opt.m, packArena(layout, [s2.state.m]));
    gpu.write(opt.v, packArena(layout, [s2.state.v]));
    opt.setSteps(2);
    const grad = gpu.tensor(packArena(layout, [gs[2]!]), [layout.total]);
    opt.step(param, grad, o.lr);
    expect(relErr((await param.read()).slice(0, 10), want.param)).toBeLessThan(TOL);
    expect(() => opt.setSteps(-1)).toThrow(/setSteps/);
    for (const t of [param, grad]) t.release();
    opt.release();
  });

  it('one dispatch per step, whatever the number of tensors', async () => {
    const layout = planParamArena(Array.from({ length: 40 }, (_, i) => 1 + i * 37));
    const opt = new FusedAdam(gpu, layout, { weightDecay: 0.01 });
    const param = gpu.tensor(new Float32Array(layout.total), [layout.total]);
    const grad = gpu.tensor(new Float32Array(layout.total), [layout.total]);
    await gpu.sync();
    gpu.startProfiling();
    opt.step(param, grad, 0.01);
    const report = await gpu.stopProfiling();
    expect(report.kernels.map((k) => [k.kernel, k.calls])).toEqual([['adam-step', 1]]);
    for (const t of [param, grad]) t.release();
    opt.release();
  });

  it('rejects bad options and mismatched arenas', () => {
    const layout = planParamArena([3, 4]);
    expect(() => new FusedAdam(gpu, layout, { beta2: 1 })).toThrow(/beta2/);
    expect(() => new FusedAdam(gpu, layout, { groups: [{}] })).toThrow(/1 groups for 2 tensors/);
    expect(() => new FusedAdam(gpu, layout, { groups: [{ lrScale: -1 }, {}] })).toThrow(/lrScale/);
    const opt = new FusedAdam(gpu, layout);
    const p = gpu.tensor(new Float32Array(layout.total), [layout.total]);
    const small = gpu.tensor([1, 2, 3], [3]);
    expect(() => opt.step(p, small, 0.1)).toThrow(/arenas of 2048 elements/);
    expect(() => opt.step(p, p, 0.1)).toThrow(/different buffers/);
    expect(() => opt.step(p, small, Number.NaN)).toThrow(/lr/);
    for (const t of [p, small]) t.release();
    opt.release();
  });
});

describe('fused Adam on the GPU vs torch.optim goldens', async () => {
  const gpu = await testGpu();
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch}), as one tensor and split in two`, async () => {
      for (const sizes of [[7], [3, 4]]) {
        const layout = planParamArena(sizes);
        const split = (v: number[]) => (sizes.length === 1 ? [v] : [v.slice(0, 3), v.slice(3)]);
        const opt = new FusedAdam(gpu, layout, { beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, decoupled: c.decoupled });
        const param = gpu.tensor(packArena(layout, split(c.param0)), [layout.total]);
        for (const [k, g] of c.grads.entries()) {
          const grad = gpu.tensor(packArena(layout, split(g)), [layout.total]);
          opt.step(param, grad, c.lrs[k]!);
          grad.release();
          expect(relErr(unpack(await param.read(), layout.offsets, layout.sizes).flat(), c.params[k]!), `after step ${k + 1}`).toBeLessThan(TOL);
        }
        expect(relErr(unpack(await opt.m.read(), layout.offsets, layout.sizes).flat(), c.finalM)).toBeLessThan(TOL);
        expect(relErr(unpack(await opt.v.read(), layout.offsets, layout.sizes).flat(), c.finalV)).toBeLessThan(TOL);
        param.release();
        opt.release();
      }
    });
  }
});
