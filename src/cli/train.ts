/**
 * `voxelgrad train` (and the shared machinery of `demo`, `eval`, `ablate`): cross-validated training
 * on a manifest, a run folder with checkpoints and results, the results table and the report.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../gpu/gpu.js';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { HEAD_KINDS, type HeadKind, type ModelName, parseModelName } from '../model/resnet.js';
import { type ExperimentConfig, type FoldOutcome, prepareRun, readFoldResults, runFold } from '../train/experiment.js';
import { type ExampleVolume, buildRunReport, renderReportHtml, renderReportMarkdown, type RunReport, serializeRunReport } from '../train/report.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { predictVolume } from '../train/inference.js';
import { Rng } from '../util/rng.js';
import { formatResultsTable } from '../train/table.js';
import { DEFAULT_LOSS, NonFiniteLossError, buildModel } from '../train/trainer.js';
import type { Sample } from '../train/dataset.js';
import type { AugmentFn, BatchAugmentFn } from '../train/augment-hook.js';
import { MAX_MEDIAN_SIZE, augmentBatchGpu } from '../kernels/augment.js';
import { AUGMENT_SET_NAMES, type AugmentSet, applyAugmentCpu, augmentConfigForSize, restrictAugmentConfig, sampleAugmentParams } from '../data/augment-params.js';
import { diagonalAffine } from '../data/volume.js';
import { Progress } from '../util/progress.js';
import { type FlagSpec, type Parsed, UsageError, formatHelp, parseArgs } from './args.js';
import { BadInputError, loadCohort, readManifest } from './cohort.js';
import { DirStore } from './store.node.js';

export const trainFlags: Record<string, FlagSpec> = {
  manifest: { type: 'string', help: 'cohort manifest CSV (subject,path,label,slices[,roi,fold])' },
  out: { type: 'string', help: 'run folder (created; reused by --resume)', default: 'runs/train' },
  model: { type: 'string', help: 'f-R2D | f-R3D | f-R(2+1)D | f-MC2…5 | f-rMC2…5', default: 'f-rMC5' },
  head: { type: 'string', help: 'slice | avg | max | attention | bilinear', default: 'bilinear' },
  width: { type: 'number', help: 'first-layer filters (the paper: 32)', default: 32 },
  size: { type: 'number', help: 'in-plane size S (volumes resized to S×S)', default: 256 },
  depth: { type: 'number', help: 'slices D per volume (crop/pad around the representative slices)', default: 24 },
  epochs: { type: 'number', help: 'epochs per fold', default: 30 },
  'slice-epochs': { type: 'number', help: 'first epochs train the extractor on slices only (Fig. 2), then the aggregation head', default: 10 },
  batch: { type: 'number', help: 'volumes per batch', default: 4 },
  lr: { type: 'number', help: 'SGD learning rate', default: 0.01 },
  momentum: { type: 'number', help: 'SGD momentum', default: 0.9 },
  'weight-decay': { type: 'number', help: 'SGD weight decay', default: 0.01 },
  schedule: { type: 'string', help: 'constant | step | cosine', default: 'cosine' },
  folds: { type: 'number', help: 'cross-validation folds', default: 10 },
  fold: { type: 'number', help: 'run only this fold (0-based); merge later with `voxelgrad eval`' },
  'val-fraction': { type: 'number', help: 'part of each training fold held out for validation curves', default: 0.1 },
  triplet: { type: 'number', help: 'triplet loss weight (0 = off)', default: 1 },
  center: { type: 'number', help: 'center loss weight λ (0 = off; Wen et al. suggest 0.003)', default: 0 },
  gamma: { type: 'number', help: 'focal loss γ', default: 2 },
  alpha: { type: 'number', help: 'focal loss α (negative = off, as the paper’s eq. 1)', default: -1 },
  margin: { type: 'number', help: 'triplet margin (on L2-normalised embeddings)', default: 0.2 },
  tta: { type: 'number', help: 'test-time augmentation passes (1 = off)', default: 4 },
  'head-lr-scale': { type: 'number', help: 'lr multiplier of the volume classifier head_fc (Lin et al. train it faster)', default: 10 },
  augment: { type: 'boolean', help: 'training-time augmentation (--augment=false to disable)', default: true },
  'augment-set': { type: 'string', help: 'paper (all 14 augmentations) | light (the rigid ones: shift, scale, rotate, flip)', default: 'paper' },
  oversample: { type: 'boolean', help: 'oversample the minority class in training folds', default: true },
  'bias-field': { type: 'boolean', help: 'bias-field correction while loading', default: true },
  seed: { type: 'number', help: 'run seed (folds, init, batches, augmentation)', default: 0 },
  resume: { type: 'boolean', help: 'continue an interrupted run in --out' },
  adapter: { type: 'string', help: 'auto | swiftshader | lavapipe' },
  json: { type: 'boolean', help: 'print the summary as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export function experimentConfig(f: Parsed['flags']): ExperimentConfig {
  const head = String(f.head) as HeadKind;
  if (!HEAD_KINDS.includes(head)) throw new UsageError(`--head must be one of ${HEAD_KINDS.join(', ')}, got '${head}'`);
  let model: ModelName;
  try {
    model = parseModelName(String(f.model));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const augmentSet = String(f['augment-set'] ?? 'paper') as AugmentSet;
  if (!AUGMENT_SET_NAMES.includes(augmentSet)) throw new UsageError(`--augment-set must be one of ${AUGMENT_SET_NAMES.join(', ')}, got '${augmentSet}'`);
  const schedule = String(f.schedule);
  if (!['constant', 'step', 'cosine'].includes(schedule)) throw new UsageError(`--schedule must be constant, step or cosine, got '${schedule}'`);
  const int = (k: string, min: number) => {
    const v = Number(f[k]);
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${k} must be an integer >= ${min}, got ${f[k]}`);
    return v;
  };
  const pos = (k: string) => {
    const v = Number(f[k]);
    if (!(v >= 0) || !Number.isFinite(v)) throw new UsageError(`--${k} must be a finite number >= 0, got ${f[k]}`);
    return v;
  };
  const cfg: ExperimentConfig = {
    model,
    head,
    width: int('width', 1),
    inputSize: int('size', 8),
    depth: int('depth', 1),
    epochs: int('epochs', 1),
    sliceEpochs: int('slice-epochs', 0),
    batchSize: int('batch', 2),
    lr: pos('lr'),
    momentum: pos('momentum'),
    weightDecay: pos('weight-decay'),
    schedule: schedule as ExperimentConfig['schedule'],
    loss: { ...DEFAULT_LOSS, gamma: pos('gamma'), alpha: Number(f.alpha), triplet: pos('triplet'), center: pos('center'), margin: pos('margin') },
    oversample: Boolean(f.oversample),
    augment: Boolean(f.augment),
    augmentSet,
    tta: int('tta', 1),
    headLrScale: pos('head-lr-scale'),
    seed: int('seed', 0),
    folds: int('folds', 2),
    valFraction: pos('val-fraction'),
    biasField: Boolean(f['bias-field']),
  };
  if (cfg.valFraction >= 0.5) throw new UsageError('--val-fraction must be below 0.5');
  if (cfg.head !== 'slice' && cfg.sliceEpochs >= cfg.epochs) {
    throw new UsageError(`--slice-epochs (${cfg.sliceEpochs}) must be below --epochs (${cfg.epochs}), or the ${cfg.head} head is never trained`);
  }
  return cfg;
}

export interface RunContext {
  gpu: Gpu;
  store: DirStore;
  cfg: ExperimentConfig;
  samples: Sample[];
  log: (s: string) => void;
  stderr: { write(s: string): void; isTTY?: boolean; columns?: number };
}

/**
 * The paper's 14 training augmentations with one random parameter set per volume (src/data/augment-params.ts),
 * blur kernels scaled to the input size: the CPU path (the GPU path, gpuAugment, is used when it can run).
 */
