/**
 * SGD with momentum and weight decay (torch.optim.SGD, as sgd.ref.ts) as ONE fused dispatch per step
 * over every parameter of the model.
 *
 * Design: WebGPU cannot bind a variable number of buffers (8–16 storage bindings per stage), so the
 * parameters, their gradients and the momentum buffer each live in ONE flat f32 "arena" with the same
 * layout (`planParamArena`): tensor t occupies [offsets[t], offsets[t] + sizes[t]), every offset a
 * multiple of ARENA_ALIGN = 1,024 floats (4 KiB, also a multiple of WebGPU's 256-byte
 * minStorageBufferOffsetAlignment, so each tensor can be bound as a sub-range view of the arena).
 * One workgroup updates one 1,024-float block and reads its tensor index from a block table, so
 * per-tensor settings (PyTorch param groups: lr multiplier, weight decay — e.g. no decay on BN) cost
 * nothing per element. Padding between tensors is zero and stays zero (0 + wd·0).
 * Parameter tensors become views of the arena (`GpuTensor.viewAt(offsets[t], shape)`), so layers bind
 * them as before; gradients are gathered into the grad arena the same way (or written there directly).
 *
 * Learning-rate schedules (`lrAt`: constant, step, cosine) are defined here, for the trainer and the
 * optimizers; they are pure host functions, checked against PyTorch's schedulers in sgd.ref.test.ts.
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { DType, GpuTensor } from '../gpu/tensor.js';
import { defineKernel, elementGrid } from './define.js';

/**
 * Learning-rate schedules, indexed by epoch (or by any step counter, as long as the caller is
 * consistent):
 * - constant: lr;
 * - step: lr · gamma^⌊epoch / stepSize⌋ (torch.optim.lr_scheduler.StepLR);
 * - cosine: minLr + (lr − minLr)·(1 + cos(π·epoch/T))/2 for epoch ≤ T and minLr after T
 *   (CosineAnnealingLR's closed form up to T_max; PyTorch's keeps oscillating past T_max, we hold).
 */
export type LrSchedule =
  | { kind: 'constant'; lr: number }
  | { kind: 'step'; lr: number; stepSize: number; gamma: number }
  | { kind: 'cosine'; lr: number; T: number; minLr?: number };

/** The learning rate at `epoch` (≥ 0; fractional epochs are allowed) of a schedule. A pure function. */
export function lrAt(schedule: LrSchedule, epoch: number): number {
  if (!(epoch >= 0) || !Number.isFinite(epoch)) throw new Error(`lrAt epoch must be a finite number >= 0, got ${epoch}`);
  const { lr } = schedule;
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`lrAt schedule lr must be a finite number >= 0, got ${lr}`);
  switch (schedule.kind) {
    case 'constant':
      return lr;
    case 'step': {
      const { stepSize, gamma } = schedule;
      if (!(Number.isInteger(stepSize) && stepSize >= 1)) throw new Error(`lrAt step schedule stepSize must be an integer >= 1, got ${stepSize}`);
      if (!(gamma >= 0) || !Number.isFinite(gamma)) throw new Error(`lrAt step schedule gamma must be a finite number >= 0, got ${gamma}`);
      return lr * gamma ** Math.floor(epoch / stepSize);
    }
    case 'cosine': {
      const { T } = schedule;
      const minLr = schedule.minLr ?? 0;
      if (!(T > 0) || !Number.isFinite(T)) throw new Error(`lrAt cosine schedule T must be a finite number > 0, got ${T}`);
      if (!(minLr >= 0 && minLr <= lr)) throw new Error(`lrAt cosine schedule minLr must be in [0, lr = ${lr}], got ${minLr}`);
      if (epoch >= T) return minLr;
      // the interpolation form returns exactly lr at epoch 0 (minLr + (lr − minLr) may round)
      const w = (1 + Math.cos((Math.PI * epoch) / T)) / 2;
      return lr * w + minLr * (1 - w);
    }
    default:
      throw new Error(`lrAt: unknown schedule kind '${String((schedule as { kind: unknown }).kind)}'; use 'constant', 'step' or 'cosine'`);
  }
}

export const sgdStepKernel = defineKernel({
  name: 'sgd-step',
  shader: 'sgd/step',
  bindings: { params: 'uniform', blockSeg: 'read', segments: 'read', grad: 'read', param: 'read_write', mom: 'read_write' },
});

const WG = 256;
/** Floats per arena block: one workgroup of WG threads × vec4. Every tensor starts on a block boundary. */
export const ARENA_ALIGN = WG * 4;

