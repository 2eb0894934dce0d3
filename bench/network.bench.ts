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
 * Peer: the same network written with TensorFlow.js layers (bench/tfjs-net.ts) on the same adapter in
 * the same process; its peak is tfjs's live tensor bytes (exact sizes) during one step, also minus its
 * level before the twin was built. ratio.tfjs = tfjs ms / ours; ratio.memoryVsTfjs = our peak / tfjs's.
 * Peaks are the highest over the warm-up and timed runs. tfjs runs one warm-up and one timed run (its
 * step is 5–10× ours; a CPU driver's noise does not change the ratio's first digit); at the paper's size
 * and in --quick mode only f-rMC5's twin runs (the goal's network; see SHORT_PEERS).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { leaf, noGrad } from '../src/graph/autograd.js';
import * as F from '../src/graph/functional.js';
import { Conv2Plus1d, type Conv3d } from '../src/model/layers.js';
import { type ModelName, type StagingNet, layerKinds } from '../src/model/resnet.js';
import type { Batch } from '../src/train/dataset.js';
import { DEFAULT_LOSS, type TrainConfig, buildModel, makeOptimizer, repRows, trainStep } from '../src/train/trainer.js';
import { Rng } from '../src/util/rng.js';
import { gflops, table, timeIt } from './harness.js';
import { gemmCeiling } from './matmul.bench.js';
import type { BenchRecord } from './record.js';
import { type TwinBatch, type TwinKind, buildTfTwin, tfPeakBytes, timeTf } from './tfjs-net.js';
import { type TfRuntime, tfjsRuntime, tfjsUnavailable } from './tfjs-peer.js';

type Shape5 = [number, number, number, number, number];

const MODELS: ModelName[] = ['f-R2D', 'f-R3D', 'f-rMC5'];
const WIDTH = 32;
const CPU_INPUT: Shape5 = [4, 1, 12, 64, 64];
const PAPER_INPUT: Shape5 = [1, 1, 24, 256, 256];
/**
 * Networks whose tfjs twin runs at the paper's size and in --quick mode: f-rMC5 alone, the goal's network
 * (a tfjs step takes minutes there on a CPU driver: 230 s at the paper's size on lavapipe, 156 s for
 * f-R2D at the CPU size on SwiftShader).
 */
const SHORT_PEERS: ModelName[] = ['f-rMC5'];
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

