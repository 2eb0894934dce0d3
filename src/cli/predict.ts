/**
 * `voxelgrad predict --run DIR|--checkpoint FILE --input vol.nii[.gz]`: T3 probability, per-slice
 * scores, and a per-slice saliency map written as NIfTI and PNG. With --run, every fold model of the
 * run is applied and the probabilities and saliency maps are averaged (a cross-validation ensemble).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostBudget, readVolumeFile, writeFileAtomic, writeVolumeFile } from '../data/io.node.js';
import { type ManifestRow, type Roi, formatRoi, parseRoi, resolveRoi } from '../data/manifest.js';
import { checkConfigFits } from '../train/config.js';
import { readManifest } from '../train/cohort.node.js';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { saliencyOverlayRgba } from '../train/report.js';
import { type StageCheckpoint, checkpointConfig, stageVolume } from '../train/stage.js';
import { encodePng } from '../util/png.js';
import { ADAPTER_FLAG, type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';
import { checkOutputDir } from './outputs.js';
import { printWarnings } from './train.js';

export const predictFlags: Record<string, FlagSpec> = {
  input: { type: 'string', help: 'NIfTI volume (.nii or .nii.gz)' },
  run: { type: 'string', help: 'run folder: ensemble of its fold models' },
  checkpoint: { type: 'string', help: 'a single model checkpoint (.safetensors)' },
  out: { type: 'string', help: 'output folder', default: 'prediction' },
  slices: { type: 'string', help: 'representative slices (0-based, a;b) for the slice head’s volume score' },
  roi: {
    type: 'string',
    help: "in-plane crop before resizing, written as the manifest's roi column (d0:d1;h0:h1;w0:w1, * = whole axis; D is not cropped, as in training): give the localisation the training manifest gave its volumes, or the model sees another field of view than it was trained on",
  },
  manifest: {
    type: 'string',
    help: 'with --subject: take the volume (unless --input), the ROI and the representative slices from this manifest row, as training read them',
  },
  subject: { type: 'string', help: 'the manifest row for --manifest' },
  adapter: ADAPTER_FLAG,
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

/** The manifest row --manifest/--subject name, checked as training checks it (null without them). */
function manifestRow(flags: Record<string, unknown>): ManifestRow | null {
  if (flags.manifest === undefined && flags.subject === undefined) return null;
  if (flags.manifest === undefined || flags.subject === undefined) throw new UsageError('--manifest and --subject go together');
  const rows = readManifest(String(flags.manifest));
  const row = rows.find((r) => r.subject === String(flags.subject));
  if (!row)
    throw new UsageError(
      `${String(flags.manifest)} has no subject '${String(flags.subject)}' (it lists ${rows.length}: ${rows
        .slice(0, 5)
        .map((r) => r.subject)
        .join(', ')}${rows.length > 5 ? ', …' : ''})`,
    );
  return row;
}

function checkpointsOf(flags: Record<string, unknown>): string[] {
  if (flags.checkpoint) {
    if (!existsSync(String(flags.checkpoint))) throw new UsageError(`--checkpoint ${flags.checkpoint} does not exist`);
    return [String(flags.checkpoint)];
  }
  if (!flags.run) throw new UsageError('give --run DIR or --checkpoint FILE');
  const dir = String(flags.run);
  if (!existsSync(dir)) throw new UsageError(`--run ${dir} does not exist`);
  const files = readdirSync(dir)
    .filter((d) => /^fold-\d+$/.test(d) && existsSync(join(dir, d, 'model.safetensors')))
    .map((d) => join(dir, d, 'model.safetensors'));
  if (!files.length) throw new UsageError(`${dir} has no finished fold model (fold-*/model.safetensors)`);
  return files;
}

