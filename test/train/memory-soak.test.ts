/**
 * Host memory over many training steps (the bench with the goal is bench/memory.bench.ts: RSS
 * growth ≤ 5 MB over 1,000 steps after a warm-up). Here, shorter and looser, on the same soak: no device
 * buffer is created per step once warm (uniforms go through one arena, readbacks reuse their buffers),
 * the Node garbage-collection hint runs (Dawn's bind groups hold host memory until their JS wrappers are
 * collected), and RSS stays within a loose bound.
 */
import { describe, expect, it } from 'vitest';
import { soak } from '../../bench/soak.js';
import { testGpu } from '../helpers/gpu.js';

describe('host memory over a training', async () => {
  const gpu = await testGpu();

  // The RSS bound is only a backstop against gross leaks (~300 KB per step would fail it): in this early
  // window (steps 60–300 of a fresh process) the quiet RSS drifts by 4–40 MB from run to run on a loaded
  // 2-core host (glibc arenas, lavapipe's threads, V8 growing old space), leak or not; after 300 steps of
  // warm-up the bench reads 2–6 MB per 1,000 steps. The causes fixed in issue 16 are pinned exactly: no
  // device buffer or pipeline created per step, and the garbage-collection hint running.
  it('240 steps of a tiny f-rMC5 + bilinear with GPU augmentation: no device buffer or pipeline created per step, the GC hint runs, RSS (quiet, after a full GC) within a 72 MB backstop', async () => {
    expect(gpu.options.collectGarbage, 'acquireNodeGpu passes V8 garbage collection to the runtime').toBeTypeOf('function');
    const r = await soak(gpu, { warmup: 60, steps: 240, sampleEvery: 20, quiescent: true });
    console.log(
      `soak: ${r.steps} steps after ${r.warmup}, ${r.stepMs.toFixed(1)} ms/step, RSS ${r.rssMiB[0].toFixed(1)} → ${r.rssMiB[1].toFixed(1)} MiB ` +
        `(Theil–Sen slope ${r.rssGrowthMiB.toFixed(1)} MiB over the steps; heap ${r.heapGrowthMiB.toFixed(1)} MiB), ${r.collections} GC hints, ${r.buffersCreated} buffers and ${r.pipelinesCreated} pipelines created`,
    );
    expect(r.buffersCreated).toBe(0);
    expect(r.pipelinesCreated).toBe(0);
    expect(r.collections).toBeGreaterThanOrEqual(3);
    expect(r.rssGrowthMiB).toBeLessThan(72);
  });
});
