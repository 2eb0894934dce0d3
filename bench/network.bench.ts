/**
 * Whole networks: f-R2D, f-R3D and f-rMC5, each with the bilinear head (the same head for all three so
 * they compare; the paper trains f-R2D/f-R3D with the slice head, whose cost is the shared FC alone),
 * width 32 (the paper's), built with the trainer's own code (buildModel, batchLoss with DEFAULT_LOSS in
 * the volume stage, makeOptimizer: SGD lr 0.01, momentum 0.9, weight decay 0.01) and timed as
 * - forward: eval mode, no grad, upload of the batch and readback of the volume probabilities;
 * - training step: what trainFold does per batch — upload, forward, focal (slices + volume) + triplet
 *   loss, backward, SGD step, zero-grad, loss readback;
 * on a CPU-friendly batch (4 × 1×12×64×64, labels 0,1,0,1 so the triplet loss has valid anchors) and,
 * in the full bench, on the paper's input (1 × 1×24×256×256; at batch 1 the triplet loss has no valid
 * anchor — it is computed and is 0).
 * GFLOP/s counts the convolutions only (2·MACs forward; a training step 6·MACs, the stem 4·MACs since
 * no input gradient is needed), which are nearly all of the arithmetic. Peak memory: the most device
 * bytes held by live tensors during one step (the buffer pool's peakLiveBytes, counted by size class,
 * so slightly above the tensors' exact sizes), minus what was live before the model was built: the
 * parameters, optimizer state, activations and gradients of this network.
 * Peers (bench/net-peer.ts): the same network written with TensorFlow.js layers (bench/tfjs-net.ts,
 * "tfjs-layers") on the same adapter in the same process or page, and in the page ONNX Runtime Web's
 * forward (bench/browser/onnx-net.ts) and jax-js's forward and step (bench/browser/jax-net.ts); each starts from OUR freshly initialised weights, and its forward (volume probabilities,
 * slice logits) and first training step (loss, every parameter's update) are checked against ours before
 * it is timed. tfjs's peak is its live tensor bytes (exact sizes) during the runs, also minus its level
 * before the twin was built. ratio['tfjs-layers'] = tfjs ms / ours; ratio.memoryVsTfjs = our peak /
 * tfjs's. Peaks are the highest over the warm-up and timed runs. A peer runs its check, then (full mode)
 * one warm-up, then one or two timed runs (its step is 5–10× ours; a CPU driver's noise does not change
 * the ratio's first digit); at the paper's size and in --quick mode only f-rMC5's peers run (the goal's
 * network; see SHORT_PEERS). --quick times f-rMC5 alone, on QUICK_INPUT.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { leaf, noGrad } from '../src/graph/autograd.js';
import * as F from '../src/graph/functional.js';
import { Conv2Plus1d, type Conv3d } from '../src/model/layers.js';
import { type ModelName, type StagingNet, layerKinds } from '../src/model/resnet.js';
import type { Batch } from '../src/train/dataset.js';
import { DEFAULT_LOSS, type TrainConfig, buildModel, makeOptimizer, repRows, trainStep } from '../src/train/trainer.js';
import { Rng } from '../src/util/rng.js';
import { type BenchContext, profileRun } from './context.js';
import { gflops, table, timeIt, timeSynced } from './harness.js';
import { gemmCeiling } from './matmul.bench.js';
import type { NetBatch, NetPeer, NetSpec, Shape5 } from './net-peer.js';
import { checkOutputs, firstLine, peerRatios } from './peer.js';
import type { BenchRecord, PeerResult } from './record.js';
import { tfjsLayersPeer } from './tfjs-net.js';

const MODELS: ModelName[] = ['f-R2D', 'f-R3D', 'f-rMC5'];
const WIDTH = 32;
const CPU_INPUT: Shape5 = [4, 1, 12, 64, 64];
/** --quick: f-rMC5 alone on a third of the CPU input's slices (4 volumes, so the triplet loss has anchors). */
const QUICK_INPUT: Shape5 = [4, 1, 4, 64, 64];
const PAPER_INPUT: Shape5 = [1, 1, 24, 256, 256];
/**
 * Networks whose peers run at the paper's size and in --quick mode: f-rMC5 alone, the goal's network
 * (a tfjs step takes minutes there on a CPU driver: 230 s at the paper's size on lavapipe, 156 s for
 * f-R2D at the CPU size on SwiftShader).
 */
