/**
 * Validation of what a run reads back from files: an experiment configuration (config.json, a checkpoint's
 * `config` metadata) field by field, a checkpoint's training state (epoch, fold, history) against the run
 * it is resumed into, and whether a configuration's sizes fit this machine before anything is allocated.
 * Every problem is an InputError (exit code 4) that names the file and the field; browser-safe.
 *
 * Why each field is checked: a value taken on trust decides what the run does — an `epoch` of "abc", 99
 * or 1e400 in a checkpoint made `--resume` treat a fold as finished after one epoch; an `inputSize` of
 * 6000 made `predict` allocate 4.6 GB before failing; `folds: 1e9` made `eval` loop.
 */
import { AUGMENT_SET_NAMES } from '../data/augment-params.js';
import { MAX_INPUT_SIZE } from '../data/preprocess.js';
import type { TrainingState } from '../model/checkpoint.js';
import { HEAD_KINDS, MODEL_NAMES } from '../model/resnet.js';
import { InputError, type MemoryBudget, formatBytes } from '../util/errors.js';
import type { ExperimentConfig } from './experiment.js';
import type { EpochStats } from './trainer.js';

/** Ranges of the configuration's numbers (the README's options; generous, never what a run could not do). */
export const CONFIG_LIMITS = {
  width: [1, 256],
  epochs: [1, 100_000],
  batchSize: [1, 4096],
  tta: [1, 256],
  sliceEpochs: [0, 100_000],
  inputSize: [8, MAX_INPUT_SIZE],
  depth: [1, 1024],
  folds: [2, 1000],
} as const satisfies Record<string, readonly [number, number]>;

type Check = (v: unknown) => string | null;

const int =
  (lo: number, hi: number): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi ? null : `must be a whole number from ${lo} to ${hi}`;
const num =
  (lo: number, hi: number, { openLo = false, openHi = false } = {}): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && (openLo ? v > lo : v >= lo) && (openHi ? v < hi : v <= hi)
      ? null
      : `must be a number in ${openLo ? '(' : '['}${lo}, ${hi}${openHi ? ')' : ']'}`;
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? null : `must be one of ${values.join(', ')}`;
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const seedCheck: Check = (v) => (Number.isSafeInteger(v) ? null : 'must be a whole number');
const alphaCheck: Check = (v) => (v === -1 || (typeof v === 'number' && v >= 0 && v <= 1) ? null : 'must be -1 (off) or in [0, 1]');

const LOSS_FIELDS: Record<string, Check> = {
  gamma: num(0, 10),
  alpha: alphaCheck,
  triplet: num(0, 1000),
  margin: num(0, 100),
  tripletNormalize: bool,
  center: num(0, 1000),
  centerAlpha: num(0, 1),
  sliceLossWeight: num(0, 1000),
};

const L = CONFIG_LIMITS;
const CONFIG_FIELDS: Record<string, { check: Check; optional?: boolean }> = {
  model: { check: oneOf(MODEL_NAMES) },
  head: { check: oneOf(HEAD_KINDS) },
  width: { check: int(...L.width) },
  epochs: { check: int(...L.epochs) },
  batchSize: { check: int(...L.batchSize) },
  lr: { check: num(0, 100, { openLo: true }) },
  momentum: { check: num(0, 1, { openHi: true }) },
  weightDecay: { check: num(0, 1) },
  schedule: { check: oneOf(['constant', 'step', 'cosine']) },
  loss: { check: () => null },
  oversample: { check: bool },
  augment: { check: bool },
  augmentSet: { check: oneOf(AUGMENT_SET_NAMES), optional: true },
  tta: { check: int(...L.tta) },
  headLrScale: { check: num(0, 1e4, { openLo: true }) },
  sliceEpochs: { check: int(...L.sliceEpochs) },
  seed: { check: seedCheck },
  inputSize: { check: int(...L.inputSize) },
  depth: { check: int(...L.depth) },
  biasField: { check: bool },
  folds: { check: int(...L.folds) },
  valFraction: { check: num(0, 1, { openHi: true }) },
};

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
};

