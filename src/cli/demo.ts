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
import { DEFAULT_LOSS, buildModel, makeOptimizer, trainStep } from '../train/trainer.js';
import type { Gpu } from '../gpu/gpu.js';
import { leaf, noGrad } from '../graph/autograd.js';
import { Rng } from '../util/rng.js';
import { Progress } from '../util/progress.js';
import { type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';
import { DirStore } from './store.node.js';
import { gpuAugment, loadSamples, runFolds, summaryTable, writeReport } from './train.js';
import { paperResultRows } from '../train/table.js';

export interface DemoPreset {
  cohort: { n2: number; n3: number; size: number; fovMm?: number; slices: number | [number, number]; difficulty: number };
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
    cohort: { n2: 216, n3: 504, size: 64, fovMm: 64, slices: [12, 16], difficulty: 0 },
    config: {
      ...base,
      loss: { ...DEFAULT_LOSS },
      lr: 0.03,
      augmentSet: 'light',
      width: 8,
      inputSize: 48,
      depth: 8,
      epochs: 16,
      sliceEpochs: 12,
      batchSize: 8,
      tta: 2,
      folds: 2,
      valFraction: 0,
    },
    why:
      'a CPU WebGPU driver trains about 30 volumes/s at this size (lavapipe, 2 cores), so: 720 subjects (the paper’s 30:70 class ratio) localised to 64 mm around the rectum ' +
      '(64×64 at 1 mm, fed at 48×48×8), the easiest synthetic difficulty, network width 8 (f-rMC5 layout unchanged), 2-fold cross-validation × 16 epochs ' +
      '(12 slice-level, then 4 volume-level, as the paper trains the extractor first), lr 0.03 and the rigid augmentations only (shift, scale, rotate, flip) — with the paper’s lr 0.01, ' +
      'all 14 augmentations (brightness/contrast alone halves it), fewer than ~350 training subjects or fewer than ~15 epochs this small network learns the T3 cue only in some runs (measured; see README). ' +
      '--preset paper runs the full configuration on a GPU',
  },
  paper: {
    cohort: { n2: 168, n3: 399, size: 256, slices: [20, 30], difficulty: 0.5 },
    config: { ...base, loss: { ...DEFAULT_LOSS }, width: 32, inputSize: 256, depth: 24, epochs: 30, sliceEpochs: 10, batchSize: 4, tta: 4, folds: 10, valFraction: 0.1 },
    why: 'the paper’s configuration: 567 subjects (168 T2 : 399 T3), 256×256 in-plane, 24 slices, width 32, 10-fold cross-validation',
  },
};