const SHORT_PEERS: ModelName[] = ['f-rMC5'];
/**
 * Relative error a whole network's outputs may have against ours: f32 through ~20 layers with batch
 * norm, different summation orders and (ours) Winograd transforms; the updates also carry the
 * backward's rounding. A wrong layer or gradient is off by far more (≥ 1e-1).
 */
const NET_TOLERANCE = { fwd: 1e-3, step: 5e-3 };
const MiB = 1024 * 1024;

const config = (model: ModelName, batch: number): TrainConfig => ({
  model,
  head: 'bilinear',
  width: WIDTH,
  epochs: 1,
  batchSize: batch,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0.01,
  schedule: 'constant',
  loss: { ...DEFAULT_LOSS },
  oversample: false,
  augment: false,
  tta: 1,
  headLrScale: 1,
  sliceEpochs: 0,
  seed: 0,
});

function makeBatchOf(shape: Shape5, rng: Rng): Batch {
  const [n, , d, h, w] = shape;
  const labels = Array.from({ length: n }, (_, i) => (n === 1 ? 1 : i % 2)) as (0 | 1)[];
  const mid = d >> 1;
  return {
    data: rng.normalArray(n * d * h * w),
    shape,
    labels,
    ids: labels.map((_, i) => `bench-${i}`),
    repSlices: labels.map(() => [mid - 1, mid, mid + 1]),
  };
}

function netBatch(b: Batch): NetBatch {
  const { rows, labels } = repRows(b);
  return { data: b.data, labels: [...b.labels], repRows: rows, repLabels: labels };
}

/** Multiply-accumulates of every convolution of the model's forward on `input`, and of the stem alone. */
export function networkConvMacs(model: StagingNet, input: Shape5): { all: number; stem: number } {
  let all = 0;
  const conv = (c: Conv3d | Conv2Plus1d, s: number[]): number[] => {
    if (c instanceof Conv2Plus1d) return conv(c.temporal, conv(c.spatial, s));
    const o = [2, 3, 4].map((a, i) => Math.floor((s[a]! + 2 * c.padding[i]! - c.kernel[i]!) / c.stride[i]!) + 1);
    all += s[0]! * c.outChannels * o[0]! * o[1]! * o[2]! * c.inChannels * c.kernel[0] * c.kernel[1] * c.kernel[2];
    return [s[0]!, c.outChannels, ...o];
  };
  let s = conv(model.conv1, input);
  const stem = all;
  s = [s[0]!, s[1]!, s[2]!, Math.floor((s[3]! - 1) / 2) + 1, Math.floor((s[4]! - 1) / 2) + 1]; // max pool 3, stride 2, pad 1
  for (const stage of model.layers) {
    for (const b of stage) {
      if (b.downsample) conv(b.downsample.conv, s);
      s = conv(b.conv2, conv(b.conv1, s));
    }
  }
  return { all, stem };
}

interface Timed {
  ms: number;
  spreadMs: [number, number];
  peakBytes: number;
}

interface OurResult {
  fwd: Timed;
  step: Timed;
  params: number;
  spec: NetSpec;
  /** What the peers are checked against (fresh weights: forward, then the first step). */
  check: { fwd: Record<string, Float32Array>; step: Record<string, Float32Array> };
  profile?: { fwd?: BenchRecord['kernels']; step?: BenchRecord['kernels'] };
}