/** Problems of a configuration read from a file, one line each (empty when valid). */
export function configProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['the configuration is not a JSON object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [k, { check, optional }] of Object.entries(CONFIG_FIELDS)) {
    if (!(k in v) || v[k] === undefined) {
      if (!optional) problems.push(`'${k}' is missing`);
      continue;
    }
    const p = check(v[k]);
    if (p) problems.push(`'${k}' is ${show(v[k])}: ${p}`);
  }
  for (const k of Object.keys(v)) if (!(k in CONFIG_FIELDS)) problems.push(`'${k}' is not a configuration field (written by another version?)`);
  const loss = v.loss;
  if ('loss' in v) {
    if (typeof loss !== 'object' || loss === null || Array.isArray(loss)) problems.push(`'loss' is ${show(loss)}: must be an object`);
    else {
      const l = loss as Record<string, unknown>;
      for (const [k, check] of Object.entries(LOSS_FIELDS)) {
        if (!(k in l)) problems.push(`'loss.${k}' is missing`);
        else {
          const p = check(l[k]);
          if (p) problems.push(`'loss.${k}' is ${show(l[k])}: ${p}`);
        }
      }
      for (const k of Object.keys(l)) if (!(k in LOSS_FIELDS)) problems.push(`'loss.${k}' is not a loss field`);
    }
  }
  if (!problems.length && (v.sliceEpochs as number) > (v.epochs as number)) problems.push(`'sliceEpochs' (${v.sliceEpochs}) exceeds 'epochs' (${v.epochs})`);
  return problems;
}

/** The configuration, checked field by field; an InputError listing every problem otherwise. */
export function validateExperimentConfig(value: unknown, source: string): ExperimentConfig {
  const problems = configProblems(value);
  if (problems.length) {
    throw new InputError('invalid-field', `${source}: the run configuration is not valid (${problems.length} problem(s)): ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? '; …' : ''}`, source);
  }
  return value as ExperimentConfig;
}

/** Fields whose values differ between two configurations (deep, by JSON). */
export function configDifferences(a: ExperimentConfig, b: ExperimentConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    const x = (a as unknown as Record<string, unknown>)[k];
    const y = (b as unknown as Record<string, unknown>)[k];
    if (k === 'loss' && x && y && typeof x === 'object' && typeof y === 'object') {
      for (const lk of new Set([...Object.keys(x), ...Object.keys(y)])) {
        const lx = (x as Record<string, unknown>)[lk];
        const ly = (y as Record<string, unknown>)[lk];
        if (JSON.stringify(lx) !== JSON.stringify(ly)) out.push(`loss.${lk} (${show(lx)} vs ${show(ly)})`);
      }
    } else if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${k} (${show(x)} vs ${show(y)})`);
  }
  return out;
}

export interface CheckpointExpectation {
  /** The run's configuration (config.json, or the command's options for a new run). */
  config: ExperimentConfig;
  /** The fold this checkpoint belongs to. */
  fold: number;
  /**
   * `checkpoint`: fold-k/checkpoint.safetensors, written after every epoch (1 ≤ epoch ≤ epochs, with the
   * loss history of every epoch so far); `model`: fold-k/model.safetensors, the finished fold (epoch = epochs).
   */
  kind: 'checkpoint' | 'model';
}

export interface ValidatedCheckpointState {
  epoch: number;
  /** Per-epoch statistics so far (empty for a `model` file). */
  history: (EpochStats & { valLoss?: number; valAuc?: number })[];
}

const finiteNonNeg = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/**
 * Checks every metadata field a resume (or an ensemble prediction) would act on against the run: the
 * configuration it was trained with (every field equal), the epoch (a whole number the run can have
 * reached), the fold, and the per-epoch history (one entry per finished epoch, finite losses, AUCs in
 * [0, 1]). Call it right after `loadCheckpoint`; any problem is an InputError naming the file and field.
 */
export function validateCheckpointState(state: TrainingState, expect: CheckpointExpectation, source: string): ValidatedCheckpointState {
  const problems: string[] = [];
  const cfg = expect.config;
  if (state.config === undefined) problems.push("the metadata has no 'config'");
  else {
    const p = configProblems(state.config);
    if (p.length) problems.push(`its 'config' is not valid: ${p.slice(0, 5).join('; ')}`);
    else {
      const diff = configDifferences(state.config as ExperimentConfig, cfg);
      if (diff.length) problems.push(`it was trained with another configuration (checkpoint vs run: ${diff.slice(0, 8).join(', ')}${diff.length > 8 ? ', …' : ''})`);
    }
  }
  const epoch = state.epoch;
  if (epoch === undefined) problems.push("the metadata has no 'epoch'");
  else if (!Number.isSafeInteger(epoch)) problems.push(`'epoch' is ${show(epoch)}, not a whole number`);
  else if (expect.kind === 'model' && epoch !== cfg.epochs) problems.push(`'epoch' is ${epoch} but a finished fold of this run has ${cfg.epochs}`);
  else if (expect.kind === 'checkpoint' && !(epoch >= 1 && epoch <= cfg.epochs)) problems.push(`'epoch' is ${epoch}, outside this run's 1…${cfg.epochs}`);
  const extra = state.extra;
  let history: ValidatedCheckpointState['history'] = [];
  if (!extra) problems.push("the metadata has no 'extra' (fold, history)");
  else {
    if (extra.fold !== expect.fold) problems.push(`'extra.fold' is ${show(extra.fold)}, but the file is fold ${expect.fold}'s`);
    if (expect.kind === 'checkpoint') {
      const h = extra.history;
      if (!Array.isArray(h)) problems.push("'extra.history' is missing or not a list");
      else if (Number.isSafeInteger(epoch) && h.length !== epoch) problems.push(`'extra.history' has ${h.length} epoch(s), the checkpoint says ${epoch} are done`);
      else {
        h.forEach((e: unknown, i: number) => {
          const r = e as Record<string, unknown> | null;
          const bad: string[] = [];
          if (!r || typeof r !== 'object') bad.push('not an object');
          else {
            if (r.epoch !== i + 1) bad.push(`epoch ${show(r.epoch)} (expected ${i + 1})`);
            if (!finiteNonNeg(r.trainLoss)) bad.push(`trainLoss ${show(r.trainLoss)}`);
            if (!finiteNonNeg(r.lr)) bad.push(`lr ${show(r.lr)}`);
            if (!finiteNonNeg(r.seconds)) bad.push(`seconds ${show(r.seconds)}`);
            // A validation set of one class has no AUC: NaN, which JSON writes as null.
            if (r.valLoss !== undefined && r.valLoss !== null && !finiteNonNeg(r.valLoss)) bad.push(`valLoss ${show(r.valLoss)}`);
            if (r.valAuc !== undefined && r.valAuc !== null && !(typeof r.valAuc === 'number' && r.valAuc >= 0 && r.valAuc <= 1)) bad.push(`valAuc ${show(r.valAuc)}`);
          }
          if (bad.length && problems.length < 20) problems.push(`'extra.history[${i}]': ${bad.join(', ')}`);
        });
        if (!problems.length) history = h as ValidatedCheckpointState['history'];
      }
    }
  }
  if (state.rng !== undefined && !(Array.isArray(state.rng) && state.rng.every((x) => Number.isSafeInteger(x)))) problems.push("'rng' is not a list of integers");
  if (problems.length) {
    throw new InputError(
      'invalid-field',
      `${source}: the checkpoint's metadata does not fit this run (${problems.length} problem(s)): ${problems.join('; ')}; ` +
        (expect.kind === 'checkpoint' ? 'delete the file to restart this fold, or resume with the options it was trained with' : 'retrain the fold or use the run it came from'),
      source,
    );
  }
  return { epoch: epoch!, history };
}

