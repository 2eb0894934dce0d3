/**
 * Running a cross-validated experiment end to end, the same way for `voxelgrad train`, `demo`,
 * `ablate` and the page: prepare the run folder, train and test the requested folds (resuming any
 * checkpoint), and when every fold is done write the report. Browser-safe: storage is a RunStore,
 * progress goes to callbacks, and stopping is asked for through `shouldStop` (Ctrl-C in the CLI, the
 * pause button in the page): the current epoch finishes and its checkpoint is written first.
 */
import { formatWarning } from '../data/volume.js';
import type { Gpu } from '../gpu/gpu.js';
import { gpuAugment, cpuAugment } from './augment.js';
import type { Sample } from './dataset.js';
import {
  type ExperimentConfig,
  type ExperimentEvents,
  type FoldOutcome,
  prepareRun,
  readFoldResults,
  runFold,
  validateExperimentConfig,
} from './experiment.js';
import type { RunReport } from './report.js';
import type { RunStore } from './run-store.js';
import { writeReport } from './run-report.js';
import type { TruthSource } from './saliency-truth.js';
import { NonFiniteLossError } from './trainer.js';

export interface RunContext {
  gpu: Gpu;
  store: RunStore;
  cfg: ExperimentConfig;
  samples: readonly Sample[];
  events?: ExperimentEvents;
  /** Polled between training steps; true = finish the epoch, checkpoint, and return `stopped`. */
  shouldStop?: () => boolean;
}

export interface FoldsRun {
  /** Outcomes of the folds that finished in this call (or were already finished). */
  outcomes: FoldOutcome[];
  /** True when `shouldStop` ended the run early; the stopped fold has a checkpoint to resume from. */
  stopped: boolean;
}

/** Runs the requested folds (all, or some), resuming from checkpoints. */
export async function runFolds(ctx: RunContext, folds: readonly number[]): Promise<FoldsRun> {
  const { gpu, store, cfg, samples } = ctx;
  validateExperimentConfig(cfg);
  const plan = await prepareRun(store, cfg, samples);
  for (const w of plan.warnings) ctx.events?.onWarning?.(`fold plan: ${w}`);
  const outcomes: FoldOutcome[] = [];
  const augmentBatch = cfg.augment ? gpuAugment(cfg.inputSize, cfg.augmentSet) : null;
  const augment = cfg.augment ? cpuAugment(cfg.inputSize, cfg.augmentSet) : null;
  for (const fold of folds) {
    let r: FoldOutcome | null;
    try {
      r = await runFold({
        gpu,
        store,
        config: cfg,
        samples,
        plan,
        fold,
        ...(augment ? { augment } : {}),
        ...(augmentBatch ? { augmentBatch } : {}),
        ...(ctx.shouldStop ? { shouldStop: ctx.shouldStop } : {}),
        ...(ctx.events ? { events: ctx.events } : {}),
      });
    } catch (e) {
      if (e instanceof NonFiniteLossError) e.message += ` (checkpoint: ${store.path(`fold-${fold}`)})`;
      throw e;
    }
    if (!r) return { outcomes, stopped: true };
    outcomes.push(r);
  }
  return { outcomes, stopped: false };
}

export interface ExperimentRun extends FoldsRun {
  /** Folds of the run that have no result yet (run elsewhere with `--fold k`, or stopped). */
  missing: number[];
  /** Written when every fold is done. */
  report: RunReport | null;
}

/**
 * Runs `folds` (default: all) and, once every fold of the run has a result, writes report.html,
 * report.md and metrics.json into the store (with saliency overlays of a few hold-out volumes).
 */
export async function runExperiment(
  ctx: RunContext & { folds?: readonly number[]; report?: { notes?: string[]; cohortName?: string; startedAt?: number; truth?: TruthSource } },
): Promise<ExperimentRun> {
  const folds = ctx.folds ?? [...Array(ctx.cfg.folds).keys()];
  const run = await runFolds(ctx, folds);
  if (run.stopped) return { ...run, missing: [], report: null };
  const { results, missing } = await readFoldResults(ctx.store, ctx.cfg);
  if (missing.length) return { ...run, missing, report: null };
  const t0 = ctx.report?.startedAt;
  const report = await writeReport(ctx.store, ctx.cfg, results, {
    ...(ctx.report?.notes ? { notes: ctx.report.notes } : {}),
    ...(ctx.report?.cohortName ? { cohortName: ctx.report.cohortName } : {}),
    ...(t0 !== undefined ? { totalSeconds: (performance.now() - t0) / 1000 } : {}),
    gpu: ctx.gpu,
    samples: ctx.samples,
    ...(ctx.report?.truth ? { truth: ctx.report.truth } : {}),
    inputWarnings: ctx.samples.flatMap((s) => s.warnings ?? []).map(formatWarning),
  });
  return { ...run, missing, report };
}
