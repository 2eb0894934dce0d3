/**
 * In-plane average pooling after stage 5 of f-rMC5: [1, 256, 24, 8, 8] → [1, 256, 24] (the per-slice
 * features of one 256×256 volume of 24 slices), forward and backward. Memory-bound: GB/s and the ratio
 * to the run's copy bandwidth, on the stem activation's size like the other activation benches
 * (bench/copy-ceiling.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { numel } from '../src/gpu/tensor.js';
import { planeAvgPool, planeAvgPoolBackward } from '../src/kernels/plane-avgpool.js';
import { Rng } from '../src/util/rng.js';
import { ACTIVATION_CEILING, bandwidthBench, benchTiming } from './bandwidth.js';
import type { BenchContext } from './context.js';
import { timeIt } from './harness.js';
import { runPeers } from './peer.js';
import type { BenchRecord } from './record.js';
import { FRMC5_ACTIVATIONS } from './shapes.js';

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(7);
  const timing = benchTiming(ctx);
  const bench = await bandwidthBench(gpu, ctx, ACTIVATION_CEILING);
  const shape = [...FRMC5_ACTIVATIONS[4]!.shape];
  const hx = rng.normalArray(numel(shape));
  const hdy = rng.normalArray(numel(shape.slice(0, 3)));
  const x = gpu.tensor(hx, shape);
  const dy = gpu.tensor(hdy, shape.slice(0, 3));
  // Each pass reads or writes the big tensor once; the pooled one is 64× smaller.
  const b = numel(shape) * 4;
  const ours = await gpu.tidy(async () => ({ y: await planeAvgPool(x).read(), dx: await planeAvgPoolBackward(dy, shape).read() }));
  const data = { x: hx, dy: hdy };
  const tf = await timeIt(gpu, () => gpu.tidy(() => void planeAvgPool(x)), timing.ours);
  const fwdPeers = await runPeers(
    ctx.peers,
    'planeAvgPool',
    (p) => p.planeAvgPool!(shape, data, false),
    async () => ({ y: ours.y }),
    tf.medianMs,
    timing.peers,
  );
  await bench.add('plane-avgpool fwd stage5', shape, tf, b, { peers: fwdPeers });
  const tb = await timeIt(gpu, () => gpu.tidy(() => void planeAvgPoolBackward(dy, shape)), timing.ours);
  await bench.add('plane-avgpool bwd stage5', shape, tb, b);
  const both = tf.medianMs + tb.medianMs;
  const bothPeers = await runPeers(
    ctx.peers,
    'planeAvgPool',
    (p) => p.planeAvgPool!(shape, data, true),
    async () => ({ dx: ours.dx }),
    both,
    timing.peers,
  );
  await bench.add('plane-avgpool fwd+bwd stage5', shape, both, 2 * b, { peers: bothPeers });
  x.release();
  dy.release();
  return bench.finish('plane-avgpool');
}