export function cpuAugment(size: number, set: AugmentSet = 'paper'): AugmentFn {
  const config = restrictAugmentConfig(augmentConfigForSize(size), set);
  return (volume, dims, rng) =>
    applyAugmentCpu({ data: volume, dims, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), warnings: [] }, sampleAugmentParams(rng, config)).data;
}

/**
 * The same 14 augmentations on the GPU (src/kernels/augment.ts), drawing exactly cpuAugment's
 * parameters; null when a median window above the kernel's 11 px would be needed (inputs above ~430 px).
 */
export function gpuAugment(size: number, set: AugmentSet = 'paper'): BatchAugmentFn | null {
  const config = restrictAugmentConfig(augmentConfigForSize(size), set);
  if (config.medianBlur.p > 0 && config.medianBlur.sizes[1] > MAX_MEDIAN_SIZE) return null;
  return (gpu, batch, rng) => augmentBatchGpu(gpu, batch, Array.from({ length: batch.shape[0]! }, () => sampleAugmentParams(rng, config)));
}

/** Loads a manifest into samples with a progress bar. */
export function loadSamples(manifest: string, cfg: ExperimentConfig, stderr: RunContext['stderr']): Sample[] {
  const rows = readManifest(manifest);
  const bar = new Progress(stderr, { label: 'loading volumes', total: rows.length, unit: 'vol' });
  const samples = loadCohort(rows, { size: cfg.inputSize, depth: cfg.depth, biasField: cfg.biasField, progress: bar });
  bar.finish();
  const n3 = samples.filter((s) => s.label === 1).length;
  if (n3 === 0 || n3 === samples.length) throw new BadInputError(`${manifest}: all ${samples.length} subjects are ${n3 ? 'T3' : 'T2'}; training needs both classes`);
  if (samples.length < cfg.folds * 2) throw new BadInputError(`${manifest}: ${samples.length} subjects are too few for ${cfg.folds}-fold cross-validation; lower --folds`);
  return samples;
}

