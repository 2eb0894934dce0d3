/**
 * The optimizers over every parameter of a model, each one fused dispatch per step: SGD with momentum
 * and weight decay (torch.optim.SGD semantics; the paper: lr 0.01, weight decay 0.01) and Adam / AdamW
 * (torch.optim.Adam / AdamW).
 *
 * The parameters are moved into one flat arena (each parameter tensor becomes a view of it, 4 KiB
 * aligned), so the update kernel sees a single buffer; gradients are copied into a matching grad arena
 * before the step (one small copy per parameter).
 */
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { type AdamOptions as AdamStepOptions, FusedAdam } from '../kernels/adam.js';
import { copy, fill } from '../kernels/elementwise.js';
import { FusedSgd, planParamArena } from '../kernels/sgd.js';
import type { Param } from './module.js';

export { lrAt } from '../kernels/sgd.js';

type F32 = GpuTensor<'f32'>;

/** What the trainer needs of an optimizer: a step at a learning rate, its state for checkpoints, release. */
/** The optimizers a run can use. */
export const OPTIMIZER_NAMES = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface Optimizer {
  readonly gpu: Gpu;
  readonly names: string[];
  step(lr: number): void;
  /**
   * The optimizer's state per key, for a checkpoint (saved as `optimizer.momentum.<key>` tensors).
   * SGD: the momentum buffer under each parameter name. Adam: see Adam.momentumBuffers.
   */
  momentumBuffers(): Promise<Map<string, Float32Array>>;
  /** Restores what momentumBuffers returned. */
  loadMomentum(m: Map<string, Float32Array>): void;
  release(): void;
}

/** The shared part: parameters moved into one arena, and a matching grad arena gathered before each step. */
abstract class ArenaOptimizer {
  readonly names: string[];
  protected readonly params: Param[];
  protected readonly arena: F32;
  protected readonly gradArena: F32;
  private readonly gradViews: F32[];
  protected readonly layout: ReturnType<typeof planParamArena>;

  constructor(
    readonly gpu: Gpu,
    named: [string, Param][],
  ) {
    this.names = named.map(([n]) => n);
    this.params = named.map(([, p]) => p);
    this.layout = planParamArena(this.params.map((p) => p.size));
    this.arena = gpu.keep(fill(gpu.empty([this.layout.total], 'f32'), 0));
    this.gradArena = gpu.keep(fill(gpu.empty([this.layout.total], 'f32'), 0));
    this.gradViews = [];
    this.params.forEach((p, i) => {
      const off = this.layout.offsets[i]!;
      const view = this.arena.viewAt(off, p.shape);
      const t = p.value;
      copy(t.data, view);
      t.data.release();
      t.data = view;
      this.gradViews.push(this.gradArena.viewAt(off, p.shape));
    });
  }

  /** Copies each parameter's `.grad` into the grad arena (parameters without one get 0). */
  protected gatherGrads(): void {
    this.params.forEach((p, i) => {
      const g = p.value.grad;
      if (g) copy(g, this.gradViews[i]!);
      else fill(this.gradViews[i]!, 0);
    });
  }

  /** Splits an arena image into one array per parameter name. */
  protected split(all: Float32Array): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.params.forEach((p, i) => {
      const off = this.layout.offsets[i]!;
      out.set(this.names[i]!, all.slice(off, off + p.size));
    });
    return out;
  }

  /** The arena image of per-parameter arrays looked up by `key(name)`; a missing one is an error. */
  protected pack(m: Map<string, Float32Array>, key: (name: string) => string, what: string): Float32Array {
    const img = new Float32Array(this.layout.total);
    this.names.forEach((n, i) => {
      const b = m.get(key(n));
      if (!b) throw new Error(`checkpoint has ${what} for some parameters but not '${n}'`);
      if (b.length !== this.params[i]!.size) throw new Error(`checkpoint ${what} of '${n}' has ${b.length} values, the parameter ${this.params[i]!.size}`);
      img.set(b, this.layout.offsets[i]!);
    });
    return img;
  }

  protected releaseArenas(): void {
    this.gradArena.release();
    this.arena.release();
  }
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Per-parameter learning-rate multiplier by name (PyTorch param groups), e.g. a faster classifier head. */
  lrScale?: (name: string) => number;
}

export class SGD extends ArenaOptimizer implements Optimizer {
  private readonly fused: FusedSgd;

  constructor(
    gpu: Gpu,
    named: [string, Param][],
    readonly options: SgdOptions,
  ) {
    super(gpu, named);
    this.fused = new FusedSgd(gpu, this.layout, {
      momentum: options.momentum ?? 0,
      weightDecay: options.weightDecay ?? 0,
      dampening: options.dampening ?? 0,
      nesterov: options.nesterov ?? false,
      ...(options.lrScale ? { groups: this.names.map((n) => ({ lrScale: options.lrScale!(n) })) } : {}),
    });
  }

