/**
 * What a trained model looks at, measured on synthetic ground truth: for hold-out volumes of a
 * synthetic cohort, the share of the input-gradient saliency |∂ logit / ∂ voxel| that falls within r mm
 * of where the T2/T3 criterion is decided (the tumour's outgrowth — for T3 the breach of the
 * muscularis), against the share of the input that lies there (what a map spread evenly would give),
 * the share of the most salient 1 % of voxels there, and how often the single most salient voxel is.
 * Each volume goes through the model of the fold that held it out, on the input it was tested on (the
 * central crop or the training window). Browser-safe: the cohort's subjects come from a `TruthSource`.
 */
import type { SynthAnatomy } from '../data/synth.js';
import { truthMasks } from '../data/synth-truth.js';
import type { Volume } from '../data/volume.js';
import type { Gpu } from '../gpu/gpu.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { Rng } from '../util/rng.js';
import { centralStart, depthWindow, windowStart } from './dataset.js';
import type { ExperimentConfig, FoldOutcome } from './experiment.js';
import { predictVolume } from './inference.js';
import type { RunStore } from './run-store.js';
import { distanceToMask, saliencyNearRegion } from './saliency-overlap.js';
import { buildModel } from './trainer.js';

/** A synthetic subject as the run saw it: its anatomy, its whole preprocessed stack, its annotation. */
export interface TruthSubject {
  anatomy: SynthAnatomy;
  /** The whole stack after the run's preprocessing (its affine maps it onto the anatomy's mm frame). */
  prepared: Volume;
  repSlices: readonly number[];
}

/** The subject behind a sample id, or null when it has no ground truth. */
export type TruthSource = (id: string) => TruthSubject | null;

export interface SaliencyTruthClass {
  label: 'T2' | 'T3';
  /** Volumes measured. */
  n: number;
  /** Per radius, means over the volumes. */
  byRadius: { radiusMm: number; mass: number; volume: number; enrichment: number; top: number; peak: number }[];
  /** Share of the saliency on the tumour itself, and of the input that is tumour. */
  tumour: { mass: number; volume: number };
}

export interface SaliencyTruth {
  /** Which input the volumes were seen through (as tested). */
  input: 'central' | 'window';
  perVolumeLimit: number;
  classes: SaliencyTruthClass[];
}

/**
 * Measures up to `perClass` hold-out volumes per class and fold. Volumes whose criterion region falls
 * outside the tested input (a central crop that misses the tumour) count with zero mass near it.
 */
export async function saliencyVsTruth(
  gpu: Gpu,
  store: RunStore,
  cfg: ExperimentConfig,
  outcomes: readonly FoldOutcome[],
  truth: TruthSource,
  opts: { perClass?: number; radiiMm?: readonly number[] } = {},
): Promise<SaliencyTruth | null> {
  const perClass = opts.perClass ?? 10;
  const radii = opts.radiiMm ?? [0, 3, 6];
  const central = (cfg.testInput ?? 'window') === 'central' && cfg.head !== 'slice';
  const acc = { T2: [] as ReturnType<typeof measure>[], T3: [] as ReturnType<typeof measure>[] };
  function measure(
    saliency: Float32Array,
    masks: { criterion: Float32Array; tumour: Float32Array },
    dims: [number, number, number],
    spacing: [number, number, number],
  ) {
    const near = saliencyNearRegion(saliency, { distance: distanceToMask(masks.criterion, dims, spacing) }, dims, spacing, radii);
    const [tumour] = saliencyNearRegion(saliency, { mask: masks.tumour }, dims, spacing, [0]);
    return { near, tumour: tumour! };
  }
  for (const o of outcomes) {
    const bytes = await store.read(`fold-${o.fold}/model.safetensors`);
    if (!bytes) continue;
    const model = buildModel(cfg).materialize(gpu, new Rng(0));
    try {
      loadCheckpoint(gpu, model, bytes, `fold-${o.fold}/model.safetensors`);
      const taken = { T2: 0, T3: 0 };
      for (const p of o.predictions) {
        const key = p.label === 1 ? 'T3' : 'T2';
        if (taken[key] >= perClass) continue;
        const sub = truth(p.id);
        if (!sub) continue;
        const { prepared } = sub;
        const [D, H, W] = prepared.dims;
        const start = central ? centralStart(D, cfg.depth) : windowStart(D, cfg.depth, sub.repSlices);
        const dims: [number, number, number] = [cfg.depth, H, W];
        const input = depthWindow(prepared.data, prepared.dims, start, cfg.depth);
        const pred = await predictVolume(gpu, model, input, dims);
        const masks = truthMasks(sub.anatomy, { dims, affine: prepared.affine }, { sliceOffset: start });
        const spacing: [number, number, number] = [prepared.spacing[0], prepared.spacing[1], prepared.spacing[2]];
        acc[key].push(measure(pred.saliency, masks, dims, spacing));
        taken[key]++;
      }
    } finally {
      model.release();
    }
  }
  if (!acc.T2.length && !acc.T3.length) return null;
  const mean = (xs: number[]) => {
    const f = xs.filter(Number.isFinite);
    return f.length ? f.reduce((a, b) => a + b, 0) / f.length : Number.NaN;
  };
  const classes = (['T3', 'T2'] as const)
    .filter((k) => acc[k].length)
    .map((label) => {
      const list = acc[label];
      return {
        label,
        n: list.length,
        byRadius: radii.map((radiusMm, k) => {
          const mass = mean(list.map((x) => x.near[k]!.mass));
          const volume = mean(list.map((x) => x.near[k]!.volume));
          return {
            radiusMm,
            mass,
            volume,
            enrichment: mass / volume,
            top: mean(list.map((x) => x.near[k]!.top)),
            peak: mean(list.map((x) => (x.near[k]!.peak ? 1 : 0))),
          };
        }),
        tumour: { mass: mean(list.map((x) => x.tumour.mass)), volume: mean(list.map((x) => x.tumour.volume)) },
      };
    });
  return { input: central ? 'central' : 'window', perVolumeLimit: perClass, classes };
}
