/**
 * The paper's model family (Section 2.3, Table 2): ResNet-18 with 32 first-layer filters and one input
 * channel, stride never applied along depth, mapping [N, 1, D, H, W] → slice features [N, 256, D].
 *
 * Layers are numbered as in the paper: layer 1 = the stem, layers 2–5 = torchvision's layer1–layer4.
 * f-MCx: 3-D convolutions in layers 1…x−1, 2-D from layer x on; f-rMCx: the opposite.
 * f-R2D / f-R3D / f-R(2+1)D: all 2-D / 3-D / (2+1)-D.
 *
 * Heads: 'slice' — the shared FC per slice (one logit per slice, the f- models' training head);
 * 'avg' | 'max' | 'attention' | 'bilinear' — a depth aggregation then an FC to one volume logit.
 */
import * as F from '../graph/functional.js';
import type { Tensor } from '../graph/tensor.js';
import { BasicBlock, BatchNorm, type ConvKind, Conv2Plus1d, Conv3d, Linear } from './layers.js';
import { Module } from './module.js';

export const MODEL_NAMES = ['f-R2D', 'f-R3D', 'f-R(2+1)D', 'f-MC2', 'f-MC3', 'f-MC4', 'f-MC5', 'f-rMC2', 'f-rMC3', 'f-rMC4', 'f-rMC5'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export type HeadKind = 'slice' | 'avg' | 'max' | 'attention' | 'bilinear';
export const HEAD_KINDS: readonly HeadKind[] = ['slice', 'avg', 'max', 'attention', 'bilinear'];

export interface ModelConfig {
  name: ModelName;
  head: HeadKind;
  /** First-layer filters (the paper: 32); stages use w, 2w, 4w, 8w. Small values for tests/CPU. */
  width: number;
  inChannels: number;
}

export const PAPER_CONFIG: Omit<ModelConfig, 'name'> = { head: 'slice', width: 32, inChannels: 1 };

/** The convolution kind of each of the five layers for a model name. */
export function layerKinds(name: ModelName): [ConvKind, ConvKind, ConvKind, ConvKind, ConvKind] {
  if (name === 'f-R2D') return ['2d', '2d', '2d', '2d', '2d'];
  if (name === 'f-R3D') return ['3d', '3d', '3d', '3d', '3d'];
  if (name === 'f-R(2+1)D') return ['2+1d', '2+1d', '2+1d', '2+1d', '2+1d'];
  const m = /^f-(r?)MC([2-5])$/.exec(name);
  if (!m) throw new Error(`unknown model '${name}'; known: ${MODEL_NAMES.join(', ')}`);
  const reversed = m[1] === 'r';
  const x = Number(m[2]);
  return [1, 2, 3, 4, 5].map((layer) => {
    const early = layer < x;
    return (early !== reversed ? '3d' : '2d') as ConvKind;
  }) as [ConvKind, ConvKind, ConvKind, ConvKind, ConvKind];
}

export function parseModelName(s: string): ModelName {
  const hit = MODEL_NAMES.find((n) => n.toLowerCase() === s.toLowerCase() || n.slice(2).toLowerCase() === s.toLowerCase());
  if (!hit) throw new Error(`unknown model '${s}'; known: ${MODEL_NAMES.join(', ')}`);
  return hit;
}

export class StagingNet extends Module {
  readonly config: ModelConfig;
  readonly conv1: Conv3d | Conv2Plus1d;
  readonly bn1: BatchNorm;
  readonly layers: BasicBlock[][];
  /** The shared slice-wise FC (Table 2's models): 8w → 1 logit per slice. */
  readonly fc: Linear;
  /** The volume-level FC after the depth aggregation (volume heads only). */
  readonly headFc: Linear | null;
  readonly featureDim: number;
  /** Size of the volume embedding (C, or C² for bilinear); the slice embedding size for the slice head. */
  readonly embeddingDim: number;

  constructor(config: Partial<ModelConfig> & { name: ModelName }) {
    super();
    const cfg: ModelConfig = { ...PAPER_CONFIG, ...config };
    if (!Number.isInteger(cfg.width) || cfg.width < 1) throw new Error(`model width must be a positive integer, got ${cfg.width}`);
    this.config = cfg;
    const kinds = layerKinds(cfg.name);
    const w = cfg.width;
    if (kinds[0] === '2+1d') this.conv1 = this.child('conv1', new Conv2Plus1d(cfg.inChannels, w, 3, 7, [1, 2, 2], [1, 3, 3]));
    else {
      const kd = kinds[0] === '3d' ? 3 : 1;
      this.conv1 = this.child('conv1', new Conv3d(cfg.inChannels, w, [kd, 7, 7], [1, 2, 2], [(kd - 1) / 2, 3, 3]));
    }
    this.bn1 = this.child('bn1', new BatchNorm(w));
    const widths = [w, 2 * w, 4 * w, 8 * w];
    this.layers = [];
    let inC = w;
    widths.forEach((outC, i) => {
      const kind = kinds[i + 1]!;
      const stage = this.child(`layer${i + 1}`, new Stage([new BasicBlock(kind, inC, outC, i === 0 ? 1 : 2), new BasicBlock(kind, outC, outC, 1)]));
      this.layers.push(stage.blocks);
      inC = outC;
    });
    this.featureDim = 8 * w;
    this.embeddingDim = cfg.head === 'bilinear' ? this.featureDim * this.featureDim : this.featureDim;
    this.fc = this.child('fc', new Linear(this.featureDim, 1));
    this.headFc = cfg.head === 'slice' ? null : this.child('head_fc', new Linear(this.embeddingDim, 1));
  }

  /** [N, Cin, D, H, W] → slice features [N, 8w, D]. */
  features(x: Tensor): Tensor {
    if (x.shape.length !== 5 || x.shape[1] !== this.config.inChannels) {
      throw new Error(`${this.config.name} expects input [N, ${this.config.inChannels}, D, H, W], got [${x.shape.join(', ')}]`);
    }
    let h = this.bn1.forward(this.conv1.forward(x), true);
    h = F.maxPool3d(h, [1, 3, 3], [1, 2, 2], [0, 1, 1]);
    for (const stage of this.layers) for (const block of stage) h = block.forward(h);
    return F.planeAvgPool(h);
  }

  /**
   * Always: per-slice logits [N, D] from the shared FC and the slice embeddings [N·D, C] (row n·D + d).
   * Volume heads also give the volume logit [N] and the aggregated embedding [N, C'] (C' = C² for
   * bilinear); for the slice head those two are null.
   */
  forward(x: Tensor): NetOutput {
    const f = this.features(x); // [N, C, D]
    const [n, c, d] = f.shape as [number, number, number];
    const sliceEmbedding = F.reshape(F.transpose(f, 1, 2), [n * d, c]);
    const sliceLogits = F.reshape(this.fc.forward(sliceEmbedding), [n, d]);
    if (!this.headFc) return { sliceLogits, sliceEmbedding, volumeLogits: null, volumeEmbedding: null };
    const volumeEmbedding = F.depthAggregate(f, this.config.head as Exclude<HeadKind, 'slice'>);
    const volumeLogits = F.reshape(this.headFc.forward(volumeEmbedding), [n]);
    return { sliceLogits, sliceEmbedding, volumeLogits, volumeEmbedding };
  }
}

export interface NetOutput {
  sliceLogits: Tensor;
  sliceEmbedding: Tensor;
  volumeLogits: Tensor | null;
  volumeEmbedding: Tensor | null;
}

class Stage extends Module {
  constructor(readonly blocks: BasicBlock[]) {
    super();
    blocks.forEach((b, i) => this.child(String(i), b));
  }
}

/**
 * Table 2's parameter counts (extractor + the single-logit slice FC, 1×1×1 downsample). Volume heads
 * add their FC (C'+1). f-R(2+1)D: see README.
 */
export const PAPER_PARAMETER_COUNTS: Partial<Record<ModelName, number>> = {
  'f-R2D': 2_796_001,
  'f-R3D': 8_291_873,
  'f-R(2+1)D': 8_294_563,
  'f-MC2': 2_799_137,
  'f-MC3': 2_872_865,
  'f-MC4': 3_130_913,
  'f-MC5': 4_163_105,
  'f-rMC2': 8_288_737,
  'f-rMC3': 8_215_009,
  'f-rMC4': 7_956_961,
  'f-rMC5': 6_924_769,
};
