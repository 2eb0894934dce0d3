/**
 * The experiment configuration's fields, once, each with its type and valid range — and the checks of
 * everything a run reads back from files. The command line takes its flag ranges from here; every
 * configuration read back (a run's config.json, a checkpoint's metadata, a stored demo run) is checked
 * field by field; a checkpoint's training state (epoch, fold, history) is checked against the run it is
 * resumed into; and a configuration's sizes are checked against the machine before anything is
 * allocated. Every problem is an InputError (exit code 4) naming the file and the field; browser-safe.
 *
 * Why: a value taken on trust decides what the run does — an `epoch` of "abc", 99 or 1e400 in a
 * checkpoint made `--resume` treat a fold as finished after one epoch; an `inputSize` of 6000 made
 * `predict` allocate 4.6 GB before failing; `folds: 1e9` made `eval` loop.
 */
import { AUGMENT_SET_NAMES } from '../data/augment-params.js';
import { MAX_INPUT_SIZE } from '../data/preprocess.js';
import type { TrainingState } from '../model/checkpoint.js';
import { OPTIMIZER_NAMES } from '../model/optimizer.js';
import { HEAD_KINDS, MODEL_NAMES } from '../model/resnet.js';
import { InputError, type MemoryBudget, formatBytes } from '../util/errors.js';
import { TEST_INPUTS, type TestInput } from './dataset.js';
import type { EpochStats, TrainConfig } from './trainer.js';

/** A cross-validated experiment's configuration: the training settings plus the data and the folds. */
export interface ExperimentConfig extends TrainConfig {
  /** In-plane size S and depth D every volume is brought to. */
  inputSize: number;
  depth: number;
  /** Bias-field correction while loading volumes. */
  biasField: boolean;
  folds: number;
  /**
   * What a volume-level model is tested on: the stack's central D slices ('central': needs neither the
   * label nor the annotation — the protocol a volume-level model is judged by) or the training window
   * around the representative slices ('window'; what configurations without this field were run with).
   */
  testInput?: TestInput;
  /** Fraction of each training fold held out for per-epoch validation curves (0 = none). */
  valFraction: number;
}

export interface NumberRange {
  integer?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  above?: number;
  below?: number;
}

type Field = ({ kind: 'number' } & NumberRange) | { kind: 'boolean' } | { kind: 'choice'; choices: readonly string[] } | { kind: 'alpha' };

const int = (min: number, max: number): Field => ({ kind: 'number', integer: true, min, max });
const num = (min: number, max: number): Field => ({ kind: 'number', min, max });
const bool: Field = { kind: 'boolean' };

/** Every field of ExperimentConfig; nested loss fields as `loss.x`. */
export const CONFIG_FIELDS = {
  model: { kind: 'choice', choices: MODEL_NAMES },
  head: { kind: 'choice', choices: HEAD_KINDS },
  width: int(1, 256),
  inputSize: int(8, MAX_INPUT_SIZE),
  depth: int(1, 1024),
  epochs: int(1, 100_000),
  sliceEpochs: int(0, 100_000),
  batchSize: int(2, 4096),
  lr: { kind: 'number', above: 0, max: 100 },
  momentum: { kind: 'number', min: 0, below: 1 },
  weightDecay: num(0, 1),
  schedule: { kind: 'choice', choices: ['constant', 'step', 'cosine'] },
  optimizer: { kind: 'choice', choices: OPTIMIZER_NAMES },
  oversample: bool,
  augment: bool,
  augmentSet: { kind: 'choice', choices: AUGMENT_SET_NAMES },
  tta: int(1, 256),
  headLrScale: { kind: 'number', above: 0, max: 10_000 },
  seed: int(0, 2 ** 32 - 1),
  folds: int(2, 1000),
  valFraction: { kind: 'number', min: 0, below: 0.5 },
  testInput: { kind: 'choice', choices: TEST_INPUTS },
  biasField: bool,
  'loss.gamma': num(0, 20),
  'loss.alpha': { kind: 'alpha' },
  'loss.triplet': num(0, 1000),
  'loss.margin': num(0, 100),
  'loss.tripletNormalize': bool,
  'loss.center': num(0, 1000),
  'loss.centerAlpha': num(0, 1),
  'loss.sliceLossWeight': num(0, 1000),
} as const satisfies Record<string, Field>;

export type ConfigField = keyof typeof CONFIG_FIELDS;
/** Fields a configuration written by an older voxelgrad may lack (their defaults apply). */
const OPTIONAL = new Set<string>(['augmentSet', 'optimizer', 'testInput']);

/** The numeric range of a field, for the command line's flag specs. */
export function rangeOf(field: ConfigField): NumberRange {
  const f: Field = CONFIG_FIELDS[field];
  if (f.kind === 'alpha') return { min: -1, max: 1 };
  if (f.kind !== 'number') throw new Error(`config field ${field} is not a number`);
  const { kind: _kind, ...range } = f;
  return range;
}

/** "a whole number from 2 to 1000", "a number above 0 and at most 100", … */
export function describeRange(r: NumberRange): string {
  const what = r.integer ? 'a whole number' : 'a number';
  const lo = r.min !== undefined ? `from ${r.min}` : r.above !== undefined ? `above ${r.above}` : '';
  const hi =
    r.max !== undefined
      ? r.above !== undefined
        ? `and at most ${r.max}`
        : `to ${r.max}`
      : r.below !== undefined
        ? lo
          ? `to below ${r.below}`
          : `below ${r.below}`
        : '';
  return [what, lo, hi].filter(Boolean).join(' ');
}

