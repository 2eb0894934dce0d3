/**
 * Max pooling after the stem of f-rMC5: 1×3×3, stride (1, 2, 2), padding (0, 1, 1) on [1, 32, 24, 128,
 * 128] → [1, 32, 24, 64, 64] (one 256×256 volume of 24 slices), forward (which also writes the argmax
 * indices) and backward. Memory-bound: GB/s and the ratio to the run's copy bandwidth on the input's
 * size (bench/copy-ceiling.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { numel } from '../src/gpu/tensor.js';
import { type MaxPoolParams, maxPool3d, maxPool3dBackward } from '../src/kernels/maxpool.js';
import { Rng } from '../src/util/rng.js';
import { ACTIVATION_CEILING, bandwidthBench, benchTiming } from './bandwidth.js';
import type { BenchContext } from './context.js';
import { timeIt } from './harness.js';
import { type PoolParams, runPeers } from './peer.js';
import type { BenchRecord } from './record.js';
import { FRMC5_ACTIVATIONS } from './shapes.js';

const STEM_POOL = { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] } satisfies MaxPoolParams & PoolParams;

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(7);
  const timing = benchTiming(ctx);
  const shape = [...FRMC5_ACTIVATIONS[0]!.shape];
  const bench = await bandwidthBench(gpu, ctx, ACTIVATION_CEILING);
  // The forward reads x and writes y and the argmax (i32); the backward reads dy and the argmax and writes dx.
  const xb = numel(shape) * 4;
  const hx = rng.normalArray(numel(shape));
  const x = gpu.tensor(hx, shape);
  const fwd = maxPool3d(x, STEM_POOL);
  const ys = [...fwd.y.shape];
  const yb = numel(ys) * 4;
  const hdy = rng.normalArray(numel(ys));
  const dy = gpu.tensor(hdy, ys);
  const dx = maxPool3dBackward(dy, fwd.argmax, shape, STEM_POOL);
  const ours = { y: await fwd.y.read(), dx: await dx.read() };
  dx.release();
  const data = { x: hx, dy: hdy };
  const tf = await timeIt(gpu, () => gpu.tidy(() => void maxPool3d(x, STEM_POOL)), timing.ours);
  const fwdPeers = await runPeers(
    ctx.peers,
    'maxPool',
    (p) => p.maxPool!(shape, STEM_POOL, data, false),
    async () => ({ y: ours.y }),
    tf.medianMs,
    timing.peers,
  );
  await bench.add('maxpool 1x3x3/s122 fwd stem', shape, tf, xb + 2 * yb, { peers: fwdPeers });
  const tb = await timeIt(gpu, () => gpu.tidy(() => void maxPool3dBackward(dy, fwd.argmax, shape, STEM_POOL)), timing.ours);
  await bench.add('maxpool 1x3x3/s122 bwd stem', shape, tb, xb + 2 * yb);
  const both = tf.medianMs + tb.medianMs;
  const bothPeers = await runPeers(
    ctx.peers,
    'maxPool',
    (p) => p.maxPool!(shape, STEM_POOL, data, true),
    async () => ({ dx: ours.dx }),
    both,
    timing.peers,
  );
  await bench.add('maxpool 1x3x3/s122 fwd+bwd stem', shape, both, 2 * (xb + 2 * yb), { peers: bothPeers });
  for (const t of [x, dy, fwd.y, fwd.argmax]) t.release();
  return bench.finish('maxpool');
}
