/**
 * Compiling ahead: planPipelines records the pipelines of a piece of work without compiling or running
 * anything, precompile creates them asynchronously, and the real work afterwards creates no pipeline
 * synchronously and gives the same numbers as without precompiling.
 */
import { describe, expect, it } from 'vitest';
import { acquireNodeGpu } from '../../src/gpu/acquire.node.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { predictVolume } from '../../src/train/inference.js';
import { planWork, precompileWork } from '../../src/train/precompile.js';
import { buildModel } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { smallConfig } from '../helpers/config.js';

const cfg: ExperimentConfig = smallConfig({ augment: true, augmentSet: 'light' });

/** Counts synchronous and asynchronous pipeline creations on a device. */
function countCreations(gpu: Gpu): { sync: number; async: number } {
  const n = { sync: 0, async: 0 };
  const dev = gpu.device as GPUDevice & Record<string, unknown>;
  const sync = dev.createComputePipeline.bind(dev);
  const async_ = dev.createComputePipelineAsync.bind(dev);
  dev.createComputePipeline = (d: GPUComputePipelineDescriptor) => (n.sync++, sync(d));
  dev.createComputePipelineAsync = (d: GPUComputePipelineDescriptor) => (n.async++, async_(d));
  return n;
}

async function stageOnce(gpu: Gpu) {
  const model = buildModel(cfg).materialize(gpu, new Rng(5));
  const vol = new Rng(6).normalArray(6 * 16 * 16);
  try {
    return await predictVolume(gpu, model, vol, [6, 16, 16]);
  } finally {
    model.release();
  }
}

describe('compiling pipelines ahead', () => {
  it('plans without compiling or running, precompiles asynchronously, and the real work then compiles nothing', async () => {
    const cold = await acquireNodeGpu();
    const warm = await acquireNodeGpu();
    try {
      const reference = await stageOnce(cold);
      const n = countCreations(warm);
      const keys = await planWork(warm, cfg, { stageDepths: [6], train: true });
      expect(n).toEqual({ sync: 0, async: 0 });
      const names = new Set(keys.map((k) => k.def.name));
      expect(names.size).toBeGreaterThan(10);
      for (const k of ['depth-attention-forward', 'depth-attention-backward-x']) expect(names, k).toContain(k);
      const r = await precompileWork(warm, cfg, { stageDepths: [6] });
      expect(r.compiled).toBeGreaterThan(0);
      expect(n.async).toBe(r.compiled);
      expect(n.sync).toBe(0);
      const again = await precompileWork(warm, cfg, { stageDepths: [6] });
      expect(again.compiled).toBe(0); // all there already
      const staged = await stageOnce(warm);
      expect(n.sync).toBe(0);
      expect(staged.prob).toBe(reference.prob);
      expect(Array.from(staged.saliency)).toEqual(Array.from(reference.saliency));
      expect(Array.from(staged.attention!)).toEqual(Array.from(reference.attention!));
    } finally {
      cold.destroy();
      warm.destroy();
    }
  });
});
