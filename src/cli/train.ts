/**
 * `voxelgrad train`: cross-validated training on a manifest into a run folder (checkpoints, fold
 * results, report). The pipeline itself is src/train/run.ts, shared with `demo`, `ablate` and the page;
 * this file parses the flags and draws progress.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AUGMENT_SET_NAMES, type AugmentSet } from '../data/augment-params.js';
import { type DataWarning, formatWarning } from '../data/volume.js';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { HEAD_KINDS, type HeadKind, type ModelName, parseModelName } from '../model/resnet.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../model/optimizer.js';
import { rangeOf } from '../train/config.js';
import { PRESET_NAMES, type PresetName, presetConfig } from '../train/presets.js';
import { checkCohort } from '../train/cohort.js';
import { loadCohortFiles, readManifest, syntheticTruthBeside } from '../train/cohort.node.js';
import type { TruthSource } from '../train/saliency-truth.js';
import { type Sample, TEST_INPUTS, type TestInput } from '../train/dataset.js';
import { DirStore } from '../train/dir-store.node.js';
import type { ExperimentConfig } from '../train/experiment.js';
import { serializeRunReport } from '../train/report.js';
import { type ExperimentRun, type RunContext, runExperiment } from '../train/run.js';
import { summaryTable } from '../train/run-report.js';
import type { RunStore } from '../train/run-store.js';
import { DEFAULT_LOSS } from '../train/trainer.js';
import { Progress, type ProgressStream } from '../util/progress.js';
import { ADAPTER_FLAG, type FlagSpec, type Parsed, UsageError, formatHelp, parseArgs } from './args.js';
import { checkOutputDir } from './outputs.js';
import { progressEvents, withInterrupt } from './run-progress.js';

export const trainFlags: Record<string, FlagSpec> = {
  manifest: { type: 'string', help: 'cohort manifest CSV (subject,path,label,slices[,roi,fold])' },
  preset: {
    type: 'string',
    help: "start from a demo preset's training recipe (size, depth, width, epochs, lr, augmentation, TTA, folds); flags given explicitly override it",
    choices: PRESET_NAMES,
  },
  out: { type: 'string', help: 'run folder (created; reused by --resume)', default: 'runs/train' },
  model: { type: 'string', help: 'f-R2D | f-R3D | f-R(2+1)D | f-MC2…5 | f-rMC2…5', default: 'f-rMC5' },
  head: { type: 'string', help: 'the volume head', choices: HEAD_KINDS, default: 'bilinear' },
  width: { type: 'number', help: 'first-layer filters (the paper: 32)', default: 32, ...rangeOf('width') },
  size: { type: 'number', help: 'in-plane size S (volumes resized to S×S)', default: 256, ...rangeOf('inputSize') },
  depth: { type: 'number', help: 'slices D per volume (crop/pad around the representative slices)', default: 24, ...rangeOf('depth') },
  epochs: { type: 'number', help: 'epochs per fold', default: 30, ...rangeOf('epochs') },
  'slice-epochs': {
    type: 'number',
    help: 'first epochs train the extractor on slices only (Fig. 2), then the aggregation head',
    default: 10,
    ...rangeOf('sliceEpochs'),
  },
  batch: { type: 'number', help: 'volumes per batch', default: 4, ...rangeOf('batchSize') },
  optimizer: { type: 'string', help: 'sgd (momentum SGD, the paper) or adam (AdamW: decoupled weight decay)', choices: OPTIMIZER_NAMES, default: 'sgd' },
  lr: { type: 'number', help: 'learning rate', default: 0.01, ...rangeOf('lr') },
  momentum: { type: 'number', help: 'SGD momentum (unused by adam)', default: 0.9, ...rangeOf('momentum') },
  'weight-decay': { type: 'number', help: 'weight decay (SGD: L2 in the gradient; adam: decoupled)', default: 0.01, ...rangeOf('weightDecay') },
  schedule: { type: 'string', help: 'learning-rate schedule', choices: ['constant', 'step', 'cosine'], default: 'cosine' },
  folds: { type: 'number', help: 'cross-validation folds', default: 10, ...rangeOf('folds') },
  fold: { type: 'number', help: 'run only this fold (0-based); merge later with `voxelgrad eval`', integer: true, min: 0, max: 999 },
  'val-fraction': { type: 'number', help: 'part of each training fold held out for validation curves', default: 0.1, ...rangeOf('valFraction') },
  triplet: { type: 'number', help: 'triplet loss weight (0 = off)', default: 1, ...rangeOf('loss.triplet') },
  center: { type: 'number', help: 'center loss weight λ (0 = off; Wen et al. suggest 0.003)', default: 0, ...rangeOf('loss.center') },
  gamma: { type: 'number', help: 'focal loss γ', default: 2, ...rangeOf('loss.gamma') },
  alpha: { type: 'number', help: 'focal loss α (negative = off, as the paper’s eq. 1)', default: -1, ...rangeOf('loss.alpha') },
  margin: { type: 'number', help: 'triplet margin (on L2-normalised embeddings)', default: 0.2, ...rangeOf('loss.margin') },
  'test-input': {
    type: 'string',
    help: "what a volume-level model is tested on: central (the stack's central --depth slices: needs no label or annotation) or window (the training window around the representative slices)",
    choices: TEST_INPUTS,
    default: 'central',
  },
  tta: { type: 'number', help: 'test-time augmentation passes (1 = off)', default: 4, ...rangeOf('tta') },
  'head-lr-scale': {
    type: 'number',
    help: 'lr multiplier of the volume classifier head_fc (Lin et al. train it faster)',
    default: 10,
    ...rangeOf('headLrScale'),
  },
  augment: { type: 'boolean', help: 'training-time augmentation (--no-augment to disable)', default: true },
  'augment-set': {
    type: 'string',
    help: 'paper: all 14 augmentations; light: the rigid ones (shift, scale, rotate, flip)',
    choices: AUGMENT_SET_NAMES,
    default: 'paper',
  },
  oversample: { type: 'boolean', help: 'oversample the minority class in training folds', default: true },
  'bias-field': { type: 'boolean', help: 'bias-field correction while loading', default: true },
  seed: { type: 'number', help: 'run seed (folds, init, batches, augmentation)', default: 0, ...rangeOf('seed') },
  resume: { type: 'boolean', help: 'continue an interrupted run in --out' },
  adapter: ADAPTER_FLAG,
  json: { type: 'boolean', help: 'print the summary as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

/** Which configuration field each training flag sets (for presets, which explicit flags override). */
const FLAG_FIELDS: Record<string, string> = {
  model: 'model',
  head: 'head',
  width: 'width',
  size: 'inputSize',
  depth: 'depth',
  epochs: 'epochs',
  'slice-epochs': 'sliceEpochs',
  batch: 'batchSize',
  optimizer: 'optimizer',
  lr: 'lr',
  momentum: 'momentum',
  'weight-decay': 'weightDecay',
  schedule: 'schedule',
  folds: 'folds',
  'val-fraction': 'valFraction',
  triplet: 'loss.triplet',
  center: 'loss.center',
  gamma: 'loss.gamma',
  alpha: 'loss.alpha',
  margin: 'loss.margin',
  'test-input': 'testInput',
  tta: 'tta',
  'head-lr-scale': 'headLrScale',
  augment: 'augment',
  'augment-set': 'augmentSet',
  oversample: 'oversample',
  'bias-field': 'biasField',
  seed: 'seed',
};

