/**
 * The demo's presets (cohort + training recipe) and its time check: before training, real training
 * steps are timed and, when the adapter would overrun the time budget, fewer epochs are trained (the
 * caller says so). Browser-safe: the CLI's `demo` and the page use the same presets and the same check.
 *
 * `cpu` is sized for a 2-core machine with software WebGPU (about 20 minutes; the demo's default budget is
 * 25); `paper` is the
 * paper's configuration (567 subjects, 256×256×24, width 32, 10 folds, 30 epochs) and needs a real GPU.
 */
import type { CohortOptions } from '../data/synth.js';
import type { Gpu } from '../gpu/gpu.js';
import { leaf, noGrad } from '../graph/autograd.js';
import { Rng } from '../util/rng.js';
import { gpuAugment } from './augment.js';
import type { ExperimentConfig } from './experiment.js';
import { DEFAULT_LOSS, buildModel, makeOptimizer, trainStep } from './trainer.js';

export interface DemoPreset {
  cohort: Required<Pick<CohortOptions, 'n2' | 'n3' | 'size' | 'slices' | 'difficulty'>> & Pick<CohortOptions, 'fovMm' | 'sizeMatched'>;
  config: ExperimentConfig;
  why: string;
}

export type PresetName = 'quick' | 'cpu' | 'paper';
export const PRESET_NAMES: readonly PresetName[] = ['quick', 'cpu', 'paper'];

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
  testInput: 'central',
} as const;

export const PRESETS: Record<PresetName, DemoPreset> = {
  quick: {
    cohort: { n2: 48, n3: 112, size: 64, fovMm: 64, slices: [12, 16], difficulty: 0, sizeMatched: true },
    config: {
      ...base,
      loss: { ...DEFAULT_LOSS },
      lr: 0.03,
      augmentSet: 'light',
      width: 4,
      inputSize: 32,
      depth: 8,
      epochs: 8,
      sliceEpochs: 6,
      batchSize: 8,
      tta: 1,
      folds: 2,
      valFraction: 0.2,
    },
    why:
      'a tour of training in a browser without a GPU (SwiftShader runs about one step per second at this size): 160 subjects (48 T2 / 112 T3) at 32×32×8, width 4, ' +
      '2-fold cross-validation × 8 epochs (6 slice-level) with a fifth of each training fold held out for the validation curves — every part of the pipeline ' +
      '(curves, checkpoints, pause and resume, report) in a few minutes, but far too little data and training for this network to learn the T3 cue: expect an AUC ' +
      'near 0.5 (the cpu preset is the one that learns)',
  },
  cpu: {
    cohort: { n2: 216, n3: 504, size: 96, fovMm: 64, slices: [12, 16], difficulty: 0, sizeMatched: true },
    config: {
      ...base,
      loss: { ...DEFAULT_LOSS },
      optimizer: 'adam',
      lr: 0.001,
      weightDecay: 0.01,
      augmentSet: 'light',
      width: 8,
      inputSize: 64,
      depth: 8,
      epochs: 12,
      sliceEpochs: 2,
      batchSize: 8,
      tta: 2,
      folds: 2,
      valFraction: 0,
    },
    why:
      'sized for a 2-core machine with a CPU WebGPU driver: 720 subjects (the paper’s 30:70 class ratio) whose tumour size does not tell T2 from T3 (size-matched: ' +
      'only the breach of the muscularis does), localised to 64 mm around the rectum (synthesised at 96×96, fed at 64×64×8: 1 mm pixels), the easiest synthetic difficulty, network width 8 (f-rMC5 layout unchanged), ' +
      '2-fold cross-validation × 12 epochs (2 slice-level, then 10 volume-level), AdamW (lr 0.001, weight decay 0.01) and the rigid augmentations only; tested on each stack’s ' +
      'central 8 slices (no annotation). Found with the PyTorch twin (scripts/learnability-torch.py): the paper’s SGD recipe stays at chance on this cohort, ' +
      'and at 48×48 (1.33 mm pixels) it learns the breach in some folds only. --preset paper runs the full configuration on a GPU',
  },
  paper: {
    cohort: { n2: 168, n3: 399, size: 256, slices: [20, 30], difficulty: 0.5 },
    config: {
      ...base,
      loss: { ...DEFAULT_LOSS },
      width: 32,
      inputSize: 256,
      depth: 24,
      epochs: 30,
      sliceEpochs: 10,
      batchSize: 4,
      tta: 4,
      folds: 10,
      valFraction: 0.1,
    },
    why: 'the paper’s configuration: 567 subjects (168 T2 : 399 T3), 256×256 in-plane, 24 slices, width 32, 10-fold cross-validation',
  },
};

