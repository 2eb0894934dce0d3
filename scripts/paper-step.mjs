#!/usr/bin/env node
// Training steps of the paper preset (f-rMC5 + bilinear, width 32, batch 4 × 1×24×256×256, GPU
// augmentation, the trainer's own trainStep) on one adapter, to check that the paper's batch fits an
// adapter's limits and what a step costs there. Needs a build (`npm run build`: dist/).
//   node scripts/paper-step.mjs [--limits adapter|core] [--batch 4] [--steps 2] [--adapter NAME]
// Prints the adapter and its binding/buffer limits, then per step: seconds, loss and peak live tensor
// bytes. With the same seed every adapter must print the same losses (to f32 rounding).
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    limits: { type: 'string', default: 'adapter' },
    batch: { type: 'string', default: '4' },
    steps: { type: 'string', default: '2' },
    adapter: { type: 'string' },
  },
});
const root = new URL('../dist/', import.meta.url);
const load = (p) => import(new URL(p, root).href);
const { acquireNodeGpu } = await load('src/gpu/acquire.node.js');
const { presetConfig } = await load('src/train/presets.js');
const { buildModel, makeOptimizer, trainStep } = await load('src/train/trainer.js');
const { gpuAugment } = await load('src/train/augment.js');
const { Rng } = await load('src/util/rng.js');

const gpu = await acquireNodeGpu({ limits: values.limits, ...(values.adapter ? { adapter: values.adapter } : {}) });
const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log(
  `${gpu.adapter.description}; limits ${values.limits}: bindings ${mib(gpu.limits.maxStorageBufferBindingSize)}, buffers ${mib(gpu.limits.maxBufferSize)}; load ${loadavg()[0].toFixed(2)}`,
);
const cfg = { ...presetConfig('paper'), batchSize: Number(values.batch) };
const rng = new Rng(1);
const model = buildModel(cfg).materialize(gpu, rng);
model.train();
const optimizer = makeOptimizer(gpu, model, cfg);
const B = cfg.batchSize;
const shape = [B, 1, cfg.depth, cfg.inputSize, cfg.inputSize];
const batch = {
  data: rng.normalArray(B * cfg.depth * cfg.inputSize * cfg.inputSize),
  shape,
  labels: Array.from({ length: B }, (_, i) => i % 2),
  ids: [],
  repSlices: Array.from({ length: B }, () => [cfg.depth >> 1]),
};
const augment = gpuAugment(cfg.inputSize, cfg.augmentSet);
const augRng = new Rng(2);
for (let i = 0; i < Number(values.steps); i++) {
  const t0 = performance.now();
  const loss = await trainStep({ model, optimizer, batch, loss: cfg.loss, lr: cfg.lr, stage: 'volume', augment: (raw) => augment(gpu, raw, augRng) });
  console.log(`step ${i}: ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${loss.toFixed(5)}, peak live tensors ${mib(gpu.memory().peakLiveBytes)}`);
}
process.exit(0);
