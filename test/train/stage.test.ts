/**
 * stageVolume — the one staging path of `voxelgrad predict` and the page: the ensemble is the mean of
 * each model's predictVolume on the training preprocessing; attention weights for the attention head;
 * clear errors for checkpoints that cannot be staged.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { diagonalAffine, type Volume } from '../../src/data/volume.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { encodeSafetensors } from '../../src/model/safetensors.js';
import { prepareVolume } from '../../src/train/cohort.js';
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { predictVolume } from '../../src/train/inference.js';
import { type StagedVolume, checkpointConfig, stageVolume } from '../../src/train/stage.js';
import { DEFAULT_LOSS, buildModel } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';

const base: ExperimentConfig = {
  model: 'f-rMC5', head: 'attention', width: 2, epochs: 2, sliceEpochs: 1, batchSize: 2, lr: 0.01, momentum: 0.9, weightDecay: 0.01,
  schedule: 'cosine', loss: { ...DEFAULT_LOSS }, oversample: true, augment: false, tta: 1, headLrScale: 10, seed: 0,
  inputSize: 16, depth: 4, biasField: false, folds: 2, valFraction: 0,
};

function volume(): Volume {
  const dims: [number, number, number] = [5, 20, 24];
  const rng = new Rng(9);
  const data = Float32Array.from({ length: dims[0] * dims[1] * dims[2] }, () => 100 + 20 * rng.normal());
  return { data, dims, spacing: [3, 0.8, 0.8], affine: diagonalAffine([3, 0.8, 0.8]), warnings: [] };
}

describe('stageVolume', () => {
  it('averages the fold models on the training preprocessing, with attention weights', async () => {
    const gpu = await testGpu();
    const cfgs = [base, { ...base, seed: 1 }];
    const ckpts = [];
    for (const [i, cfg] of cfgs.entries()) {
      const m = buildModel(cfg).materialize(gpu, new Rng(20 + i));
      ckpts.push({ name: `fold-${i}`, bytes: await saveCheckpoint(m, { config: cfg }) });
      m.release();
    }
    const vol = volume();
    const staged = await stageVolume(gpu, vol, ckpts);
    const prepared = prepareVolume(vol, { size: 16, biasField: false });
    expect(staged.prepared.dims).toEqual([5, 16, 16]);
    expect(Array.from(staged.prepared.data)).toEqual(Array.from(prepared.data));
    const singles: StagedVolume[] = [];
    for (const ck of ckpts) singles.push(await stageVolume(gpu, vol, [ck]));
    for (const [i, ck] of ckpts.entries()) {
      const m = buildModel(base).materialize(gpu, new Rng(0));
      loadCheckpoint(gpu, m, ck.bytes);
      const p = await predictVolume(gpu, m, prepared.data, prepared.dims);
      m.release();
      expect(singles[i]!.probabilityT3).toBe(p.prob);
      expect(staged.modelProbabilities[i]).toBe(p.prob);
    }
    expect(staged.probabilityT3).toBeCloseTo((singles[0]!.probabilityT3 + singles[1]!.probabilityT3) / 2, 12);
    staged.sliceProbabilities.forEach((p, d) => expect(p).toBeCloseTo((singles[0]!.sliceProbabilities[d]! + singles[1]!.sliceProbabilities[d]!) / 2, 6));
    expect(staged.predicted).toBe(staged.probabilityT3 >= 0.5 ? 'T3' : 'T2');
    // Attention: [C, D] with C = 8·width, each channel a distribution over the 5 slices.
    const att = staged.attention!;
    expect(att.channels).toBe(16);
    expect(att.weights.length).toBe(16 * 5);
    for (let c = 0; c < 16; c++) expect(att.weights.subarray(c * 5, c * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(att.perSlice.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(staged.saliency.length).toBe(5 * 16 * 16);
  });

  it('gives no attention for other heads, and the slice head scores its focus slices', async () => {
    const gpu = await testGpu();
    const cfg: ExperimentConfig = { ...base, head: 'slice' };
    const m = buildModel(cfg).materialize(gpu, new Rng(3));
    const ck = { name: 'slice', bytes: await saveCheckpoint(m, { config: cfg }) };
    m.release();
    const s = await stageVolume(gpu, volume(), [ck], { focusSlices: [1, 3] });
    expect(s.attention).toBeNull();
    expect(s.probabilityT3).toBeCloseTo((s.sliceProbabilities[1]! + s.sliceProbabilities[3]!) / 2, 6);
    await expect(stageVolume(gpu, volume(), [ck], { focusSlices: [5] })).rejects.toThrow(/below 5/);
  });

  it('refuses checkpoints it cannot stage, with a message naming them', async () => {
    const gpu = await testGpu();
    const garbage = { name: 'junk.safetensors', bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    expect(() => checkpointConfig(garbage)).toThrow(InputError);
    expect(() => checkpointConfig(garbage)).toThrow(/junk\.safetensors is not a readable safetensors checkpoint/);
    const noConfig = { name: 'weights.safetensors', bytes: encodeSafetensors(new Map(), { format: 'pt' }) };
    expect(() => checkpointConfig(noConfig)).toThrow(/weights\.safetensors has no voxelgrad configuration/);
    const a = buildModel(base).materialize(gpu, new Rng(1));
    const ckA = { name: 'a', bytes: await saveCheckpoint(a, { config: base }) };
    const ckB = { name: 'b', bytes: await saveCheckpoint(a, { config: { ...base, inputSize: 24 } }) };
    a.release();
    await expect(stageVolume(gpu, volume(), [ckA, ckB])).rejects.toThrow(/b was trained with input 24×24.*a with input 16×16/);
    await expect(stageVolume(gpu, volume(), [])).rejects.toThrow(InputError);
  });
});
