#!/usr/bin/env node
// Runs a training recipe through voxelgrad's own run pipeline (runExperiment, the code `voxelgrad train`
// runs, with its report: central-crop metrics and, for a synthetic cohort, where the saliency falls) on a
// manifest, then scores every fold's model on its hold-out volumes two more ways for comparison:
//   window — the volume cut to `depth` slices around its representative slices (needs the annotation);
//   whole  — the whole stack at once (needs neither label nor annotation, like the central crop).
// Needs `npm run build`. Usage:
//   node scripts/confirm-recipe.mjs --manifest M --out RUN [--config '{"epochs":12,...}'] [--adapter lavapipe]
// The config is the cpu demo preset's with the given fields replaced. Writes RUN/confirm.json beside the
// run's report.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readVolumeFile } from '../dist/src/data/io.node.js';
import { acquireNodeGpu } from '../dist/src/gpu/acquire.node.js';
import { loadCheckpoint } from '../dist/src/model/checkpoint.js';
import { stackFromVolume } from '../dist/src/train/cohort.js';
import { readManifest, syntheticTruthBeside } from '../dist/src/train/cohort.node.js';
import { fitDepth } from '../dist/src/train/dataset.js';
import { DirStore } from '../dist/src/train/dir-store.node.js';
import { binaryMetrics } from '../dist/src/train/metrics.js';
import { presetConfig } from '../dist/src/train/presets.js';
import { runExperiment } from '../dist/src/train/run.js';
import { buildModel, predict } from '../dist/src/train/trainer.js';
import { Rng } from '../dist/src/util/rng.js';

const { values: opt } = parseArgs({
  options: {
    manifest: { type: 'string' },
    out: { type: 'string' },
    config: { type: 'string', default: '{}' },
    adapter: { type: 'string', default: 'auto' },
  },
});
if (!opt.manifest || !opt.out) {
  console.error('usage: node scripts/confirm-recipe.mjs --manifest M --out RUN [--config JSON] [--adapter A]');
  process.exit(2);
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const base = presetConfig('cpu');
const over = JSON.parse(opt.config);
const cfg = { ...base, ...over, loss: { ...base.loss, ...(over.loss ?? {}) } };
const t0 = performance.now();
const log = (s) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg().join(' ')}] ${s}\n`);

// Each volume preprocessed once, as `train` loads it, keeping the whole stack.
const rows = readManifest(opt.manifest);
const loadOpts = { size: cfg.inputSize, depth: cfg.depth, biasField: cfg.biasField, testInput: 'central' };
const stacks = rows.map((row) => stackFromVolume(row, readVolumeFile(row.file), loadOpts));
const samples = stacks.map((s) => fitDepth(s, cfg.depth));
log(`loaded ${samples.length} volumes`);

const gpu = await acquireNodeGpu(opt.adapter === 'auto' ? {} : { adapter: opt.adapter });
const store = new DirStore(opt.out);
const truth = syntheticTruthBeside(opt.manifest, cfg);
const run = await runExperiment({
  gpu,
  store,
  cfg,
  samples,
  events: { onEpoch: (f, s) => log(`fold ${f} epoch ${s.epoch}: loss ${s.trainLoss.toFixed(4)} (${s.seconds.toFixed(0)} s)`) },
  report: { startedAt: t0, ...(truth ? { truth } : {}) },
});
if (!run.report) throw new Error(`folds ${run.missing.join(', ')} did not finish`);

// The window and whole-stack scores of each fold's final model on its hold-out volumes.
const byId = new Map(stacks.map((s) => [s.id, s]));
const window = new Map(samples.map((s) => [s.id, s]));
const folds = [];
for (const o of run.outcomes) {
  const model = buildModel(cfg).materialize(gpu, new Rng(0));
  loadCheckpoint(gpu, model, await store.read(`fold-${o.fold}/model.safetensors`), `fold-${o.fold}/model.safetensors`);
  const labels = o.testIds.map((id) => byId.get(id).label);
  const win = await predict(
    gpu,
    model,
    o.testIds.map((id) => window.get(id)),
    { tta: 1, batchSize: cfg.batchSize, seed: cfg.seed },
  );
  const whole = new Map();
  const byDepth = new Map();
  for (const id of o.testIds) byDepth.set(byId.get(id).dims[0], [...(byDepth.get(byId.get(id).dims[0]) ?? []), byId.get(id)]);
  for (const group of byDepth.values())
    for (const p of await predict(gpu, model, group, { tta: 1, batchSize: cfg.batchSize, seed: cfg.seed })) whole.set(p.id, p.prob);
  model.release();
  const f = {
    fold: o.fold,
    tested: o.metrics.auc,
    window: binaryMetrics(
      labels,
      win.map((p) => p.prob),
    ).auc,
    whole: binaryMetrics(
      labels,
      o.testIds.map((id) => whole.get(id)),
    ).auc,
  };
  log(
    `fold ${o.fold}: AUC ${cfg.testInput ?? 'window'} (as tested, TTA ×${cfg.tta}) ${f.tested.toFixed(4)}, window ${f.window.toFixed(4)}, whole stack ${f.whole.toFixed(4)}`,
  );
  folds.push(f);
}
const summary = {
  config: cfg,
  totalSeconds: (performance.now() - t0) / 1000,
  loadavgEnd: loadavg(),
  adapter: gpu.adapter.description,
  auc: run.report.summary.auc,
  sliceLevel: run.report.sliceLevel?.summary.auc ?? null,
  saliencyTruth: run.report.saliencyTruth ?? null,
  folds,
};
writeFileSync(join(opt.out, 'confirm.json'), JSON.stringify(summary, null, 1));
log(`done: ${join(opt.out, 'confirm.json')}, report ${store.path('report.html')}`);
gpu.destroy();