/** null when `v` is valid for `f`, else what it must be. */
function fieldProblem(f: Field, v: unknown): string | null {
  switch (f.kind) {
    case 'boolean':
      return typeof v === 'boolean' ? null : 'must be true or false';
    case 'choice':
      return typeof v === 'string' && f.choices.includes(v) ? null : `must be one of ${f.choices.join(', ')}`;
    case 'alpha':
      return v === -1 || (typeof v === 'number' && v >= 0 && v <= 1) ? null : 'must be -1 (off) or in [0, 1]';
    default: {
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!f.integer || Number.isInteger(v)) &&
        (f.min === undefined || v >= f.min) &&
        (f.max === undefined || v <= f.max) &&
        (f.above === undefined || v > f.above) &&
        (f.below === undefined || v < f.below);
      return ok ? null : `must be ${describeRange(f)}`;
    }
  }
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
};

/** Problems of a configuration read from a file, one line each (empty when valid). */
export function configProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['the configuration is not a JSON object'];
  const v = value as Record<string, unknown>;
  const loss = v.loss;
  const lossOk = typeof loss === 'object' && loss !== null && !Array.isArray(loss);
  const problems: string[] = [];
  if (!('loss' in v)) problems.push("'loss' is missing");
  else if (!lossOk) problems.push(`'loss' is ${show(loss)}: must be an object`);
  for (const [key, f] of Object.entries(CONFIG_FIELDS) as [string, Field][]) {
    const [a, b] = key.split('.') as [string, string | undefined];
    if (b && !lossOk) continue;
    const obj = (b ? loss : v) as Record<string, unknown>;
    const k = b ?? a;
    if (!(k in obj) || obj[k] === undefined) {
      if (!OPTIONAL.has(key)) problems.push(`'${key}' is missing`);
      continue;
    }
    const p = fieldProblem(f, obj[k]);
    if (p) problems.push(`'${key}' is ${show(obj[k])}: ${p}`);
  }
  const top = new Set(Object.keys(CONFIG_FIELDS).map((k) => k.split('.')[0]!));
  for (const k of Object.keys(v)) if (!top.has(k)) problems.push(`'${k}' is not a configuration field (written by another version?)`);
  if (lossOk) {
    const lossKeys = new Set(
      Object.keys(CONFIG_FIELDS)
        .filter((k) => k.startsWith('loss.'))
        .map((k) => k.slice(5)),
    );
    for (const k of Object.keys(loss as object)) if (!lossKeys.has(k)) problems.push(`'loss.${k}' is not a loss field`);
  }
  if (!problems.length && v.head !== 'slice' && (v.sliceEpochs as number) >= (v.epochs as number)) {
    problems.push(`'sliceEpochs' (${v.sliceEpochs}) must be below 'epochs' (${v.epochs}), or the ${v.head} head is never trained`);
  }
  return problems;
}

/** The configuration, checked field by field; an InputError listing every problem otherwise. */
export function parseExperimentConfig(value: unknown, source: string): ExperimentConfig {
  const problems = configProblems(value);
  if (problems.length) {
    throw new InputError(
      'invalid-field',
      `${source}: the run configuration is not valid (${problems.length} problem(s)): ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? '; …' : ''}`,
      source,
    );
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
      if (diff.length)
        problems.push(`it was trained with another configuration (checkpoint vs run: ${diff.slice(0, 8).join(', ')}${diff.length > 8 ? ', …' : ''})`);
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
      else if (Number.isSafeInteger(epoch) && h.length !== epoch)
        problems.push(`'extra.history' has ${h.length} epoch(s), the checkpoint says ${epoch} are done`);
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
            if (r.valAuc !== undefined && r.valAuc !== null && !(typeof r.valAuc === 'number' && r.valAuc >= 0 && r.valAuc <= 1))
              bad.push(`valAuc ${show(r.valAuc)}`);
          }
          if (bad.length && problems.length < 20) problems.push(`'extra.history[${i}]': ${bad.join(', ')}`);
        });
        if (!problems.length) history = h as ValidatedCheckpointState['history'];
      }
    }
  }
  if (state.rng !== undefined && !(Array.isArray(state.rng) && state.rng.every((x) => Number.isSafeInteger(x))))
    problems.push("'rng' is not a list of integers");
  if (problems.length) {
    throw new InputError(
      'invalid-field',
      `${source}: the checkpoint's metadata does not fit this run (${problems.length} problem(s)): ${problems.join('; ')}; ` +
        (expect.kind === 'checkpoint'
          ? 'delete the file to restart this fold, or resume with the options it was trained with'
          : 'retrain the fold or use the run it came from'),
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
export function checkConfigFits(
  cfg: Pick<ExperimentConfig, 'inputSize' | 'depth' | 'width' | 'batchSize'>,
  budget: MemoryBudget,
  source: string,
  batch = 1,
): void {
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
    throw new InputError(
      'too-large',
      `${source}: inputSize ${S} × depth ${cfg.depth} needs about ${formatBytes(host)} of memory per volume, but ${formatBytes(budget.hostBytes)} is available`,
      source,
    );
  }
}
