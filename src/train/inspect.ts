/**
 * A look at a file before training on it or predicting with it (`voxelgrad inspect FILE`), browser-safe:
 * bytes in, a plain report out.
 *  - A NIfTI volume (.nii, .nii.gz) is read by `readNifti` with the options training uses, so the report
 *    shows exactly what training would get: the grid after reorientation (D = slice axis), spacing, which
 *    transform gave the orientation, datatype and scaling, every repair the loader made (structured
 *    warnings), intensity min/max/mean/SD of the loaded voxels, and whether it can serve as a volume.
 *  - A safetensors checkpoint: its metadata (the run configuration, validated field by field, the epoch
 *    and fold), every tensor's name, dtype and shape, whether all values are finite (non-finite ones
 *    counted per tensor), and whether the tensors match the model the configuration describes.
 * A file that is neither, or that the loader refuses, is an InputError (exit code 4), as everywhere.
 */
import { DEFAULT_MAX_VOXELS, type NiftiReadOptions, readNifti } from '../data/nifti.js';
import { type DataWarning, requireVolume3d } from '../data/volume.js';
import { MOMENTUM_PREFIX, matchModel, nonFinite } from '../model/checkpoint.js';
import { StagingNet } from '../model/resnet.js';
import { type SafeDType, bytesToF32, decodeSafetensors } from '../model/safetensors.js';
import { InputError, type MemoryBudget } from '../util/errors.js';
import { configProblems } from './config.js';
import type { ExperimentConfig } from './experiment.js';

export interface NiftiReport {
  kind: 'nifti';
  file: string;
  fileBytes: number;
  gzip: boolean;
  version: 1 | 2;
  byteOrder: 'little-endian' | 'big-endian';
  datatype: string;
  bitpix: number;
  /** dim[1..dim[0]] as stored. */
  fileDims: number[];
  volumes: number;
  /** [D, H, W] as loaded (D = the slice axis). */
  dims: [number, number, number];
  /** mm, [D, H, W]. */
  spacing: [number, number, number];
  /** File axis (0 = i, 1 = j, 2 = k) that became D, H and W, and how the slice axis was chosen. */
  axisOrder: [number, number, number];
  sliceAxisFrom: 'dim_info' | 'spacing' | 'none';
  orientation: { source: 'sform' | 'qform' | 'pixdim'; sformCode: number; qformCode: number; affine: number[] };
  scaling: { slope: number; inter: number; applied: boolean };
  description: string;
  /** Every repair or assumption of the loader. */
  warnings: DataWarning[];
  intensity: { min: number; max: number; mean: number; sd: number; zeros: number };
  /** null when the file can be trained on / predicted from; else why not (a single slice, a strip). */
  notAVolume: string | null;
}

export interface TensorReport {
  name: string;
  dtype: SafeDType;
  shape: number[];
  /** Values that are NaN or ±Inf (0 for integer tensors). */
  nonFinite: number;
}

export interface CheckpointReport {
  kind: 'checkpoint';
  file: string;
  fileBytes: number;
  producer: string | null;
  epoch: number | string | null;
  fold: unknown;
  /** The run configuration from the metadata (null when absent or not JSON). */
  config: ExperimentConfig | null;
  /** Problems of that configuration, field by field (empty when valid). */
  configProblems: string[];
  tensors: TensorReport[];
  parameters: number;
  momentumTensors: number;
  allFinite: boolean;
  /** Mismatches against the model the configuration describes (null when the configuration is unusable). */
  modelMismatches: string[] | null;
}

export type InspectReport = NiftiReport | CheckpointReport;

export type FileKind = 'nifti' | 'safetensors';

/** What the first bytes say the file is, or null. */
export function sniff(bytes: Uint8Array): FileKind | null {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'nifti';
  if (bytes.length >= 4) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const a = dv.getInt32(0, true);
    const b = dv.getInt32(0, false);
    if (a === 348 || b === 348 || a === 540 || b === 540) return 'nifti';
  }
  if (bytes.length >= 9) {
    let i = 8;
    while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x0a)) i++;
    if (bytes[i] === 0x7b) return 'safetensors';
  }
  return null;
}

export interface InspectOptions {
  /** Memory the NIfTI loader may use (the CLI passes what the machine has). */
  budget?: MemoryBudget;
  maxVoxels?: number;
}

