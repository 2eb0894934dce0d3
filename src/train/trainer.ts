/**
 * One fold's training and inference (Sections 2.2–2.5 of the paper), browser-safe.
 *
 * Loss per batch (`batchLoss`; defaults in `DEFAULT_LOSS`, see README "Training protocol"):
 *  - slice head (the f- models): focal loss on the representative slices' logits (Fig. 2), plus
 *    λ_t·triplet and, when λ_c > 0, λ_c·center loss on those slices' embeddings;
 *  - volume heads (aggregation) train in two stages (Fig. 2). For the first `sliceEpochs` epochs only
 *    the slice-level focal loss on the representative slices trains the extractor (the paper's Table 2
 *    setting: no triplet or center term; `sliceEpochs` 0 = one joint stage). After that: focal loss on the volume logit plus
 *    `sliceLossWeight` × the slice-level focal loss (which keeps the shared slice FC meaningful for
 *    per-slice scores), plus λ_t·triplet and λ_c·center on the aggregated embedding.
 * Focal: γ = 2, α off (the paper's eq. 1). Triplet: λ_t = 1, batch-hard mining, margin 0.2 on
 * L2-normalised embeddings (FaceNet's setting). Center loss is off by default (λ_c = 0; Wen et al. suggest
 * 0.003); with `--center λ` the centres follow their update with α = 0.5 after each step.
 */
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { backward, leaf, noGrad } from '../graph/autograd.js';
import * as F from '../graph/functional.js';
import type { F32, Tensor } from '../graph/tensor.js';
import { centerUpdate } from '../kernels/center.js';
import type { LrSchedule } from '../kernels/sgd.js';
import { Adam, type Optimizer, type OptimizerName, SGD, lrAt } from '../model/optimizer.js';
import { type HeadKind, type ModelName, StagingNet } from '../model/resnet.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { AugmentSet } from '../data/augment-params.js';
import type { AugmentFn, BatchAugmentFn } from './augment.js';
import { type Batch, type Sample, epochBatches, makeBatch } from './dataset.js';
import { mixSeed, oversampleMinority } from './folds.js';
import { requireFinite } from './inference.js';

export interface LossConfig {
  gamma: number;
  /** Focal α (negative = off, the paper's eq. 1). */
  alpha: number;
  triplet: number;
  margin: number;
  tripletNormalize: boolean;
  center: number;
  centerAlpha: number;
  /** Weight of the slice-level focal loss for volume heads. */
  sliceLossWeight: number;
}

export interface TrainConfig {
  model: ModelName;
  head: HeadKind;
  width: number;
  epochs: number;
  batchSize: number;
  /**
   * `sgd` (the paper's, the default) or `adam`: AdamW — Adam with decoupled weight decay
   * (β 0.9 / 0.999, ε 1e-8, PyTorch's defaults); `momentum` is then unused.
   */
  optimizer?: OptimizerName;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: LrSchedule['kind'];
  loss: LossConfig;
  /** Oversample the minority class inside the training fold. */
  oversample: boolean;
  augment: boolean;
  /** Which training augmentations (`paper`: all 14, the default; `light`: rigid + intensity only). */
  augmentSet?: AugmentSet;
  /** Test-time augmentation passes (1 = none). */
  tta: number;
  /**
   * Learning-rate multiplier of the volume-level classifier (`head_fc`). Its input, the L2-normalised
   * bilinear feature, has unit norm spread over C² dimensions, so at the network's lr its logit moves
   * by ~lr per step; Lin et al. train this layer at a much higher rate than the fine-tuned features.
   */
  headLrScale: number;
  /**
   * Slice-level epochs before volume-level training (the paper's Fig. 2: the extractor is trained on the
   * representative slices' logits first, then the depth aggregation on top). 0 = one joint stage.
   * Ignored for the slice head.
   */
  sliceEpochs: number;
  seed: number;
}

export const DEFAULT_LOSS: LossConfig = {
  gamma: 2,
  alpha: -1,
  triplet: 1,
  margin: 0.2,
  tripletNormalize: true,
  center: 0,
  centerAlpha: 0.5,
  sliceLossWeight: 1,
};

export interface EpochStats {
  epoch: number;
  trainLoss: number;
  lr: number;
  seconds: number;
}

export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    value: number,
  ) {
    super(
      `training diverged: the loss became ${value} at epoch ${epoch}, step ${step}; the last good checkpoint is kept. Lower the learning rate (--lr) or check the input volumes`,
    );
    this.name = 'NonFiniteLossError';
  }
}

