#!/usr/bin/env node
// Runs a training recipe through voxelgrad's own run pipeline (src/train/experiment.ts runFold, the code
// `voxelgrad train` runs) on a manifest, then scores every fold's model on its hold-out volumes three
// ways and measures where its saliency points:
//   window  — the volume cut to `depth` slices around its representative slices (what `train` reports);
//   central — the stack's central `depth` slices, whole — the whole stack: neither needs the label nor
//             the annotation (the test-time protocol a volume-level model should be judged by);
//   saliency near the criterion — for synthetic cohorts (cohort.json next to the manifest): the share of
//             |d logit / d input| within r mm of the tumour's outgrowth (T3: the breach), against the share
//             of the volume there (src/train/saliency-overlap.ts, src/data/synth-truth.ts).
// Needs `npm run build`. Usage:
//   node scripts/confirm-recipe.mjs --manifest M --out RUN [--config '{"epochs":12,...}'] [--adapter lavapipe] [--saliency 40]
// The config is the cpu demo preset's ExperimentConfig with the given fields replaced. Writes RUN/confirm.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireNodeGpu } from '../dist/src/gpu/acquire.node.js';
import { readVolumeFile } from '../dist/src/data/io.node.js';
import { prepareVolume, readManifest } from '../dist/src/cli/cohort.js';
import { checkRowAgainstVolume } from '../dist/src/data/manifest.js';
import { DirStore } from '../dist/src/cli/store.node.js';
import { cpuAugment, gpuAugment } from '../dist/src/cli/train.js';
import { PRESETS } from '../dist/src/cli/demo.js';
import { generateCohortSubject, planCohort } from '../dist/src/data/synth.js';
import { truthMasks } from '../dist/src/data/synth-truth.js';
import { prepareRun, runFold } from '../dist/src/train/experiment.js';
import { fitDepth } from '../dist/src/train/dataset.js';
import { loadCheckpoint } from '../dist/src/model/checkpoint.js';
import { predictVolume } from '../dist/src/train/inference.js';
import { binaryMetrics, rocAuc } from '../dist/src/train/metrics.js';
import { distanceToMask, saliencyNearRegion } from '../dist/src/train/saliency-overlap.js';
import { buildModel, predict } from '../dist/src/train/trainer.js';
import { Rng } from '../dist/src/util/rng.js';