/**
 * The experiment configuration the flags describe (ranges are checked by the flag parser). With
 * --preset, the preset's recipe is the starting point and only the flags typed explicitly change it.
 */
export function experimentConfig(f: Parsed['flags'], given: ReadonlySet<string> = new Set()): ExperimentConfig {
  const fromFlags = flagConfig(f);
  if (!f.preset) return checkHeadTrains(fromFlags);
  const cfg = presetConfig(f.preset as PresetName);
  for (const flag of given) {
    const path = FLAG_FIELDS[flag];
    if (!path) continue;
    const [a, b] = path.split('.') as [string, string | undefined];
    if (b) (cfg.loss as unknown as Record<string, unknown>)[b] = (fromFlags.loss as unknown as Record<string, unknown>)[b];
    else (cfg as unknown as Record<string, unknown>)[a] = (fromFlags as unknown as Record<string, unknown>)[a];
  }
  return checkHeadTrains(cfg);
}

function checkHeadTrains(cfg: ExperimentConfig): ExperimentConfig {
  if (cfg.head !== 'slice' && cfg.sliceEpochs >= cfg.epochs) {
    throw new UsageError(`--slice-epochs (${cfg.sliceEpochs}) must be below --epochs (${cfg.epochs}), or the ${cfg.head} head is never trained`);
  }
  return cfg;
}