export function buildModel(cfg: Pick<TrainConfig, 'model' | 'head' | 'width'>): StagingNet {
  return new StagingNet({ name: cfg.model, head: cfg.head, width: cfg.width });
}

export function makeOptimizer(gpu: Gpu, model: StagingNet, cfg: TrainConfig): Optimizer {
  const scale = cfg.headLrScale ?? 1;
  const lrScale = scale !== 1 ? { lrScale: (n: string) => (n.startsWith('head_fc.') ? scale : 1) } : {};
  const kind = cfg.optimizer ?? 'sgd';
  if (kind === 'adam') return new Adam(gpu, [...model.namedParameters()], { lr: cfg.lr, weightDecay: cfg.weightDecay, decoupled: true, ...lrScale });
  if (kind !== 'sgd') throw new Error(`unknown optimizer '${String(kind)}'; use sgd or adam`);
  return new SGD(gpu, [...model.namedParameters()], { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, ...lrScale });
}

export function scheduleOf(cfg: TrainConfig): LrSchedule {
  if (cfg.schedule === 'cosine') return { kind: 'cosine', lr: cfg.lr, T: cfg.epochs, minLr: cfg.lr * 0.01 };
  if (cfg.schedule === 'step') return { kind: 'step', lr: cfg.lr, stepSize: Math.max(1, Math.round(cfg.epochs / 3)), gamma: 0.1 };
  return { kind: 'constant', lr: cfg.lr };
}

/** Flat row indices (n·D + d) of the batch's representative slices, and their labels. */
export function repRows(batch: Batch): { rows: number[]; labels: number[] } {
  const D = batch.shape[2];
  const rows: number[] = [];
  const labels: number[] = [];
  batch.repSlices.forEach((reps, b) => {
    for (const r of reps) {
      rows.push(b * D + r);
      labels.push(batch.labels[b]!);
    }
  });
  return { rows, labels };
}

/** The training loss of one batch (a [1] tensor); see the module comment. */
export function batchLoss(
  model: StagingNet,
  x: Tensor,
  batch: Batch,
  loss: LossConfig,
  centers: Tensor | null,
  stage: 'slice' | 'volume' = 'volume',
): { total: Tensor; embedding: Tensor | null; embLabels: number[] } {
  const out = model.forward(x);
  const { rows, labels } = repRows(batch);
  const repLogits = F.indexSelect(F.reshape(out.sliceLogits, [out.sliceLogits.size]), rows);
  let total = F.sigmoidFocalLoss(repLogits, labels, { gamma: loss.gamma, alpha: loss.alpha });
  let embedding: Tensor;
  let embLabels: number[];
  if (out.volumeLogits && out.volumeEmbedding && stage === 'volume') {
    total = F.scale(total, loss.sliceLossWeight);
    total = F.add(total, F.sigmoidFocalLoss(out.volumeLogits, batch.labels, { gamma: loss.gamma, alpha: loss.alpha }));
    embedding = out.volumeEmbedding;
    embLabels = batch.labels;
  } else {
    embedding = F.indexSelect(out.sliceEmbedding, rows);
    embLabels = labels;
  }
  // Slice-level pre-training of an aggregation model is the paper's Table 2 setting: focal loss only.
  const supplementary = stage === 'volume' || !out.volumeLogits;
  if (loss.triplet > 0 && supplementary) {
    total = F.add(total, F.batchHardTripletLoss(embedding, embLabels, { margin: loss.margin, normalize: loss.tripletNormalize }), loss.triplet);
  }
  if (loss.center > 0 && centers && supplementary) {
    total = F.add(total, F.centerLoss(embedding, embLabels, centers.data, { lambda: loss.center }));
  }
  return { total, embedding: loss.center > 0 && supplementary ? embedding.retain() : null, embLabels };
}

/**
 * One optimizer step on a host batch, as `trainFold` takes it: upload (then `augment` on the device, when
 * given), forward, loss, backward, update, center update, zero grads; returns the loss value (one
 * readback per step: the NaN guard and the progress line need it). Every intermediate is freed.
 */
