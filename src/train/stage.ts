/**
 * Staging one volume, the same way for `voxelgrad predict` and the page: checkpoints (one model, or a
 * run's fold models) → the configuration each one carries in its metadata → the training preprocessing
 * (`prepareVolume`: bias field, optional in-plane ROI crop, resize, normalisation) → the slices the run
 * was tested on (the whole stack, or the central D slices for `testInput: 'central'`) →
 * every model's P(T3), per-slice scores, gradient saliency and, for the attention head, the depth
 * attention → averaged over the models (a cross-validation ensemble). Browser-safe: volumes and
 * checkpoints come in as bytes/objects, so the CLI and the page's worker cannot drift apart.
 *
 * The preprocessing options are explicit (`StageOptions`): a caller that wants another crop or depth
 * policy passes it here instead of re-implementing the chain.
 */
import { parseExperimentConfig } from './config.js';
import { InputError } from '../util/errors.js';
import type { Roi } from '../data/manifest.js';
import type { DataWarning, Volume } from '../data/volume.js';
import type { Gpu } from '../gpu/gpu.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { Rng } from '../util/rng.js';
import { prepareVolume } from './cohort.js';
import type { ExperimentConfig } from './experiment.js';
import { centralStart, depthWindow } from './dataset.js';
import { predictVolume } from './inference.js';
import { buildModel } from './trainer.js';

/** A checkpoint as bytes, with a name for messages (a path, a file name, "demo model"). */
export interface StageCheckpoint {
  name: string;
  bytes: Uint8Array;
}

export interface StageOptions {
  /**
   * In-plane crop before resizing, as a manifest ROI (half-open voxel ranges of the volume as read;
   * its D range is ignored, as in training). Default: the whole field of view.
   */
  roi?: Roi;
  /** Representative slices (0-based along D) for the slice head's volume score; default all slices. */
  focusSlices?: readonly number[];
  /** Called after each model of the ensemble (done, total). */
  onModel?: (done: number, total: number) => void;
}

export interface StagedVolume {
  /** The configuration of the first checkpoint (all of them share its preprocessing). */
  config: ExperimentConfig;
  /** Checkpoint names, in the order they were applied. */
  models: string[];
  /** The preprocessed volume [D, S, S] (every slice); its affine maps it onto the input's mm space. */
  prepared: Volume;
  /**
   * The slices of `prepared` the models saw, [start, end): the whole stack, or — for a volume-level model
   * tested on central crops (`testInput: 'central'`) — the stack's central `depth` slices, exactly as it
   * was evaluated (end − start = depth; beyond the stack, edge slices were repeated). Per-slice scores,
   * saliency and attention outside it are NaN / 0 / 0.
   */
  inputSlices: [number, number];
  /** Ensemble P(T3): the mean of the models' probabilities. */
  probabilityT3: number;
  predicted: 'T2' | 'T3';
  /** Each model's P(T3), in `models` order. */
  modelProbabilities: number[];
  /** Per-slice P(T3) from the shared slice classifier, averaged over the models. */
  sliceProbabilities: number[];
  /** |∂ logit / ∂ voxel| on the `prepared` grid, averaged over the models. */
  saliency: Float32Array;
  /**
   * Attention head only: the depth attention of eq. (4)–(5), averaged over the models — per slice (the
   * mean over channels, sums to 1) and per channel and slice ([C, D], each channel sums to 1 over D).
   */
  attention: { perSlice: number[]; channels: number; weights: Float32Array } | null;
  /** What the loader and preprocessing repaired (NaN voxels replaced, 4-D input cut, …), per file. */
  warnings: DataWarning[];
}