export interface ParamArenaLayout {
  /** Element count of each tensor. */
  sizes: readonly number[];
  /** Element offset of each tensor in the arena (multiples of ARENA_ALIGN). */
  offsets: readonly number[];
  /** Arena length in floats (a multiple of ARENA_ALIGN). */
  total: number;
  /** Tensor index of each ARENA_ALIGN block; total / ARENA_ALIGN entries. */
  blockSegment: Uint32Array;
}

/** One dispatch's share of a parameter arena: its block count and views of the arena tensors. */
export interface ArenaRun {
  blocks: number;
  /** The run's view of an arena tensor (the tensor itself when the arena is one run); `perBlock` 1 for the u32 block table. */
  at<D extends DType>(t: GpuTensor<D>, perBlock?: number): GpuTensor<D>;
}

/**
 * The runs of blocks one optimizer step dispatches: the whole arena when it fits one storage binding,
 * else runs of a multiple of 64 blocks (so the u32 block table's views start on WebGPU's 256-byte binding
 * alignment too). An adapter whose bindings hold fewer than 64 blocks (256 KiB, far below WebGPU's
 * 128 MiB core limit) is refused.
 */
export function arenaRuns(gpu: Gpu, op: string, blocks: number): ArenaRun[] {
  const limit = gpu.limits.maxStorageBufferBindingSize!;
  const blockBytes = ARENA_ALIGN * 4;
  if (blocks * blockBytes <= limit) return [{ blocks, at: (t) => t }];
  const per = Math.floor(limit / (64 * blockBytes)) * 64;
  if (per < 64) {
    throw new GpuError(
      'over-limit',
      `${op}: the parameter arena (${blocks * blockBytes} bytes) is larger than one binding (${limit} bytes, maxStorageBufferBindingSize) and bindings under ${64 * blockBytes} bytes cannot hold the 64-block runs it is split into; use an adapter with larger bindings`,
    );
  }
  const out: ArenaRun[] = [];
  for (let b0 = 0; b0 < blocks; b0 += per) {
    const b1 = Math.min(blocks, b0 + per);
    out.push({ blocks: b1 - b0, at: (t, perBlock = ARENA_ALIGN) => t.viewAt(b0 * perBlock, [(b1 - b0) * perBlock]) });
  }
  return out;
}

/** Lays out tensors of the given element counts in one arena, each starting on an ARENA_ALIGN boundary. */
export function planParamArena(sizes: readonly number[]): ParamArenaLayout {
  if (sizes.length === 0) throw new GpuError('usage', 'planParamArena: no parameter tensors; pass the element count of each');
  const offsets: number[] = [];
  let at = 0;
  for (const [i, s] of sizes.entries()) {
    if (!Number.isInteger(s) || s < 1) throw new GpuError('usage', `planParamArena: tensor ${i} has size ${s}; sizes must be integers >= 1`);
    offsets.push(at);
    at += Math.ceil(s / ARENA_ALIGN) * ARENA_ALIGN;
  }
  const blockSegment = new Uint32Array(at / ARENA_ALIGN);
  for (let t = 0; t < sizes.length; t++)
    blockSegment.fill(t, offsets[t]! / ARENA_ALIGN, (offsets[t]! + Math.ceil(sizes[t]! / ARENA_ALIGN) * ARENA_ALIGN) / ARENA_ALIGN);
  return { sizes: [...sizes], offsets, total: at, blockSegment };
}

/** Packs host arrays (one per tensor) into a zero-padded arena image of the layout. */
export function packArena(layout: ParamArenaLayout, parts: readonly ArrayLike<number>[]): Float32Array {
  if (parts.length !== layout.sizes.length) throw new GpuError('usage', `packArena: ${parts.length} arrays for ${layout.sizes.length} tensors`);
  const out = new Float32Array(layout.total);
  parts.forEach((p, t) => {
    if (p.length !== layout.sizes[t]) throw new GpuError('usage', `packArena: tensor ${t} has ${p.length} values, the layout says ${layout.sizes[t]}`);
    out.set(p, layout.offsets[t]);
  });
  return out;
}

export interface SgdGroup {
  /** Multiplier of the step's learning rate for this tensor (default 1). */
  lrScale?: number;
  /** Weight decay of this tensor (default: the optimizer's weightDecay). */
  weightDecay?: number;
}

export interface FusedSgdOptions {
  /** Momentum μ ≥ 0 (default 0: no buffer, as PyTorch). */
  momentum?: number;
  /** Dampening (default 0). */
  dampening?: number;
  /** L2 weight decay added to the gradient (default 0; the paper uses 0.01). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Per-tensor overrides, one entry per tensor of the layout (PyTorch's param groups). */
  groups?: readonly SgdGroup[];
}

