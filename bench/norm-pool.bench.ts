/**
 * Batch norm, max pooling and in-plane average pooling on the layer shapes of f-rMC5 (ResNet-18 with 32
 * stem filters) for one 256×256 volume of 24 slices. These ops are memory-bound, so each row gives GB/s
 * (bytes every pass must move: reads + writes of the big tensors, per-channel vectors ignored) and its
 * ratio to the device's copy bandwidth, measured in the same run with `copy` from elementwise.ts.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import { batchNormBackward, batchNormTrain } from '../src/kernels/batchnorm.js';
import { copy } from '../src/kernels/elementwise.js';
import { maxPool3d, maxPool3dBackward, type MaxPoolParams } from '../src/kernels/maxpool.js';
import { planeAvgPool, planeAvgPoolBackward } from '../src/kernels/plane-avgpool.js';
import { Rng } from '../src/util/rng.js';
import type { BenchContext } from './context.js';
import type { BenchRecord, PeerResult } from './record.js';
import { peerCells } from './matmul.bench.js';
import { type PoolParams, peerRatios, runPeers } from './peer.js';
import { gbps, table, timeIt } from './harness.js';

type F32 = GpuTensor<'f32'>;

/** Activations of f-rMC5 at 256×256×24, batch 1: stem output, then stages 2–5 (stage 5 is the 3D one). */
const BN_SHAPES: { layer: string; shape: number[] }[] = [
  { layer: 'stem', shape: [1, 32, 24, 128, 128] },
  { layer: 'stage2', shape: [1, 32, 24, 64, 64] },
  { layer: 'stage3', shape: [1, 64, 24, 32, 32] },
  { layer: 'stage4', shape: [1, 128, 24, 16, 16] },
  { layer: 'stage5', shape: [1, 256, 24, 8, 8] },
];
const STEM_POOL = { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] } satisfies MaxPoolParams & PoolParams;

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function randomTensor(gpu: Gpu, rng: Rng, shape: number[]): F32 {
  return gpu.tensor(rng.normalArray(numel(shape)), shape);
}

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(7);
  const reps = ctx.quick ? 2 : 7;
  const timing = { warmup: 1, reps };
  // The checked run compiles the peer's pipelines; --quick takes it as the warm-up.
  const peerTiming = ctx.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 3 };
  const records: BenchRecord[] = [];
  const shapes = ctx.quick ? BN_SHAPES.slice(1, 2) : BN_SHAPES;

  // Device ceiling: copy of the largest activation (read + write).
  const big = BN_SHAPES[0]!.shape;
  const bytes = numel(big) * 4;
  const src = randomTensor(gpu, rng, big);
  const dst = gpu.empty(big, 'f32');
  const tc = await timeIt(gpu, () => void copy(src, dst), timing);
  const copyGbps = gbps(2 * bytes, tc.medianMs);
  records.push(await ctx.emit({ name: 'copy (ceiling)', shape: big, ms: tc.medianMs, gbps: copyGbps, ratio: { copy: 1 } }));
  src.release();
  dst.release();

  const add = async (name: string, shape: number[], ms: number, moved: number, peers?: PeerResult[]) => {
    const g = gbps(moved, ms);
    records.push(await ctx.emit({ name, shape, ms, gbps: g, ratio: { copy: g / copyGbps, ...peerRatios(peers ?? []) }, ...(peers?.length ? { peers } : {}) }));
  };

  for (const { layer, shape } of shapes) {
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
      // Forward: stats pass reads x, the apply pass reads x and writes y.
      const tf = await timeIt(gpu, () => gpu.tidy(() => void batchNormTrain(x, gamma, beta, rm, rv, { relu })), timing);
      const data = { x: hx, gamma: hg, beta: hb, dy: hdy };
      const fwdPeers = await runPeers(
        ctx.peers,
        'batchNorm',
        (p) => p.batchNorm!(shape, data, relu, false),
        async () => ({ y: ours.y }),
        tf.medianMs,
        peerTiming,
      );
      await add(`${tag} train fwd ${layer}`, shape, tf.medianMs, 3 * b, fwdPeers);
      // Backward: the affine pass reads dy, x (and y), the input pass reads them again and writes dx.
      const tb = await timeIt(
        gpu,
        () => gpu.tidy(() => void batchNormBackward(dy, x, gamma, saved.mean, saved.invStd, relu ? { relu, y: saved.y } : {})),
        timing,
      );
      await add(`${tag} bwd ${layer}`, shape, tb.medianMs, (relu ? 7 : 5) * b);
      const bothMs = tf.medianMs + tb.medianMs;
      const bwdPeers = await runPeers(
        ctx.peers,
        'batchNorm',
        (p) => p.batchNorm!(shape, data, relu, true),
        async () => ({ dx: ours.dx, dgamma: ours.dgamma, dbeta: ours.dbeta }),
        bothMs,
        peerTiming,
      );
      await add(`${tag} fwd+bwd ${layer}`, shape, bothMs, (relu ? 10 : 8) * b, bwdPeers);
      saved.y.release();
      saved.mean.release();
      saved.invStd.release();
    }
    for (const t of [x, dy, gamma, beta, rm, rv]) t.release();
  }

  // Stem max pool [1, 32, 24, 128, 128] → [1, 32, 24, 64, 64]: reads x, writes y and argmax (i32);
  // the backward reads dy and argmax and writes dx.
  {
    const hx = rng.normalArray(numel(big));
    const x = gpu.tensor(hx, big);
    const fwd = maxPool3d(x, STEM_POOL);
    const ys = [...fwd.y.shape];
    const yb = numel(ys) * 4;
    const hdy = rng.normalArray(numel(ys));
    const dy = gpu.tensor(hdy, ys);
    const dx = maxPool3dBackward(dy, fwd.argmax, big, STEM_POOL);
    const ours = { y: await fwd.y.read(), dx: await dx.read() };
    dx.release();
    const tf = await timeIt(gpu, () => gpu.tidy(() => void maxPool3d(x, STEM_POOL)), timing);
    const data = { x: hx, dy: hdy };
    await add(
      'maxpool 1x3x3/s122 fwd stem',
      big,
      tf.medianMs,
      bytes + 2 * yb,
      await runPeers(
        ctx.peers,
        'maxPool',
        (p) => p.maxPool!(big, STEM_POOL, data, false),
        async () => ({ y: ours.y }),
        tf.medianMs,
        peerTiming,
      ),
    );
    const tb = await timeIt(gpu, () => gpu.tidy(() => void maxPool3dBackward(dy, fwd.argmax, big, STEM_POOL)), timing);
    await add('maxpool 1x3x3/s122 bwd stem', big, tb.medianMs, bytes + 2 * yb);
    const both = tf.medianMs + tb.medianMs;
    await add(
      'maxpool 1x3x3/s122 fwd+bwd stem',
      big,
      both,
      2 * (bytes + 2 * yb),
      await runPeers(
        ctx.peers,
        'maxPool',
        (p) => p.maxPool!(big, STEM_POOL, data, true),
        async () => ({ dx: ours.dx }),
        both,
        peerTiming,
      ),
    );
    for (const t of [x, dy, fwd.y, fwd.argmax]) t.release();
  }

  // x-y pooling after stage 5: [1, 256, 24, 8, 8] → [1, 256, 24].
  {
    const shape = BN_SHAPES[4]!.shape;
    const hx = rng.normalArray(numel(shape));
    const hdy = rng.normalArray(numel(shape.slice(0, 3)));
    const x = gpu.tensor(hx, shape);
    const dy = gpu.tensor(hdy, shape.slice(0, 3));
    const b = numel(shape) * 4;
    const ours = await gpu.tidy(async () => ({ y: await planeAvgPool(x).read(), dx: await planeAvgPoolBackward(dy, shape).read() }));
    const data = { x: hx, dy: hdy };
    const tf = await timeIt(gpu, () => gpu.tidy(() => void planeAvgPool(x)), timing);
    await add(
      'plane-avgpool fwd stage5',
      shape,
      tf.medianMs,
      b,
      await runPeers(
        ctx.peers,
        'planeAvgPool',
        (p) => p.planeAvgPool!(shape, data, false),
        async () => ({ y: ours.y }),
        tf.medianMs,
        peerTiming,
      ),
    );
    const tb = await timeIt(gpu, () => gpu.tidy(() => void planeAvgPoolBackward(dy, shape)), timing);
    await add('plane-avgpool bwd stage5', shape, tb.medianMs, b);
    const both = tf.medianMs + tb.medianMs;
    await add(
      'plane-avgpool fwd+bwd stage5',
      shape,
      both,
      2 * b,
      await runPeers(
        ctx.peers,
        'planeAvgPool',
        (p) => p.planeAvgPool!(shape, data, true),
        async () => ({ dx: ours.dx }),
        both,
        peerTiming,
      ),
    );
    x.release();
    dy.release();
  }

  ctx.log(`norm-pool on ${gpu.adapter.description} (copy ${copyGbps.toFixed(2)} GB/s)`);
  ctx.log(
    table(
      ['op', 'shape', 'ms', 'GB/s', '× copy', ...ctx.peers.map((p) => `vs ${p.name}`)],
      records.map((r) => [r.name, r.shape.join('×'), r.ms, r.gbps ?? 0, r.ratio?.copy ?? 0, ...peerCells(ctx, r.peers ?? [])]),
    ),
  );
  return records;
}
