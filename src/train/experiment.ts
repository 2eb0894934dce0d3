/**
 * The cross-validated experiment: patient-level stratified folds, per-fold training with a checkpoint
 * after every epoch, hold-out prediction with TTA, fold results as JSON. Storage goes through a
 * `RunStore` (files in Node, anything in a page), so this module stays browser-safe.
 *
 * Run folder layout (paths relative to the run):
 *   config.json                 the run configuration (written once; a resumed run must match it)
 *   folds.json                  the fold plan (subject → fold), so `--fold k` jobs agree
 *   fold-<k>/checkpoint.safetensors   last completed epoch (model, BN stats, momentum, epoch, history)
 *   fold-<k>/result.json        hold-out predictions + history once the fold is done
 */
import type { Gpu } from '../gpu/gpu.js';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.js';
import { Rng } from '../util/rng.js';
import { type BinaryMetrics, binaryMetrics } from './metrics.js';
import type { AugmentFn, BatchAugmentFn } from './augment.js';
import { type Sample, testSamples } from './dataset.js';
import { type FoldPlan, makeFolds } from './folds.js';
import { InputError } from '../util/errors.js';
import { type ExperimentConfig, validateCheckpointState } from './config.js';
import type { RunStore } from './run-store.js';
import { type EpochStats, type Prediction, buildModel, makeOptimizer, predict, trainFold } from './trainer.js';

export type { RunStore } from './run-store.js';

// The configuration's type lives with its fields and checks (config.ts); re-exported for the callers.
export type { ExperimentConfig } from './config.js';

/** A configuration that cannot train as asked (the CLI reports it as a usage error). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Checks what no single field can: a config the trainer would run but that would silently not do what
 * it says (an aggregation head that is never trained, a validation split that eats the training fold).
 */
export function validateExperimentConfig(cfg: ExperimentConfig): void {
  if (!(cfg.valFraction >= 0 && cfg.valFraction < 0.5)) throw new ConfigError(`the validation fraction must be in [0, 0.5), got ${cfg.valFraction}`);
  if (cfg.head !== 'slice' && cfg.sliceEpochs >= cfg.epochs) {
    throw new ConfigError(`slice-level epochs (${cfg.sliceEpochs}) must be below the epochs (${cfg.epochs}), or the ${cfg.head} head is never trained`);
  }
  if (!Number.isInteger(cfg.folds) || cfg.folds < 2) throw new ConfigError(`cross-validation needs at least 2 folds, got ${cfg.folds}`);
}

export interface FoldOutcome {
  fold: number;
  /** The configuration the fold was trained with (eval refuses to merge folds of different ones). */
  config: ExperimentConfig;
  testIds: string[];
  predictions: Prediction[];
  metrics: BinaryMetrics;
  history: (EpochStats & { valLoss?: number; valAuc?: number })[];
  nTrain: number;
  nVal: number;
  seconds: number;
}

export interface ExperimentEvents {
  /** Something the user should know that does not stop the run (e.g. a fold with too few T2 patients). */
  onWarning?: (message: string) => void;
  onFoldStart?: (fold: number, epochsDone: number) => void;
  onStep?: (fold: number, epoch: number, step: number, steps: number, loss: number) => void;
  onEpoch?: (fold: number, stats: EpochStats & { valAuc?: number }) => void;
  onFoldEnd?: (r: FoldOutcome) => void;
  onPredict?: (fold: number, done: number, total: number) => void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown) => enc.encode(`${JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), 2)}\n`);

async function readJson<T>(store: RunStore, path: string): Promise<T | null> {
  const b = await store.read(path);
  if (!b) return null;
  try {
    return JSON.parse(dec.decode(b)) as T;
  } catch (e) {
    throw new Error(`${path} in the run folder is not valid JSON (${(e as Error).message}); delete it to recompute`);
  }
}

/** Creates or checks the run's config and fold plan; a resumed run must have the same config. */
export async function prepareRun(store: RunStore, config: ExperimentConfig, samples: readonly Sample[]): Promise<FoldPlan> {
  const existing = await readJson<ExperimentConfig>(store, 'config.json');
  if (existing) {
    const a = JSON.stringify(existing);
    const b = JSON.stringify(config);
    if (a !== b) {
      const diff = Object.keys(config).filter(
        (k) => JSON.stringify((existing as unknown as Record<string, unknown>)[k]) !== JSON.stringify((config as unknown as Record<string, unknown>)[k]),
      );
      throw new Error(`the run folder holds a run with a different configuration (differs in: ${diff.join(', ')}); use a new --out folder or the same options`);
    }
  } else await store.write('config.json', json(config));
  const plan = makeFolds(
    samples.map((s) => ({ id: s.id, label: s.label, ...(s.fold !== undefined ? { fold: s.fold } : {}) })),
    { k: config.folds, seed: config.seed, valFraction: config.valFraction },
  );
  const stored = await readJson<{ ids: string[]; assignment: number[] }>(store, 'folds.json');
  const ids = samples.map((s) => s.id);
  if (stored) {
    if (JSON.stringify(stored.ids) !== JSON.stringify(ids) || JSON.stringify(stored.assignment) !== JSON.stringify(plan.assignment)) {
      throw new Error('the cohort differs from the one this run folder was started with (folds.json); use a new --out folder');
    }
  } else await store.write('folds.json', json({ ids, assignment: plan.assignment, k: plan.k, seed: plan.seed }));
  return plan;
}