/** Inspects a file's bytes; `name` is used in the report and in every message. */
export function inspectBytes(bytes: Uint8Array, name: string, opts: InspectOptions = {}): InspectReport {
  const kind = sniff(bytes);
  if (kind === 'nifti') return inspectNifti(bytes, name, opts);
  if (kind === 'safetensors') return inspectCheckpoint(bytes, name);
  throw new InputError(
    'corrupt',
    `${name}: neither a NIfTI volume (.nii, .nii.gz) nor a safetensors checkpoint (the first bytes are ${hex(bytes.subarray(0, 8))})`,
    name,
  );
}

function hex(b: Uint8Array): string {
  return b.length ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ') : 'none: the file is empty';
}

function inspectNifti(bytes: Uint8Array, name: string, opts: InspectOptions): NiftiReport {
  const readOpts: NiftiReadOptions = { name, maxVoxels: opts.maxVoxels ?? DEFAULT_MAX_VOXELS };
  if (opts.budget) readOpts.budget = opts.budget;
  const v = readNifti(bytes, readOpts);
  const n = v.nifti;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < v.data.length; i++) {
    const x = v.data[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    if (x === 0) zeros++;
  }
  const mean = sum / v.data.length;
  let ss = 0;
  for (let i = 0; i < v.data.length; i++) ss += (v.data[i]! - mean) ** 2;
  let notAVolume: string | null = null;
  try {
    requireVolume3d(v);
  } catch (e) {
    notAVolume = (e as Error).message;
  }
  const slopeOk = n.sclSlope !== 0 && Number.isFinite(n.sclSlope);
  return {
    kind: 'nifti',
    file: name,
    fileBytes: bytes.byteLength,
    gzip: n.gzip,
    version: n.version,
    byteOrder: n.littleEndian ? 'little-endian' : 'big-endian',
    datatype: n.datatype,
    bitpix: n.bitpix,
    fileDims: n.dim.slice(1, (n.dim[0] ?? 0) + 1),
    volumes: n.volumes,
    dims: v.dims,
    spacing: v.spacing,
    axisOrder: n.axisOrder,
    sliceAxisFrom: n.sliceAxisFrom,
    orientation: { source: n.affineSource, sformCode: n.sformCode, qformCode: n.qformCode, affine: v.affine },
    scaling: { slope: n.sclSlope, inter: n.sclInter, applied: slopeOk && !(n.sclSlope === 1 && (n.sclInter === 0 || !Number.isFinite(n.sclInter))) },
    description: n.description,
    warnings: v.warnings,
    intensity: { min, max, mean, sd: Math.sqrt(ss / v.data.length), zeros },
    notAVolume,
  };
}

function inspectCheckpoint(bytes: Uint8Array, name: string): CheckpointReport {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  const reports: TensorReport[] = [];
  let parameters = 0;
  let momentumTensors = 0;
  for (const [tn, t] of [...tensors].sort((a, b) => a[0].localeCompare(b[0]))) {
    let bad = 0;
    if (t.dtype === 'F32') bad = nonFinite(bytesToF32(t.data))?.count ?? 0;
    else if (t.dtype === 'F64') for (const x of new Float64Array(t.data.slice().buffer)) if (!Number.isFinite(x)) bad++;
    reports.push({ name: tn, dtype: t.dtype, shape: t.shape, nonFinite: bad });
    if (tn.startsWith(MOMENTUM_PREFIX)) momentumTensors++;
    else if (t.dtype === 'F32' && !tn.endsWith('running_mean') && !tn.endsWith('running_var')) parameters += t.shape.reduce((a, b) => a * b, 1);
  }
  let config: ExperimentConfig | null = null;
  let problems: string[] = [];
  if (metadata.config === undefined) problems = ["the metadata has no 'config' (not written by voxelgrad?)"];
  else {
    try {
      const parsed = JSON.parse(metadata.config) as unknown;
      problems = configProblems(parsed);
      config = parsed as ExperimentConfig;
    } catch {
      problems = ["metadata 'config' is not JSON"];
    }
  }
  let modelMismatches: string[] | null = null;
  if (config && problems.length === 0)
    modelMismatches = matchModel(tensors, new StagingNet({ name: config.model, head: config.head, width: config.width })).problems;
  let fold: unknown = null;
  if (metadata.extra !== undefined) {
    try {
      fold = (JSON.parse(metadata.extra) as { fold?: unknown } | null)?.fold ?? null;
    } catch {
      fold = null;
    }
  }
  const epochText = metadata.epoch;
  return {
    kind: 'checkpoint',
    file: name,
    fileBytes: bytes.byteLength,
    producer: metadata.producer ?? null,
    epoch: epochText === undefined ? null : /^\d{1,15}$/.test(epochText) ? Number(epochText) : epochText,
    fold,
    config,
    configProblems: problems,
    tensors: reports,
    parameters,
    momentumTensors,
    allFinite: reports.every((r) => r.nonFinite === 0),
    modelMismatches,
  };
}

