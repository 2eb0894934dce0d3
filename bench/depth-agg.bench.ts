/**
 * Bilinear depth aggregation (the head of the paper's networks: the signed-square-root, L2-normalised
 * X Xᵀ over the slices) forward and backward on [N = 4, C = 256, D = 24] — 65,536 features per volume.
 * Each row gives GB/s for the bytes it must move at least (every input read once, every output written
 * once, intermediates counted where they go through memory), its ratio to the run's copy bandwidth on a
 * 32 MiB tensor (bench/copy-ceiling.ts), and GFLOP/s.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { bilinearPoolDepth, bilinearPoolDepthBackward } from '../src/kernels/depth-agg.js';
import { Rng } from '../src/util/rng.js';
import { HEAD_CEILING, bandwidthBench, benchTiming } from './bandwidth.js';
import type { BenchContext } from './context.js';
import { timeIt } from './harness.js';
import { runPeers } from './peer.js';
import type { BenchRecord } from './record.js';

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(11);
  const timing = benchTiming(ctx);
  const bench = await bandwidthBench(gpu, ctx, HEAD_CEILING);
  // X Xᵀ is 2·N·C²·D flops forward, twice that backward.
  const [n, c, d] = [4, 256, 24];
  const shape = [n, c, d];
  const data = { x: rng.uniformArray(n * c * d, 0, 1), dy: rng.normalArray(n * c * c) }; // x: post-ReLU features
  const x = gpu.tensor(data.x, shape);
  const gy = gpu.tensor(data.dy, [n, c * c]);
  const xb = n * c * d * 4;
  const yb = n * c * c * 4;
  const saved = bilinearPoolDepth(x);
  const ours = { y: await saved.y.read(), dx: await gpu.tidy(() => bilinearPoolDepthBackward(x, saved, gy).read()) };
  const tf = await timeIt(gpu, () => gpu.tidy(() => void bilinearPoolDepth(x)), timing.ours);
  const fwdPeers = await runPeers(
    ctx.peers,
    'bilinear',
    (p) => p.bilinear!(shape, data, false),
    async () => ({ y: ours.y }),
    tf.medianMs,
    timing.peers,
  );
  // Forward: read x, write s, read s, write z.
  await bench.add('bilinear fwd', shape, tf, xb + 3 * yb, { flop: 2 * n * c * c * d, peers: fwdPeers });
  const tb = await timeIt(gpu, () => gpu.tidy(() => void bilinearPoolDepthBackward(x, saved, gy)), timing.ours);
  // Backward: read y, gy (the dot), read y, gy, x, write gx.
  await bench.add('bilinear bwd', shape, tb, 4 * yb + 2 * xb, { flop: 4 * n * c * c * d });
  const tfb = await timeIt(
    gpu,
    () =>
      gpu.tidy(() => {
        const r = bilinearPoolDepth(x);
        bilinearPoolDepthBackward(x, r, gy);
      }),
    timing.ours,
  );
  const bothPeers = await runPeers(
    ctx.peers,
    'bilinear',
    (p) => p.bilinear!(shape, data, true),
    async () => ({ dx: ours.dx }),
    tfb.medianMs,
    timing.peers,
  );
  await bench.add('bilinear fwd+bwd', shape, tfb, xb + 7 * yb + xb, { flop: 6 * n * c * c * d, peers: bothPeers });
  for (const t of [x, gy, saved.y, saved.norm]) t.release();
  return bench.finish('depth-agg');
}
