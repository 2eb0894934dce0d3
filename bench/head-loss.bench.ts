/**
 * The network head, the losses and the optimizer on their real sizes:
 * - bilinear pooling forward + backward on [N = 4, C = 256, D = 24] (65,536 features per volume);
 * - batch-hard triplet loss with online mining, forward + backward, batch 32 × 65,536 (bilinear
 *   features), with and without L2 normalisation;
 * - the fused SGD step (momentum 0.9, weight decay 0.01) over 7,000,000 parameters in 62 tensors
 *   (ResNet-18-3D-like sizes) — one dispatch.
 * Each row gives GB/s for the bytes the op must move at least (every input read once, every output
 * written once, intermediates counted where they go through memory) and its ratio to the device's copy
 * bandwidth measured in the same run (`copy` from elementwise.ts on a 32 MiB tensor); GFLOP/s where
 * there is arithmetic worth counting.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import { bilinearPoolDepth, bilinearPoolDepthBackward } from '../src/kernels/depth-agg.js';
import { copy } from '../src/kernels/elementwise.js';
import { FusedSgd, planParamArena } from '../src/kernels/sgd.js';
import { tripletLoss, tripletLossBackward } from '../src/kernels/triplet.js';
import { Rng } from '../src/util/rng.js';
import type { BenchContext } from './context.js';
import type { BenchRecord, PeerResult } from './record.js';
import { peerCells } from './matmul.bench.js';
import { peerRatios, runPeers } from './peer.js';
import { gbps, gflops, table, timeIt } from './harness.js';

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
  const timing = { warmup: 1, reps: ctx.quick ? 2 : 7 };
  // The checked run compiles the peer's pipelines; --quick takes it as the warm-up.
  const peerTiming = ctx.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 3 };
  const records: BenchRecord[] = [];

  // Device ceiling: copy of 8 Mi floats (read + write).
  const cn = 8 * 1024 * 1024;
  const src = gpu.tensor(rng.normalArray(cn), [cn]);
  const dst = gpu.empty([cn]);
  const tc = await timeIt(gpu, () => void copy(src, dst), timing);
  const copyGbps = gbps(2 * cn * 4, tc.medianMs);
  records.push(await ctx.emit({ name: 'copy (ceiling)', shape: [cn], ms: tc.medianMs, gbps: copyGbps, ratio: { copy: 1 } }));
  src.release();
  dst.release();

  const add = async (name: string, shape: number[], ms: number, bytes: number, flop?: number, peers?: PeerResult[]) => {
    const g = gbps(bytes, ms);
    records.push(
      await ctx.emit({
        name,
        shape,
        ms,
        gbps: g,
        ratio: { copy: g / copyGbps, ...peerRatios(peers ?? []) },
        ...(flop ? { gflops: gflops(flop, ms) } : {}),
        ...(peers?.length ? { peers } : {}),
      }),
    );
  };

  // Bilinear pooling [4, 256, 24]: X Xᵀ is 2·N·C²·D flops forward, twice that backward.
  {
    const [n, c, d] = [4, 256, 24];
    const shape = [n, c, d];
    const data = { x: rng.uniformArray(n * c * d, 0, 1), dy: rng.normalArray(n * c * c) }; // x: post-ReLU features
    const x = gpu.tensor(data.x, shape);
    const gy = gpu.tensor(data.dy, [n, c * c]);
    const xb = n * c * d * 4;
    const yb = n * c * c * 4;
    const saved = bilinearPoolDepth(x);
    const ours = { y: await saved.y.read(), dx: await gpu.tidy(() => bilinearPoolDepthBackward(x, saved, gy).read()) };
    const tf = await timeIt(gpu, () => gpu.tidy(() => void bilinearPoolDepth(x)), timing);
    // forward: read x, write s, read s, write z
    await add(
      'bilinear fwd',
      shape,
      tf.medianMs,
      xb + 3 * yb,
      2 * n * c * c * d,
      await runPeers(
        ctx.peers,
        'bilinear',
        (p) => p.bilinear!(shape, data, false),
        async () => ({ y: ours.y }),
        tf.medianMs,
        peerTiming,
      ),
    );
    const tb = await timeIt(gpu, () => gpu.tidy(() => void bilinearPoolDepthBackward(x, saved, gy)), timing);
    // backward: read y, gy (dot), read y, gy, x, write gx
    await add('bilinear bwd', shape, tb.medianMs, 4 * yb + 2 * xb, 4 * n * c * c * d);
    const tfb = await timeIt(
      gpu,
      () =>
        gpu.tidy(() => {
          const r = bilinearPoolDepth(x);
          bilinearPoolDepthBackward(x, r, gy);
        }),
      timing,
    );
    await add(
      'bilinear fwd+bwd',
      shape,
      tfb.medianMs,
      xb + 7 * yb + xb,
      6 * n * c * c * d,
      await runPeers(
        ctx.peers,
        'bilinear',
        (p) => p.bilinear!(shape, data, true),
        async () => ({ dx: ours.dx }),
        tfb.medianMs,
        peerTiming,
      ),
    );
    for (const t of [x, gy, saved.y, saved.norm]) t.release();
  }

  // Triplet loss with hard mining, 32 × 65,536: distances 3 flops per pair and element (4 with the
  // Gram term when normalising), backward 2·N² per element.
  {
    const [n, e] = [32, 65536];
    const hx = rng.uniformArray(n * e, 0, 0.01);
    const x = gpu.tensor(hx, [n, e]);
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const xb = n * e * 4;
    const pairs = (n * (n - 1)) / 2;
    for (const normalize of [false, true]) {
      const tag = normalize ? 'triplet (L2-normalised)' : 'triplet';
      const saved = tripletLoss(x, labels, { normalize });
      const ours = { loss: await saved.loss.read(), dx: await gpu.tidy(() => tripletLossBackward(x, saved).read()) };
      const data = { x: hx, labels };
      const opts = { margin: 0.2, normalize };
      const distFlop = (normalize ? 4 : 3) * pairs * e;
      const tf = await timeIt(gpu, () => gpu.tidy(() => void tripletLoss(x, labels, { normalize })), timing);
      await add(
        `${tag} fwd (dist + mining)`,
        [n, e],
        tf.medianMs,
        (normalize ? 2 : 1) * xb,
        distFlop,
        await runPeers(
          ctx.peers,
          'triplet',
          (p) => p.triplet!(n, e, data, opts, false),
          async () => ({ loss: ours.loss }),
          tf.medianMs,
          peerTiming,
        ),
      );
      const tb = await timeIt(gpu, () => gpu.tidy(() => void tripletLossBackward(x, saved)), timing);
      await add(`${tag} bwd`, [n, e], tb.medianMs, 2 * xb, 2 * n * n * e);
      const tfb = await timeIt(
        gpu,
        () =>
          gpu.tidy(() => {
            const r = tripletLoss(x, labels, { normalize });
            tripletLossBackward(x, r);
          }),
        timing,
      );
      await add(
        `${tag} fwd+bwd`,
        [n, e],
        tfb.medianMs,
        (normalize ? 4 : 3) * xb,
        distFlop + 2 * n * n * e,
        await runPeers(
          ctx.peers,
          'triplet',
          (p) => p.triplet!(n, e, data, opts, true),
          async () => ({ dx: ours.dx }),
          tfb.medianMs,
          peerTiming,
        ),
      );
      for (const t of [saved.loss, saved.dist, saved.mined, saved.perAnchor, saved.coef]) t.release();
    }
    x.release();
  }

  // Fused SGD step: reads param, grad, momentum; writes param, momentum (20 bytes per parameter).
  {
    const sizes = resnetLikeParamSizes(7_000_000);
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
    const tsgd = await timeIt(gpu, () => opt.step(param, grad, opts.lr), timing);
    const data = { param: compact(hp), grad: compact(hg) };
    const peers = await runPeers(
      ctx.peers,
      'sgd',
      (p) => p.sgd!(sizes, data, opts),
      async () => ours,
      tsgd.medianMs,
      peerTiming,
    );
    await add(`sgd step (${sizes.length} tensors, 1 dispatch)`, [7_000_000], tsgd.medianMs, 20 * 7_000_000, 5 * 7_000_000, peers);
    for (const t of [param, grad]) t.release();
    opt.release();
  }

  ctx.log(`head-loss on ${gpu.adapter.description} (copy ${copyGbps.toFixed(2)} GB/s)`);
  ctx.log(
    table(
      ['op', 'shape', 'ms', 'GFLOP/s', 'GB/s', '× copy', ...ctx.peers.map((p) => `vs ${p.name}`)],
      records.map((r) => [r.name, r.shape.join('×'), r.ms, r.gflops ?? 0, r.gbps ?? 0, r.ratio?.copy ?? 0, ...peerCells(ctx, r.peers ?? [])]),
    ),
  );
  return records;
}