/** The training configuration a checkpoint written by voxelgrad carries, checked enough to build its model. */
export function checkpointConfig(ck: StageCheckpoint): ExperimentConfig {
  let metadata: Record<string, string>;
  try {
    metadata = decodeSafetensors(ck.bytes, ck.name).metadata;
  } catch (e) {
    throw new InputError('corrupt', `${ck.name} is not a readable safetensors checkpoint: ${(e as Error).message}`);
  }
  if (!metadata.config)
    throw new InputError(
      'unsuitable',
      `${ck.name} has no voxelgrad configuration in its metadata; use a checkpoint written by \`voxelgrad train\` (fold-k/model.safetensors)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(metadata.config);
  } catch (e) {
    throw new InputError('corrupt', `${ck.name}: its 'config' metadata is not valid JSON (${(e as Error).message})`);
  }
  return parseExperimentConfig(json, `${ck.name} (its configuration)`);
}

/** What two checkpoints must share to be averaged on one preprocessed volume. */
function preprocessingOf(cfg: ExperimentConfig): string {
  return `input ${cfg.inputSize}×${cfg.inputSize}, bias field ${cfg.biasField ? 'on' : 'off'}`;
}

/**
 * Stages `volume` (as read, e.g. by `readNifti`) with the ensemble of `checkpoints`. Every checkpoint
 * must carry a voxelgrad configuration and share the first one's preprocessing.
 */
export async function stageVolume(gpu: Gpu, volume: Volume, checkpoints: readonly StageCheckpoint[], opts: StageOptions = {}): Promise<StagedVolume> {
  if (!checkpoints.length) throw new InputError('unsuitable', 'staging needs at least one model checkpoint');
  const configs = checkpoints.map(checkpointConfig);
  const cfg = configs[0]!;
  configs.forEach((c, i) => {
    if (preprocessingOf(c) !== preprocessingOf(cfg)) {
      throw new InputError(
        'unsuitable',
        `${checkpoints[i]!.name} was trained with ${preprocessingOf(c)}, ${checkpoints[0]!.name} with ${preprocessingOf(cfg)}; an ensemble needs one preprocessing`,
      );
    }
  });
  const D = volume.dims[0];
  const focus = opts.focusSlices;
  if (focus?.some((s) => !Number.isInteger(s) || s < 0 || s >= D))
    throw new InputError('unsuitable', `representative slices must be 0-based indices below ${D}, got ${focus.join(';')}`);
  const prepared = prepareVolume(volume, { size: cfg.inputSize, biasField: cfg.biasField, ...(opts.roi ? { roi: opts.roi } : {}) });
  // The models' input: the whole stack, or the label-free central crop the run was evaluated on.
  const central = (cfg.testInput ?? 'window') === 'central' && cfg.head !== 'slice';
  const start = central ? centralStart(D, cfg.depth) : 0;
  const depth = central ? cfg.depth : D;
  const plane = prepared.dims[1] * prepared.dims[2];
  const input = central ? depthWindow(prepared.data, prepared.dims, start, depth) : prepared.data;
  const inputDims: [number, number, number] = [depth, prepared.dims[1], prepared.dims[2]];
  // Stack slice d is input slice d - start; repeated edge slices (a stack shorter than depth) map to none.
  const inStack = (k: number) => k + start >= 0 && k + start < D;
  const inputFocus = focus?.map((f) => f - start).filter((k) => k >= 0 && k < depth);
  // (Only the slice head reads them, and it always sees the whole stack.)
  const n = checkpoints.length;
  const modelProbabilities: number[] = [];
  const sliceSums = new Float64Array(depth);
  const inputSaliency = new Float64Array(input.length);
  let attention: { sum: Float64Array; channels: number; models: number } | null = null;
  for (let m = 0; m < n; m++) {
    const ck = checkpoints[m]!;
    const model = buildModel(configs[m]!).materialize(gpu, new Rng(0));
    try {
      loadCheckpoint(gpu, model, ck.bytes, ck.name);
      const p = await predictVolume(gpu, model, input, inputDims, inputFocus);
      modelProbabilities.push(p.prob);
      p.sliceProbs.forEach((v, i) => (sliceSums[i]! += v / n));
      for (let i = 0; i < inputSaliency.length; i++) inputSaliency[i]! += p.saliency[i]! / n;
      if (p.attention) {
        const channels = p.attention.length / depth;
        attention ??= { sum: new Float64Array(p.attention.length), channels, models: 0 };
        if (attention.channels !== channels)
          throw new InputError(
            'unsuitable',
            `${ck.name}: its attention head has ${channels} channels, an earlier model ${attention.channels}; cannot average them`,
          );
        for (let i = 0; i < p.attention.length; i++) attention.sum[i]! += p.attention[i];
        attention.models++;
      }
    } finally {
      model.release();
    }
    opts.onModel?.(m + 1, n);
  }
  // Back onto the whole stack: slices the models did not see get NaN scores and zero saliency.
  const sliceProbabilities = new Array<number>(D).fill(Number.NaN);
  const saliency = new Float32Array(prepared.data.length);
  for (let k = 0; k < depth; k++) {
    if (!inStack(k)) continue;
    sliceProbabilities[k + start] = sliceSums[k]!;
    for (let i = 0; i < plane; i++) saliency[(k + start) * plane + i] = inputSaliency[k * plane + i]!;
  }
  const probabilityT3 = modelProbabilities.reduce((a, b) => a + b, 0) / n;
  let att: StagedVolume['attention'] = null;
  if (attention) {
    const { sum, channels, models } = attention;
    // [C, depth] → [C, D] on the stack (zero outside the input; a repeated edge slice adds to its slice).
    const weights = new Float32Array(channels * D);
    for (let c = 0; c < channels; c++) {
      for (let k = 0; k < depth; k++) {
        const d = Math.min(D - 1, Math.max(0, k + start));
        weights[c * D + d]! += sum[c * depth + k]! / models;
      }
    }
    const perSlice = Array.from({ length: D }, (_, d) => {
      let s = 0;
      for (let c = 0; c < channels; c++) s += weights[c * D + d]!;
      return s / channels;
    });
    att = { perSlice, channels, weights };
  }
  return {
    config: cfg,
    models: checkpoints.map((c) => c.name),
    prepared,
    inputSlices: [Math.max(0, start), Math.min(D, start + depth)],
    probabilityT3,
    predicted: probabilityT3 >= 0.5 ? 'T3' : 'T2',
    modelProbabilities,
    sliceProbabilities,
    saliency,
    attention: att,
    warnings: [...prepared.warnings],
  };
}