/**
 * Whether one input of this configuration fits the machine, from the sizes alone (nothing is allocated):
 * host memory for a preprocessed volume and its working copies, and the largest device buffer — the
 * stem's output [B, width, D, S/2, S/2] — against the adapter's largest binding.
 */
export function checkConfigFits(cfg: Pick<ExperimentConfig, 'inputSize' | 'depth' | 'width' | 'batchSize'>, budget: MemoryBudget, source: string, batch = 1): void {
  const S = cfg.inputSize;
  const half = Math.ceil(S / 2);
  const stem = batch * cfg.width * cfg.depth * half * half * 4;
  if (budget.deviceBufferBytes !== undefined && stem > budget.deviceBufferBytes) {
    throw new InputError(
      'too-large',
      `${source}: inputSize ${S}, depth ${cfg.depth} and width ${cfg.width} need a ${formatBytes(stem)} buffer for the first layer's output ` +
        `[${batch}, ${cfg.width}, ${cfg.depth}, ${half}, ${half}], more than this adapter's largest binding (${formatBytes(budget.deviceBufferBytes)})`,
      source,
    );
  }
  // A preprocessed volume, its bias-field/resize/normalise copies and the saliency map: ~6 float32 copies.
  const host = 6 * 4 * cfg.depth * S * S * batch;
  if (host > budget.hostBytes) {
    throw new InputError('too-large', `${source}: inputSize ${S} × depth ${cfg.depth} needs about ${formatBytes(host)} of memory per volume, but ${formatBytes(budget.hostBytes)} is available`, source);
  }
}