function twinBatch(b: Batch): TwinBatch {
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

interface SideResult {
  fwd: Timed;
  step: Timed;
  params: number;
}

async function timeOurs(gpu: Gpu, name: ModelName, input: Shape5, timing: { warmup: number; reps: number }): Promise<SideResult> {
  const cfg = config(name, input[0]);
  const batch = makeBatchOf(input, new Rng(7));
  gpu.pool.trim();
  const live0 = gpu.memory().liveBytes;
  const model = buildModel(cfg).materialize(gpu, new Rng(1));
  const opt = makeOptimizer(gpu, model, cfg);
  try {
    const step = async () => {
      const v = await trainStep({ model, optimizer: opt, batch, loss: cfg.loss, lr: cfg.lr, stage: 'volume' });
      if (!Number.isFinite(v)) throw new Error(`${name}: the bench's training step gave loss ${v}`);
      return v;
    };
    const forward = () =>
      gpu.tidy(() =>
        noGrad(async () => {
          const out = model.forward(leaf(gpu.tensor(batch.data, batch.shape), false));
          return F.sigmoid(out.volumeLogits!).read();
        }),
      );
    // Peaks over the warm-up and timed runs (the warm-up allocates the momentum buffer it keeps).
    model.train();
    gpu.pool.resetPeak();
    const ts = await timeIt(gpu, async () => void (await step()), timing);
    const stepPeak = gpu.memory().peakLiveBytes - live0;
    model.eval();
    gpu.pool.resetPeak();
    const tf = await timeIt(gpu, async () => void (await forward()), timing);
    const fwdPeak = gpu.memory().peakLiveBytes - live0;
    return {
      fwd: { ms: tf.medianMs, spreadMs: [tf.minMs, tf.maxMs], peakBytes: fwdPeak },
      step: { ms: ts.medianMs, spreadMs: [ts.minMs, ts.maxMs], peakBytes: stepPeak },
      params: model.parameterCount(),
    };
  } finally {
    opt.release();
    model.release();
    gpu.pool.trim();
  }
}

async function timeTwin(rt: TfRuntime, name: ModelName, input: Shape5, timing: { warmup: number; reps: number }): Promise<SideResult> {
  const cfg = config(name, input[0]);
  const batch = twinBatch(makeBatchOf(input, new Rng(7)));
  const tf = rt.tf;
  const base = tf.memory().numBytes as number;
  const twin = await buildTfTwin(
    rt,
    { kinds: layerKinds(name) as TwinKind[], width: WIDTH, input },
    { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, gamma: cfg.loss.gamma, margin: cfg.loss.margin, sliceLossWeight: cfg.loss.sliceLossWeight, triplet: cfg.loss.triplet },
  );
  try {
    const step = async () => {
      const v = await twin.trainStep(batch);
      if (!Number.isFinite(v)) throw new Error(`${name}: the tfjs twin's training step gave loss ${v}`);
    };
    // Peaks over the warm-up and timed runs, as for ours.
    let stepPeak = 0;
    const ts = await timeTf(
      rt,
      async () => {
        const r = await tfPeakBytes(tf, step);
        stepPeak = Math.max(stepPeak, r.peakBytes - base);
      },
      timing,
    );
    let fwdPeak = 0;
    const tfw = await timeTf(
      rt,
      async () => {
        const r = await tfPeakBytes(tf, () => twin.forward(batch));
        fwdPeak = Math.max(fwdPeak, r.peakBytes - base);
      },
      timing,
    );
    return {
      fwd: { ms: tfw.medianMs, spreadMs: [tfw.minMs, tfw.maxMs], peakBytes: fwdPeak },
      step: { ms: ts.medianMs, spreadMs: [ts.minMs, ts.maxMs], peakBytes: stepPeak },
      params: twin.parameterCount,
    };
  } finally {
    twin.dispose();
  }
}

const fmtMs = (t: Timed) => `${t.ms.toFixed(0)} (${t.spreadMs[0].toFixed(0)}–${t.spreadMs[1].toFixed(0)})`;
const mib = (b: number) => b / MiB;

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<BenchRecord[]> {
  const ceiling = await gemmCeiling(gpu, opts.quick);
  const rt = await tfjsRuntime();
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const sizes: { label: string; input: Shape5 }[] = [{ label: 'cpu', input: CPU_INPUT }];
  if (!opts.quick) sizes.push({ label: 'paper', input: PAPER_INPUT });

  for (const { label, input } of sizes) {
    const paper = label === 'paper';
    const timing = { warmup: 1, reps: opts.quick || paper ? 2 : 3 };
    for (const name of MODELS) {
      const model = buildModel(config(name, input[0]));
      const macs = networkConvMacs(model, input);
      const fwdFlop = 2 * macs.all;
      const stepFlop = 6 * macs.all - 2 * macs.stem;
      const ours = await timeOurs(gpu, name, input, timing);
      console.log(`  ${name} [${input.join('×')}]: ours fwd ${ours.fwd.ms.toFixed(0)} ms, step ${ours.step.ms.toFixed(0)} ms (${gflops(stepFlop, ours.step.ms).toFixed(2)} GFLOP/s), peak ${mib(ours.step.peakBytes).toFixed(0)} MiB`);

      // The peer: every network at the CPU size in the full bench, otherwise f-rMC5 only.
      let peer: SideResult | null = null;
      let note: string | undefined;
      if (rt && ((!paper && !opts.quick) || SHORT_PEERS.includes(name))) {
        try {
          peer = await timeTwin(rt, name, input, { warmup: 1, reps: 1 });
        } catch (e) {
          note = `tfjs failed on [${input.join(', ')}]: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
          notes.push(`${name} [${input.join('×')}]: ${note}`);
        }
        if (peer && peer.params !== ours.params) notes.push(`${name}: tfjs twin has ${peer.params} parameters, ours ${ours.params}`);
        if (peer) console.log(`  ${name} [${input.join('×')}]: tfjs fwd ${peer.fwd.ms.toFixed(0)} ms, step ${peer.step.ms.toFixed(0)} ms, peak ${mib(peer.step.peakBytes).toFixed(0)} MiB`);
      }

      const shape = [...input];
      for (const kind of ['fwd', 'step'] as const) {
        const o = ours[kind];
        const flop = kind === 'fwd' ? fwdFlop : stepFlop;
        const gf = gflops(flop, o.ms);
        const ratio: Record<string, number> = { gemm: gf / ceiling.gflops };
        const p = peer?.[kind];
        if (p) {
          ratio.tfjs = p.ms / o.ms;
          ratio.memoryVsTfjs = o.peakBytes / p.peakBytes;
        }
        records.push({
          name: `${name}+bilinear ${kind === 'fwd' ? 'forward (eval)' : 'train step'}${paper ? ' paper size' : ''}`,
          shape,
          ms: o.ms,
          spreadMs: o.spreadMs,
          gflops: gf,
          ratio,
          peakMiB: mib(o.peakBytes),
          ...(p ? { peer: { name: 'tfjs-layers', ms: p.ms, spreadMs: p.spreadMs, peakMiB: mib(p.peakBytes) } } : {}),
          ...(note ? { note } : {}),
        });
        rows.push([
          `${name} ${kind}`,
          input.join('×'),
          fmtMs(o),
          gf,
          mib(o.peakBytes),
          p ? (p.spreadMs[0] === p.spreadMs[1] ? p.ms.toFixed(0) : fmtMs(p)) : '-',
          p ? mib(p.peakBytes) : '-',
          p ? `${(p.ms / o.ms).toFixed(1)}×` : '-',
          p ? (o.peakBytes / p.peakBytes).toFixed(2) : '-',
        ]);
      }
      if (peer) rows.push(['', `params ${ours.params.toLocaleString('en')}`, '', '', '', `params ${peer.params.toLocaleString('en')}`, '', '', '']);
    }
  }
  console.log(`whole networks (bilinear head, width ${WIDTH}) on ${gpu.adapter.description}${rt ? ` (tfjs: ${rt.adapter})` : ''}; GEMM ceiling ${ceiling.gflops.toFixed(2)} GFLOP/s; GFLOP/s = convolutions only`);
  console.log(table(['network', 'input', 'ms (min–max)', 'GFLOP/s', 'peak MiB', 'tfjs ms', 'tfjs MiB', 'vs tfjs', 'mem ÷ tfjs'], rows));
  if (!rt) console.log(`tfjs peer unavailable: ${tfjsUnavailable}`);
  for (const n of notes) console.log(`note: ${n}`);
  return records;
}
