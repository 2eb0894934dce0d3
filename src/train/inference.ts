/**
 * Single-volume inference with a gradient saliency map (browser-safe; used by `voxelgrad predict` and
 * the web page). Saliency = |∂(T3 logit)/∂(input voxel)| — the volume logit for aggregation heads, the
 * sum of the slice logits for the slice head — computed in eval mode (running BN statistics).
 */
import type { Gpu } from '../gpu/gpu.js';
import { backward, leaf } from '../graph/autograd.js';
import * as F from '../graph/functional.js';
import type { StagingNet } from '../model/resnet.js';

/**
 * The network produced NaN or ±Inf where a probability was expected. Never reported as a probability: the
 * weights were checked finite on load, so this is a numerical failure on this input (exit code 1).
 */
export class NonFiniteOutputError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly what: string,
    readonly values: number[],
  ) {
    super(
      `the model's ${what} is not a number (${values.slice(0, 4).join(', ')}${values.length > 4 ? ', …' : ''}); no probability can be given for this input. ` +
        'Check the volume (extreme intensities?) and the checkpoint (voxelgrad inspect FILE)',
    );
    this.name = 'NonFiniteOutputError';
  }
}

/** Throws NonFiniteOutputError unless every value is finite. */
export function requireFinite(what: string, values: ArrayLike<number>): void {
  const bad: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) bad.push(values[i]!);
  if (bad.length) throw new NonFiniteOutputError(what, bad);
}

export interface VolumePrediction {
  /** P(T3) of the volume (aggregation head) or the mean slice probability over `focusSlices` / all slices. */
  prob: number;
  sliceProbs: number[];
  /** [D, H, W] non-negative saliency, same grid as the input. */
  saliency: Float32Array;
  /**
   * Attention head only: the depth attention A[c, d] of eq. (4)–(5) as a [C, D] array (each channel's
   * weights over the D slices sum to 1) — the features are their own attention logits, so A is the
   * softmax over D of the slice features the head aggregates.
   */
  attention?: Float32Array;
}

/** `volume` is [D, H, W] already preprocessed to the model's in-plane size. */
export async function predictVolume(
  gpu: Gpu,
  model: StagingNet,
  volume: Float32Array,
  dims: [number, number, number],
  focusSlices?: readonly number[],
): Promise<VolumePrediction> {
  model.eval();
  try {
    return await gpu.tidy(async () => {
      const x = leaf(gpu.tensor(volume, [1, 1, ...dims]), true, 'input');
      const out = model.forward(x);
      const sliceProb = F.sigmoid(out.sliceLogits).retain();
      const volProb = out.volumeLogits ? F.sigmoid(out.volumeLogits).retain() : null;
      const wantAttention = model.config.head === 'attention';
      if (wantAttention) out.sliceEmbedding.retain(); // read after the backward pass
      const target = out.volumeLogits ?? F.sum(out.sliceLogits);
      backward(target);
      const grad = await x.grad!.read();
      const sliceProbs = Array.from(await sliceProb.read());
      let attention: Float32Array | undefined;
      if (wantAttention) {
        // sliceEmbedding is [D, C] (row d); the head aggregates its transpose [1, C, D].
        const emb = await out.sliceEmbedding.read();
        const [D, C] = out.sliceEmbedding.shape as [number, number];
        attention = depthSoftmax(emb, D, C);
      }
      const focus = focusSlices?.length ? focusSlices : sliceProbs.map((_, i) => i);
      requireFinite('per-slice probability', sliceProbs);
      const prob = volProb ? (await volProb.read())[0]! : focus.reduce((a, i) => a + sliceProbs[i]!, 0) / focus.length;
      requireFinite('volume probability', [prob]);
      x.release();
      const saliency = new Float32Array(grad.length);
      for (let i = 0; i < grad.length; i++) saliency[i] = Math.abs(grad[i]!);
      requireFinite('saliency', saliency);
      return { prob, sliceProbs, saliency, ...(attention ? { attention } : {}) };
    });
  } finally {
    model.zeroGrad();
    model.train();
  }
}

/**
 * The attention head's weights A[c, d] = softmax over d of f[d, c] (eq. 4–5: the features are their own
 * logits), from the [D, C] slice features, as a [C, D] array; max-subtracted for stability.
 */
function depthSoftmax(f: Float32Array, D: number, C: number): Float32Array {
  const a = new Float32Array(C * D);
  for (let c = 0; c < C; c++) {
    let m = -Infinity;
    for (let d = 0; d < D; d++) m = Math.max(m, f[d * C + c]!);
    let s = 0;
    for (let d = 0; d < D; d++) s += Math.exp(f[d * C + c]! - m);
    for (let d = 0; d < D; d++) a[c * D + d] = Math.exp(f[d * C + c]! - m) / s;
  }
  return a;
}