export async function predictCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, predictFlags, 'predict');
  if (flags.help) {
    out(
      formatHelp(
        'predict',
        'T3 probability, per-slice scores and saliency maps (NIfTI + PNG) for one volume.',
        predictFlags,
        '--input vol.nii.gz --run runs/x',
      ),
    );
    return 0;
  }
  const row = manifestRow(flags);
  if (!flags.input && !row) throw new UsageError('--input is required (or --manifest M --subject ID)');
  let roi: Roi | undefined = row?.roi;
  if (flags.roi !== undefined) {
    try {
      roi = parseRoi(String(flags.roi));
    } catch (e) {
      throw new UsageError(`--roi: ${(e as Error).message}`);
    }
  }
  const ckpts = checkpointsOf(flags);
  checkOutputDir(String(flags.out));
  const checkpoints: StageCheckpoint[] = ckpts.map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(f)) }));
  checkpointConfig(checkpoints[0]!); // a bad checkpoint is reported before the volume is read
  checkConfigFits(checkpointConfig(checkpoints[0]!), hostBudget(), checkpoints[0]!.name);
  const input = flags.input ? String(flags.input) : row!.file;
  const vol = readVolumeFile(input); // refusals are InputErrors naming the file
  if (roi) resolveRoi(roi, vol.dims, `${input}: ${flags.roi !== undefined ? '--roi' : `the ROI of ${row!.subject} in ${String(flags.manifest)}`}`);
  const focus = flags.slices ? String(flags.slices).split(';').map(Number) : row?.slices;
  if (focus?.some((s) => !Number.isInteger(s) || s < 0 || s >= vol.dims[0])) throw new UsageError(`--slices must be 0-based indices below ${vol.dims[0]}`);
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  let staged;
  try {
    staged = await stageVolume(gpu, vol, checkpoints, { ...(focus ? { focusSlices: focus } : {}), ...(roi ? { roi } : {}) });
  } finally {
    gpu.destroy();
  }
  const { prepared, saliency } = staged;
  const prob = staged.probabilityT3;
  const dir = String(flags.out);
  mkdirSync(dir, { recursive: true });
  writeVolumeFile(join(dir, 'preprocessed.nii.gz'), prepared);
  writeVolumeFile(join(dir, 'saliency.nii.gz'), { ...prepared, data: saliency, warnings: [] });
  writeFileAtomic(join(dir, 'saliency.png'), montage(prepared.data, saliency, prepared.dims));
  const result = {
    input,
    ...(roi ? { roi: formatRoi(roi) } : {}),
    models: ckpts,
    probabilityT3: prob,
    predicted: staged.predicted,
    modelProbabilities: staged.modelProbabilities,
    // Slices outside inputSlices were not seen by the model: null in JSON.
    sliceProbabilities: staged.sliceProbabilities.map((p) => (Number.isFinite(p) ? p : null)),
    inputSlices: staged.inputSlices,
    ...(staged.attention ? { attentionPerSlice: staged.attention.perSlice } : {}),
    warnings: staged.warnings,
    files: { saliencyNifti: join(dir, 'saliency.nii.gz'), saliencyPng: join(dir, 'saliency.png'), preprocessed: join(dir, 'preprocessed.nii.gz') },
  };
  writeFileAtomic(join(dir, 'prediction.json'), new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
  printWarnings(staged.warnings);
  if (flags.json) out(JSON.stringify(result, null, 2));
  else {
    out(`P(T3) = ${prob.toFixed(3)} → ${result.predicted}   (${ckpts.length} model${ckpts.length > 1 ? 's' : ''})`);
    out(`per-slice P(T3): ${result.sliceProbabilities.map((p) => (p === null ? '–' : p.toFixed(2))).join(' ')}`);
    const [i0, i1] = staged.inputSlices;
    if (i1 - i0 < prepared.dims[0])
      out(`the model saw slices ${i0}–${i1 - 1}: the stack's central ${staged.config.depth}, the input it was tested on in cross-validation`);
    if (staged.attention) out(`attention per slice: ${staged.attention.perSlice.map((p) => p.toFixed(3)).join(' ')}`);
    out(`saliency: ${result.files.saliencyNifti}, ${result.files.saliencyPng}`);
  }
  return 0;
}

/** All slices side by side (up to 8 per row), each with its saliency overlay. */
function montage(image: Float32Array, sal: Float32Array, dims: [number, number, number]): Uint8Array {
  const [D, H, W] = dims;
  const cols = Math.min(8, D);
  const rows = Math.ceil(D / cols);
  const out = new Uint8Array(cols * W * rows * H * 4);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (let d = 0; d < D; d++) {
    const rgba = saliencyOverlayRgba(
      { width: W, height: H, data: image.subarray(d * H * W, (d + 1) * H * W), min: lo, max: hi },
      { width: W, height: H, data: sal.subarray(d * H * W, (d + 1) * H * W) },
    );
    const ox = (d % cols) * W;
    const oy = Math.floor(d / cols) * H;
    for (let y = 0; y < H; y++) out.set(rgba.subarray(y * W * 4, (y + 1) * W * 4), ((oy + y) * cols * W + ox) * 4);
  }
  return encodePng({ width: cols * W, height: rows * H, channels: 4, data: out });
}
