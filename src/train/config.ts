/**
 * The experiment configuration's fields, once: each with its type and valid range. The command line
 * takes its flag ranges from here, and every configuration read back from a file (a run's config.json,
 * a checkpoint's metadata, a stored demo run) is checked against it before anything is allocated, so a
 * hand-edited `"folds": 1000000000` or `"inputSize": 6000` is refused with a message, not obeyed.
 */
import { AUGMENT_SET_NAMES } from '../data/augment-params.js';
import { BadInputError } from '../data/errors.js';
import { HEAD_KINDS, parseModelName } from '../model/resnet.js';
import type { ExperimentConfig } from './experiment.js';

export interface NumberRange {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
}

type Field =
  | ({ kind: 'number' } & NumberRange)
  | { kind: 'boolean' }
  | { kind: 'choice'; choices: readonly string[] };

const int = (min: number, max: number): Field => ({ kind: 'number', integer: true, min, max });
const num = (min: number, max: number): Field => ({ kind: 'number', min, max });

/** Every field of ExperimentConfig (nested loss fields as `loss.x`). */
export const CONFIG_FIELDS = {
  model: { kind: 'choice', choices: [] },
  head: { kind: 'choice', choices: HEAD_KINDS },
  width: int(1, 512),
  inputSize: int(8, 1024),
  depth: int(1, 512),
  epochs: int(1, 100_000),
  sliceEpochs: int(0, 100_000),
  batchSize: int(2, 4096),
  lr: num(0, 100),
  momentum: { kind: 'number', min: 0, below: 1 },
  weightDecay: num(0, 1),
  schedule: { kind: 'choice', choices: ['constant', 'step', 'cosine'] },
  oversample: { kind: 'boolean' },
  augment: { kind: 'boolean' },
  augmentSet: { kind: 'choice', choices: AUGMENT_SET_NAMES },
  tta: int(1, 64),
  headLrScale: num(0, 1000),
  seed: int(0, 2 ** 32 - 1),
  folds: int(2, 1000),
  valFraction: { kind: 'number', min: 0, below: 0.5 },
  biasField: { kind: 'boolean' },
  'loss.gamma': num(0, 20),
  'loss.alpha': num(-1, 1),
  'loss.triplet': num(0, 1000),
  'loss.margin': num(0, 4),
  'loss.tripletNormalize': { kind: 'boolean' },
  'loss.center': num(0, 1000),
  'loss.centerAlpha': num(0, 1),
  'loss.sliceLossWeight': num(0, 1000),
} as const satisfies Record<string, Field>;

export type ConfigField = keyof typeof CONFIG_FIELDS;

/** The numeric range of a field, for the command line's flag specs. */
export function rangeOf(field: ConfigField): NumberRange {
  const f: Field = CONFIG_FIELDS[field];
  if (f.kind !== 'number') throw new Error(`config field ${field} is not a number`);
  const { kind: _kind, ...range } = f;
  return range;
}

function describe(f: Field): string {
  if (f.kind === 'boolean') return 'true or false';
  if (f.kind === 'choice') return `one of ${f.choices.join(', ')}`;
  const what = f.integer ? 'a whole number' : 'a number';
  return `${what} from ${f.min} to ${f.max ?? `below ${f.below}`}`;
}

function valid(f: Field, v: unknown): boolean {
  if (f.kind === 'boolean') return typeof v === 'boolean';
  if (f.kind === 'choice') return typeof v === 'string' && f.choices.includes(v);
  return (
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!f.integer || Number.isInteger(v)) &&
    (f.min === undefined || v >= f.min) &&
    (f.max === undefined || v <= f.max) &&
    (f.below === undefined || v < f.below)
  );
}

/**
 * Checks a configuration read from `source` (JSON already parsed) field by field; returns it typed.
 * Unknown fields are refused too: a typo in a hand-written config must not be silently ignored.
 */
export function parseExperimentConfig(value: unknown, source: string): ExperimentConfig {
  const fail = (why: string): never => {
    throw new BadInputError(`${source}: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('the run configuration is not a JSON object');
  const obj = value as Record<string, unknown>;
  const loss = obj.loss;
  if (typeof loss !== 'object' || loss === null || Array.isArray(loss)) fail("the run configuration has no 'loss' object");
  const problems: string[] = [];
  const known = new Set<string>(['loss']);
  for (const [key, f] of Object.entries(CONFIG_FIELDS) as [string, Field][]) {
    const [a, b] = key.split('.') as [string, string | undefined];
    known.add(a);
    const v = b ? (loss as Record<string, unknown>)[b] : obj[a];
    if (key === 'model') {
      try {
        if (typeof v !== 'string') throw new Error('not a string');
        parseModelName(v);
      } catch {
        problems.push(`model must be one of the paper's networks (f-R2D, f-R3D, f-rMC5, …), got ${JSON.stringify(v)}`);
      }
      continue;
    }
    if (key === 'augmentSet' && v === undefined) continue; // optional: 'paper'
    if (!valid(f, v)) problems.push(`${key} must be ${describe(f)}, got ${JSON.stringify(v) ?? 'nothing'}`);
  }
  for (const k of Object.keys(obj)) if (!known.has(k)) problems.push(`unknown field '${k}'`);
  const lossKeys = new Set(Object.keys(CONFIG_FIELDS).filter((k) => k.startsWith('loss.')).map((k) => k.slice(5)));
  for (const k of Object.keys(loss as object)) if (!lossKeys.has(k)) problems.push(`unknown field 'loss.${k}'`);
  if (problems.length) fail(`invalid run configuration: ${problems.join('; ')}`);
  const cfg = obj as unknown as ExperimentConfig;
  if (cfg.head !== 'slice' && cfg.sliceEpochs >= cfg.epochs) fail(`sliceEpochs (${cfg.sliceEpochs}) must be below epochs (${cfg.epochs}), or the ${cfg.head} head is never trained`);
  return cfg;
}