function focalValue(p: number, y: number, gamma: number): number {
  const pt = y === 1 ? p : 1 - p;
  return -((1 - pt) ** gamma) * Math.log(Math.max(pt, 1e-12));
}

/** Runs (or resumes) one fold to completion and stores its result. Returns the stored result if done. */
export async function runFold(o: {
  gpu: Gpu;
  store: RunStore;
  config: ExperimentConfig;
  samples: readonly Sample[];
  plan: FoldPlan;
  fold: number;
  augment?: AugmentFn;
  augmentBatch?: BatchAugmentFn;
  events?: ExperimentEvents;
  shouldStop?: () => boolean;
}): Promise<FoldOutcome | null> {
  const { gpu, store, config: cfg, samples, plan, fold } = o;
  const dir = `fold-${fold}`;
  const done = await readJson<unknown>(store, `${dir}/result.json`);
  if (done !== null) return checkFoldOutcome(done, fold, cfg, store.path(`${dir}/result.json`));
  const split = plan.splits[fold];
  if (!split) throw new ConfigError(`fold ${fold} does not exist (the run has ${plan.k} folds: 0…${plan.k - 1})`);
  const t0 = performance.now();

  let resume: Parameters<typeof trainFold>[0]['resume'];
  const ckpt = await store.read(`${dir}/checkpoint.safetensors`);
  if (ckpt) {
    // Initial values are overwritten by the checkpoint; any seed will do.
    const model = buildModel(cfg).materialize(gpu, new Rng(0));
    const where = store.path(`${dir}/checkpoint.safetensors`);
    let loaded: ReturnType<typeof loadCheckpoint>;
    let state: ReturnType<typeof validateCheckpointState>;
    try {
      loaded = loadCheckpoint(gpu, model, ckpt, where);
      // Every metadata field the resume acts on (config, epoch, fold, history) must fit this run.
      state = validateCheckpointState(loaded.state, { config: cfg, fold, kind: 'checkpoint' }, where);
    } catch (e) {
      model.release();
      throw e;
    }
    const optimizer = makeOptimizer(gpu, model, cfg);
    optimizer.loadMomentum(loaded.momentum);
    const centers = loaded.trainer.get('centers')?.values;
    resume = { model, optimizer, startEpoch: state.epoch + 1, history: state.history.slice(), ...(centers ? { centers } : {}) };
  }
  o.events?.onFoldStart?.(fold, resume ? resume.startEpoch - 1 : 0);
  const valSamples = split.val.map((i) => samples[i]!);
  type HistoryEntry = EpochStats & { valLoss?: number; valAuc?: number };
  // The whole curve so far goes into every checkpoint, so a resumed fold reports all epochs.
  let curve: HistoryEntry[] = [...((resume?.history ?? []) as HistoryEntry[])];
  const trained = await trainFold({
    gpu,
    config: cfg,
    samples,
    trainIdx: split.train,
    fold,
    ...(o.augment ? { augment: o.augment } : {}),
    ...(o.augmentBatch ? { augmentBatch: o.augmentBatch } : {}),
    ...(resume ? { resume } : {}),
    onStep: (e, s, n, l) => o.events?.onStep?.(fold, e, s, n, l),
    ...(o.shouldStop ? { shouldStop: o.shouldStop } : {}),
    onEpoch: async (stats, model, optimizer, centers) => {
      let extra: { valLoss?: number; valAuc?: number } = {};
      if (valSamples.length) {
        const preds = await predict(gpu, model, valSamples, { tta: 1, batchSize: cfg.batchSize, seed: cfg.seed });
        const m = binaryMetrics(
          preds.map((p) => p.label),
          preds.map((p) => p.prob),
        );
        extra = { valAuc: m.auc, valLoss: preds.reduce((a, p) => a + focalValue(p.prob, p.label, cfg.loss.gamma), 0) / preds.length };
      }
      o.events?.onEpoch?.(fold, { ...stats, ...extra });
      curve = [...curve, { ...stats, ...extra }];
      const trainerState = centers ? new Map([['centers', { shape: [...centers.shape], values: await centers.read() }]]) : undefined;
      const bytes = await saveCheckpoint(
        model,
        { epoch: stats.epoch, config: cfg, extra: { fold, history: curve } },
        await optimizer.momentumBuffers(),
        trainerState,
      );
      await store.write(`${dir}/checkpoint.safetensors`, bytes);
    },
  });
  if (o.shouldStop?.()) {
    trained.model.release();
    trained.optimizer.release();
    return null;
  }
  const test = testSamples(
    split.test.map((i) => samples[i]!),
    cfg.testInput ?? 'window',
    cfg.head,
  );
  const predictions = await predict(gpu, trained.model, test, {
    tta: cfg.tta,
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    onProgress: (d, t) => o.events?.onPredict?.(fold, d, t),
  });
  const metrics = binaryMetrics(
    predictions.map((p) => p.label),
    predictions.map((p) => p.prob),
  );
  const result: FoldOutcome = {
    fold,
    config: cfg,
    testIds: test.map((s) => s.id),
    predictions,
    metrics,
    history: curve,
    nTrain: split.train.length,
    nVal: split.val.length,
    seconds: (performance.now() - t0) / 1000,
  };
  await store.write(`${dir}/model.safetensors`, await saveCheckpoint(trained.model, { epoch: cfg.epochs, config: cfg, extra: { fold } }));
  await store.write(`${dir}/result.json`, json(result));
  trained.model.release();
  trained.optimizer.release();
  o.events?.onFoldEnd?.(result);
  return result;
}