const { values: opt } = parseArgs({
  options: {
    manifest: { type: 'string' },
    out: { type: 'string' },
    config: { type: 'string', default: '{}' },
    adapter: { type: 'string', default: 'auto' },
    saliency: { type: 'string', default: '40' },
    radii: { type: 'string', default: '0,3,6' },
  },
});
if (!opt.manifest || !opt.out) {
  console.error('usage: node scripts/confirm-recipe.mjs --manifest M --out RUN [--config JSON] [--adapter A] [--saliency N]');
  process.exit(2);
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const base = PRESETS.cpu.config;
const over = JSON.parse(opt.config);
const cfg = { ...base, ...over, loss: { ...base.loss, ...(over.loss ?? {}) } };
const radii = opt.radii.split(',').map(Number);
const t0 = performance.now();
const log = (s) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg().join(' ')}] ${s}\n`);

const rows = readManifest(opt.manifest);
// Each volume preprocessed once, as `train` loads it (src/cli/cohort.ts loadCohort: the same calls): the
// whole stack is kept for the annotation-free test inputs, the window around the representative slices
// is what training sees.
const stacks = rows.map((row) => {
  const vol = readVolumeFile(row.file);
  checkRowAgainstVolume(row, vol.dims);
  const v = prepareVolume(vol, { size: cfg.inputSize, biasField: cfg.biasField, ...(row.roi ? { roi: row.roi } : {}) });
  return {
    id: row.subject,
    label: row.label === 'T3' ? 1 : 0,
    volume: v.data,
    dims: v.dims,
    repSlices: row.slices,
    affine: v.affine,
    spacing: v.spacing,
    ...(row.fold !== undefined ? { fold: row.fold } : {}),
  };
});
const samples = stacks.map((s) =>
  fitDepth({ id: s.id, label: s.label, volume: s.volume, dims: s.dims, repSlices: s.repSlices, ...(s.fold !== undefined ? { fold: s.fold } : {}) }, cfg.depth),
);
const loadS = (performance.now() - t0) / 1000;
log(`loaded ${samples.length} volumes [${samples[0].dims.join(', ')}]`);

const central = (s) => {
  const [D, H, W] = s.dims;
  const start = D >= cfg.depth ? Math.floor((D - cfg.depth) / 2) : -Math.floor((cfg.depth - D) / 2);
  const out = new Float32Array(cfg.depth * H * W);
  for (let d = 0; d < cfg.depth; d++) {
    const src = Math.min(D - 1, Math.max(0, d + start));
    out.set(s.volume.subarray(src * H * W, (src + 1) * H * W), d * H * W);
  }
  return { ...s, volume: out, dims: [cfg.depth, H, W], repSlices: [Math.floor(cfg.depth / 2)] };
};

// Synthetic ground truth: regenerate each subject from cohort.json (the label comes from the manifest).
const cohortJson = join(dirname(opt.manifest), 'cohort.json');
const synth = existsSync(cohortJson) ? JSON.parse(readFileSync(cohortJson, 'utf8')).settings : null;
const plan = synth ? new Map(planCohort(synth).map((e) => [e.subject, e])) : null;

const gpu = await acquireNodeGpu(opt.adapter === 'auto' ? {} : { adapter: opt.adapter });
const store = new DirStore(opt.out);
const foldPlan = await prepareRun(store, cfg, samples);
const augmentBatch = cfg.augment ? gpuAugment(cfg.inputSize, cfg.augmentSet) : null;
const folds = [];
for (let fold = 0; fold < cfg.folds; fold++) {
  const tf = performance.now();
  const r = await runFold({
    gpu,
    store,
    config: cfg,
    samples,
    plan: foldPlan,
    fold,
    ...(cfg.augment ? { augment: cpuAugment(cfg.inputSize, cfg.augmentSet) } : {}),
    ...(augmentBatch ? { augmentBatch } : {}),
    events: { onEpoch: (f, s) => log(`fold ${f} epoch ${s.epoch}: loss ${s.trainLoss.toFixed(4)} (${s.seconds.toFixed(0)} s)`) },
  });
  const trainS = (performance.now() - tf) / 1000;
  log(`fold ${fold}: window AUC ${r.metrics.auc.toFixed(4)} accuracy ${r.metrics.accuracy.toFixed(4)} (${trainS.toFixed(0)} s)`);
  // The fold's final model, scored on central windows and whole stacks of its hold-out volumes.
  const model = buildModel(cfg).materialize(gpu, new Rng(0));
  loadCheckpoint(gpu, model, await store.read(`fold-${fold}/model.safetensors`), `fold-${fold}/model.safetensors`);
  const testIdx = foldPlan.splits[fold].test;
  const test = testIdx.map((i) => stacks[i]);
  const cen = await predict(gpu, model, test.map(central), { tta: 1, batchSize: cfg.batchSize, seed: cfg.seed });
  const byDepth = new Map();
  test.forEach((s) => byDepth.set(s.dims[0], [...(byDepth.get(s.dims[0]) ?? []), s]));
  const wholeProb = new Map();
  for (const group of byDepth.values())
    for (const p of await predict(gpu, model, group, { tta: 1, batchSize: cfg.batchSize, seed: cfg.seed })) wholeProb.set(p.id, p.prob);
  const labels = test.map((s) => s.label);
  const out = {
    fold,
    window: r.metrics,
    central: binaryMetrics(
      labels,
      cen.map((p) => p.prob),
    ),
    whole: binaryMetrics(
      labels,
      test.map((s) => wholeProb.get(s.id)),
    ),
    sliceRepAuc: rocAuc(
      r.predictions.map((p) => p.label),
      r.predictions.map((p, k) => {
        const s = samples[testIdx[k]];
        return s.repSlices.reduce((a, d) => a + p.sliceProbs[d], 0) / s.repSlices.length;
      }),
    ),
    trainSeconds: trainS,
    history: r.history,
  };
  // Saliency against the synthetic truth, on the window the model was scored on (T3 and T2 alike).
  if (plan && Number(opt.saliency) > 0) {
    const per = { T2: [], T3: [] };
    const want = Number(opt.saliency);
    for (const i of testIdx) {
      const s = samples[i];
      const key = s.label ? 'T3' : 'T2';
      if (per[key].length >= want) continue;
      const sub = generateCohortSubject(plan.get(s.id), synth);
      const row = rows[i];
      const pre = prepareVolume(sub.volume, { size: cfg.inputSize, biasField: cfg.biasField, ...(row.roi ? { roi: row.roi } : {}) });
      const fitted = fitDepth({ ...s, volume: pre.data, dims: pre.dims, repSlices: row.slices }, cfg.depth);
      let maxDiff = 0;
      for (let k = 0; k < fitted.volume.length; k++) maxDiff = Math.max(maxDiff, Math.abs(fitted.volume[k] - s.volume[k]));
      if (maxDiff > 1e-4) throw new Error(`${s.id}: the regenerated volume differs from the loaded one (${maxDiff}); not the same cohort`);
      const offset = row.slices[0] - fitted.repSlices[0];
      const truth = truthMasks(sub.anatomy, { dims: s.dims, affine: pre.affine }, { sliceOffset: offset });
      const p = await predictVolume(gpu, model, s.volume, s.dims, s.repSlices);
      const spacing = [pre.spacing[0], pre.spacing[1], pre.spacing[2]];
      const near = saliencyNearRegion(p.saliency, { distance: distanceToMask(truth.criterion, s.dims, spacing) }, s.dims, spacing, radii);
      const tumour = saliencyNearRegion(p.saliency, { mask: truth.tumour }, s.dims, spacing, [0]);
      per[key].push({ id: s.id, prob: p.prob, near, tumour: tumour[0] });
    }
    const summarise = (list) => ({
      n: list.length,
      byRadius: radii.map((r, k) => {
        const m = list
          .map((x) => x.near[k].mass)
          .filter(Number.isFinite)
          .sort((a, b) => a - b);
        const v = list.map((x) => x.near[k].volume).filter(Number.isFinite);
        const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
        return {
          radiusMm: r,
          meanMass: mean(m),
          medianMass: m[m.length >> 1],
          meanVolume: mean(v),
          meanTop1pct: mean(list.map((x) => x.near[k].top)),
          peakRate: mean(list.map((x) => (x.near[k].peak ? 1 : 0))),
        };
      }),
      tumourMass: list.reduce((a, x) => a + x.tumour.mass, 0) / list.length,
      tumourVolume: list.reduce((a, x) => a + x.tumour.volume, 0) / list.length,
    });
    out.saliency = { T3: summarise(per.T3), T2: summarise(per.T2) };
    log(`fold ${fold} saliency: ${JSON.stringify(out.saliency)}`);
  }
  model.release();
  log(`fold ${fold}: central AUC ${out.central.auc.toFixed(4)}, whole-stack AUC ${out.whole.auc.toFixed(4)}, slice(rep) AUC ${out.sliceRepAuc.toFixed(4)}`);
  folds.push(out);
}
const mean = (k) => folds.reduce((a, f) => a + f[k].auc, 0) / folds.length;
const summary = {
  config: cfg,
  loadSeconds: loadS,
  totalSeconds: (performance.now() - t0) / 1000,
  loadavgEnd: loadavg(),
  adapter: gpu.adapter.description,
  meanAuc: { window: mean('window'), central: mean('central'), whole: mean('whole') },
  folds,
};
writeFileSync(join(opt.out, 'confirm.json'), JSON.stringify(summary, null, 1));
log(
  `mean AUC over ${folds.length} folds: window ${summary.meanAuc.window.toFixed(4)}, central ${summary.meanAuc.central.toFixed(4)}, whole ${summary.meanAuc.whole.toFixed(4)}`,
);
gpu.destroy();