/** Runs the requested folds (all, or one), with progress bars; returns the outcomes of those folds. */
export async function runFolds(ctx: RunContext, folds: number[]): Promise<FoldOutcome[]> {
  const { gpu, store, cfg, samples, stderr } = ctx;
  const plan = await prepareRun(store, cfg, samples);
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130);
    stop = true;
    stderr.write('\ninterrupt: finishing the current epoch and saving a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSignal);
  const outcomes: FoldOutcome[] = [];
  const augmentBatch = cfg.augment ? gpuAugment(cfg.inputSize, cfg.augmentSet) : null;
  try {
    for (const fold of folds) {
      let bar: Progress | null = null;
      const r = await runFold({
        gpu,
        store,
        config: cfg,
        samples,
        plan,
        fold,
        ...(cfg.augment ? { augment: cpuAugment(cfg.inputSize, cfg.augmentSet) } : {}),
        ...(augmentBatch ? { augmentBatch } : {}),
        shouldStop: () => stop,
        events: {
          onFoldStart: (f, done) => {
            bar = new Progress(stderr, { label: `fold ${f + 1}/${cfg.folds} epochs`, total: cfg.epochs, unit: 'ep' });
            if (done) bar.update(done, `resumed after epoch ${done}`);
          },
          onEpoch: (_f, s) => bar?.tick(1, `loss ${s.trainLoss.toFixed(4)}${s.valAuc !== undefined && Number.isFinite(s.valAuc) ? ` val AUC ${s.valAuc.toFixed(3)}` : ''}`),
          onPredict: (_f, d, t) => {
            if (d === 1) bar?.finish();
            if (d === 1) bar = new Progress(stderr, { label: `fold ${fold + 1}/${cfg.folds} test (TTA ×${cfg.tta})`, total: t, unit: 'batch' });
            bar?.update(d);
          },
          onFoldEnd: (o) => {
            bar?.finish(`AUC ${Number.isFinite(o.metrics.auc) ? o.metrics.auc.toFixed(3) : 'n/a'} acc ${(100 * o.metrics.accuracy).toFixed(1)}%`);
            ctx.log(`fold ${o.fold}: AUC ${o.metrics.auc.toFixed(4)} accuracy ${o.metrics.accuracy.toFixed(4)} recall(T2) ${o.metrics.recallT2.toFixed(4)} recall(T3) ${o.metrics.recallT3.toFixed(4)} (${o.seconds.toFixed(0)} s)`);
          },
        },
      });
      if (!r) {
        stderr.write(`stopped: fold ${fold} has a checkpoint in ${store.root}; continue with --resume\n`);
        process.exitCode = 130;
        break;
      }
      outcomes.push(r);
    }
  } catch (e) {
    if (e instanceof NonFiniteLossError) {
      throw Object.assign(new Error(`${e.message} (checkpoint: ${store.root})`), { exitCode: 1 });
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
  }
  return outcomes;
}

/** Builds the report from all fold outcomes and writes report.html, report.md and metrics.json. */
export async function writeReport(
  store: DirStore,
  cfg: ExperimentConfig,
  outcomes: FoldOutcome[],
  extra: { notes?: string[]; totalSeconds?: number; cohortName?: string; gpu?: Gpu; samples?: readonly Sample[] } = {},
): Promise<RunReport> {
  const params = buildModel(cfg).parameterCount();
  const examples = pickExamples(outcomes);
  if (extra.gpu && extra.samples) await addSaliency(extra.gpu, store, cfg, examples, extra.samples);
  const report = buildRunReport({
    title: `voxelgrad — ${cfg.model} + ${cfg.head}`,
    config: cfg as unknown as Record<string, unknown>,
    model: { name: `${cfg.model}${cfg.head === 'slice' ? '' : ` + ${cfg.head}`}`, params },
    cohort: { name: extra.cohortName ?? 'cohort', nSubjects: outcomes.reduce((a, o) => a + o.predictions.length, 0), nT2: count(outcomes, 0), nT3: count(outcomes, 1) },
    folds: outcomes.map((o) => ({
      fold: o.fold,
      subjectIds: o.testIds,
      labels: o.predictions.map((p) => p.label),
      scores: o.predictions.map((p) => p.prob),
      history: o.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, lr: h.lr, seconds: h.seconds, ...(h.valLoss !== undefined ? { valLoss: h.valLoss } : {}), ...(h.valAuc !== undefined ? { valAuc: h.valAuc } : {}) })),
      nTrain: o.nTrain,
      nVal: o.nVal,
      seconds: o.seconds,
    })),
    examples,
    tableKind: cfg.head === 'slice' ? 2 : 4,
    rowName: cfg.head === 'slice' ? cfg.model : `${cfg.model}+${cfg.head}`,
    notes: extra.notes ?? [],
    ...(extra.totalSeconds !== undefined ? { totalSeconds: extra.totalSeconds } : {}),
  });
  const enc = new TextEncoder();
  await store.write('report.html', enc.encode(renderReportHtml(report)));
  await store.write('report.md', enc.encode(renderReportMarkdown(report)));
  await store.write('metrics.json', enc.encode(serializeRunReport(report)));
  return report;
}