  /** One step with learning rate `lr` using each parameter's `.grad` (parameters without one get 0). */
  step(lr = this.options.lr): void {
    this.gatherGrads();
    this.fused.step(this.arena, this.gradArena, lr);
  }

  /** Momentum buffers per parameter name (for checkpoints); empty before the first step. */
  async momentumBuffers(): Promise<Map<string, Float32Array>> {
    if (!this.fused.buffer || this.fused.steps === 0) return new Map();
    return this.split((await this.fused.buffer.read()) as Float32Array);
  }

  /** Restores momentum from a checkpoint (the next step continues the buffer instead of starting it). */
  loadMomentum(m: Map<string, Float32Array>): void {
    if (m.size === 0 || !this.fused.buffer) return;
    this.gpu.write(
      this.fused.buffer,
      this.pack(m, (n) => n, 'momentum'),
    );
    this.fused.markStarted();
  }

  /** Frees the optimizer state and the parameter arena: the model's parameters are unusable afterwards. */
  release(): void {
    this.fused.release();
    this.releaseArenas();
  }
}

/** The step's options (kernels/adam.ts: lr, β1, β2, ε, weight decay, decoupled) and per-parameter scaling. */
export interface AdamOptions extends AdamStepOptions {
  /** Per-parameter learning-rate multiplier by name (PyTorch param groups). */
  lrScale?: (name: string) => number;
}

/** Keys of Adam's state in momentumBuffers(): the step count and both moments per parameter. */
export const ADAM_STATE_KEYS = { step: 'adam.step', m: (name: string) => `adam.exp_avg.${name}`, v: (name: string) => `adam.exp_avg_sq.${name}` } as const;

export class Adam extends ArenaOptimizer implements Optimizer {
  private readonly fused: FusedAdam;

  constructor(
    gpu: Gpu,
    named: [string, Param][],
    readonly options: AdamOptions,
  ) {
    super(gpu, named);
    this.fused = new FusedAdam(gpu, this.layout, {
      ...(options.beta1 !== undefined ? { beta1: options.beta1 } : {}),
      ...(options.beta2 !== undefined ? { beta2: options.beta2 } : {}),
      ...(options.eps !== undefined ? { eps: options.eps } : {}),
      weightDecay: options.weightDecay ?? 0,
      decoupled: options.decoupled ?? true,
      ...(options.lrScale ? { groups: this.names.map((n) => ({ lrScale: options.lrScale!(n) })) } : {}),
    });
  }

  get steps(): number {
    return this.fused.steps;
  }

  step(lr = this.options.lr): void {
    this.gatherGrads();
    this.fused.step(this.arena, this.gradArena, lr);
  }

  /**
   * The whole Adam state (empty before the first step): `adam.step` (one value) and
   * `adam.exp_avg.<param>` / `adam.exp_avg_sq.<param>` per parameter. Saved as checkpoint tensors, these
   * are refused on loading by a checkpoint reader that only knows SGD momentum named by parameter, so a
   * resumed Adam run fails loudly there instead of continuing with lost moments.
   */
  async momentumBuffers(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (this.fused.steps === 0) return out;
    out.set(ADAM_STATE_KEYS.step, Float32Array.of(this.fused.steps));
    for (const [n, b] of this.split((await this.fused.m.read()) as Float32Array)) out.set(ADAM_STATE_KEYS.m(n), b);
    for (const [n, b] of this.split((await this.fused.v.read()) as Float32Array)) out.set(ADAM_STATE_KEYS.v(n), b);
    return out;
  }

  /** Restores what momentumBuffers returned: both moments and the step count (bias corrections continue). */
  loadMomentum(m: Map<string, Float32Array>): void {
    if (m.size === 0) return;
    const step = m.get(ADAM_STATE_KEYS.step);
    if (!step || step.length !== 1 || !(Number.isInteger(step[0]) && step[0]! >= 1)) {
      throw new Error(`checkpoint has no valid Adam step count ('${ADAM_STATE_KEYS.step}'); it was not written by an Adam run`);
    }
    this.gpu.write(this.fused.m, this.pack(m, ADAM_STATE_KEYS.m, 'Adam exp_avg'));
    this.gpu.write(this.fused.v, this.pack(m, ADAM_STATE_KEYS.v, 'Adam exp_avg_sq'));
    this.fused.setSteps(step[0]!);
  }

  release(): void {
    this.fused.release();
    this.releaseArenas();
  }
}