/** A short stable tag of a value (FNV-1a of its JSON), naming the folders of one preset's settings. */
function tag(v: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(v)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * Epochs that fit a time budget: all of them when the estimate fits, else as many as fit (at least 2:
 * one slice-level and one volume-level), keeping the slice/volume proportion. 30 s are kept for the
 * report and for the slack of a shared machine.
 */
export function fitEpochs(o: { budgetS: number; spentS: number; predictS: number; epochS: number; epochs: number; sliceEpochs: number }): {
  epochs: number;
  sliceEpochs: number;
  estimateS: number;
  fittedS: number;
  overrun: boolean;
} {
  const fixed = o.spentS + o.predictS + 30;
  const estimateS = fixed - 30 + o.epochs * o.epochS;
  if (fixed + o.epochs * o.epochS <= o.budgetS) return { epochs: o.epochs, sliceEpochs: o.sliceEpochs, estimateS, fittedS: estimateS, overrun: false };
  const epochs = Math.max(2, Math.min(o.epochs, Math.floor((o.budgetS - fixed) / o.epochS)));
  const sliceEpochs = Math.max(1, Math.min(epochs - 1, Math.round((o.sliceEpochs * epochs) / o.epochs)));
  const fittedS = fixed - 30 + epochs * o.epochS;
  return { epochs, sliceEpochs, estimateS, fittedS, overrun: fixed + epochs * o.epochS > o.budgetS };
}

/**
 * Times real training steps of `cfg`'s model at its batch shape (median of 5 after two warm-ups, GPU
 * augmentation included) and the forward pass used by prediction: seconds per step and per forward.
 */
async function measureStep(gpu: Gpu, cfg: ExperimentConfig): Promise<{ step: number; forward: number }> {
  const rng = new Rng(1);
  const model = buildModel(cfg).materialize(gpu, rng);
  model.train();
  const optimizer = makeOptimizer(gpu, model, cfg);
  const B = cfg.batchSize;
  const shape: [number, number, number, number, number] = [B, 1, cfg.depth, cfg.inputSize, cfg.inputSize];
  const data = rng.normalArray(B * cfg.depth * cfg.inputSize * cfg.inputSize);
  const batch = { data, shape, labels: Array.from({ length: B }, (_, i) => (i % 2) as 0 | 1), ids: [], repSlices: Array.from({ length: B }, () => [cfg.depth >> 1]) };
  const augment = cfg.augment ? gpuAugment(cfg.inputSize, cfg.augmentSet) : null;
  const augRng = new Rng(2);
  const step = () =>
    trainStep({ model, optimizer, batch, loss: cfg.loss, lr: cfg.lr, stage: 'volume', augment: augment ? (raw) => augment(gpu, raw, augRng) : undefined });
  const forward = () =>
    gpu.tidy(async () => {
      const out = noGrad(() => model.forward(leaf(gpu.tensor(data, shape), false)));
      return (await out.sliceLogits.read())[0]!;
    });
  // Median of single timed calls after two warm-ups (pipeline compilation, pool growth): one slow call
  // on a shared machine must not cut the run's epochs.
  const median = async (fn: () => Promise<number>, n: number): Promise<number> => {
    await fn();
    await fn();
    const t: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fn();
      t.push((performance.now() - t0) / 1000);
    }
    return t.sort((a, b) => a - b)[n >> 1]!;
  };
  try {
    const stepS = await median(step, 5);
    model.eval();
    return { step: stepS, forward: await median(forward, 3) };
  } finally {
    model.release();
    optimizer.release();
  }
}