/**
 * Saliency overlays for the report's example volumes: each is run through the model of the fold that
 * held it out (`fold-k/model.safetensors`), on its representative slices (at most 3) and the slice the
 * model scores highest.
 */
async function addSaliency(gpu: Gpu, store: DirStore, cfg: ExperimentConfig, examples: ExampleVolume[], samples: readonly Sample[]): Promise<void> {
  for (const ex of examples) {
    const sample = samples.find((s) => s.id === ex.id);
    const bytes = ex.fold !== undefined ? await store.read(`fold-${ex.fold}/model.safetensors`) : null;
    if (!sample || !bytes) continue;
    const model = buildModel(cfg).materialize(gpu, new Rng(0));
    try {
      loadCheckpoint(gpu, model, bytes, `fold-${ex.fold}/model.safetensors`);
      const p = await predictVolume(gpu, model, sample.volume, sample.dims, sample.repSlices);
      const [, H, W] = sample.dims;
      const top = p.sliceProbs.indexOf(Math.max(...p.sliceProbs));
      const idx = [...new Set([...sample.repSlices.slice(0, 3), top])].sort((a, b) => a - b);
      ex.representativeSlices = sample.repSlices;
      ex.slices = idx.map((d) => ({
        index: d,
        image: { kind: 'gray' as const, width: W, height: H, data: sample.volume.subarray(d * H * W, (d + 1) * H * W) },
        saliency: { kind: 'gray' as const, width: W, height: H, data: p.saliency.subarray(d * H * W, (d + 1) * H * W) },
      }));
    } finally {
      model.release();
    }
  }
}