export async function trainStep(s: {
  model: StagingNet;
  optimizer: Optimizer;
  batch: Batch;
  loss: LossConfig;
  lr: number;
  stage: 'slice' | 'volume';
  centers?: Tensor | null;
  augment?: ((raw: GpuTensor<'f32'>) => GpuTensor<'f32'>) | undefined;
}): Promise<number> {
  const gpu = s.optimizer.gpu;
  return gpu.tidy(async () => {
    const raw = gpu.tensor(s.batch.data, s.batch.shape);
    const x = leaf(s.augment ? s.augment(raw) : raw, false);
    const centers = s.centers ?? null;
    const { total, embedding, embLabels } = batchLoss(s.model, x, s.batch, s.loss, centers, s.stage);
    const value = total.retain();
    backward(total);
    s.optimizer.step(s.lr);
    if (embedding && centers) centerUpdate(embedding.data, embLabels, centers.data, s.loss.centerAlpha, { inPlace: true });
    s.model.zeroGrad();
    return (await value.read())[0]!;
  });
}

export interface TrainFoldOptions {
  gpu: Gpu;
  config: TrainConfig;
  samples: readonly Sample[];
  trainIdx: readonly number[];
  /** Fold number (for seeding). */
  fold: number;
  augment?: AugmentFn;
  /** GPU augmentation of the whole batch; preferred over `augment` when given. */
  augmentBatch?: BatchAugmentFn;
  /**
   * Resume: a model/optimizer already restored, the first epoch still to run (1-based), and the center
   * loss's class centres [2, C] as checkpointed (required when the center loss is on).
   */
  resume?: { model: StagingNet; optimizer: Optimizer; startEpoch: number; history: EpochStats[]; centers?: Float32Array };
  onStep?: (epoch: number, step: number, steps: number, loss: number) => void;
  /** Called after each epoch (checkpointing; `centers` is the center loss's [2, C] state or null); awaited before the next epoch starts. */
  onEpoch?: (stats: EpochStats, model: StagingNet, optimizer: Optimizer, centers: F32 | null) => Promise<void> | void;
  shouldStop?: () => boolean;
}

export interface TrainedFold {
  model: StagingNet;
  optimizer: Optimizer;
  history: EpochStats[];
}

/**
 * Trains one fold. Each epoch's batch order and augmentation come from a seed derived from
 * (run seed, fold, epoch), so a resumed run repeats exactly what an uninterrupted one would do.
 */
export async function trainFold(o: TrainFoldOptions): Promise<TrainedFold> {
  const { gpu, config: cfg, samples } = o;
  const model = o.resume?.model ?? buildModel(cfg).materialize(gpu, new Rng(mixSeed(cfg.seed, 'init', o.fold)));
  model.train();
  const optimizer = o.resume?.optimizer ?? makeOptimizer(gpu, model, cfg);
  const history = [...(o.resume?.history ?? [])];
  const labels = samples.map((s) => s.label);
  const embDim = cfg.head === 'slice' ? model.featureDim : model.embeddingDim;
  if (cfg.loss.center > 0 && o.resume && o.resume.centers?.length !== 2 * embDim) {
    throw new InputError(
      'unsuitable',
      `the checkpoint has ${o.resume.centers ? `${o.resume.centers.length} center-loss values` : 'no center-loss centres'}, this run needs [2, ${embDim}]; delete fold-${o.fold}/checkpoint.safetensors to restart the fold`,
    );
  }
  // Class centres start at zero (Wen et al.) and, resumed, where the checkpoint left them.
  const centers = cfg.loss.center > 0 ? leaf(gpu.tensor(o.resume?.centers ?? new Float32Array(2 * embDim), [2, embDim]), false, 'centers') : null;
  const schedule = scheduleOf(cfg);
  try {
    for (let epoch = o.resume?.startEpoch ?? 1; epoch <= cfg.epochs; epoch++) {
      if (o.shouldStop?.()) break;
      const t0 = performance.now();
      const rng = new Rng(mixSeed(cfg.seed, 'epoch', o.fold, epoch));
      const idx = cfg.oversample ? oversampleMinority([...o.trainIdx], labels, rng.fork()) : [...o.trainIdx];
      const batches = epochBatches(idx, cfg.batchSize, rng);
      const lr = lrAt(schedule, epoch - 1);
      let sum = 0;
      for (let step = 0; step < batches.length; step++) {
        const onGpu = cfg.augment && o.augmentBatch ? o.augmentBatch : null;
        const batch = makeBatch(
          batches[step]!.map((i) => samples[i]!),
          cfg.augment && !onGpu ? o.augment : undefined,
          rng,
        );
        const stage = epoch <= (cfg.sliceEpochs ?? 0) ? 'slice' : 'volume';
        const lossValue = await trainStep({
          model,
          optimizer,
          batch,
          loss: cfg.loss,
          lr,
          stage,
          centers,
          augment: onGpu ? (raw) => onGpu(gpu, raw, rng) : undefined,
        });
        if (!Number.isFinite(lossValue)) throw new NonFiniteLossError(epoch, step + 1, lossValue);
        sum += lossValue;
        o.onStep?.(epoch, step + 1, batches.length, lossValue);
      }
      const stats: EpochStats = { epoch, trainLoss: sum / Math.max(1, batches.length), lr, seconds: (performance.now() - t0) / 1000 };
      history.push(stats);
      await o.onEpoch?.(stats, model, optimizer, centers?.data ?? null);
    }
  } finally {
    centers?.release();
  }
  return { model, optimizer, history };
}