export const demoFlags: Record<string, FlagSpec> = {
  preset: { type: 'string', help: 'cpu | paper', default: 'cpu' },
  out: { type: 'string', help: 'folder for the cohort and the run', default: 'runs/demo' },
  epochs: { type: 'number', help: 'override the preset’s epochs (its slice/volume proportion is kept)' },
  folds: { type: 'number', help: 'override the preset’s folds' },
  adapter: { type: 'string', help: 'auto | swiftshader | lavapipe' },
  fresh: { type: 'boolean', help: 'start a new run even if one with the same settings is in --out' },
  'budget-minutes': { type: 'number', help: 'time budget: fewer epochs when the measured speed would overrun it (0 = no limit; cpu preset only)', default: 15 },
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
  if (flags.epochs !== undefined) {
    const e = Number(flags.epochs);
    if (!Number.isInteger(e) || e < 2) throw new UsageError(`--epochs must be an integer >= 2 (one slice-level and one volume-level epoch at least), got ${flags.epochs}`);
    // Keep the preset's slice/volume proportion, with at least one epoch of each.
    cfg.sliceEpochs = Math.max(1, Math.min(e - 1, Math.round((cfg.sliceEpochs * e) / cfg.epochs)));
    cfg.epochs = e;
  }
  if (flags.folds !== undefined) {
    const k = Number(flags.folds);
    if (!Number.isInteger(k) || k < 2) throw new UsageError(`--folds must be an integer >= 2, got ${flags.folds}`);
    cfg.folds = k;
  }
  const t0 = performance.now();
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  try {
    const params = buildModel(cfg).parameterCount();
    const nSubjects = preset.cohort.n2 + preset.cohort.n3;
    out(`voxelgrad demo — preset '${name}' on ${gpu.adapter.description}${gpu.adapter.isFallbackAdapter ? ' (CPU driver)' : ''}`);
    out(`size: ${nSubjects} subjects (${preset.cohort.n2} T2 / ${preset.cohort.n3} T3), ${cfg.inputSize}×${cfg.inputSize}×${cfg.depth}, ${cfg.model} + ${cfg.head} + focal + triplet, width ${cfg.width} (${params.toLocaleString('en')} parameters), ${cfg.folds}-fold CV × ${cfg.epochs} epochs (${cfg.sliceEpochs} slice-level), batch ${cfg.batchSize}, lr ${cfg.lr}, ${cfg.augmentSet ?? 'paper'} augmentation, TTA ×${cfg.tta}`);
    out(`why: ${preset.why}`);
    if (name === 'paper' && gpu.adapter.isFallbackAdapter) out('warning: the paper preset on a CPU driver takes days; use the default cpu preset here');
    if (/swiftshader/i.test(gpu.adapter.description) && !process.env.VOXELGRAD_ADAPTER && !flags.adapter) {
      out('note: running on SwiftShader; lavapipe (Mesa ≥ 24, installed by scripts/setup.sh on Debian 12) is about 3× faster on a CPU');
    }
    const root = String(flags.out);
    const cohortDir = join(root, `cohort-${preset.cohort.size}px-${tag(preset.cohort)}`);
    const bar = new Progress(process.stderr, { label: 'synthesising cohort', total: nSubjects, unit: 'vol' });
    const cohort = writeSyntheticCohort(cohortDir, { ...preset.cohort, seed: cfg.seed }, (d) => bar.update(d));
    bar.finish(`${cohort.generated} new`);
    const samples = loadSamples(cohort.manifestPath, cfg, process.stderr);
    // The folder is named by the preset's settings; a run already there keeps its stored configuration
    // (including epochs chosen by an earlier time check), so it resumes instead of restarting.
    const runDir = join(root, flags.fresh ? `run-${new Date().toISOString().replace(/[:.]/g, '-')}` : `run-${name}-${tag(cfg)}`);
    const store = new DirStore(runDir);
    const stored = await store.read('config.json');
    const budget = Number(flags['budget-minutes']);
    if (stored) {
      Object.assign(cfg, JSON.parse(new TextDecoder().decode(stored)) as ExperimentConfig);
      out(`resuming the run in ${runDir} (${cfg.epochs} epochs)`);
    } else if (name === 'cpu' && budget > 0) {
      const t = await measureStep(gpu, cfg);
      const k = cfg.folds;
      const trainPerFold = Math.round((nSubjects * (k - 1)) / k);
      const perEpoch = Math.ceil((cfg.oversample ? (2 * trainPerFold * Math.max(preset.cohort.n2, preset.cohort.n3)) / nSubjects : trainPerFold) / cfg.batchSize);
      const predictS = Math.ceil(nSubjects / cfg.batchSize) * cfg.tta * t.forward;
      const spent = (performance.now() - t0) / 1000;
      // Whole epochs ran ~10 % slower than the timed steps in the measured demo runs (real batches, CPU-side
      // batching, progress), so the estimate carries that factor.
      const plan = fitEpochs({ budgetS: budget * 60, spentS: spent, predictS: 1.1 * predictS, epochS: 1.1 * k * perEpoch * t.step, epochs: cfg.epochs, sliceEpochs: cfg.sliceEpochs });
      out(`speed: ${(1000 * t.step).toFixed(0)} ms per training step of ${cfg.batchSize} volumes (measured); ${k} folds × ${cfg.epochs} epochs × ${perEpoch} steps ≈ ${(plan.estimateS / 60).toFixed(1)} min in all`);
      if (plan.epochs < cfg.epochs) {
        out(`time budget ${budget} min (--budget-minutes): ${plan.epochs} epochs instead of ${cfg.epochs} (${plan.sliceEpochs} slice-level) — fewer training steps than the preset is tuned for, so expect a lower AUC; a faster driver or --budget-minutes 0 keeps all ${cfg.epochs}`);
        if (plan.overrun) out(`warning: even ${plan.epochs} epochs need about ${(plan.fittedS / 60).toFixed(0)} min on this adapter`);
        cfg.epochs = plan.epochs;
        cfg.sliceEpochs = plan.sliceEpochs;
      }
    }
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
