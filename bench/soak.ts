/**
 * Host memory over a long training: a tiny f-rMC5 + bilinear network (width 1, batch 4 × 1×4×32×32) trained
 * step after step by the trainer's own `trainStep`, with the GPU augmentation drawing fresh random
 * parameters every step (so every augmentation kernel gets new uniform values, as in real training) and
 * the learning rate changing every step. After `warmup` steps the process's RSS and JS heap are sampled
 * every `sampleEvery` steps; growth is the Theil–Sen slope over the samples × the step count (one
 * garbage-collection swing moves a single sample by 10–20 MB, the median of pairwise slopes hardly). Device objects are
 * counted too: buffers created per step after the warm-up should be none (the pool, the uniform arena and
 * the readback buffers are reused) — each costs Dawn ~8 KB of host memory until its JS wrapper is
 * collected, which a small JS heap rarely triggers.
 * Used by bench/memory.bench.ts (1,000 steps, the goal ≤ 5 MB) and test/train/memory-soak.test.ts.
 */
import { augmentConfigForSize, sampleAugmentParams } from '../src/data/augment-params.js';
import type { Gpu } from '../src/gpu/gpu.js';
import { registeredKernels } from '../src/kernels/all.js';
import { augmentBatchGpu } from '../src/kernels/augment.js';
import { SGD } from '../src/model/optimizer.js';
import { StagingNet } from '../src/model/resnet.js';
import type { Batch } from '../src/train/dataset.js';
import { DEFAULT_LOSS, trainStep } from '../src/train/trainer.js';
import { Rng } from '../src/util/rng.js';

export interface SoakResult {
  warmup: number;
  steps: number;
  /** RSS and heapUsed growth over `steps` (least-squares slope × steps), MiB. */
  rssGrowthMiB: number;
  heapGrowthMiB: number;
  /** First and last RSS sample, MiB. */
  rssMiB: [number, number];
  /** Garbage-collection hints the runtime gave during the measured steps (not counting `quiescent`'s). */
  collections: number;
  /** Device buffers created during the measured steps. */
  buffersCreated: number;
  /** Compute pipelines compiled during the measured steps (a new override combination of a kernel). */
  pipelinesCreated: number;
  /** Median wall time of one step, ms. */
  stepMs: number;
}

const MiB = 1024 * 1024;

/**
 * Theil–Sen slope: the median of the slopes between every pair of samples. RSS jumps by 10–20 MB for a
 * sample or two now and then (the driver's and the heap's allocations come and go); a least-squares line
 * follows such jumps, the median of pairwise slopes does not.
 */
function slope(xs: number[], ys: number[]): number {
  const s: number[] = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) s.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
  if (!s.length) return 0;
  s.sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface SoakOptions {
  warmup: number;
  steps: number;
  sampleEvery?: number;
  /**
   * Sample RSS at a quiet point instead: after the GPU has finished (`sync`) and a full garbage
   * collection (the runtime's hint, when it has one), so a sample is what stays allocated — not the
   * driver's in-flight work nor garbage not yet collected (those swing single samples by 10–40 MB).
   * The extra collections change what the plain RSS would show, so a bench measures the two in separate runs.
   */
  quiescent?: boolean;
}

export async function soak(gpu: Gpu, opts: SoakOptions): Promise<SoakResult> {
  const every = opts.sampleEvery ?? 25;
  const rng = new Rng(20261206);
  const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, rng.fork());
  const optimizer = new SGD(gpu, [...model.namedParameters()], { lr: 0.01, momentum: 0.9, weightDecay: 0.01 });
  const shape: Batch['shape'] = [4, 1, 4, 32, 32];
  const batch: Batch = {
    data: Float32Array.from(rng.normalArray(4 * 4 * 32 * 32)),
    shape,
    labels: [0, 1, 1, 0],
    ids: ['a', 'b', 'c', 'd'],
    repSlices: [[1], [2], [1, 2], [3]],
  };
  const augConfig = augmentConfigForSize(32);
  // Which augmentation kernels run depends on the random parameters; a rare one would otherwise compile
  // inside the measured window, and a first compilation's JIT memory is not growth. Compile every
  // augmentation pipeline that has no override constants up front. (A volume no op fires on, ~1 step in
  // 700, is copied by the generic copy kernel, which every optimizer step has compiled already.)
  for (const def of registeredKernels()) {
    if (!def.name.startsWith('augment-')) continue;
    const k = gpu.kernel(def);
    if (k.iface.overrides.size === 0 || [...k.iface.overrides.keys()].every((o) => o in k.defaults)) k.pipeline();
  }
  const device = gpu.device as GPUDevice & { createBuffer: GPUDevice['createBuffer'] };
  const createBuffer = device.createBuffer;
  let created = 0;
  device.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    created++;
    return createBuffer.call(this, d);
  };
  const createPipeline = device.createComputePipeline;
  let pipelines = 0;
  let pipelinesAtStart = 0;
  device.createComputePipeline = function (this: GPUDevice, d: GPUComputePipelineDescriptor) {
    pipelines++;
    return createPipeline.call(this, d);
  };
  let step = 0;
  let collections = 0;
  const hint = gpu.options.collectGarbage;
  if (hint) {
    gpu.options.collectGarbage = () => {
      hint();
      if (step >= opts.warmup) collections++;
    };
  }
  const xs: number[] = [];
  const rss: number[] = [];
  const heap: number[] = [];
  const times: number[] = [];
  let createdAtStart = 0;
  try {
    const total = opts.warmup + opts.steps;
    for (let i = 0; i < total; i++) {
      step = i;
      if (i === opts.warmup) {
        createdAtStart = created;
        pipelinesAtStart = pipelines;
      }
      const t0 = performance.now();
      const loss = await trainStep({
        model,
        optimizer,
        batch,
        loss: DEFAULT_LOSS,
        // A cosine-like schedule that moves every step: the SGD kernel's uniforms never repeat.
        lr: 0.01 * (0.55 + 0.45 * Math.cos((Math.PI * i) / total)),
        stage: 'volume',
        augment: (raw) =>
          augmentBatchGpu(
            gpu,
            raw,
            Array.from({ length: shape[0] }, () => sampleAugmentParams(rng, augConfig)),
          ),
      });
      if (!Number.isFinite(loss)) throw new Error(`soak: the loss became ${loss} at step ${i}`);
      times.push(performance.now() - t0);
      if (i >= opts.warmup && (i - opts.warmup) % every === 0) {
        if (opts.quiescent) {
          await gpu.sync();
          hint?.();
        }
        const m = process.memoryUsage();
        xs.push(i - opts.warmup);
        rss.push(m.rss / MiB);
        heap.push(m.heapUsed / MiB);
      }
    }
  } finally {
    gpu.options.collectGarbage = hint;
    device.createBuffer = createBuffer;
    device.createComputePipeline = createPipeline;
    optimizer.release();
    model.release();
  }
  const measured = times.slice(opts.warmup).sort((a, b) => a - b);
  return {
    warmup: opts.warmup,
    steps: opts.steps,
    rssGrowthMiB: slope(xs, rss) * opts.steps,
    heapGrowthMiB: slope(xs, heap) * opts.steps,
    rssMiB: [rss[0]!, rss[rss.length - 1]!],
    collections,
    buffersCreated: created - createdAtStart,
    pipelinesCreated: pipelines - pipelinesAtStart,
    stepMs: measured[measured.length >> 1]!,
  };
}
