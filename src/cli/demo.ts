/**
 * `voxelgrad demo` — the main job: synthesise the built-in cohort, train the paper's final model
 * (f-rMC5 + bilinear + focal + triplet) with cross-validation, print the results table, write the report.
 * The presets and the time check are src/train/presets.ts (the page uses the same ones).
 */
import { join } from 'node:path';
import { writeSyntheticCohort, type WrittenCohort } from '../data/synth.node.js';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import type { Gpu } from '../gpu/gpu.js';
import { DirStore } from '../train/dir-store.node.js';
import type { ExperimentConfig } from '../train/experiment.js';
import { PRESETS, PRESET_NAMES, type PresetName, planToBudget, presetConfig, settingsTag, withEpochs } from '../train/presets.js';
import type { RunReport } from '../train/report.js';
import { summaryTable } from '../train/run-report.js';
import { paperResultRows } from '../train/table.js';
import { buildModel } from '../train/trainer.js';
import { Progress } from '../util/progress.js';
import { rangeOf } from '../train/config.js';
import { ADAPTER_FLAG, type FlagSpec, formatHelp, type Parsed, parseArgs } from './args.js';
import { checkOutputDir } from './outputs.js';
import { loadSamples, runWithProgress, stoppedExit, truthReport } from './train.js';

export const demoFlags: Record<string, FlagSpec> = {
  preset: { type: 'string', help: 'the cohort and training recipe', choices: PRESET_NAMES, default: 'cpu' },
  out: { type: 'string', help: 'folder for the cohort and the run', default: 'runs/demo' },
  epochs: { type: 'number', help: 'override the preset’s epochs (its slice/volume proportion is kept)', integer: true, min: 2, max: 100_000 },
  folds: { type: 'number', help: 'override the preset’s folds', ...rangeOf('folds') },
  adapter: ADAPTER_FLAG,
  fresh: { type: 'boolean', help: 'start a new run even if one with the same settings is in --out' },
  'budget-minutes': {
    type: 'number',
    help: 'time budget: fewer epochs when the measured speed would overrun it (0 = no limit; cpu preset only; the cpu recipe needs ~20 min on 2 cores with lavapipe, and fewer epochs cost AUC: 8 instead of 12 gave 0.64 instead of 0.94)',
    default: 25,
    min: 0,
    max: 100_000,
  },
  help: { type: 'boolean', help: 'show this help' },
};

type Flags = Parsed['flags'];

/** The preset named by --preset, with --epochs and --folds applied to its configuration. */
function demoConfig(flags: Flags): { name: PresetName; cfg: ExperimentConfig } {
  const name = flags.preset as PresetName;
  let cfg: ExperimentConfig = presetConfig(name);
  if (flags.epochs !== undefined) cfg = withEpochs(cfg, Number(flags.epochs)); // keeps the preset's slice/volume proportion
  if (flags.folds !== undefined) cfg.folds = Number(flags.folds);
  return { name, cfg };
}

/** What is about to run, where, and why; warns about a preset or driver that makes it needlessly slow. */
function printPlan(out: (s: string) => void, name: PresetName, cfg: ExperimentConfig, gpu: Gpu, flags: Flags): void {
  const preset = PRESETS[name];
  const params = buildModel(cfg).parameterCount();
  const nSubjects = preset.cohort.n2 + preset.cohort.n3;
  out(`voxelgrad demo — preset '${name}' on ${gpu.adapter.description}${gpu.adapter.isFallbackAdapter ? ' (CPU driver)' : ''}`);
  out(
    `size: ${nSubjects} subjects (${preset.cohort.n2} T2 / ${preset.cohort.n3} T3), ${cfg.inputSize}×${cfg.inputSize}×${cfg.depth}, ${cfg.model} + ${cfg.head} + focal + triplet, width ${cfg.width} (${params.toLocaleString('en')} parameters), ${cfg.folds}-fold CV × ${cfg.epochs} epochs (${cfg.sliceEpochs} slice-level), batch ${cfg.batchSize}, ${cfg.optimizer === 'adam' ? 'AdamW' : 'SGD'} lr ${cfg.lr}, ${cfg.augmentSet ?? 'paper'} augmentation, TTA ×${cfg.tta}`,
  );
  out(`why: ${preset.why}`);
  if (name === 'paper' && gpu.adapter.isFallbackAdapter) out('warning: the paper preset on a CPU driver takes days; use the default cpu preset here');
  if (/swiftshader/i.test(gpu.adapter.description) && !process.env.VOXELGRAD_ADAPTER && !flags.adapter) {
    out('note: running on SwiftShader; lavapipe (Mesa ≥ 25, installed by scripts/setup.sh on Debian 12) is about 3× faster on a CPU');
  }
}

/** Writes the preset's synthetic cohort under `root` (subjects already there are kept), with a progress bar. */
function synthesiseCohort(root: string, name: PresetName, cfg: ExperimentConfig): WrittenCohort {
  const preset = PRESETS[name];
  const cohortDir = join(root, `cohort-${preset.cohort.size}px-${settingsTag(preset.cohort)}`);
  const bar = new Progress(process.stderr, { label: 'synthesising cohort', total: preset.cohort.n2 + preset.cohort.n3, unit: 'vol' });
  const cohort = writeSyntheticCohort(cohortDir, { ...preset.cohort, seed: cfg.seed }, (d) => bar.update(d));
  bar.finish(`${cohort.generated} new`);
  return cohort;
}