function count(outcomes: FoldOutcome[], label: 0 | 1): number {
  return outcomes.reduce((a, o) => a + o.predictions.filter((p) => p.label === label).length, 0);
}

/** A few hold-out volumes for the report: the most confident T3, the most confident T2, the worst error. */
function pickExamples(outcomes: FoldOutcome[]): ExampleVolume[] {
  const all = outcomes.flatMap((o) => o.predictions.map((p) => ({ ...p, fold: o.fold })));
  if (!all.length) return [];
  const byProb = [...all].sort((a, b) => b.prob - a.prob);
  const worst = [...all].sort((a, b) => Math.abs(b.prob - b.label) - Math.abs(a.prob - a.label))[0]!;
  const picks = [byProb[0]!, byProb[byProb.length - 1]!, worst].filter((p, i, arr) => arr.findIndex((q) => q.id === p.id) === i);
  return picks.map((p) => ({ id: p.id, label: p.label, probability: p.prob, fold: p.fold, sliceProbabilities: p.sliceProbs }));
}

export function summaryTable(report: RunReport, cfg: ExperimentConfig, format: 'text' | 'markdown' = 'text'): string {
  const params = buildModel(cfg).parameterCount();
  return formatResultsTable([{ name: report.rowName, summary: report.summary, params }], { kind: report.tableKind, format, title: false });
}

export async function trainCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseArgs(argv, trainFlags, 'train');
  if (parsed.flags.help) {
    out(formatHelp('train', 'Cross-validated training on a manifest of NIfTI volumes (the paper’s protocol).', trainFlags, '--manifest cohort/manifest.csv [options]'));
    return 0;
  }
  if (!parsed.flags.manifest) throw new UsageError('train: --manifest is required (see `voxelgrad synth` for a built-in cohort)');
  const cfg = experimentConfig(parsed.flags);
  const outDir = String(parsed.flags.out);
  if (!parsed.flags.resume && existsSync(join(outDir, 'config.json'))) {
    throw new UsageError(`train: ${outDir} already holds a run; pass --resume to continue it or choose another --out`);
  }
  const t0 = performance.now();
  const samples = loadSamples(String(parsed.flags.manifest), cfg, process.stderr);
  const gpu = await acquireNodeGpu(parsed.flags.adapter ? { adapter: String(parsed.flags.adapter) } : {});
  try {
    const store = new DirStore(outDir);
    const folds = parsed.flags.fold !== undefined ? [Number(parsed.flags.fold)] : [...Array(cfg.folds).keys()];
    const log = (s: string) => process.stderr.write(`${s}\n`);
    await runFolds({ gpu, store, cfg, samples, log, stderr: process.stderr }, folds);
    if (process.exitCode === 130) return 130;
    const { results, missing } = await readFoldResults(store, cfg.folds);
    if (missing.length) {
      out(`folds done: ${results.map((r) => r.fold).join(', ') || 'none'}; still to run: ${missing.join(', ')}. When all are done: voxelgrad eval --run ${outDir}`);
      return 0;
    }
    const report = await writeReport(store, cfg, results, { totalSeconds: (performance.now() - t0) / 1000, cohortName: String(parsed.flags.manifest), gpu, samples });
    if (parsed.flags.json) out(serializeRunReport(report));
    else out(`${summaryTable(report, cfg)}\n\nreport: ${store.path('report.html')}`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