function flagConfig(f: Parsed['flags']): ExperimentConfig {
  let model: ModelName;
  try {
    model = parseModelName(String(f.model));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const cfg: ExperimentConfig = {
    model,
    head: f.head as HeadKind,
    width: Number(f.width),
    inputSize: Number(f.size),
    depth: Number(f.depth),
    epochs: Number(f.epochs),
    sliceEpochs: Number(f['slice-epochs']),
    batchSize: Number(f.batch),
    lr: Number(f.lr),
    momentum: Number(f.momentum),
    weightDecay: Number(f['weight-decay']),
    schedule: f.schedule as ExperimentConfig['schedule'],
    optimizer: f.optimizer as OptimizerName,
    loss: { ...DEFAULT_LOSS, gamma: Number(f.gamma), alpha: Number(f.alpha), triplet: Number(f.triplet), center: Number(f.center), margin: Number(f.margin) },
    oversample: Boolean(f.oversample),
    augment: Boolean(f.augment),
    augmentSet: f['augment-set'] as AugmentSet,
    tta: Number(f.tta),
    headLrScale: Number(f['head-lr-scale']),
    seed: Number(f.seed),
    folds: Number(f.folds),
    valFraction: Number(f['val-fraction']),
    testInput: f['test-input'] as TestInput,
    biasField: Boolean(f['bias-field']),
  };
  return cfg;
}

/** Loads a manifest into samples with a progress bar, and checks the cohort can be cross-validated. */
export function loadSamples(manifest: string, cfg: ExperimentConfig, stderr: ProgressStream): Sample[] {
  const rows = readManifest(manifest);
  const bar = new Progress(stderr, { label: 'loading volumes', total: rows.length, unit: 'vol' });
  const samples = loadCohortFiles(rows, {
    size: cfg.inputSize,
    depth: cfg.depth,
    biasField: cfg.biasField,
    ...(cfg.testInput ? { testInput: cfg.testInput } : {}),
    onProgress: (d) => bar.update(d),
  });
  bar.finish();
  printWarnings(samples.flatMap((s) => s.warnings ?? []));
  checkCohort(samples, cfg.folds, manifest);
  return samples;
}

/** The loader's repairs, one line each on stderr (at most 20, then a count): they also go into the report. */
export function printWarnings(warnings: readonly DataWarning[]): void {
  for (const w of warnings.slice(0, 20)) process.stderr.write(`warning: ${formatWarning(w)}\n`);
  if (warnings.length > 20) process.stderr.write(`warning: … and ${warnings.length - 20} more (all are listed in the report)\n`);
}

/** Runs an experiment with the CLI's progress bars and Ctrl-C handling. */
export function runWithProgress(
  ctx: Omit<RunContext, 'events' | 'shouldStop'> & Pick<Parameters<typeof runExperiment>[0], 'folds' | 'report'>,
): Promise<ExperimentRun> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  return withInterrupt(process.stderr, (shouldStop) => runExperiment({ ...ctx, events: progressEvents(process.stderr, ctx.cfg, log), shouldStop }));
}

/** The report's saliency-vs-truth source for a synthetic manifest (nothing for other manifests). */
export function truthReport(manifest: string, cfg: ExperimentConfig): { truth?: TruthSource } {
  const truth = syntheticTruthBeside(manifest, cfg);
  return truth ? { truth } : {};
}

/** The message and exit code of a run stopped by Ctrl-C. */
export function stoppedExit(store: RunStore): number {
  process.stderr.write(`stopped: the run in ${store.path('')} has a checkpoint; continue with --resume\n`);
  return 130;
}

export async function trainCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseArgs(argv, trainFlags, 'train');
  if (parsed.flags.help) {
    out(
      formatHelp(
        'train',
        'Cross-validated training on a manifest of NIfTI volumes (the paper’s protocol).',
        trainFlags,
        '--manifest cohort/manifest.csv [options]',
      ),
    );
    return 0;
  }
  if (!parsed.flags.manifest) throw new UsageError('--manifest is required (see `voxelgrad synth` for a built-in cohort)');
  const cfg = experimentConfig(parsed.flags, parsed.given);
  if (parsed.flags.preset) {
    const changed = [...parsed.given].filter((k) => FLAG_FIELDS[k]).map((k) => `--${k}`);
    process.stderr.write(
      `preset ${parsed.flags.preset}: ${cfg.model} + ${cfg.head}, ${cfg.inputSize}×${cfg.inputSize}×${cfg.depth}, width ${cfg.width}, ${cfg.folds} folds × ${cfg.epochs} epochs (${cfg.sliceEpochs} slice-level), lr ${cfg.lr}, ${cfg.augmentSet ?? 'paper'} augmentation, TTA ×${cfg.tta}${changed.length ? `; overridden: ${changed.join(' ')}` : ''}\n`,
    );
  }
  const outDir = String(parsed.flags.out);
  if (!parsed.flags.resume && existsSync(join(outDir, 'config.json'))) {
    throw new UsageError(`${outDir} already holds a run; pass --resume to continue it or choose another --out`);
  }
  checkOutputDir(outDir);
  const t0 = performance.now();
  const samples = loadSamples(String(parsed.flags.manifest), cfg, process.stderr);
  const gpu = await acquireNodeGpu(parsed.flags.adapter ? { adapter: String(parsed.flags.adapter) } : {});
  try {
    const store = new DirStore(outDir);
    const folds = parsed.flags.fold !== undefined ? [Number(parsed.flags.fold)] : undefined;
    const run = await runWithProgress({
      gpu,
      store,
      cfg,
      samples,
      ...(folds ? { folds } : {}),
      report: { cohortName: String(parsed.flags.manifest), startedAt: t0, ...truthReport(String(parsed.flags.manifest), cfg) },
    });
    if (run.stopped) return stoppedExit(store);
    if (!run.report) {
      const done = [...Array(cfg.folds).keys()].filter((f) => !run.missing.includes(f));
      out(`folds done: ${done.join(', ') || 'none'}; still to run: ${run.missing.join(', ')}. When all are done: voxelgrad eval --run ${outDir}`);
      return 0;
    }
    if (parsed.flags.json) out(serializeRunReport(run.report));
    else out(`${summaryTable(run.report, cfg)}\n\nreport: ${store.path('report.html')}`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
