/**
 * Batch-hard triplet loss with online mining, forward and backward, on a batch of 32 embeddings of
 * 65,536 (the bilinear head's features), with and without L2 normalisation. Each row gives GB/s for the
 * bytes it must move at least, its ratio to the run's copy bandwidth on a 32 MiB tensor
 * (bench/copy-ceiling.ts), and GFLOP/s.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { tripletLoss, tripletLossBackward } from '../src/kernels/triplet.js';
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
  // Distances: 3 flops per pair and element (4 with the Gram term when normalising); backward 2·N² per element.
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
    const tf = await timeIt(gpu, () => gpu.tidy(() => void tripletLoss(x, labels, { normalize })), timing.ours);
    const fwdPeers = await runPeers(
      ctx.peers,
      'triplet',
      (p) => p.triplet!(n, e, data, opts, false),
      async () => ({ loss: ours.loss }),
      tf.medianMs,
      timing.peers,
    );
    await bench.add(`${tag} fwd (dist + mining)`, [n, e], tf, (normalize ? 2 : 1) * xb, { flop: distFlop, peers: fwdPeers });
    const tb = await timeIt(gpu, () => gpu.tidy(() => void tripletLossBackward(x, saved)), timing.ours);
    await bench.add(`${tag} bwd`, [n, e], tb, 2 * xb, { flop: 2 * n * n * e });
    const tfb = await timeIt(
      gpu,
      () =>
        gpu.tidy(() => {
          const r = tripletLoss(x, labels, { normalize });
          tripletLossBackward(x, r);
        }),
      timing.ours,
    );
    const bothPeers = await runPeers(
      ctx.peers,
      'triplet',
      (p) => p.triplet!(n, e, data, opts, true),
      async () => ({ dx: ours.dx }),
      tfb.medianMs,
      timing.peers,
    );
    await bench.add(`${tag} fwd+bwd`, [n, e], tfb, (normalize ? 4 : 3) * xb, { flop: distFlop + 2 * n * n * e, peers: bothPeers });
    for (const t of [saved.loss, saved.dist, saved.mined, saved.perAnchor, saved.coef]) t.release();
  }
  x.release();
  return bench.finish('triplet');
}