async function timeOurs(gpu: Gpu, name: ModelName, input: Shape5, timing: { warmup: number; reps: number }, profile: boolean): Promise<OurResult> {
  const cfg = config(name, input[0]);
  const batch = makeBatchOf(input, new Rng(7));
  gpu.pool.trim();
  const live0 = gpu.memory().liveBytes;
  const model = buildModel(cfg).materialize(gpu, new Rng(1));
  const opt = makeOptimizer(gpu, model, cfg);
  try {
    const params = [...model.namedParameters()];
    const weights = new Map<string, Float32Array>();
    const shapes = new Map<string, readonly number[]>();
    for (const [n, p] of params) {
      weights.set(n, await p.value.read());
      shapes.set(n, p.shape);
    }
    const kinds = layerKinds(name);
    const spec: NetSpec = {
      name,
      kinds: kinds.map((k) => (k === '3d' ? '3d' : '2d')),
      width: WIDTH,
      input,
      weights,
      shapes,
      lr: cfg.lr,
      momentum: cfg.momentum,
      weightDecay: cfg.weightDecay,
      gamma: cfg.loss.gamma,
      margin: cfg.loss.margin,
      sliceLossWeight: cfg.loss.sliceLossWeight,
      triplet: cfg.loss.triplet,
    };
    const step = async () => {
      const v = await trainStep({ model, optimizer: opt, batch, loss: cfg.loss, lr: cfg.lr, stage: 'volume' });
      if (!Number.isFinite(v)) throw new Error(`${name}: the bench's training step gave loss ${v}`);
      return v;
    };
    const forwardOut = () =>
      gpu.tidy(() =>
        noGrad(async () => {
          const out = model.forward(leaf(gpu.tensor(batch.data, batch.shape), false));
          return { prob: await F.sigmoid(out.volumeLogits!).read(), sliceLogits: await out.sliceLogits.read() };
        }),
      );
    const forward = async () => (await forwardOut()).prob;
    // The check values, from the fresh weights: the eval forward, then the first training step's loss
    // and parameter updates (the momentum buffer starts as the gradient, so Δw = −lr·(∇w + wd·w)).
    model.eval();
    const fwdCheck = await forwardOut();
    model.train();
    const loss = await step();
    const total = [...weights.values()].reduce((a, v) => a + v.length, 0);
    const update = new Float32Array(total);
    let o = 0;
    for (const [n, p] of params) {
      const after = await p.value.read();
      const before = weights.get(n)!;
      for (let j = 0; j < after.length; j++) update[o + j] = after[j]! - before[j]!;
      o += after.length;
    }
    // Peaks over the warm-up and timed runs (the check step allocated the momentum buffer it keeps).
    gpu.pool.resetPeak();
    const ts = await timeIt(gpu, async () => void (await step()), timing);
    const stepPeak = gpu.memory().peakLiveBytes - live0;
    const stepProfile = profile ? await profileRun(gpu, step, 10) : undefined;
    model.eval();
    gpu.pool.resetPeak();
    const tf = await timeIt(gpu, async () => void (await forward()), timing);
    const fwdPeak = gpu.memory().peakLiveBytes - live0;
    const fwdProfile = profile ? await profileRun(gpu, forward, 10) : undefined;
    return {
      fwd: { ms: tf.medianMs, spreadMs: [tf.minMs, tf.maxMs], peakBytes: fwdPeak },
      step: { ms: ts.medianMs, spreadMs: [ts.minMs, ts.maxMs], peakBytes: stepPeak },
      params: model.parameterCount(),
      spec,
      check: { fwd: { prob: fwdCheck.prob, sliceLogits: fwdCheck.sliceLogits }, step: { loss: new Float32Array([loss]), update } },
      ...(profile ? { profile: { fwd: fwdProfile, step: stepProfile } } : {}),
    };
  } finally {
    opt.release();
    model.release();
    gpu.pool.trim();
  }
}

