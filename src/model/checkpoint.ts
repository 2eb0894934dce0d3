/**
 * Checkpoints: a model's parameters and running statistics under PyTorch state-dict names, plus the
 * training state (optimizer momentum, epoch, RNG, config) — one safetensors file. Optimizer buffers are
 * stored as tensors named `optimizer.momentum.<param>`, other trainer state (the center loss's class
 * centres) as `trainer.<name>` (a PyTorch loader ignores or strips both); the rest goes in `__metadata__`
 * as JSON strings. Loading validates names, shapes and byte counts first
 * and changes nothing unless everything matches.
 */
import type { Gpu } from '../gpu/gpu.js';
import { InputError } from '../util/errors.js';
import type { Module } from './module.js';
import { bytesToF32, bytesToI64, decodeSafetensors, encodeSafetensors, f32Bytes, i64Bytes, type SafeTensor } from './safetensors.js';
import { ADAM_STATE_KEYS } from './optimizer.js';

export const MOMENTUM_PREFIX = 'optimizer.momentum.';
const ADAM_MOMENT = /^adam\.exp_avg(?:_sq)?\.(.+)$/;
export const TRAINER_PREFIX = 'trainer.';

export interface TrainingState {
  epoch?: number;
  /** Rng.state() of the training stream. */
  rng?: number[];
  /** Anything JSON-serialisable: model/run config, fold, metrics so far. */
  config?: unknown;
  extra?: Record<string, unknown>;
}

/** Per-parameter momentum buffers, by parameter name (as the optimizer keeps them). */
export type MomentumBuffers = Map<string, Float32Array>;

/** Float32 state the trainer keeps besides the model and optimizer (e.g. `centers` [2, C]), by name. */
export type TrainerState = Map<string, { shape: number[]; values: Float32Array }>;

export async function saveCheckpoint(model: Module, state: TrainingState = {}, momentum?: MomentumBuffers, trainer?: TrainerState): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, p] of model.namedParameters()) {
    tensors.set(name, { dtype: 'F32', shape: [...p.shape], data: f32Bytes(await p.value.read()) });
  }
  for (const [name, b] of model.namedBuffers()) {
    if (b.dtype === 'i64') tensors.set(name, { dtype: 'I64', shape: [...b.shape], data: i64Bytes(b.count) });
    else tensors.set(name, { dtype: 'F32', shape: [...b.shape], data: f32Bytes(await b.value.read()) });
  }
  for (const [name, buf] of momentum ?? []) tensors.set(MOMENTUM_PREFIX + name, { dtype: 'F32', shape: [buf.length], data: f32Bytes(buf) });
  for (const [name, t] of trainer ?? []) tensors.set(TRAINER_PREFIX + name, { dtype: 'F32', shape: [...t.shape], data: f32Bytes(t.values) });
  const metadata: Record<string, string> = { format: 'pt', producer: 'voxelgrad' };
  if (state.epoch !== undefined) metadata.epoch = String(state.epoch);
  if (state.rng) metadata.rng = JSON.stringify(state.rng);
  if (state.config !== undefined) metadata.config = JSON.stringify(state.config);
  if (state.extra) metadata.extra = JSON.stringify(state.extra);
  return encodeSafetensors(tensors, metadata);
}

export interface LoadedCheckpoint {
  state: TrainingState;
  momentum: MomentumBuffers;
  trainer: TrainerState;
}

/** Where the first non-finite value of a float32 tensor is, and how many there are (null when none). */
export function nonFinite(values: Float32Array): { count: number; first: number; value: number } | null {
  let count = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x - x !== 0) {
      if (count++ === 0) first = i;
    }
  }
  return count ? { count, first, value: values[first]! } : null;
}

/**
 * Names, dtypes and shapes of a checkpoint's tensors against a model (no device needed: a model's structure
 * exists before it is materialised). `problems` lists every mismatch; `momentum` holds the optimizer
 * buffers that matched.
 */
export function matchModel(
  tensors: ReadonlyMap<string, SafeTensor>,
  model: Module,
): { problems: string[]; expected: Map<string, { shape: readonly number[]; dtype: 'F32' | 'I64' }>; momentum: MomentumBuffers; trainer: TrainerState } {
  const problems: string[] = [];
  const expected = new Map<string, { shape: readonly number[]; dtype: 'F32' | 'I64' }>();
  for (const [n, p] of model.namedParameters()) expected.set(n, { shape: p.shape, dtype: 'F32' });
  for (const [n, b] of model.namedBuffers()) expected.set(n, { shape: b.shape, dtype: b.dtype === 'i64' ? 'I64' : 'F32' });
  for (const [n, e] of expected) {
    const t = tensors.get(n);
    if (!t) problems.push(`missing '${n}' [${e.shape.join(', ')}]`);
    else if (t.dtype !== e.dtype) problems.push(`'${n}' is ${t.dtype}, expected ${e.dtype}`);
    else if (t.shape.length !== e.shape.length || t.shape.some((s, i) => s !== e.shape[i])) {
      problems.push(`'${n}' has shape [${t.shape.join(', ')}], the model needs [${e.shape.join(', ')}]`);
    }
  }
  const momentum: MomentumBuffers = new Map();
  const trainer: TrainerState = new Map();
  for (const [n, t] of tensors) {
    if (n.startsWith(TRAINER_PREFIX)) {
      if (t.dtype !== 'F32') problems.push(`trainer state '${n}' is ${t.dtype}, expected F32`);
      else trainer.set(n.slice(TRAINER_PREFIX.length), { shape: [...t.shape], values: bytesToF32(t.data) });
    } else if (n.startsWith(MOMENTUM_PREFIX)) {
      // SGD keys its momentum by parameter name; Adam keeps a step count and two moments per parameter.
      const key = n.slice(MOMENTUM_PREFIX.length);
      const pn = ADAM_MOMENT.exec(key)?.[1] ?? key;
      const e = key === ADAM_STATE_KEYS.step ? { shape: [1] } : expected.get(pn);
      const size = e ? e.shape.reduce((a, b) => a * b, 1) : -1;
      if (!e) problems.push(`optimizer state for unknown parameter '${pn}'`);
      else if (t.dtype !== 'F32' || t.shape.reduce((a, b) => a * b, 1) !== size) problems.push(`optimizer state '${key}' has the wrong size`);
      else momentum.set(key, bytesToF32(t.data));
    } else if (!expected.has(n)) problems.push(`unexpected '${n}'`);
  }
  return { problems, expected, momentum, trainer };
}

