/**
 * Checkpoints: a model's parameters and running statistics under PyTorch state-dict names, plus the
 * training state (optimizer momentum, epoch, RNG, config) — one safetensors file. Optimizer buffers are
 * stored as tensors named `optimizer.momentum.<param>` (a PyTorch loader ignores or strips them); the
 * rest goes in `__metadata__` as JSON strings. Loading validates names, shapes and byte counts first
 * and changes nothing unless everything matches.
 */
import type { Gpu } from '../gpu/gpu.js';
import type { Module } from './module.js';
import { bytesToF32, bytesToI64, decodeSafetensors, encodeSafetensors, f32Bytes, i64Bytes, type SafeTensor } from './safetensors.js';

export const MOMENTUM_PREFIX = 'optimizer.momentum.';

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

export async function saveCheckpoint(model: Module, state: TrainingState = {}, momentum?: MomentumBuffers): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, p] of model.namedParameters()) {
    tensors.set(name, { dtype: 'F32', shape: [...p.shape], data: f32Bytes(await p.value.read()) });
  }
  for (const [name, b] of model.namedBuffers()) {
    if (b.dtype === 'i64') tensors.set(name, { dtype: 'I64', shape: [...b.shape], data: i64Bytes(b.count) });
    else tensors.set(name, { dtype: 'F32', shape: [...b.shape], data: f32Bytes(await b.value.read()) });
  }
  for (const [name, buf] of momentum ?? []) tensors.set(MOMENTUM_PREFIX + name, { dtype: 'F32', shape: [buf.length], data: f32Bytes(buf) });
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
}

/**
 * Loads `bytes` into a materialized model. Every mismatch (missing, unexpected, wrong shape or dtype)
 * is collected and reported together; on any mismatch nothing is written.
 */
export function loadCheckpoint(gpu: Gpu, model: Module, bytes: Uint8Array, source = 'checkpoint'): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
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
  for (const [n, t] of tensors) {
    if (n.startsWith(MOMENTUM_PREFIX)) {
      const pn = n.slice(MOMENTUM_PREFIX.length);
      const e = expected.get(pn);
      const size = e ? e.shape.reduce((a, b) => a * b, 1) : -1;
      if (!e) problems.push(`momentum buffer for unknown parameter '${pn}'`);
      else if (t.dtype !== 'F32' || t.shape.reduce((a, b) => a * b, 1) !== size) problems.push(`momentum buffer '${pn}' has the wrong size`);
      else momentum.set(pn, bytesToF32(t.data));
    } else if (!expected.has(n)) problems.push(`unexpected '${n}'`);
  }
  if (problems.length) {
    const shown = problems.slice(0, 12).join('; ');
    throw new Error(`${source} does not match the model (${problems.length} problem(s)): ${shown}${problems.length > 12 ? '; …' : ''}`);
  }
  for (const [n, p] of model.namedParameters()) gpu.write(p.value.data, bytesToF32(tensors.get(n)!.data));
  for (const [n, b] of model.namedBuffers()) {
    const t = tensors.get(n)!;
    if (b.dtype === 'i64') b.count = bytesToI64(t.data);
    else gpu.write(b.value, bytesToF32(t.data));
  }
  const state: TrainingState = {};
  const parse = (k: string) => {
    try {
      return JSON.parse(metadata[k]!) as unknown;
    } catch {
      throw new Error(`${source}: metadata '${k}' is not valid JSON`);
    }
  };
  if (metadata.epoch !== undefined) state.epoch = Number(metadata.epoch);
  if (metadata.rng !== undefined) state.rng = parse('rng') as number[];
  if (metadata.config !== undefined) state.config = parse('config');
  if (metadata.extra !== undefined) state.extra = parse('extra') as Record<string, unknown>;
  return { state, momentum };
}
