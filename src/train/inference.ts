/**
 * Single-volume inference with a gradient saliency map (browser-safe; used by `voxelgrad predict` and
 * the web page). Saliency = |∂(T3 logit)/∂(input voxel)| — the volume logit for aggregation heads, the
 * sum of the slice logits for the slice head — computed in eval mode (running BN statistics).
 */
import type { Gpu } from '../gpu/gpu.js';
import { backward, leaf } from '../graph/autograd.js';
import * as F from '../graph/functional.js';
import type { StagingNet } from '../model/resnet.js';

export interface VolumePrediction {
  /** P(T3) of the volume (aggregation head) or the mean slice probability over `focusSlices` / all slices. */
  prob: number;
  sliceProbs: number[];
  /** [D, H, W] non-negative saliency, same grid as the input. */
  saliency: Float32Array;
}

/** `volume` is [D, H, W] already preprocessed to the model's in-plane size. */
export async function predictVolume(gpu: Gpu, model: StagingNet, volume: Float32Array, dims: [number, number, number], focusSlices?: readonly number[]): Promise<VolumePrediction> {
  model.eval();
  try {
    return await gpu.tidy(async () => {
      const x = leaf(gpu.tensor(volume, [1, 1, ...dims]), true, 'input');
      const out = model.forward(x);
      const sliceProb = F.sigmoid(out.sliceLogits).retain();
      const volProb = out.volumeLogits ? F.sigmoid(out.volumeLogits).retain() : null;
      const target = out.volumeLogits ?? F.sum(out.sliceLogits);
      backward(target);
      const grad = await x.grad!.read();
      const sliceProbs = Array.from(await sliceProb.read());
      const focus = focusSlices?.length ? focusSlices : sliceProbs.map((_, i) => i);
      const prob = volProb ? (await volProb.read())[0]! : focus.reduce((a, i) => a + sliceProbs[i]!, 0) / focus.length;
      x.release();
      const saliency = new Float32Array(grad.length);
      for (let i = 0; i < grad.length; i++) saliency[i] = Math.abs(grad[i]!);
      return { prob, sliceProbs, saliency };
    });
  } finally {
    model.zeroGrad();
    model.train();
  }
}
