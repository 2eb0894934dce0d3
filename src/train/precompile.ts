/**
 * Compiling ahead: the pipelines that staging a volume or training with a configuration will need are
 * enumerated by running that work once with dispatches recorded instead of encoded (`gpu.planPipelines`,
 * a throw-away model of the same shapes, nothing compiled or run), then created with
 * `createComputePipelineAsync` while the caller does something else (a page loading, a file being
 * chosen). The first real step then finds its pipelines ready instead of waiting for the shader compiler.
 */
import type { Gpu, PipelineKey } from '../gpu/gpu.js';
import { leaf, noGrad } from '../graph/autograd.js';
import type { Optimizer } from '../model/optimizer.js';
import type { StagingNet } from '../model/resnet.js';
import { Rng } from '../util/rng.js';
import { gpuAugment } from './augment.js';
import type { ExperimentConfig } from './experiment.js';
import { predictVolume } from './inference.js';
import { buildModel, makeOptimizer, trainStep } from './trainer.js';

export interface PrecompileWork {
  /** Staging volumes of these slice counts (predictVolume: forward + saliency backward). */
  stageDepths?: readonly number[];
  /** Training steps (both stages, GPU augmentation) and the hold-out/TTA forward at the config's shapes. */
  train?: boolean;
}

export interface PrecompileResult {
  /** Distinct pipelines the work uses. */
  pipelines: number;
  /** Of those, compiled now (the rest existed already). */
  compiled: number;
  planMs: number;
  compileMs: number;
}

/** The pipelines `work` with `cfg`'s model needs on this adapter (nothing is compiled). */
export async function planWork(gpu: Gpu, cfg: ExperimentConfig, work: PrecompileWork): Promise<PipelineKey[]> {
  let model: StagingNet | null = null;
  let optimizer: Optimizer | null = null;
  try {
    return await gpu.planPipelines(async () => {
      // Built inside the plan: initialising a model and an optimizer dispatches kernels too.
      model = buildModel(cfg).materialize(gpu, new Rng(0));
      optimizer = work.train ? makeOptimizer(gpu, model, cfg) : null;
      const S = cfg.inputSize;
      for (const D of work.stageDepths ?? []) await predictVolume(gpu, model, new Float32Array(D * S * S), [D, S, S]);
      if (optimizer) {
        const m = model;
        const B = cfg.batchSize;
        const D = cfg.depth;
        const shape: [number, number, number, number, number] = [B, 1, D, S, S];
        const batch = {
          data: new Float32Array(B * D * S * S),
          shape,
          labels: Array.from({ length: B }, (_, i) => (i % 2) as 0 | 1),
          ids: [],
          repSlices: Array.from({ length: B }, () => [D >> 1]),
        };
        const augment = cfg.augment ? gpuAugment(S, cfg.augmentSet) : null;
        // Several augmentation draws: which optional passes run depends on the random parameters.
        for (const stage of ['slice', 'volume'] as const) {
          for (let i = 0; i < (augment ? 4 : 1); i++) {
            const r = new Rng(i + 1);
            await trainStep({ model: m, optimizer, batch, loss: cfg.loss, lr: cfg.lr, stage, augment: augment ? (raw) => augment(gpu, raw, r) : undefined });
          }
        }
        m.eval();
        await gpu.tidy(() => noGrad(() => m.forward(leaf(gpu.tensor(batch.data, shape), false)).sliceLogits.read()));
        m.train();
      }
    });
  } finally {
    (model as StagingNet | null)?.release();
    (optimizer as Optimizer | null)?.release();
  }
}

/** Plans `work` and compiles its pipelines asynchronously; resolves when they are all ready. */
export async function precompileWork(gpu: Gpu, cfg: ExperimentConfig, work: PrecompileWork): Promise<PrecompileResult> {
  const t0 = performance.now();
  const keys = await planWork(gpu, cfg, work);
  const t1 = performance.now();
  const compiled = await gpu.precompile(keys);
  return { pipelines: keys.length, compiled, planMs: t1 - t0, compileMs: performance.now() - t1 };
}