interface PeerSide {
  result: PeerResult;
  params?: number;
  peakBytes?: number;
}

/** One whole-network peer on one kind: check against ours, then time. */
async function timePeer(p: NetPeer, ours: OurResult, kind: 'fwd' | 'step', batch: NetBatch, timing: { warmup: number; reps: number }): Promise<PeerSide> {
  const why = p.support(ours.spec, kind);
  if (why) return { result: { name: p.name, unavailable: why } };
  let run: Awaited<ReturnType<NetPeer['prepare']>> | null = null;
  try {
    run = await p.prepare(ours.spec, kind, batch);
    const out = await run.outputs();
    const check = checkOutputs(out, ours.check[kind], NET_TOLERANCE[kind]);
    const t = await timeSynced(
      () => run!.sync(),
      () => run!.run(),
      timing,
    );
    const peak = run.peakBytes?.();
    const result: PeerResult = { name: p.name, ms: t.medianMs, spreadMs: [t.minMs, t.maxMs], check, ...(peak ? { peakMiB: peak / MiB } : {}) };
    if (check.ok) result.speedup = t.medianMs / ours[kind].ms;
    return { result, ...(run.parameterCount !== undefined ? { params: run.parameterCount } : {}), ...(peak ? { peakBytes: peak } : {}) };
  } catch (e) {
    return { result: { name: p.name, unavailable: firstLine(e) } };
  } finally {
    try {
      await run?.dispose();
    } catch {
      // a peer that fails to free is not a reason to stop the bench
    }
  }
}

const fmtMs = (t: { ms: number; spreadMs?: [number, number] }) =>
  t.spreadMs && t.spreadMs[0] !== t.spreadMs[1] ? `${t.ms.toFixed(0)} (${t.spreadMs[0].toFixed(0)}–${t.spreadMs[1].toFixed(0)})` : t.ms.toFixed(0);