function checkNonNeg(v: number, name: string): void {
  if (!(v >= 0) || !Number.isFinite(v)) throw new GpuError('usage', `FusedSgd ${name} must be a finite number >= 0, got ${v}`);
}

/**
 * The optimizer state for one arena layout: block and group tables (uploaded once), the momentum
 * arena, and the step count (the first step initialises the buffer, as PyTorch does).
 */
export class FusedSgd {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  /** Momentum arena (null when momentum is 0). */
  readonly buffer: GpuTensor | null;
  private stepsTaken = 0;
  private readonly blockSeg: GpuTensor<'u32'>;
  private readonly segments: GpuTensor;
  private readonly spare: GpuTensor | null;

  constructor(
    readonly gpu: Gpu,
    readonly layout: ParamArenaLayout,
    opts: FusedSgdOptions = {},
  ) {
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    const wd = opts.weightDecay ?? 0;
    checkNonNeg(this.momentum, 'momentum');
    checkNonNeg(wd, 'weightDecay');
    if (!Number.isFinite(this.dampening)) throw new GpuError('usage', `FusedSgd dampening must be finite, got ${this.dampening}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new GpuError(
        'usage',
        `FusedSgd: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${this.momentum}, dampening ${this.dampening})`,
      );
    }
    const s = layout.sizes.length;
    if (opts.groups && opts.groups.length !== s)
      throw new GpuError('usage', `FusedSgd: ${opts.groups.length} groups for ${s} tensors; give one entry per tensor`);
    const seg = new Float32Array(2 * s);
    for (let t = 0; t < s; t++) {
      const g = opts.groups?.[t] ?? {};
      seg[2 * t] = g.lrScale ?? 1;
      seg[2 * t + 1] = g.weightDecay ?? wd;
      checkNonNeg(seg[2 * t]!, `groups[${t}].lrScale`);
      checkNonNeg(seg[2 * t + 1]!, `groups[${t}].weightDecay`);
    }
    // Owned for the optimizer's lifetime, whatever tidy scope created it.
    this.blockSeg = gpu.keep(gpu.tensor(layout.blockSegment, [layout.blockSegment.length], 'u32'));
    this.segments = gpu.keep(gpu.tensor(seg, [s, 2]));
    this.buffer = this.momentum !== 0 ? gpu.keep(gpu.empty([layout.total])) : null;
    this.spare = this.momentum !== 0 ? null : gpu.keep(gpu.empty([4]));
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.stepsTaken;
  }

  /** Forgets the momentum: the next step starts a new buffer (as a fresh torch.optim.SGD). */
  reset(): void {
    this.stepsTaken = 0;
  }

  /**
   * Marks the momentum buffer as already started (e.g. restored from a checkpoint with gpu.write), so
   * the next step continues it (buf = μ·buf + (1 − dampening)·d) instead of initialising it.
   */
  markStarted(steps = 1): void {
    if (!(Number.isInteger(steps) && steps >= 1)) throw new GpuError('usage', `FusedSgd.markStarted: steps must be an integer >= 1, got ${steps}`);
    this.stepsTaken = Math.max(this.stepsTaken, steps);
  }

  /** One SGD step over the whole arena, in place on `param`: a single dispatch (one per binding-sized run of blocks when the arena is larger). */
  step(param: GpuTensor, grad: GpuTensor, lr: number): void {
    checkNonNeg(lr, 'lr');
    const n = this.layout.total;
    if (param.size !== n || grad.size !== n || param.dtype !== 'f32' || grad.dtype !== 'f32') {
      throw new GpuError('usage', `FusedSgd.step: param ${param} and grad ${grad} must be f32 arenas of ${n} elements (planParamArena's total)`);
    }
    if (param === grad) throw new GpuError('usage', 'FusedSgd.step: param and grad must be different buffers');
    for (const { blocks, at } of arenaRuns(this.gpu, 'FusedSgd.step', n / ARENA_ALIGN)) {
      this.gpu.dispatch(sgdStepKernel, {
        bind: { blockSeg: at(this.blockSeg, 1), segments: this.segments, grad: at(grad), param: at(param), mom: this.buffer ? at(this.buffer) : this.spare! },
        uniforms: { params: { blocks, lr, momentum: this.momentum, dampening: this.dampening, first: this.stepsTaken === 0 ? 1 : 0 } },
        overrides: { WG, MOMENTUM: this.momentum !== 0 ? 1 : 0, NESTEROV: this.nesterov ? 1 : 0 },
        workgroups: elementGrid(this.gpu, blocks, 1),
      });
    }
    this.stepsTaken++;
  }

  /** Frees the tables and the momentum arena. */
  release(): void {
    for (const t of [this.blockSeg, this.segments, this.buffer, this.spare]) t?.release();
  }
}
