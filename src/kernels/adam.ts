/**
 * Adam / AdamW (torch.optim.Adam / AdamW, as adam.ref.ts) as ONE fused dispatch per step over every
 * parameter of the model, on the same flat arena layout as the fused SGD (sgd.ts `planParamArena`): the
 * parameters, gradients and both moment buffers share one layout, each tensor on a 1,024-float block
 * boundary, and per-tensor settings (lr multiplier, weight decay) come from a block → tensor table.
 * The bias corrections depend on the step count, so the host folds them into two uniforms per step.
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, elementGrid } from './define.js';
import { fill } from './elementwise.js';
import { ARENA_ALIGN, arenaRuns, type ParamArenaLayout } from './sgd.js';

export const adamStepKernel = defineKernel({
  name: 'adam-step',
  shader: 'adam/step',
  bindings: { params: 'uniform', blockSeg: 'read', segments: 'read', grad: 'read', param: 'read_write', m: 'read_write', v: 'read_write' },
});

const WG = ARENA_ALIGN / 4;

export interface AdamOptions {
  /** Learning rate ≥ 0. */
  lr: number;
  /** β1, β2 in [0, 1) (defaults 0.9, 0.999, PyTorch's). */
  beta1?: number;
  beta2?: number;
  /** ε > 0 (default 1e-8). */
  eps?: number;
  /** Weight decay ≥ 0 (default 0). */
  weightDecay?: number;
  /** true: AdamW's decoupled decay p·(1 − lr·wd); false: Adam's L2 term added to the gradient. Default true. */
  decoupled?: boolean;
}

/** Checks and fills the options (shared with the float64 reference adam.ref.ts so both reject the same input). */
export function adamOptions(o: AdamOptions, who = 'adam'): Required<AdamOptions> {
  const r = { lr: o.lr, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0, decoupled: o.decoupled ?? true };
  if (!(r.lr >= 0) || !Number.isFinite(r.lr)) throw new Error(`${who}: lr must be a finite number >= 0, got ${r.lr}`);
  for (const k of ['beta1', 'beta2'] as const) if (!(r[k] >= 0 && r[k] < 1)) throw new Error(`${who}: ${k} must be in [0, 1), got ${r[k]}`);
  if (!(r.eps > 0) || !Number.isFinite(r.eps)) throw new Error(`${who}: eps must be a finite number > 0, got ${r.eps}`);
  if (!(r.weightDecay >= 0) || !Number.isFinite(r.weightDecay)) throw new Error(`${who}: weightDecay must be a finite number >= 0, got ${r.weightDecay}`);
  return r;
}

export interface AdamGroup {
  /** Multiplier of the step's learning rate for this tensor (default 1). */
  lrScale?: number;
  /** Weight decay of this tensor (default: the optimizer's weightDecay). */
  weightDecay?: number;
}

export interface FusedAdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Weight decay (default 0). */
  weightDecay?: number;
  /** AdamW's decoupled decay (default true) or Adam's L2 term. */
  decoupled?: boolean;
  /** Per-tensor overrides, one entry per tensor of the layout (PyTorch's param groups). */
  groups?: readonly AdamGroup[];
}

/** The optimizer state for one arena layout: tables, both moment arenas (zero at the start), the step count. */
export class FusedAdam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly decoupled: boolean;
  /** First and second moment arenas (exp_avg, exp_avg_sq). */
  readonly m: GpuTensor;
  readonly v: GpuTensor;
  private stepsTaken = 0;
  private readonly blockSeg: GpuTensor<'u32'>;
  private readonly segments: GpuTensor;

  constructor(
    readonly gpu: Gpu,
    readonly layout: ParamArenaLayout,
    opts: FusedAdamOptions = {},
  ) {
    const o = adamOptions({ lr: 0, ...opts }, 'FusedAdam');
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.eps = o.eps;
    this.decoupled = o.decoupled;
    const s = layout.sizes.length;
    if (opts.groups && opts.groups.length !== s)
      throw new GpuError('usage', `FusedAdam: ${opts.groups.length} groups for ${s} tensors; give one entry per tensor`);
    const seg = new Float32Array(2 * s);
    for (let t = 0; t < s; t++) {
      const g = opts.groups?.[t] ?? {};
      seg[2 * t] = g.lrScale ?? 1;
      seg[2 * t + 1] = g.weightDecay ?? o.weightDecay;
      for (const [k, x] of [
        ['lrScale', seg[2 * t]!],
        ['weightDecay', seg[2 * t + 1]!],
      ] as const) {
        if (!(x >= 0) || !Number.isFinite(x)) throw new GpuError('usage', `FusedAdam groups[${t}].${k} must be a finite number >= 0, got ${x}`);
      }
    }
    this.blockSeg = gpu.keep(gpu.tensor(layout.blockSegment, [layout.blockSegment.length], 'u32'));
    this.segments = gpu.keep(gpu.tensor(seg, [s, 2]));
    this.m = gpu.keep(fill(gpu.empty([layout.total]), 0));
    this.v = gpu.keep(fill(gpu.empty([layout.total]), 0));
  }

  /** Steps taken so far (the bias corrections use steps + 1 on the next step). */
  get steps(): number {
    return this.stepsTaken;
  }

  /**
   * Sets the step count, e.g. after restoring the moment arenas from a checkpoint with gpu.write, so the
   * next step's bias corrections continue where the saved run stopped.
   */
  setSteps(steps: number): void {
    if (!(Number.isInteger(steps) && steps >= 0)) throw new GpuError('usage', `FusedAdam.setSteps: steps must be an integer >= 0, got ${steps}`);
    this.stepsTaken = steps;
  }

  /** One Adam(W) step over the whole arena, in place on `param` (and the moments): a single dispatch (one per binding-sized run of blocks when the arena is larger). */
  step(param: GpuTensor, grad: GpuTensor, lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new GpuError('usage', `FusedAdam lr must be a finite number >= 0, got ${lr}`);
    const n = this.layout.total;
    if (param.size !== n || grad.size !== n || param.dtype !== 'f32' || grad.dtype !== 'f32') {
      throw new GpuError('usage', `FusedAdam.step: param ${param} and grad ${grad} must be f32 arenas of ${n} elements (planParamArena's total)`);
    }
    if (param === grad) throw new GpuError('usage', 'FusedAdam.step: param and grad must be different buffers');
    const t = this.stepsTaken + 1;
    for (const { blocks, at } of arenaRuns(this.gpu, 'FusedAdam.step', n / ARENA_ALIGN)) {
      this.gpu.dispatch(adamStepKernel, {
        bind: { blockSeg: at(this.blockSeg, 1), segments: this.segments, grad: at(grad), param: at(param), m: at(this.m), v: at(this.v) },
        uniforms: {
          params: {
            blocks,
            lr,
            beta1: this.beta1,
            beta2: this.beta2,
            eps: this.eps,
            stepSize: lr / (1 - this.beta1 ** t),
            bc2Sqrt: Math.sqrt(1 - this.beta2 ** t),
          },
        },
        overrides: { WG, DECOUPLED: this.decoupled ? 1 : 0 },
        workgroups: elementGrid(this.gpu, blocks, 1),
      });
    }
    this.stepsTaken = t;
  }

  /** Frees the tables and the moment arenas. */
  release(): void {
    for (const x of [this.blockSeg, this.segments, this.m, this.v]) x.release();
  }
}
