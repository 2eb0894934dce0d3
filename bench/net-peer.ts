/**
 * Whole-network peers: the same network, with the same weights as ours (copied from our freshly
 * initialised model, in our names and layouts), so the peer's outputs can be checked against ours
 * before it is timed:
 * - forward (eval mode, running statistics 0/1): the volume probabilities and the slice logits;
 * - training step (from the same weights, first step, so SGD's momentum buffer is the gradient):
 *   the loss, and every parameter's update Δw = −lr·(∇w + wd·w), which checks all the gradients.
 */
import type { ModelName } from '../src/model/resnet.js';

export type Shape5 = [number, number, number, number, number];

export interface NetSpec {
  name: ModelName;
  /** Convolution kind of the stem and of stages 2–5 ('2d' = 1×k×k, '3d' = 3×k×k). */
  kinds: readonly ('2d' | '3d')[];
  width: number;
  input: Shape5;
  /** Our parameters by name (conv1.weight, layer1.0.bn1.bias, …, fc.*, head_fc.*) in our layouts, and their order. */
  weights: Map<string, Float32Array>;
  shapes: Map<string, readonly number[]>;
  /** SGD and loss settings of the trainer. */
  lr: number;
  momentum: number;
  weightDecay: number;
  gamma: number;
  margin: number;
  sliceLossWeight: number;
  triplet: number;
}

export interface NetBatch {
  /** [N, 1, D, H, W] row-major. */
  data: Float32Array;
  labels: number[];
  /** Flat rows n·D + d of the representative slices, and their labels. */
  repRows: number[];
  repLabels: number[];
}

export interface NetRun {
  /** One forward (eval) or training step, including upload and the small readback a trainer does. */
  run(): Promise<unknown>;
  sync(): Promise<void>;
  /**
   * The check's outputs (call once, before timing): forward → { prob: [N], sliceLogits: [N·D] };
   * step → { loss: [1], update: every parameter's Δw in `weights` order, concatenated }.
   */
  outputs(): Promise<Record<string, Float32Array>>;
  /** The most bytes its tensors held during the runs so far, less its level before (if it can tell). */
  peakBytes?(): number;
  /** Its trainable parameter count. */
  parameterCount?: number;
  dispose(): void | Promise<void>;
}

export interface NetPeer {
  readonly name: string;
  readonly version: string;
  /** Why it cannot run this kind on this network (null: it can). */
  support(spec: NetSpec, kind: 'fwd' | 'step'): string | null;
  prepare(spec: NetSpec, kind: 'fwd' | 'step', batch: NetBatch): Promise<NetRun>;
}
