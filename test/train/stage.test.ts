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
import { centralStart, depthWindow } from '../../src/train/dataset.js';
import { predictVolume } from '../../src/train/inference.js';
import { type StagedVolume, checkpointConfig, stageVolume } from '../../src/train/stage.js';
import { buildModel } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';
import { smallConfig } from '../helpers/config.js';

const base: ExperimentConfig = smallConfig();

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
  it('a volume-level model tested on central crops sees the same central crop here, mapped back onto the stack', async () => {
    const gpu = await testGpu();
    for (const [D, depth] of [
      [5, 3],
      [4, 4],
      [3, 5],
    ] as const) {
      const cfg: ExperimentConfig = { ...base, depth, testInput: 'central' };
      const m = buildModel(cfg).materialize(gpu, new Rng(31));
      const ck = { name: 'central', bytes: await saveCheckpoint(m, { config: cfg }) };
      const v0 = volume();
      const vol: Volume = { ...v0, data: v0.data.subarray(0, D * 20 * 24), dims: [D, 20, 24] };
      const staged = await stageVolume(gpu, vol, [ck]);
      const prepared = prepareVolume(vol, { size: 16, biasField: false });
      const start = centralStart(D, depth);
      const crop = depthWindow(prepared.data, prepared.dims, start, depth);
      const p = await predictVolume(gpu, m, crop, [depth, 16, 16]);
      m.release();
      expect(staged.inputSlices).toEqual([Math.max(0, start), Math.min(D, start + depth)]);
      expect(staged.probabilityT3).toBe(p.prob);
      expect(staged.prepared.dims).toEqual([D, 16, 16]);
      staged.sliceProbabilities.forEach((q, d) => {
        if (d < start || d >= start + depth) expect(q, `slice ${d}`).toBeNaN();
        else expect(q, `slice ${d}`).toBe(p.sliceProbs[d - start]);
      });
      // Saliency: the crop's, slice for slice; zero on slices the model did not see.
      const plane = 256;
      for (let d = 0; d < D; d++) {
        const got = staged.saliency.subarray(d * plane, (d + 1) * plane);
        if (d < start || d >= start + depth)
          expect(
            got.every((x) => x === 0),
            `slice ${d}`,
          ).toBe(true);
        else expect(Array.from(got)).toEqual(Array.from(p.saliency.subarray((d - start) * plane, (d - start + 1) * plane)));
      }
      // Attention is a distribution over the stack's slices (repeated edge slices add to their slice).
      const a = staged.attention!;
      for (let c = 0; c < a.channels; c++) {
        let sum = 0;
        for (let d = 0; d < D; d++) sum += a.weights[c * D + d]!;
        expect(sum).toBeCloseTo(1, 5);
      }
    }
    // A window-tested or slice-head model still sees the whole stack.
    for (const cfg of [
      { ...base, depth: 3 },
      { ...base, depth: 3, head: 'slice' as const, testInput: 'central' as const },
    ]) {
      const m = buildModel(cfg).materialize(gpu, new Rng(32));
      const staged = await stageVolume(gpu, volume(), [{ name: 'w', bytes: await saveCheckpoint(m, { config: cfg }) }]);
      m.release();
      expect(staged.inputSlices).toEqual([0, 5]);
      expect(staged.sliceProbabilities.every(Number.isFinite)).toBe(true);
    }
  });
});