/** A copy of a preset's config (safe to modify). */
export function presetConfig(name: PresetName): ExperimentConfig {
  const c = PRESETS[name].config;
  return { ...c, loss: { ...c.loss } };
}

/** A short stable tag of a value (FNV-1a of its JSON), naming the folders of one preset's settings. */
export function settingsTag(v: unknown): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(v)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Sets the number of epochs keeping the slice/volume proportion, with at least one epoch of each. */
export function withEpochs(cfg: ExperimentConfig, epochs: number): ExperimentConfig {
  const sliceEpochs = Math.max(1, Math.min(epochs - 1, Math.round((cfg.sliceEpochs * epochs) / cfg.epochs)));
  return { ...cfg, epochs, sliceEpochs };
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
export async function measureStep(gpu: Gpu, cfg: ExperimentConfig): Promise<{ step: number; forward: number }> {
  const rng = new Rng(1);
  const model = buildModel(cfg).materialize(gpu, rng);
  model.train();
  const optimizer = makeOptimizer(gpu, model, cfg);
  const B = cfg.batchSize;
  const shape: [number, number, number, number, number] = [B, 1, cfg.depth, cfg.inputSize, cfg.inputSize];
  const data = rng.normalArray(B * cfg.depth * cfg.inputSize * cfg.inputSize);
  const batch = {
    data,
    shape,
    labels: Array.from({ length: B }, (_, i) => (i % 2) as 0 | 1),
    ids: [],
    repSlices: Array.from({ length: B }, () => [cfg.depth >> 1]),
  };
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

export interface BudgetPlan {
  /** Seconds per training step and per forward, measured. */
  stepS: number;
  forwardS: number;
  stepsPerEpoch: number;
  /** The whole run's estimate with the config's epochs, and with the fitted ones. */
  estimateS: number;
  fittedS: number;
  epochs: number;
  sliceEpochs: number;
  overrun: boolean;
}

/**
 * Measures this adapter's speed on `cfg` and fits the epochs into `budgetS` seconds (of which `spentS`
 * are gone already) for a cohort of `nSubjects` with `nMajority` subjects in the larger class.
 */
export async function planToBudget(
  gpu: Gpu,
  cfg: ExperimentConfig,
  o: { budgetS: number; spentS: number; nSubjects: number; nMajority: number },
): Promise<BudgetPlan> {
  const t = await measureStep(gpu, cfg);
  const k = cfg.folds;
  const trainPerFold = Math.round((o.nSubjects * (k - 1)) / k);
  const stepsPerEpoch = Math.ceil((cfg.oversample ? (2 * trainPerFold * o.nMajority) / o.nSubjects : trainPerFold) / cfg.batchSize);
  const predictS = Math.ceil(o.nSubjects / cfg.batchSize) * cfg.tta * t.forward;
  // Whole epochs ran ~10 % slower than the timed steps in the measured demo runs (real batches, CPU-side
  // batching, progress), so the estimate carries that factor.
  const plan = fitEpochs({
    budgetS: o.budgetS,
    spentS: o.spentS,
    predictS: 1.1 * predictS,
    epochS: 1.1 * k * stepsPerEpoch * t.step,
    epochs: cfg.epochs,
    sliceEpochs: cfg.sliceEpochs,
  });
  return { stepS: t.step, forwardS: t.forward, stepsPerEpoch, ...plan };
}