/**
 * The run folder, named by the preset's settings (or the time with --fresh). A run already there keeps
 * its stored configuration (including epochs chosen by an earlier time check), so it resumes instead of
 * restarting; a new cpu-preset run measures its speed and drops epochs that would overrun --budget-minutes.
 * Updates `cfg` in place.
 */
async function openRun(out: (s: string) => void, flags: Flags, name: PresetName, cfg: ExperimentConfig, gpu: Gpu, t0: number): Promise<DirStore> {
  const preset = PRESETS[name];
  const runDir = join(String(flags.out), flags.fresh ? `run-${new Date().toISOString().replace(/[:.]/g, '-')}` : `run-${name}-${settingsTag(cfg)}`);
  const store = new DirStore(runDir);
  const stored = await store.read('config.json');
  const budget = Number(flags['budget-minutes']);
  if (stored) {
    Object.assign(cfg, JSON.parse(new TextDecoder().decode(stored)) as ExperimentConfig);
    out(`resuming the run in ${runDir} (${cfg.epochs} epochs)`);
  } else if (name === 'cpu' && budget > 0) {
    const nSubjects = preset.cohort.n2 + preset.cohort.n3;
    const plan = await planToBudget(gpu, cfg, {
      budgetS: budget * 60,
      spentS: (performance.now() - t0) / 1000,
      nSubjects,
      nMajority: Math.max(preset.cohort.n2, preset.cohort.n3),
    });
    out(
      `speed: ${(1000 * plan.stepS).toFixed(0)} ms per training step of ${cfg.batchSize} volumes (measured); ${cfg.folds} folds × ${cfg.epochs} epochs × ${plan.stepsPerEpoch} steps ≈ ${(plan.estimateS / 60).toFixed(1)} min in all`,
    );
    if (plan.epochs < cfg.epochs) {
      out(
        `time budget ${budget} min (--budget-minutes): ${plan.epochs} epochs instead of ${cfg.epochs} (${plan.sliceEpochs} slice-level) — fewer training steps than the preset is tuned for, so expect a lower AUC; a faster driver or --budget-minutes 0 keeps all ${cfg.epochs}`,
      );
      if (plan.overrun) out(`warning: even ${plan.epochs} epochs need about ${(plan.fittedS / 60).toFixed(0)} min on this adapter`);
      cfg.epochs = plan.epochs;
      cfg.sliceEpochs = plan.sliceEpochs;
    }
  }
  return store;
}

/** The cross-validated results table, the pooled AUC, the paper's row for orientation, time and report path. */
function printResults(out: (s: string) => void, report: RunReport, cfg: ExperimentConfig, store: DirStore, t0: number): void {
  const minutes = (performance.now() - t0) / 60000;
  out('');
  out(`Cross-validated results (${cfg.folds} folds, hold-out predictions with TTA ×${cfg.tta}), mean ± SD over folds:`);
  out(summaryTable(report, cfg));
  out(`pooled AUC ${report.pooled.auc.toFixed(3)} (95 % bootstrap CI ${report.pooled.ci[0].toFixed(3)}–${report.pooled.ci[1].toFixed(3)})`);
  const paper = paperResultRows(4).find((r) => /bilin/i.test(r.name));
  if (paper) out(`paper (real MR, Table 4 ${paper.name}): AUC ${paper.summary.auc.mean.toFixed(3)} — a different (real) cohort, shown for orientation only`);
  out(`time: ${minutes.toFixed(1)} min   report: ${store.path('report.html')}`);
}

export async function demoCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, demoFlags, 'demo');
  if (flags.help) {
    out(formatHelp('demo', 'The main job: synthetic cohort → cross-validated f-rMC5 + bilinear + focal + triplet → results table and report.', demoFlags));
    return 0;
  }
  const { name, cfg } = demoConfig(flags);
  checkOutputDir(String(flags.out));
  const t0 = performance.now();
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  try {
    printPlan(out, name, cfg, gpu, flags);
    const cohort = synthesiseCohort(String(flags.out), name, cfg);
    const samples = loadSamples(cohort.manifestPath, cfg, process.stderr);
    const store = await openRun(out, flags, name, cfg, gpu, t0);
    const preset = PRESETS[name];
    const run = await runWithProgress({
      gpu,
      store,
      cfg,
      samples,
      report: {
        notes: [`demo preset '${name}': ${preset.why}`],
        cohortName: `synthetic (difficulty ${preset.cohort.difficulty}${preset.cohort.sizeMatched ? ', size-matched' : ''})`,
        startedAt: t0,
        ...truthReport(cohort.manifestPath, cfg),
      },
    });
    if (run.stopped) return stoppedExit(store);
    if (!run.report) throw new Error(`folds ${run.missing.join(', ')} did not finish`);
    printResults(out, run.report, cfg, store, t0);
    return 0;
  } finally {
    gpu.destroy();
  }
}