export interface Prediction {
  id: string;
  label: 0 | 1;
  /** P(T3) of the volume (volume head) or the mean over its representative slices (slice head). */
  prob: number;
  /** P(T3) per slice from the shared slice FC. */
  sliceProbs: number[];
  /** The representative slices (indices into sliceProbs): the samples of the paper's slice-level metrics. */
  repSlices: number[];
}

/** Deterministic TTA transform for pass p of a sample: pass 0 is the identity. */
export function ttaTransform(volume: Float32Array, dims: [number, number, number], rng: Rng): Float32Array {
  // Wu et al.-style test-time augmentation: horizontal flip (p = 0.5) and an in-plane shift of up to
  // ±6 % of the size with edge replication (the "random crop/shift noise").
  const [D, H, W] = dims;
  const flip = rng.next() < 0.5;
  const maxShift = Math.max(1, Math.round(0.06 * Math.min(H, W)));
  const dy = rng.int(-maxShift, maxShift + 1);
  const dx = rng.int(-maxShift, maxShift + 1);
  const out = new Float32Array(volume.length);
  for (let d = 0; d < D; d++) {
    for (let y = 0; y < H; y++) {
      const sy = Math.min(H - 1, Math.max(0, y - dy));
      for (let x = 0; x < W; x++) {
        let sx = Math.min(W - 1, Math.max(0, x - dx));
        if (flip) sx = W - 1 - sx;
        out[(d * H + y) * W + x] = volume[(d * H + sy) * W + sx]!;
      }
    }
  }
  return out;
}

/** Probabilities for `samples` in eval mode, averaged over `tta` passes (pass 0 un-augmented). */
export async function predict(
  gpu: Gpu,
  model: StagingNet,
  samples: readonly Sample[],
  opts: { tta: number; batchSize: number; seed: number; onProgress?: (done: number, total: number) => void },
): Promise<Prediction[]> {
  model.eval();
  const passes = Math.max(1, opts.tta);
  const sums = samples.map((s) => ({ prob: 0, slices: new Float64Array(s.dims[0]) }));
  const total = passes * Math.ceil(samples.length / opts.batchSize);
  let done = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < samples.length; i += opts.batchSize) {
      const chunk = samples.slice(i, i + opts.batchSize);
      const aug = p === 0 ? undefined : (v: Float32Array, d: [number, number, number], r: Rng) => ttaTransform(v, d, r);
      const batch = makeBatch(chunk, aug, new Rng(mixSeed(opts.seed, 'tta', p, i)));
      const { slice, volume } = await gpu.tidy(() =>
        noGrad(async () => {
          const out = model.forward(leaf(gpu.tensor(batch.data, batch.shape), false));
          const sl = await F.sigmoid(out.sliceLogits).read();
          const vol = out.volumeLogits ? await F.sigmoid(out.volumeLogits).read() : null;
          return { slice: sl, volume: vol };
        }),
      );
      requireFinite(`per-slice probability (TTA pass ${p}, volumes ${chunk.map((c) => c.id).join(', ')})`, slice);
      if (volume) requireFinite(`volume probability (TTA pass ${p}, volumes ${chunk.map((c) => c.id).join(', ')})`, volume);
      const D = batch.shape[2];
      chunk.forEach((s, b) => {
        const acc = sums[i + b]!;
        for (let d = 0; d < D; d++) acc.slices[d]! += slice[b * D + d];
        if (volume) acc.prob += volume[b]!;
        else acc.prob += s.repSlices.reduce((a, r) => a + slice[b * D + r]!, 0) / s.repSlices.length;
      });
      opts.onProgress?.(++done, total);
    }
  }
  model.train();
  return samples.map((s, i) => ({
    id: s.id,
    label: s.label,
    prob: sums[i]!.prob / passes,
    sliceProbs: Array.from(sums[i]!.slices, (v) => v / passes),
    repSlices: [...s.repSlices],
  }));
}