/**
 * Reads every completed fold result of a run (for `eval`, which merges folds run as separate jobs),
 * checking each against the run's configuration and for values no model can produce: a result file
 * from another configuration or edited by hand is refused, never merged.
 */
export async function readFoldResults(store: RunStore, cfg: ExperimentConfig): Promise<{ results: FoldOutcome[]; missing: number[] }> {
  const results: FoldOutcome[] = [];
  const missing: number[] = [];
  for (let f = 0; f < cfg.folds; f++) {
    const path = `fold-${f}/result.json`;
    const r = await readJson<unknown>(store, path);
    if (r === null) missing.push(f);
    else results.push(checkFoldOutcome(r, f, cfg, store.path(path)));
  }
  return { results, missing };
}

const isProb = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

function checkFoldOutcome(r: unknown, fold: number, cfg: ExperimentConfig, where: string): FoldOutcome {
  const fail = (why: string): never => {
    throw new InputError('unsuitable', `${where}: ${why}; delete the file and rerun the fold (train --resume --fold ${fold})`);
  };
  if (typeof r !== 'object' || r === null) return fail('not a fold result');
  const o = r as Partial<FoldOutcome>;
  if (o.fold !== fold) fail(`it says fold ${JSON.stringify(o.fold)}, but it is fold ${fold}'s file`);
  if (!o.config) fail('it does not record the configuration it was trained with (written by an older voxelgrad)');
  const diff = Object.keys({ ...cfg, ...o.config }).filter(
    (k) => JSON.stringify((o.config as unknown as Record<string, unknown>)[k]) !== JSON.stringify((cfg as unknown as Record<string, unknown>)[k]),
  );
  if (diff.length) fail(`it was trained with another configuration than the run's config.json (differs in: ${diff.join(', ')})`);
  if (!Array.isArray(o.predictions) || o.predictions.length === 0) fail('it has no predictions');
  for (const [i, p] of o.predictions!.entries()) {
    if (typeof p?.id !== 'string' || (p.label !== 0 && p.label !== 1)) fail(`prediction ${i} has no subject id or a label other than 0/1`);
    if (!isProb(p.prob)) fail(`prediction ${i} (${p.id}) has P(T3) = ${JSON.stringify(p.prob)}, not a probability in [0, 1]`);
    if (!Array.isArray(p.sliceProbs) || !p.sliceProbs.every(isProb)) fail(`prediction ${i} (${p.id}) has per-slice values that are not probabilities`);
    if (p.repSlices !== undefined && !(Array.isArray(p.repSlices) && p.repSlices.every((r) => Number.isInteger(r) && r >= 0 && r < p.sliceProbs.length))) {
      fail(`prediction ${i} (${p.id}) names representative slices outside its ${p.sliceProbs.length} slices`);
    }
  }
  if (!Array.isArray(o.testIds) || JSON.stringify(o.testIds) !== JSON.stringify(o.predictions!.map((p) => p.id)))
    fail('its test subjects do not match its predictions');
  if (!Array.isArray(o.history)) fail('it has no training history');
  return o as FoldOutcome;
}