/** A whole number of epochs written by saveCheckpoint (`String(n)`): digits only, a safe integer. */
function parseEpoch(text: string, source: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new InputError(
      'invalid-field',
      `${source}: metadata 'epoch' is ${JSON.stringify(text.slice(0, 40))}, not a whole number of epochs; the checkpoint is damaged or was not written by voxelgrad`,
      source,
    );
  }
  return n;
}

/**
 * Loads `bytes` into a materialized model. Every mismatch (missing, unexpected, wrong shape or dtype), every
 * non-finite weight, statistic or momentum value (a NaN weight makes every output NaN, which the GPU would
 * then turn into a confident-looking probability) and every malformed metadata field is collected and
 * reported together, naming the tensors, as an InputError; on any problem nothing is written.
 */
export function loadCheckpoint(gpu: Gpu, model: Module, bytes: Uint8Array, source = 'checkpoint'): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const { problems, expected, momentum, trainer } = matchModel(tensors, model);
  if (problems.length) {
    const shown = problems.slice(0, 12).join('; ');
    throw new InputError(
      'unsuitable',
      `${source} does not match the model (${problems.length} problem(s)): ${shown}${problems.length > 12 ? '; …' : ''}`,
      source,
    );
  }
  // Values: decoded once, checked, then written.
  const values = new Map<string, Float32Array>();
  const bad: string[] = [];
  const check = (label: string, v: Float32Array) => {
    const nf = nonFinite(v);
    if (nf) bad.push(`'${label}' has ${nf.count} non-finite value(s) (first: ${nf.value} at index ${nf.first})`);
  };
  for (const [n, e] of expected) {
    if (e.dtype !== 'F32') {
      const count = bytesToI64(tensors.get(n)!.data);
      if (!(Number.isSafeInteger(count) && count >= 0)) bad.push(`'${n}' is ${count}, not a count`);
      continue;
    }
    const v = bytesToF32(tensors.get(n)!.data);
    check(n, v);
    if (n.endsWith('running_var')) {
      const neg = v.findIndex((x) => x < 0);
      if (neg >= 0) bad.push(`'${n}' has a negative variance (${v[neg]} at index ${neg})`);
    }
    values.set(n, v);
  }
  for (const [pn, v] of momentum) check(MOMENTUM_PREFIX + pn, v);
  for (const [n, t] of trainer) check(TRAINER_PREFIX + n, t.values);
  if (bad.length) {
    throw new InputError(
      'non-finite',
      `${source}: ${bad.length} tensor(s) hold values no trained model has: ${bad.slice(0, 8).join('; ')}${bad.length > 8 ? '; …' : ''}; the checkpoint is damaged — use another fold's or retrain`,
      source,
    );
  }
  const state: TrainingState = {};
  const parse = (k: string) => {
    try {
      return JSON.parse(metadata[k]!) as unknown;
    } catch {
      throw new InputError('invalid-field', `${source}: metadata '${k}' is not valid JSON; the checkpoint is damaged`, source);
    }
  };
  if (metadata.epoch !== undefined) state.epoch = parseEpoch(metadata.epoch, source);
  if (metadata.rng !== undefined) {
    const rng = parse('rng');
    if (!Array.isArray(rng) || !rng.every((x) => Number.isSafeInteger(x)))
      throw new InputError('invalid-field', `${source}: metadata 'rng' is not a list of integers`, source);
    state.rng = rng as number[];
  }
  if (metadata.config !== undefined) state.config = parse('config');
  if (metadata.extra !== undefined) {
    const extra = parse('extra');
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
      throw new InputError('invalid-field', `${source}: metadata 'extra' is not a JSON object`, source);
    state.extra = extra as Record<string, unknown>;
  }
  for (const [n, p] of model.namedParameters()) gpu.write(p.value.data, values.get(n)!);
  for (const [n, b] of model.namedBuffers()) {
    const t = tensors.get(n)!;
    if (b.dtype === 'i64') b.count = bytesToI64(t.data);
    else gpu.write(b.value, values.get(n)!);
  }
  return { state, momentum, trainer };
}
