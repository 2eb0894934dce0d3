/**
 * Host memory over 1,000 training steps after a warm-up (bench/soak.ts: a tiny f-rMC5 + bilinear with GPU
 * augmentation and a learning rate that changes every step). The goal: RSS growth ≤ 5 MB over the
 * 1,000 steps. RSS is the whole process's, so run this bench alone (`--only memory`) for a clean figure.
 * `ms` is the median step time. Two runs: RSS sampled as it is (what a user watching `top` sees,
 * garbage not yet collected included), and RSS sampled after `sync` and a full collection (what stays
 * allocated). Growth is a Theil–Sen slope × 1,000 (see soak.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { table } from './harness.js';
import type { BenchRecord } from './record.js';
import { type SoakResult, soak } from './soak.js';

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<BenchRecord[]> {
  const warmup = opts.quick ? 200 : 300;
  // Two runs: RSS as a user sees it (garbage included), then what stays allocated (quiet, after a full GC).
  // Every step sampled: the runtime's GC hint comes every ~24 steps, and sampling every k steps would alias
  // with it (a drifting phase between the two reads as a slope).
  const plain = await soak(gpu, { warmup, steps: 1000, sampleEvery: 1 });
  const quiet = await soak(gpu, { warmup: 50, steps: 1000, quiescent: true });
  const row = (label: string, r: SoakResult) => [
    label,
    r.warmup,
    r.steps,
    r.stepMs,
    `${r.rssMiB[0].toFixed(1)}→${r.rssMiB[1].toFixed(1)}`,
    r.rssGrowthMiB,
    r.heapGrowthMiB,
    r.collections,
    r.buffersCreated,
    r.pipelinesCreated,
  ];
  console.log(
    table(
      [
        'tiny f-rMC5 + bilinear, GPU augmentation',
        'warm-up',
        'steps',
        'step ms',
        'RSS first→last MiB',
        'RSS growth MiB',
        'heap growth MiB',
        'GC hints',
        'buffers created',
        'pipelines created',
      ],
      [row('RSS sampled as it is', plain), row('RSS after sync + full GC', quiet)],
    ),
  );
  const rec = (name: string, r: SoakResult): BenchRecord => ({
    name,
    shape: [4, 1, 4, 32, 32],
    ms: r.stepMs,
    memory: {
      warmupSteps: r.warmup,
      steps: r.steps,
      rssGrowthMiB: r.rssGrowthMiB,
      heapGrowthMiB: r.heapGrowthMiB,
      rssMiB: r.rssMiB,
      collections: r.collections,
      buffersCreated: r.buffersCreated,
    },
  });
  return [rec('training soak (f-rMC5 width 1 + bilinear, GPU augmentation): RSS as sampled', plain), rec('training soak: RSS after sync + full GC', quiet)];
}
