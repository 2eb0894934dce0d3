/**
 * `voxelgrad demo` — the main job: synthesise the built-in cohort, train the paper's final model
 * (f-rMC5 + bilinear + focal + triplet) with cross-validation, print the results table, write the report.
 *
 * Presets: `cpu` (default) is sized to finish within 15 minutes on a 2-core machine with software
 * WebGPU; `paper` is the paper's configuration (567 subjects, 256×256×24, width 32, 10 folds, 30 epochs)
 * and needs a real GPU (hours on one; days on a CPU driver).
 */
import { join } from 'node:path';
import { writeSyntheticCohort } from '../data/synth.node.js';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import type { ExperimentConfig } from '../train/experiment.js';
import { readFoldResults } from '../train/experiment.js';
import { DEFAULT_LOSS, buildModel } from '../train/trainer.js';
import { Progress } from '../util/progress.js';
import { type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';
import { DirStore } from './store.node.js';
import { loadSamples, runFolds, summaryTable, writeReport } from './train.js';
import { paperResultRows } from '../train/table.js';

export interface DemoPreset {
  cohort: { n2: number; n3: number; size: number; slices: number | [number, number]; difficulty: number };
  config: ExperimentConfig;
  why: string;
}

const base = {
  model: 'f-rMC5',
  head: 'bilinear',
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0.01,
  schedule: 'cosine',
  loss: { ...DEFAULT_LOSS },
  oversample: true,
  augment: true,
  seed: 0,
  biasField: true,
  headLrScale: 10,
} as const;

export const PRESETS: Record<'cpu' | 'paper', DemoPreset> = {
  cpu: {
    cohort: { n2: 48, n3: 112, size: 48, slices: [12, 16], difficulty: 0 },
    config: { ...base, loss: { ...DEFAULT_LOSS }, width: 8, inputSize: 48, depth: 12, epochs: 12, sliceEpochs: 6, batchSize: 8, tta: 2, folds: 3, valFraction: 0 },
    why: 'a CPU WebGPU driver does about 1 GFLOP/s on these layers, so the cohort is 160 subjects (the paper’s 30:70 class ratio) at 48×48×12 and the easiest synthetic difficulty, the network width 8 (f-rMC5 layout unchanged), 3 folds × 12 epochs (6 slice-level, then 6 volume-level, as the paper trains the extractor first); --preset paper runs the full configuration on a GPU',
  },
  paper: {
    cohort: { n2: 168, n3: 399, size: 256, slices: [20, 30], difficulty: 0.5 },
    config: { ...base, loss: { ...DEFAULT_LOSS }, width: 32, inputSize: 256, depth: 24, epochs: 30, sliceEpochs: 10, batchSize: 4, tta: 4, folds: 10, valFraction: 0.1 },
    why: 'the paper’s configuration: 567 subjects (168 T2 : 399 T3), 256×256 in-plane, 24 slices, width 32, 10-fold cross-validation',
  },
};

export const demoFlags: Record<string, FlagSpec> = {
  preset: { type: 'string', help: 'cpu | paper', default: 'cpu' },
  out: { type: 'string', help: 'folder for the cohort and the run', default: 'runs/demo' },
  epochs: { type: 'number', help: 'override the preset’s epochs' },
  folds: { type: 'number', help: 'override the preset’s folds' },
  adapter: { type: 'string', help: 'auto | swiftshader | lavapipe' },
  fresh: { type: 'boolean', help: 'start a new run even if one with the same settings is in --out' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function demoCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, demoFlags, 'demo');
  if (flags.help) {
    out(formatHelp('demo', 'The main job: synthetic cohort → cross-validated f-rMC5 + bilinear + focal + triplet → results table and report.', demoFlags));
    return 0;
  }
  const name = String(flags.preset);
  if (name !== 'cpu' && name !== 'paper') throw new UsageError(`--preset must be cpu or paper, got '${name}'`);
  const preset = PRESETS[name];
  const cfg: ExperimentConfig = { ...preset.config, loss: { ...preset.config.loss } };
  if (flags.epochs !== undefined) cfg.epochs = Number(flags.epochs);
  if (flags.folds !== undefined) cfg.folds = Number(flags.folds);
  const t0 = performance.now();
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  try {
    const params = buildModel(cfg).parameterCount();
    out(`voxelgrad demo — preset '${name}' on ${gpu.adapter.description}${gpu.adapter.isFallbackAdapter ? ' (CPU driver)' : ''}`);
    out(`size: ${preset.cohort.n2 + preset.cohort.n3} subjects (${preset.cohort.n2} T2 / ${preset.cohort.n3} T3), ${cfg.inputSize}×${cfg.inputSize}×${cfg.depth}, ${cfg.model} + ${cfg.head} + focal + triplet, width ${cfg.width} (${params.toLocaleString('en')} parameters), ${cfg.folds}-fold CV × ${cfg.epochs} epochs, batch ${cfg.batchSize}, TTA ×${cfg.tta}`);
    out(`why: ${preset.why}`);
    if (name === 'paper' && gpu.adapter.isFallbackAdapter) out('warning: the paper preset on a CPU driver takes days; use the default cpu preset here');
    const root = String(flags.out);
    const cohortDir = join(root, `cohort-${preset.cohort.size}px`);
    const bar = new Progress(process.stderr, { label: 'synthesising cohort', total: preset.cohort.n2 + preset.cohort.n3, unit: 'vol' });
    const cohort = writeSyntheticCohort(cohortDir, { ...preset.cohort, seed: cfg.seed }, (d) => bar.update(d));
    bar.finish(`${cohort.generated} new`);
    const samples = loadSamples(cohort.manifestPath, cfg, process.stderr);
    const runDir = join(root, flags.fresh ? `run-${new Date().toISOString().replace(/[:.]/g, '-')}` : `run-${name}`);
    const store = new DirStore(runDir);
    const log = (s: string) => process.stderr.write(`${s}\n`);
    await runFolds({ gpu, store, cfg, samples, log, stderr: process.stderr }, [...Array(cfg.folds).keys()]);
    if (process.exitCode === 130) return 130;
    const { results, missing } = await readFoldResults(store, cfg.folds);
    if (missing.length) throw new Error(`folds ${missing.join(', ')} did not finish`);
    const minutes = (performance.now() - t0) / 60000;
    const report = await writeReport(store, cfg, results, {
      notes: [`demo preset '${name}': ${preset.why}`],
      totalSeconds: minutes * 60,
      cohortName: `synthetic (difficulty ${preset.cohort.difficulty})`,
      gpu,
      samples,
    });
    out('');
    out(`Cross-validated results (${cfg.folds} folds, hold-out predictions with TTA ×${cfg.tta}), mean ± SD over folds:`);
    out(summaryTable(report, cfg));
    out(`pooled AUC ${report.pooled.auc.toFixed(3)} (95 % bootstrap CI ${report.pooled.ci[0].toFixed(3)}–${report.pooled.ci[1].toFixed(3)})`);
    const paper = paperResultRows(4).find((r) => /bilin/i.test(r.name));
    if (paper) out(`paper (real MR, Table 4 ${paper.name}): AUC ${paper.summary.auc.mean.toFixed(3)} — a different (real) cohort, shown for orientation only`);
    out(`time: ${minutes.toFixed(1)} min   report: ${store.path('report.html')}`);
    return 0;
  } finally {
    gpu.destroy();
  }
}
