/**
 * `voxelgrad predict --run DIR|--checkpoint FILE --input vol.nii[.gz]`: T3 probability, per-slice
 * scores, and a per-slice saliency map written as NIfTI and PNG. With --run, every fold model of the
 * run is applied and the probabilities and saliency maps are averaged (a cross-validation ensemble).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { hostBudget, readVolumeFile, writeFileAtomic, writeVolumeFile } from '../data/io.node.js';
import { checkConfigFits } from '../train/config.js';
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
  adapter: ADAPTER_FLAG,
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

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
    out(formatHelp('predict', 'T3 probability, per-slice scores and saliency maps (NIfTI + PNG) for one volume.', predictFlags, '--input vol.nii.gz --run runs/x'));
    return 0;
  }
  if (!flags.input) throw new UsageError('--input is required');
  const ckpts = checkpointsOf(flags);
  checkOutputDir(String(flags.out));
  const checkpoints: StageCheckpoint[] = ckpts.map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(f)) }));
  checkpointConfig(checkpoints[0]!); // a bad checkpoint is reported before the volume is read
  checkConfigFits(checkpointConfig(checkpoints[0]!), hostBudget(), checkpoints[0]!.name);
  const vol = readVolumeFile(String(flags.input)); // refusals are InputErrors naming the file
  const focus = flags.slices ? String(flags.slices).split(';').map(Number) : undefined;
  if (focus && focus.some((s) => !Number.isInteger(s) || s < 0 || s >= vol.dims[0])) throw new UsageError(`--slices must be 0-based indices below ${vol.dims[0]}`);
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  let staged;
  try {
    staged = await stageVolume(gpu, vol, checkpoints, focus ? { focusSlices: focus } : {});
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
    input: String(flags.input),
    models: ckpts,
    probabilityT3: prob,
    predicted: staged.predicted,
    modelProbabilities: staged.modelProbabilities,
    sliceProbabilities: staged.sliceProbabilities,
    ...(staged.attention ? { attentionPerSlice: staged.attention.perSlice } : {}),
    warnings: staged.warnings,
    files: { saliencyNifti: join(dir, 'saliency.nii.gz'), saliencyPng: join(dir, 'saliency.png'), preprocessed: join(dir, 'preprocessed.nii.gz') },
  };
  writeFileAtomic(join(dir, 'prediction.json'), new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
  printWarnings(staged.warnings);
  if (flags.json) out(JSON.stringify(result, null, 2));
  else {
    out(`P(T3) = ${prob.toFixed(3)} → ${result.predicted}   (${ckpts.length} model${ckpts.length > 1 ? 's' : ''})`);
    out(`per-slice P(T3): ${result.sliceProbabilities.map((p) => p.toFixed(2)).join(' ')}`);
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
