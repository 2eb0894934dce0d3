/**
 * Batch norm in training mode (statistics of the batch, running averages updated), with and without the
 * fused ReLU, forward and backward on the activation shapes of f-rMC5 (ResNet-18 with 32 stem filters)
 * for one 256×256 volume of 24 slices (--quick: stage 2 only). Memory-bound: each row gives GB/s (reads
 * and writes of the big tensors; the per-channel vectors are ignored) and its ratio to the run's copy
 * bandwidth on the stem activation's size (bench/copy-ceiling.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { numel } from '../src/gpu/tensor.js';
import { batchNormBackward, batchNormTrain } from '../src/kernels/batchnorm.js';
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
  const shapes = ctx.quick ? FRMC5_ACTIVATIONS.slice(1, 2) : FRMC5_ACTIVATIONS;

  for (const { layer, shape: s } of shapes) {
    const shape = [...s];
    const c = shape[1]!;
    const b = numel(shape) * 4;
    const hx = rng.normalArray(numel(shape));
    const hdy = rng.normalArray(numel(shape));
    const hg = rng.normalArray(c, 1, 0.1);
    const hb = rng.normalArray(c, 0, 0.1);
    const x = gpu.tensor(hx, shape);
    const dy = gpu.tensor(hdy, shape);
    const gamma = gpu.tensor(hg, [c]);
    const beta = gpu.tensor(hb, [c]);
    const rm = gpu.tensor(new Float32Array(c), [c]);
    const rv = gpu.tensor(new Float32Array(c).fill(1), [c]);
    for (const relu of [false, true]) {
      const tag = relu ? 'batchnorm+relu' : 'batchnorm';
      const saved = batchNormTrain(x, gamma, beta, rm, rv, { relu });
      const grads = batchNormBackward(dy, x, gamma, saved.mean, saved.invStd, relu ? { relu, y: saved.y } : {});
      const ours = { y: await saved.y.read(), dx: await grads.dx.read(), dgamma: await grads.dgamma.read(), dbeta: await grads.dbeta.read() };
      for (const t of [grads.dx, grads.dgamma, grads.dbeta]) t.release();
      // Forward: the statistics pass reads x, the apply pass reads x and writes y.
      const tf = await timeIt(gpu, () => gpu.tidy(() => void batchNormTrain(x, gamma, beta, rm, rv, { relu })), timing.ours);
      const data = { x: hx, gamma: hg, beta: hb, dy: hdy };
      const fwdPeers = await runPeers(
        ctx.peers,
        'batchNorm',
        (p) => p.batchNorm!(shape, data, relu, false),
        async () => ({ y: ours.y }),
        tf.medianMs,
        timing.peers,
      );
      await bench.add(`${tag} train fwd ${layer}`, shape, tf, 3 * b, { peers: fwdPeers });
      // Backward: the affine pass reads dy, x (and y), the input pass reads them again and writes dx.
      const tb = await timeIt(
        gpu,
        () => gpu.tidy(() => void batchNormBackward(dy, x, gamma, saved.mean, saved.invStd, relu ? { relu, y: saved.y } : {})),
        timing.ours,
      );
      await bench.add(`${tag} bwd ${layer}`, shape, tb, (relu ? 7 : 5) * b);
      const bothMs = tf.medianMs + tb.medianMs;
      const bwdPeers = await runPeers(
        ctx.peers,
        'batchNorm',
        (p) => p.batchNorm!(shape, data, relu, true),
        async () => ({ dx: ours.dx, dgamma: ours.dgamma, dbeta: ours.dbeta }),
        bothMs,
        timing.peers,
      );
      await bench.add(`${tag} fwd+bwd ${layer}`, shape, bothMs, (relu ? 10 : 8) * b, { peers: bwdPeers });
      saved.y.release();
      saved.mean.release();
      saved.invStd.release();
    }
    for (const t of [x, dy, gamma, beta, rm, rv]) t.release();
  }
  return bench.finish('batchnorm');
}
