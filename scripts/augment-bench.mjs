#!/usr/bin/env node
// Times training-time augmentation of one batch, GPU (src/kernels/augment.ts augmentBatchGpu) against
// the CPU path the trainer uses today (applyAugmentCpu per volume, as src/cli/train.ts cpuAugment), on
// the same parameter sets: the CLI's distribution (augmentConfigForSize) and every op on (worst case).
// GPU time = augmentBatchGpu on a batch already on the device, synchronised (the trainer uploads the
// batch anyway); it includes the per-batch table upload and the host-side elastic noise. Pipelines are
// compiled in a warm-up first (every parameter set once: a median window size is its own pipeline). Then one profiled run lists the time per kernel.
// Usage (after `npm run build`): node scripts/augment-bench.mjs [--reps 3] [--json out.json]
import { writeFileSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const load = async (p) => {
  try {
    return await import(new URL(p, dist).href);
  } catch (e) {
    process.stderr.write(`augment-bench: cannot load dist/${p} (${e.message}); run 'npm run build' first\n`);
    process.exit(2);
  }
};
const { acquireNodeGpu } = await load('src/gpu/acquire.node.js');
const { augmentBatchGpu } = await load('src/kernels/augment.js');
const { AUGMENTATION_NAMES, applyAugmentCpu, augmentConfig, augmentConfigForSize, sampleAugmentParams } = await load('src/data/augment-params.js');
const { Rng } = await load('src/util/rng.js');
const { table } = await load('bench/harness.js');

const args = process.argv.slice(2);
let reps = 3;
let json = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--reps') reps = Number(args[++i]);
  else if (args[i] === '--json') json = args[++i];
  else {
    process.stderr.write('usage: node scripts/augment-bench.mjs [--reps 3] [--json out.json]\n');
    process.exit(2);
  }
}

const SHAPES = [
  [8, 1, 12, 48, 48],
  [4, 1, 24, 256, 256],
];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const gpu = await acquireNodeGpu();
process.stdout.write(`adapter: ${gpu.adapter.description}\n`);
const rows = [];
const records = [];
for (const shape of SHAPES) {
  const [B, , D, H, W] = shape;
  const n = D * H * W;
  const rng = new Rng(1234 + H);
  const host = rng.uniformArray(B * n, 0, 1000);
  const vols = Array.from({ length: B }, (_, b) => ({ data: host.slice(b * n, (b + 1) * n), dims: [D, H, W], spacing: [1, 1, 1], affine: [], warnings: [] }));
  const x = gpu.tensor(host, shape);
  const allOn = augmentConfig(Object.fromEntries(AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])));
  for (const [label, config] of [
    ['training (CLI config)', augmentConfigForSize(H)],
    ['all 14 on', allOn],
  ]) {
    const sets = Array.from({ length: reps + 1 }, () => vols.map(() => sampleAugmentParams(rng, config)));
    // Warm-up: every set once, so every pipeline variant (median window K, conv axis) is compiled.
    for (const set of sets) augmentBatchGpu(gpu, x, set).release();
    await gpu.sync();
    const gpuMs = [];
    const cpuMs = [];
    for (let r = 1; r <= reps; r++) {
      await gpu.sync();
      let t = performance.now();
      const y = augmentBatchGpu(gpu, x, sets[r]);
      await gpu.sync();
      gpuMs.push(performance.now() - t);
      y.release();
      t = performance.now();
      for (let b = 0; b < B; b++) applyAugmentCpu(vols[b], sets[r][b]);
      cpuMs.push(performance.now() - t);
    }
    const g = median(gpuMs);
    const c = median(cpuMs);
    rows.push([`[${shape.join(',')}]`, label, c, g, c / g]);
    records.push({ name: `augment ${label}`, shape, ms: g, ratio: { cpuMs: c, speedup: c / g } });
    if (label === 'all 14 on') {
      gpu.startProfiling();
      augmentBatchGpu(gpu, x, sets[1]).release();
      const prof = await gpu.stopProfiling();
      const top = prof.kernels.slice(0, 6).map((k) => `${k.kernel} ${k.totalMs.toFixed(1)} ms`);
      process.stdout.write(`[${shape.join(',')}] all on, per kernel (${prof.source}): ${top.join(', ')}\n`);
    }
  }
  x.release();
}
process.stdout.write(`\n${table(['batch', 'parameters', 'CPU ms', 'GPU ms', 'CPU/GPU'], rows)}\n`);
if (json) writeFileSync(json, JSON.stringify({ adapter: gpu.adapter.description, reps, records }, null, 2));
gpu.destroy();
