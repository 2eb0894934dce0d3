/**
 * The fused SGD step (momentum 0.9, weight decay 0.01) over 7,000,000 parameters in 62 tensors (3-D
 * ResNet-18-like sizes), one dispatch over the parameter arena. It reads param, grad and momentum and
 * writes param and momentum: 20 bytes per parameter, given as GB/s with the ratio to the run's copy
 * bandwidth on a 32 MiB tensor (bench/copy-ceiling.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import { FusedSgd, planParamArena } from '../src/kernels/sgd.js';
import { Rng } from '../src/util/rng.js';
import { HEAD_CEILING, bandwidthBench, benchTiming } from './bandwidth.js';
import type { BenchContext } from './context.js';
import { timeIt } from './harness.js';
import { runPeers } from './peer.js';
import type { BenchRecord } from './record.js';

/** Parameter tensor sizes of a 3D ResNet-18 with 32 stem filters (weights, BN γ/β, FC), scaled to `total`. */
export function resnetLikeParamSizes(total: number): number[] {
  const sizes: number[] = [32 * 1 * 3 * 7 * 7, 32, 32];
  let cin = 32;
  for (const [stage, c] of [32, 64, 128, 256].entries()) {
    for (let block = 0; block < 2; block++) {
      const first = block === 0;
      sizes.push(c * (first ? cin : c) * 27, c, c, c * c * 27, c, c);
      if (first && stage > 0) sizes.push(c * cin, c, c); // 1×1×1 downsample + BN
    }
    cin = c;
  }
  sizes.push(256, 1); // FC to one logit
  const sum = sizes.reduce((a, b) => a + b, 0);
  const scaled = sizes.map((s) => (s > 1024 ? Math.round((s * total) / sum) : s));
  const rest = total - scaled.reduce((a, b) => a + b, 0);
  const big = scaled.indexOf(Math.max(...scaled));
  scaled[big] = scaled[big]! + rest;
  return scaled;
}

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(11);
  const timing = benchTiming(ctx);
  const bench = await bandwidthBench(gpu, ctx, HEAD_CEILING);
  const total = 7_000_000;
  const sizes = resnetLikeParamSizes(total);
  const layout = planParamArena(sizes);
  const opts = { lr: 0.01, momentum: 0.9, weightDecay: 0.01 };
  const opt = new FusedSgd(gpu, layout, opts);
  const hp = rng.normalArray(layout.total, 0, 0.05);
  const hg = rng.normalArray(layout.total, 0, 0.01);
  const param: GpuTensor = gpu.tensor(hp, [layout.total]);
  const grad: GpuTensor = gpu.tensor(hg, [layout.total]);
  // The check: the first step (the momentum buffer starts as the gradient) from these parameters.
  opt.step(param, grad, opts.lr);
  const compact = (arena: Float32Array) => {
    const out = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let o = 0;
    sizes.forEach((s, t) => {
      out.set(arena.subarray(layout.offsets[t]!, layout.offsets[t]! + s), o);
      o += s;
    });
    return out;
  };
  const ours = { param: compact((await param.read()) as Float32Array) };
  const t = await timeIt(gpu, () => opt.step(param, grad, opts.lr), timing.ours);
  const data = { param: compact(hp), grad: compact(hg) };
  const peers = await runPeers(
    ctx.peers,
    'sgd',
    (p) => p.sgd!(sizes, data, opts),
    async () => ours,
    t.medianMs,
    timing.peers,
  );
  await bench.add(`sgd step (${sizes.length} tensors, 1 dispatch)`, [total], t, 20 * total, { flop: 5 * total, peers });
  for (const x of [param, grad]) x.release();
  opt.release();
  return bench.finish('sgd');
}
