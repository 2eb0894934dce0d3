/**
 * SGD with momentum and weight decay (torch.optim.SGD semantics; the paper: lr 0.01, weight decay 0.01)
 * over every parameter of a model in one fused dispatch per step.
 *
 * The parameters are moved into one flat arena (each parameter tensor becomes a view of it, 4 KiB
 * aligned), so the update kernel sees a single buffer; gradients are copied into a matching grad arena
 * before the step (one small copy per parameter).
 */
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { copy, fill } from '../kernels/elementwise.js';
import { FusedSgd, planParamArena } from '../kernels/sgd.js';
import type { Param } from './module.js';

export { lrAt } from '../kernels/sgd.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Per-parameter learning-rate multiplier by name (PyTorch param groups), e.g. a faster classifier head. */
  lrScale?: (name: string) => number;
}

type F32 = GpuTensor<'f32'>;

export class SGD {
  readonly names: string[];
  private readonly params: Param[];
  private readonly arena: F32;
  private readonly gradArena: F32;
  private readonly views: F32[];
  private readonly gradViews: F32[];
  private readonly fused: FusedSgd;
  private readonly layout: ReturnType<typeof planParamArena>;

  constructor(
    readonly gpu: Gpu,
    named: [string, Param][],
    readonly options: SgdOptions,
  ) {
    this.names = named.map(([n]) => n);
    this.params = named.map(([, p]) => p);
    this.layout = planParamArena(this.params.map((p) => p.size));
    this.arena = gpu.keep(fill(gpu.empty([this.layout.total], 'f32'), 0));
    this.gradArena = gpu.keep(fill(gpu.empty([this.layout.total], 'f32'), 0));
    this.views = [];
    this.gradViews = [];
    this.params.forEach((p, i) => {
      const off = this.layout.offsets[i]!;
      const view = this.arena.viewAt(off, p.shape);
      const t = p.value;
      copy(t.data, view);
      t.data.release();
      t.data = view;
      this.views.push(view);
      this.gradViews.push(this.gradArena.viewAt(off, p.shape));
    });
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
    this.params.forEach((p, i) => {
      const g = p.value.grad;
      if (g) copy(g, this.gradViews[i]!);
      else fill(this.gradViews[i]!, 0);
    });
    this.fused.step(this.arena, this.gradArena, lr);
  }

  /** Momentum buffers per parameter name (for checkpoints); empty before the first step. */
  async momentumBuffers(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (!this.fused.buffer || this.fused.steps === 0) return out;
    const all = await this.fused.buffer.read();
    this.params.forEach((p, i) => {
      const off = this.layout.offsets[i]!;
      out.set(this.names[i]!, (all as Float32Array).slice(off, off + p.size));
    });
    return out;
  }

  /** Restores momentum from a checkpoint (the next step continues the buffer instead of starting it). */
  loadMomentum(m: Map<string, Float32Array>): void {
    if (m.size === 0 || !this.fused.buffer) return;
    const img = new Float32Array(this.layout.total);
    this.names.forEach((n, i) => {
      const b = m.get(n);
      if (!b) throw new Error(`checkpoint has momentum for some parameters but not '${n}'`);
      img.set(b, this.layout.offsets[i]!);
    });
    this.gpu.write(this.fused.buffer, img);
    this.fused.markStarted();
  }

  /** Frees the optimizer state and the parameter arena: the model's parameters are unusable afterwards. */
  release(): void {
    this.fused.release();
    this.gradArena.release();
    this.arena.release();
  }
}