/** The report as text lines for a terminal. */
export function formatInspectReport(r: InspectReport): string[] {
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(3) : String(Number(x.toFixed(3))));
  if (r.kind === 'nifti') {
    const lines = [
      `${r.file}: NIfTI-${r.version} volume${r.gzip ? ' (gzip)' : ''}, ${r.byteOrder}, ${r.fileBytes} bytes`,
      `  datatype      ${r.datatype} (${r.bitpix} bits)`,
      `  stored dims   ${r.fileDims.join(' × ')}${r.volumes > 1 ? `  (${r.volumes} volumes; the first is used)` : ''}`,
      `  loaded as     D×H×W = ${r.dims.join(' × ')} (slice axis from ${r.sliceAxisFrom === 'dim_info' ? "the header's slice_dim" : r.sliceAxisFrom === 'spacing' ? 'the largest spacing' : 'file order'}; file axes ${r.axisOrder.map((a) => 'ijk'[a]).join('')})`,
      `  spacing       ${r.spacing.map(fmt).join(' × ')} mm`,
      `  orientation   from ${r.orientation.source} (sform_code ${r.orientation.sformCode}, qform_code ${r.orientation.qformCode})`,
      `  scaling       ${r.scaling.applied ? `value × ${fmt(r.scaling.slope)} + ${fmt(r.scaling.inter)}` : 'none'}`,
      `  intensity     min ${fmt(r.intensity.min)}, max ${fmt(r.intensity.max)}, mean ${fmt(r.intensity.mean)}, SD ${fmt(r.intensity.sd)} (${r.intensity.zeros} zero voxels)`,
    ];
    if (r.description) lines.push(`  description   ${r.description}`);
    lines.push(r.warnings.length ? `  warnings      ${r.warnings.length}:` : '  warnings      none');
    for (const w of r.warnings) lines.push(`    [${w.code}] ${w.message}`);
    lines.push(r.notAVolume ? `  NOT USABLE AS A VOLUME: ${r.notAVolume}` : '  usable        yes (a 3-D volume)');
    return lines;
  }
  const c = r.config;
  const lines = [
    `${r.file}: safetensors checkpoint${r.producer ? ` (producer ${r.producer})` : ''}, ${r.fileBytes} bytes, ${r.tensors.length} tensors`,
    c
      ? `  model         ${c.model} + ${c.head} head, width ${c.width}; input ${c.inputSize}×${c.inputSize}×${c.depth}; ${c.epochs} epochs, lr ${c.lr}, batch ${c.batchSize}, TTA ${c.tta}`
      : '  model         unknown (no usable configuration)',
    `  epoch         ${r.epoch ?? '—'}${r.fold !== null ? `   fold ${String(r.fold)}` : ''}`,
    `  parameters    ${r.parameters}${r.momentumTensors ? `   (+ ${r.momentumTensors} momentum buffers)` : ''}`,
    `  finite        ${
      r.allFinite
        ? 'every value'
        : `NO: ${r.tensors
            .filter((t) => t.nonFinite)
            .map((t) => `${t.name} (${t.nonFinite})`)
            .join(', ')}`
    }`,
  ];
  if (r.configProblems.length) lines.push(`  config        ${r.configProblems.length} problem(s): ${r.configProblems.join('; ')}`);
  if (r.modelMismatches?.length) lines.push(`  model match   ${r.modelMismatches.length} mismatch(es): ${r.modelMismatches.slice(0, 8).join('; ')}`);
  else if (r.modelMismatches) lines.push('  model match   every tensor matches the configuration');
  lines.push('  tensors');
  const w = Math.max(...r.tensors.map((t) => t.name.length), 4);
  for (const t of r.tensors) lines.push(`    ${t.name.padEnd(w)}  ${t.dtype}  [${t.shape.join(', ')}]${t.nonFinite ? `  ${t.nonFinite} non-finite` : ''}`);
  return lines;
}