const mib = (b: number) => b / MiB;

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const ceiling = await gemmCeiling(gpu, ctx.quick);
  const peers: NetPeer[] = [...(ctx.tfjs ? [tfjsLayersPeer(ctx.tfjs)] : []), ...ctx.netPeers];
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const sizes: { label: string; input: Shape5 }[] = ctx.quick
    ? [{ label: 'quick', input: QUICK_INPUT }]
    : [
        { label: 'cpu', input: CPU_INPUT },
        { label: 'paper', input: PAPER_INPUT },
      ];
  const models = ctx.quick ? SHORT_PEERS : MODELS;

  for (const { label, input } of sizes) {
    const paper = label === 'paper';
    // The check runs (a forward and a step) compile every pipeline, so --quick takes them as the warm-up.
    const timing = { warmup: ctx.quick ? 0 : 1, reps: ctx.quick || paper ? 2 : 3 };
    // The check run compiles every pipeline, so in --quick mode it is the peers' warm-up.
    const peerTiming = { warmup: ctx.quick ? 0 : 1, reps: 1 };
    for (const name of models) {
      const model = buildModel(config(name, input[0]));
      const macs = networkConvMacs(model, input);
      const fwdFlop = 2 * macs.all;
      const stepFlop = 6 * macs.all - 2 * macs.stem;
      const ours = await timeOurs(gpu, name, input, timing, ctx.profile);
      ctx.log(
        `  ${name} [${input.join('×')}]: ours fwd ${ours.fwd.ms.toFixed(0)} ms, step ${ours.step.ms.toFixed(0)} ms (${gflops(stepFlop, ours.step.ms).toFixed(2)} GFLOP/s), peak ${mib(ours.step.peakBytes).toFixed(0)} MiB`,
      );

      const batch = netBatch(makeBatchOf(input, new Rng(7)));
      const side: Record<'fwd' | 'step', PeerSide[]> = { fwd: [], step: [] };
      if ((!paper && !ctx.quick) || SHORT_PEERS.includes(name)) {
        for (const p of peers) {
          for (const kind of ['fwd', 'step'] as const) {
            const r = await timePeer(p, ours, kind, batch, peerTiming);
            side[kind].push(r);
            if (r.params !== undefined && r.params !== ours.params) notes.push(`${name}: ${p.name} has ${r.params} parameters, ours ${ours.params}`);
            if (r.result.unavailable) notes.push(`${name} [${input.join('×')}] ${kind}: ${p.name}: ${r.result.unavailable}`);
            else if (r.result.check && !r.result.check.ok) notes.push(`${name} [${input.join('×')}] ${kind}: ${p.name} ${r.result.check.detail}`);
            else
              ctx.log(
                `  ${name} [${input.join('×')}] ${kind}: ${p.name} ${r.result.ms!.toFixed(0)} ms${r.peakBytes ? `, peak ${mib(r.peakBytes).toFixed(0)} MiB` : ''}`,
              );
          }
        }
      }

      for (const kind of ['fwd', 'step'] as const) {
        const o = ours[kind];
        const flop = kind === 'fwd' ? fwdFlop : stepFlop;
        const gf = gflops(flop, o.ms);
        const ps = side[kind];
        const ratio: Record<string, number> = { gemm: gf / ceiling.gflops, ...peerRatios(ps.map((s) => s.result)) };
        const tw = ps.find((s) => s.result.name === 'tfjs-layers');
        if (tw?.peakBytes && tw.result.check?.ok) ratio.memoryVsTfjs = o.peakBytes / tw.peakBytes;
        records.push(
          await ctx.emit({
            name: `${name}+bilinear ${kind === 'fwd' ? 'forward (eval)' : 'train step'}${paper ? ' paper size' : ''}`,
            shape: [...input],
            ms: o.ms,
            spreadMs: o.spreadMs,
            gflops: gf,
            ratio,
            peakMiB: mib(o.peakBytes),
            ...(tw?.result.ms !== undefined
              ? {
                  peer: {
                    name: 'tfjs-layers',
                    ms: tw.result.ms,
                    ...(tw.result.spreadMs ? { spreadMs: tw.result.spreadMs } : {}),
                    ...(tw.peakBytes ? { peakMiB: mib(tw.peakBytes) } : {}),
                  },
                }
              : {}),
            ...(ps.length ? { peers: ps.map((s) => s.result) } : {}),
            ...(ours.profile?.[kind] ? { kernels: ours.profile[kind] } : {}),
          }),
        );
        rows.push([
          `${name} ${kind}`,
          input.join('×'),
          fmtMs(o),
          gf,
          mib(o.peakBytes),
          ...peers.map((p) => {
            const r = ps.find((s) => s.result.name === p.name)?.result;
            if (!r) return '-';
            if (r.unavailable) return 'n/a';
            const t = `${fmtMs({ ms: r.ms!, ...(r.spreadMs ? { spreadMs: r.spreadMs } : {}) })}${r.peakMiB ? ` / ${r.peakMiB.toFixed(0)} MiB` : ''}`;
            return r.check?.ok ? `${t} (${r.speedup!.toFixed(1)}×)` : `${t} WRONG`;
          }),
        ]);
      }
    }
  }
  ctx.log(
    `whole networks (bilinear head, width ${WIDTH}) on ${gpu.adapter.description}; GEMM ceiling ${ceiling.gflops.toFixed(2)} GFLOP/s; GFLOP/s = convolutions only`,
  );
  ctx.log(table(['network', 'input', 'ms (min–max)', 'GFLOP/s', 'peak MiB', ...peers.map((p) => `${p.name} ms (× ours)`)], rows));
  for (const [n, why] of Object.entries(ctx.unavailable)) ctx.log(`${n} unavailable: ${why}`);
  for (const n of notes) ctx.log(`note: ${n}`);
  return records;
}
