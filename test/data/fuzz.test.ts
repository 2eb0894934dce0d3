/**
 * Generated inputs for everything below the command line that reads a file: NIfTI headers and voxel data
 * (raw and gzip, single- and multi-member), gzip streams, safetensors headers and metadata, checkpoint
 * training state, run configurations and manifests. Each family has valid inputs with a known answer (an
 * oracle written here, independent of the loader) and mutated ones. For every case:
 *  - 0 wrong answers: a valid input decodes to exactly the oracle's values; an accepted mutated input
 *    satisfies every invariant the callers rely on (finite voxels, consistent sizes, structured warnings,
 *    tensor bytes inside the file, validated fields in range);
 *  - 0 raw messages: anything refused is an InputError whose message starts with the file's name and
 *    carries no runtime error text (TypeError, RangeError, "Cannot read properties", …);
 *  - every case under a time limit (no hang);
 *  - bounded memory: array-buffer growth during a refused case stays within twice what a valid input of
 *    the declared job needs (the job: maxVoxels and the budget passed to the loader) plus the input.
 *    (Measured as `process.memoryUsage().arrayBuffers` after − before: a garbage collection during a case
 *    can only make it read low, never high; an allocation of the declared size would show.)
 * Fresh seed each run, printed; VOXELGRAD_SEED=<seed> replays a failure.
 */
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/data/manifest.js';
import { readNifti } from '../../src/data/nifti.js';
import { voxelCount, type Volume } from '../../src/data/volume.js';
import { decodeSafetensors, encodeSafetensors, type SafeDType, type SafeTensor } from '../../src/model/safetensors.js';
import { configProblems, validateCheckpointState, parseExperimentConfig } from '../../src/train/config.js';
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { DEFAULT_LOSS } from '../../src/train/trainer.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { buildNifti } from './helpers/nifti-builder.js';

const SEED = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
/** A hang shows as seconds; the slowest real case is ~0.1–0.3 ms per KB on a loaded 2-core host. */
const CASE_MS = 3000;
const RAW =
  /TypeError|RangeError|SyntaxError|ReferenceError|Cannot read propert|is not a function|is not iterable|undefined is not|Invalid typed array length|Array buffer allocation failed|Maximum call stack|\[object Object\]/;
const KNOWN_WARNINGS = new Set([
  'first-volume-only',
  'nan-voxels',
  'inf-voxels',
  'gzip-trailing-data',
  'vox-offset-assumed',
  'scaling-ignored',
  'orientation-fallback',
  'precision-loss',
  'short-file',
  'constant-intensities',
]);

interface Tally {
  accepted: number;
  refused: number;
  slowest: number;
  maxRefusedGrowth: number;
  failures: string[];
}
const tally = (): Tally => ({ accepted: 0, refused: 0, slowest: 0, maxRefusedGrowth: 0, failures: [] });

/**
 * Runs one case: `fn` either returns (then `check` must find nothing wrong) or throws (then it must be an
 * InputError naming `name`, without raw runtime text, having grown array buffers by at most `memBound`).
 */
function runCase<T>(t: Tally, label: string, name: string, memBound: number, fn: () => T, check: (r: T) => string | null): void {
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let result: T | undefined;
  let error: unknown = null;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const grew = process.memoryUsage().arrayBuffers - ab0;
  t.slowest = Math.max(t.slowest, ms);
  const fail = (why: string) => t.failures.length < 12 && t.failures.push(`${label}: ${why}`);
  if (ms > CASE_MS) fail(`took ${ms.toFixed(0)} ms`);
  if (error === null) {
    t.accepted++;
    const wrong = check(result as T);
    if (wrong) fail(`wrong answer: ${wrong}`);
    return;
  }
  t.refused++;
  t.maxRefusedGrowth = Math.max(t.maxRefusedGrowth, grew);
  if (!(error instanceof InputError)) return void fail(`raw ${(error as Error)?.name ?? typeof error}: ${(error as Error)?.message ?? String(error)}`);
  if (!error.message.startsWith(name)) fail(`message does not start with the file name: ${error.message.slice(0, 120)}`);
  if (RAW.test(error.message)) fail(`raw runtime text in: ${error.message.slice(0, 160)}`);
  if (grew > memBound) fail(`array buffers grew by ${grew} bytes (bound ${memBound}) before refusing: ${error.message.slice(0, 100)}`);
}

function report(family: string, t: Tally): void {
  console.log(
    `${family}: ${t.accepted} accepted, ${t.refused} refused, slowest ${t.slowest.toFixed(1)} ms, largest array-buffer growth of a refusal ${(t.maxRefusedGrowth / 1024).toFixed(0)} KiB (seed ${SEED})`,
  );
  expect(t.failures, `seed ${SEED} (VOXELGRAD_SEED=${SEED} replays)`).toEqual([]);
}

// ------------------------------------------------------------------------------------------ NIfTI

const DTYPES: { code: number; bytes: number; gen: (r: Rng) => number | bigint; float?: boolean }[] = [
  { code: 2, bytes: 1, gen: (r) => r.int(0, 256) },
  { code: 256, bytes: 1, gen: (r) => r.int(-128, 128) },
  { code: 4, bytes: 2, gen: (r) => r.int(-32768, 32768) },
  { code: 512, bytes: 2, gen: (r) => r.int(0, 65536) },
  { code: 8, bytes: 4, gen: (r) => r.int(-(2 ** 31), 2 ** 31) },
  { code: 768, bytes: 4, gen: (r) => r.int(0, 2 ** 32) },
  { code: 16, bytes: 4, gen: (r) => Math.fround(r.normal(0, 1000)), float: true },
  { code: 64, bytes: 8, gen: (r) => r.normal(0, 1e6), float: true },
  { code: 1024, bytes: 8, gen: (r) => BigInt(r.int(-(2 ** 31), 2 ** 31)) * 1000n },
  { code: 1280, bytes: 8, gen: (r) => BigInt(r.int(0, 2 ** 31)) * 7n },
];

/**
 * The job the fuzzed loader runs under: volumes up to 2^20 voxels, a 256 MB budget. (The inflater's own
 * working buffers, ~0.5 MiB per gzip member, and the header phase's ≤ 2 MiB fit well inside it.)
 */
const JOB = { maxVoxels: 2 ** 20, budget: { hostBytes: 256 * 2 ** 20 } };
/** What a valid input of that job can need: input + inflated (8 bytes a voxel) + float32 volume + its reoriented copy. */
const jobNeed = (inputBytes: number) => inputBytes + 1024 + JOB.maxVoxels * (8 + 4 + 4);

interface NiftiCase {
  bytes: Uint8Array;
  /** Expected float32 values in file order (i fastest), NaN/Inf already set to 0. */
  expected: Float32Array;
  shape: [number, number, number];
  gz: boolean;
}

function randomNifti(r: Rng): NiftiCase {
  const dt = DTYPES[r.int(0, DTYPES.length)]!;
  const version = r.next() < 0.5 ? 1 : 2;
  const shape: [number, number, number] = [r.int(1, 13), r.int(1, 13), r.int(1, 9)];
  const vols = r.next() < 0.2 ? r.int(2, 4) : 1;
  const dim = vols > 1 ? [4, ...shape, vols] : [3, ...shape];
  const n = shape[0] * shape[1] * shape[2];
  const values = Array.from({ length: n * vols }, () => dt.gen(r));
  if (dt.float && r.next() < 0.3) values[r.int(0, n)] = r.next() < 0.5 ? Number.NaN : Number.POSITIVE_INFINITY;
  const scaled = r.next() < 0.4;
  const slope = scaled ? (r.next() < 0.1 ? 0 : Math.fround(r.uniform(-3, 3))) : 1;
  const inter = scaled ? Math.fround(r.uniform(-100, 100)) : 0;
  const useSlope = slope !== 0 && Number.isFinite(slope);
  const expected = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = Number(values[i]!);
    const f = Math.fround(useSlope ? x * slope + inter : x);
    expected[i] = Number.isFinite(f) ? f : 0;
  }
  const pix = [1, r.uniform(0.3, 2), r.uniform(0.3, 2), r.uniform(0.3, 6)].map(Math.fround);
  const ext = r.next() < 0.2 ? [{ esize: 16 * r.int(1, 4), ecode: r.int(0, 40) }] : [];
  let bytes = buildNifti({
    version,
    littleEndian: r.next() < 0.6,
    dim,
    datatype: dt.code,
    values: values as number[] | bigint[],
    pixdim: pix,
    slope,
    inter,
    extensions: ext,
    sformCode: r.int(0, 3),
    qformCode: r.int(0, 3),
  });
  const gz = r.next() < 0.5;
  if (gz) {
    if (r.next() < 0.3) {
      // Multi-member: the same bytes split across members (gzip allows concatenation).
      const cut = r.int(1, bytes.length);
      const a = gzipSync(bytes.subarray(0, cut));
      const b = gzipSync(bytes.subarray(cut));
      bytes = new Uint8Array([...a, ...b]);
    } else bytes = gzipSync(bytes, { level: r.int(0, 10) as 0 });
  }
  return { bytes, expected, shape, gz };
}

/** The fields every caller of a loaded Volume relies on: D×H×W dims, a Float32Array of that many values, spacing, affine. */
function volumeFieldsWrong(v: Volume): string | null {
  if (!Array.isArray(v.dims) || v.dims.length !== 3 || v.dims.some((n) => !Number.isInteger(n) || n < 1)) return `dims ${JSON.stringify(v.dims)}`;
  if (!(v.data instanceof Float32Array) || v.data.length !== voxelCount(v.dims)) return `data of ${v.data?.length} values for dims ${v.dims}`;
  if (!Array.isArray(v.spacing) || v.spacing.length !== 3 || v.spacing.some((s) => !(s > 0) || !Number.isFinite(s)))
    return `spacing ${JSON.stringify(v.spacing)}`;
  if (!Array.isArray(v.affine) || v.affine.length !== 16 || v.affine.some((a) => !Number.isFinite(a))) return `affine ${JSON.stringify(v.affine)}`;
  return null;
}

/** Checks a loaded volume against its file-order oracle through the permutation the loader reports. */
function niftiWrong(name: string, c: NiftiCase | null, v: ReturnType<typeof readNifti>): string | null {
  const fields = volumeFieldsWrong(v);
  if (fields) return fields;
  for (let i = 0; i < v.data.length; i++) if (!Number.isFinite(v.data[i]!)) return `voxel ${i} is ${v.data[i]}`;
  if (!v.spacing.every((s) => s > 0 && Number.isFinite(s))) return `spacing ${v.spacing}`;
  for (const w of v.warnings) if (!KNOWN_WARNINGS.has(w.code) || w.source !== name || typeof w.message !== 'string') return `warning ${JSON.stringify(w)}`;
  if (!c) return null;
  const n = c.shape;
  const order = v.nifti.axisOrder;
  const dims = order.map((a) => n[a]!);
  if (dims.join() !== v.dims.join()) return `dims ${v.dims} for file shape ${n} and axis order ${order}`;
  const stride = [1, n[0], n[0] * n[1]];
  let o = 0;
  for (let d = 0; d < dims[0]!; d++)
    for (let h = 0; h < dims[1]!; h++)
      for (let w = 0; w < dims[2]!; w++) {
        const fi = d * stride[order[0]]! + h * stride[order[1]]! + w * stride[order[2]]!;
        if (!Object.is(v.data[o], c.expected[fi]) && !(v.data[o] === 0 && c.expected[fi] === 0))
          return `voxel (${d}, ${h}, ${w}) is ${v.data[o]}, the file holds ${c.expected[fi]}`;
        o++;
      }
  return null;
}

function mutateNifti(r: Rng, c: NiftiCase): { bytes: Uint8Array; what: string; dataOnly: boolean } {
  let b = c.bytes.slice();
  const kind = r.int(0, 9);
  const raw = c.gz ? null : new DataView(b.buffer);
  switch (kind) {
    case 0: {
      // Random bytes in the header (or the start of the stream).
      const k = r.int(1, 9);
      for (let i = 0; i < k; i++) b[r.int(0, Math.min(b.length, c.gz ? b.length : 352))] = r.int(0, 256);
      return { bytes: b, what: `${k} header bytes`, dataOnly: false };
    }
    case 1:
      return { bytes: b.slice(0, r.int(0, b.length)), what: 'truncated', dataOnly: false };
    case 2:
      return { bytes: new Uint8Array([...b, ...Array.from({ length: r.int(1, 64) }, () => r.int(0, 256))]), what: 'junk appended', dataOnly: false };
    case 3: {
      if (!raw) break;
      // A structural field set to an extreme value: dims, datatype, bitpix, vox_offset, ndim.
      const v1 = raw.getInt32(0, true) === 348 || raw.getInt32(0, false) === 348;
      const le = raw.getInt32(0, true) === 348 || raw.getInt32(0, true) === 540;
      const extreme = [0, -1, 1, 7, 8, 255, 32767, -32768, 2 ** 31 - 1][r.int(0, 9)]!;
      const field = r.int(0, 4);
      if (v1) {
        if (field === 0) raw.setInt16(40 + 2 * r.int(0, 8), extreme, le);
        else if (field === 1) raw.setInt16(70, extreme, le);
        else if (field === 2) raw.setInt16(72, extreme, le);
        else raw.setFloat32(108, [0, 1e30, -352, 351.5, 1e9][r.int(0, 5)]!, le);
      } else {
        if (field === 0) raw.setBigInt64(16 + 8 * r.int(0, 8), BigInt(extreme) * (r.next() < 0.3 ? 2n ** 30n : 1n), le);
        else if (field === 1) raw.setInt16(12, extreme, le);
        else if (field === 2) raw.setInt16(14, extreme, le);
        else raw.setBigInt64(168, [0n, 2n ** 62n, -540n, 10n ** 12n][r.int(0, 4)]!, le);
      }
      return { bytes: b, what: `field ${field} = ${extreme}`, dataOnly: false };
    }
    case 4: {
      if (!raw) break;
      // Huge declared sizes: the job's limits must refuse them from the header.
      const v1 = raw.getInt32(0, true) === 348 || raw.getInt32(0, false) === 348;
      const le = raw.getInt32(0, true) === 348 || raw.getInt32(0, true) === 540;
      if (v1) for (let i = 1; i <= 3; i++) raw.setInt16(40 + 2 * i, r.int(2000, 32768), le);
      else for (let i = 1; i <= 3; i++) raw.setBigInt64(16 + 8 * i, BigInt(r.int(2000, 2 ** 30)), le);
      return { bytes: b, what: 'huge dims', dataOnly: false };
    }
    case 5: {
      if (raw || b.length < 30) break;
      // Corrupt deflate data in the middle of the gzip stream.
      const k = r.int(1, 5);
      for (let i = 0; i < k; i++) b[r.int(10, b.length - 8)] ^= 1 << r.int(0, 8);
      return { bytes: b, what: `${k} bit flips in the deflate stream`, dataOnly: false };
    }
    case 6: {
      if (!c.gz) break;
      // An empty gzip member before, or zeros after.
      if (r.next() < 0.5) b = new Uint8Array([...gzipSync(new Uint8Array(0)), ...b]);
      else b = new Uint8Array([...b, ...new Uint8Array(r.int(1, 600))]);
      return { bytes: b, what: 'empty member / zero padding', dataOnly: true };
    }
    case 7: {
      if (!raw) break;
      // The description (text) field: harmless, the voxels must be exactly the oracle's.
      const v1 = raw.getInt32(0, true) === 348 || raw.getInt32(0, false) === 348;
      if (!v1) break;
      for (let i = 148; i < 228; i++) b[i] = r.int(0, 256);
      return { bytes: b, what: 'description bytes', dataOnly: true };
    }
    default:
      break;
  }
  return { bytes: b.slice(0, Math.max(0, b.length - r.int(1, 9))), what: 'tail cut', dataOnly: false };
}

// -------------------------------------------------------------------------------------- safetensors

const ST_BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };

function randomSafetensors(r: Rng): { bytes: Uint8Array; tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const tensors = new Map<string, SafeTensor>();
  const count = r.int(0, 6);
  for (let i = 0; i < count; i++) {
    const dtype = (['F32', 'F64', 'I32', 'I64', 'U8'] as SafeDType[])[r.int(0, 5)]!;
    const shape = Array.from({ length: r.int(0, 4) }, () => r.int(0, 5));
    const size = shape.reduce((a, b) => a * b, 1) * ST_BYTES[dtype];
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = r.int(0, 256);
    tensors.set(`layer${i}.${['weight', 'bias', 'running_var'][r.int(0, 3)]}${r.int(0, 99)}`, { dtype, shape, data });
  }
  const metadata: Record<string, string> = {};
  for (let i = r.int(0, 4); i > 0; i--) metadata[`k${r.int(0, 50)}`] = String(r.next()).slice(0, r.int(0, 20));
  return { bytes: encodeSafetensors(tensors, metadata), tensors, metadata };
}

function mutateSafetensors(r: Rng, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + hlen));
  const data = bytes.subarray(8 + hlen);
  const rebuild = (h: string, d = data) => {
    const hb = new TextEncoder().encode(h);
    const out = new Uint8Array(8 + hb.length + d.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(d, 8 + hb.length);
    return out;
  };
  const kind = r.int(0, 8);
  if (kind === 0) {
    const b = bytes.slice();
    new DataView(b.buffer).setBigUint64(0, [0n, 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(bytes.length), BigInt(hlen + 1), 200n * 2n ** 20n][r.int(0, 7)]!, true);
    return { bytes: b, what: 'header length' };
  }
  if (kind === 1) return { bytes: bytes.slice(0, r.int(0, bytes.length)), what: 'truncated' };
  if (kind === 2) {
    // Replace one JSON value by something of another type or range.
    const m = [...header.matchAll(/("dtype":"[A-Z0-9]+"|"shape":\[[^\]]*\]|"data_offsets":\[[^\]]*\]|"__metadata__":\{[^}]*\}|"k\d+":"[^"]*")/g)];
    if (!m.length) return { bytes: rebuild(`${header.slice(0, -1)}}`), what: 'no values' };
    const pick = m[r.int(0, m.length)]!;
    const key = pick[0].slice(0, pick[0].indexOf(':') + 1);
    const repl = [
      'null',
      '-1',
      '1e400',
      '"F16"',
      '[1.5]',
      '[-2,3]',
      '[9007199254740993]',
      '{}',
      '[[1]]',
      '"x"',
      '[0,99999999]',
      '[5,2]',
      'true',
      `[${'1,'.repeat(20)}1]`,
    ][r.int(0, 14)]!;
    return { bytes: rebuild(header.replace(pick[0], key + repl)), what: `${key}${repl}` };
  }
  if (kind === 3) {
    const at = r.int(0, header.length);
    return { bytes: rebuild(header.slice(0, at) + String.fromCharCode(r.int(0, 128)) + header.slice(at + 1)), what: 'JSON character' };
  }
  if (kind === 4)
    return {
      bytes: rebuild(
        [
          '[]',
          '"x"',
          '1',
          'null',
          '{"a":1}',
          '{"__metadata__":[1]}',
          '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
        ][r.int(0, 7)]!,
        new Uint8Array(16),
      ),
      what: 'odd header',
    };
  if (kind === 5) return { bytes: rebuild(header, data.subarray(0, r.int(0, data.length + 1))), what: 'data cut' };
  if (kind === 6) {
    const b = bytes.slice();
    b[8 + r.int(0, Math.max(1, hlen))] = r.int(0x80, 0x100);
    return { bytes: b, what: 'non-UTF-8 byte' };
  }
  return { bytes: rebuild(header, new Uint8Array([...data, ...new Uint8Array(r.int(1, 9))])), what: 'extra data' };
}

function safetensorsWrong(d: ReturnType<typeof decodeSafetensors>, file: Uint8Array): string | null {
  for (const [n, t] of d.tensors) {
    const need = t.shape.reduce((a, b) => a * b, 1) * ST_BYTES[t.dtype];
    if (t.data.byteLength !== need) return `${n}: ${t.data.byteLength} bytes for ${t.dtype}[${t.shape}]`;
    if (t.data.buffer !== file.buffer || t.data.byteOffset < file.byteOffset || t.data.byteOffset + t.data.byteLength > file.byteOffset + file.byteLength)
      return `${n}: data outside the file`;
  }
  for (const [k, v] of Object.entries(d.metadata)) if (typeof v !== 'string') return `metadata ${k} is ${typeof v}`;
  return null;
}

// ------------------------------------------------------------------------------ run config & checkpoint state

const CFG: ExperimentConfig = {
  model: 'f-rMC5',
  head: 'bilinear',
  width: 8,
  epochs: 6,
  sliceEpochs: 2,
  batchSize: 8,
  lr: 0.03,
  momentum: 0.9,
  weightDecay: 0.01,
  schedule: 'cosine',
  loss: { ...DEFAULT_LOSS },
  oversample: true,
  augment: true,
  augmentSet: 'light',
  tta: 2,
  headLrScale: 10,
  seed: 0,
  inputSize: 48,
  depth: 8,
  biasField: true,
  folds: 2,
  valFraction: 0.1,
};

// biome-ignore lint/correctness/noPrecisionLoss: 1e400 is meant to overflow to ±Infinity, as a hand-edited file's number would
const ODD_VALUES: unknown[] = [null, 'abc', '', '12', -1, 0, 0.5, 1, 2.5, 99, 1e400, -1e400, Number.NaN, 2 ** 53, true, [], {}, [1, 2], 1e9];

function mutateValue(r: Rng, v: unknown): unknown {
  return r.next() < 0.7 ? ODD_VALUES[r.int(0, ODD_VALUES.length)] : typeof v === 'number' ? v * [2, -1, 10, 0.5][r.int(0, 4)]! : v;
}

/** An independent reading of the README's option ranges, for accepted configurations. */
function configWrong(c: ExperimentConfig): string | null {
  const posInt = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 1;
  if (!posInt(c.width) || !posInt(c.epochs) || !posInt(c.batchSize) || !posInt(c.tta) || !posInt(c.depth) || !posInt(c.inputSize))
    return 'a size is not a positive whole number';
  if (!(Number.isSafeInteger(c.folds) && c.folds >= 2 && c.folds <= 1000)) return `folds ${c.folds}`;
  if (!(c.inputSize <= 1024)) return `inputSize ${c.inputSize}`;
  if (!(c.lr > 0 && Number.isFinite(c.lr)) || !(c.momentum >= 0 && c.momentum < 1) || !(c.valFraction >= 0 && c.valFraction < 1))
    return 'lr/momentum/valFraction';
  if (!(Number.isSafeInteger(c.sliceEpochs) && c.sliceEpochs >= 0 && c.sliceEpochs <= c.epochs)) return `sliceEpochs ${c.sliceEpochs}`;
  for (const [k, x] of Object.entries(c.loss)) if (typeof x !== 'boolean' && !Number.isFinite(x)) return `loss.${k} ${x}`;
  return null;
}

// ------------------------------------------------------------------------------------------ tests

describe(`fuzzed inputs (seed ${SEED})`, () => {
  it('NIfTI: random valid files decode to exactly the oracle; mutated headers, truncations, junk, gzip corruption are refused cleanly or decode consistently', () => {
    const r = new Rng(SEED);
    const t = tally();
    for (let i = 0; i < 300; i++) {
      const c = randomNifti(r);
      runCase(
        t,
        `valid #${i}`,
        `v${i}.nii`,
        jobNeed(c.bytes.length) * 2,
        () => readNifti(c.bytes, { name: `v${i}.nii`, ...JOB }),
        (v) => niftiWrong(`v${i}.nii`, c, v),
      );
    }
    for (let i = 0; i < 900; i++) {
      const c = randomNifti(r);
      const m = mutateNifti(r, c);
      const name = `m${i}.nii`;
      runCase(
        t,
        `mutated #${i} (${m.what})`,
        name,
        jobNeed(m.bytes.length) * 2,
        () => readNifti(m.bytes, { name, ...JOB }),
        (v) => niftiWrong(name, m.dataOnly ? c : null, v),
      );
    }
    report('NIfTI', t);
    expect(t.refused).toBeGreaterThan(300);
    expect(t.accepted).toBeGreaterThan(300);
  });

  it('NIfTI: sizes declared far beyond the job are refused from the header alone, fast, without allocating them', () => {
    const r = new Rng(SEED + 1);
    const t = tally();
    const zeroMember = gzipSync(new Uint8Array(2 ** 20));
    for (let i = 0; i < 60; i++) {
      const dims = [r.int(200, 32768), r.int(200, 32768), r.int(2, 32768)];
      const head = buildNifti({ dim: [3, ...dims], datatype: [2, 4, 16, 64][r.int(0, 4)]!, values: [] });
      // As a gzip stream whose first member is the header and whose rest is zeros (inflates large).
      const bytes = r.next() < 0.5 ? head : new Uint8Array([...gzipSync(head), ...zeroMember]);
      runCase(
        t,
        `declared ${dims.join('×')}`,
        `big${i}.nii`,
        2 * jobNeed(bytes.length),
        () => readNifti(bytes, { name: `big${i}.nii`, ...JOB }),
        () => 'accepted a volume beyond maxVoxels',
      );
    }
    report('NIfTI declared sizes', t);
    expect(t.refused).toBe(60);
    expect(t.slowest).toBeLessThan(200);
  });

  it('safetensors: random valid files round-trip exactly; mutated lengths, JSON, types, offsets and data are refused cleanly or decode consistently', () => {
    const r = new Rng(SEED + 2);
    const t = tally();
    for (let i = 0; i < 200; i++) {
      const s = randomSafetensors(r);
      runCase(
        t,
        `valid #${i}`,
        `c${i}`,
        2 * s.bytes.length,
        () => decodeSafetensors(s.bytes, `c${i}`),
        (d) => {
          if ([...d.tensors.keys()].sort().join() !== [...s.tensors.keys()].sort().join()) return 'tensor names differ';
          for (const [n, x] of s.tensors) {
            const y = d.tensors.get(n)!;
            if (y.dtype !== x.dtype || y.shape.join() !== x.shape.join() || y.data.join() !== x.data.join()) return `${n} differs`;
          }
          if (JSON.stringify(d.metadata) !== JSON.stringify(s.metadata)) return 'metadata differs';
          return null;
        },
      );
    }
    for (let i = 0; i < 600; i++) {
      const s = randomSafetensors(r);
      const m = mutateSafetensors(r, s.bytes);
      runCase(
        t,
        `mutated #${i} (${m.what})`,
        `m${i}`,
        2 * m.bytes.length + 65536,
        () => decodeSafetensors(m.bytes, `m${i}`),
        (d) => safetensorsWrong(d, m.bytes),
      );
    }
    report('safetensors', t);
    expect(t.refused).toBeGreaterThan(200);
  });

  it('checkpoint training state: mutated epoch, fold, history and config are refused or give a state the run can resume from', () => {
    const r = new Rng(SEED + 3);
    const t = tally();
    const good = () => ({
      epoch: 3,
      config: structuredClone(CFG) as unknown,
      extra: {
        fold: 1,
        history: Array.from({ length: 3 }, (_, i) => ({ epoch: i + 1, trainLoss: 0.5, lr: 0.03, seconds: 2, valAuc: 0.7, valLoss: 0.6 })),
      } as Record<string, unknown>,
    });
    runCase(
      t,
      'unchanged',
      'ck',
      1e6,
      () => validateCheckpointState(good(), { config: CFG, fold: 1, kind: 'checkpoint' }, 'ck'),
      (s) => (s.epoch === 3 && s.history.length === 3 ? null : 'changed'),
    );
    for (let i = 0; i < 400; i++) {
      const s = good() as { epoch: unknown; config: Record<string, unknown>; extra: Record<string, unknown> };
      const what: string[] = [];
      for (let k = r.int(1, 3); k > 0; k--) {
        const target = r.int(0, 5);
        if (target === 0) (s.epoch = mutateValue(r, s.epoch)), what.push(`epoch=${String(s.epoch)}`);
        else if (target === 1) (s.extra.fold = mutateValue(r, s.extra.fold)), what.push(`fold=${String(s.extra.fold)}`);
        else if (target === 2) {
          const h = s.extra.history as Record<string, unknown>[];
          if (!Array.isArray(h) || !h.length) continue;
          const e = h[r.int(0, h.length)]!;
          const f = ['epoch', 'trainLoss', 'lr', 'seconds', 'valAuc', 'valLoss'][r.int(0, 6)]!;
          e[f] = mutateValue(r, e[f]);
          what.push(`history.${f}=${String(e[f])}`);
        } else if (target === 3) {
          const keys = Object.keys(CFG);
          const f = keys[r.int(0, keys.length)]!;
          s.config[f] = mutateValue(r, s.config[f]);
          what.push(`config.${f}=${String(s.config[f])}`);
        } else (s.extra.history = r.next() < 0.5 ? 'x' : (s.extra.history as unknown[]).slice(0, r.int(0, 3))), what.push('history replaced');
      }
      runCase(
        t,
        `mutated #${i} (${what.join(', ')})`,
        'fold-1/checkpoint.safetensors',
        1e6,
        () => validateCheckpointState(s as never, { config: CFG, fold: 1, kind: 'checkpoint' }, 'fold-1/checkpoint.safetensors'),
        (v) => {
          if (!(Number.isSafeInteger(v.epoch) && v.epoch >= 1 && v.epoch <= CFG.epochs)) return `epoch ${v.epoch} accepted`;
          if (v.history.length !== v.epoch) return `history of ${v.history.length} for epoch ${v.epoch}`;
          if (JSON.stringify(s.config) !== JSON.stringify(CFG)) return 'another configuration accepted';
          if (s.extra.fold !== 1) return `fold ${String(s.extra.fold)} accepted`;
          for (const e of v.history)
            if (![e.trainLoss, e.lr, e.seconds].every((x) => Number.isFinite(x) && x >= 0)) return `history entry ${JSON.stringify(e)} accepted`;
          return null;
        },
      );
    }
    report('checkpoint state', t);
    expect(t.refused).toBeGreaterThan(300);
  });

  it('run configurations: mutated fields are refused by name or the configuration is within every documented range', () => {
    const r = new Rng(SEED + 4);
    const t = tally();
    for (let i = 0; i < 400; i++) {
      const c = structuredClone(CFG) as unknown as Record<string, unknown>;
      const keys = [...Object.keys(CFG), 'loss.gamma', 'loss.margin', 'loss.alpha', 'unknownField'];
      const f = keys[r.int(0, keys.length)]!;
      if (f.startsWith('loss.')) (c.loss as Record<string, unknown>)[f.slice(5)] = mutateValue(r, 1);
      else c[f] = mutateValue(r, c[f]);
      runCase(
        t,
        `#${i} (${f})`,
        'run/config.json',
        1e6,
        () => parseExperimentConfig(c, 'run/config.json'),
        (v) => configWrong(v),
      );
    }
    expect(configProblems(CFG)).toEqual([]);
    report('run configuration', t);
  });

  it('manifests: mutated rows and headers are refused with the line or parse to rows the loader can use', () => {
    const r = new Rng(SEED + 5);
    const t = tally();
    const base = ['subject,path,label,slices,roi,fold', 'P1,a.nii,T2,3;4,*;0:10;0:10,0', 'P2,b.nii.gz,T3,5,,1', 'P3,"c,d.nii",t3,1;2;3,0:4;*;*,'];
    const bits = ['', ',', ';', ':', '"', '-1', '99999999999999999999', 'T4', '1;1', '1;2;3;4', '*;*', '5:2;*;*', ' ', '\r', '\n', '#', 'x'];
    for (let i = 0; i < 400; i++) {
      const lines = base.slice();
      for (let k = r.int(1, 4); k > 0; k--) {
        const li = r.int(0, lines.length);
        const s = lines[li]!;
        const at = r.int(0, s.length + 1);
        lines[li] = s.slice(0, at) + bits[r.int(0, bits.length)]! + s.slice(at + r.int(0, 3));
      }
      const text = lines.join(r.next() < 0.2 ? '\r\n' : '\n');
      runCase(
        t,
        `#${i} ${JSON.stringify(text).slice(0, 80)}`,
        'm.csv',
        1e6,
        () => parseManifest(text, { name: 'm.csv' }),
        (rows) => {
          const ids = new Set<string>();
          for (const row of rows) {
            if (!row.subject || ids.has(row.subject)) return `subject ${row.subject}`;
            ids.add(row.subject);
            if (row.label !== 'T2' && row.label !== 'T3') return `label ${row.label}`;
            if (!(row.slices.length >= 1 && row.slices.length <= 3 && row.slices.every((s) => Number.isSafeInteger(s) && s >= 0)))
              return `slices ${row.slices}`;
            if (row.fold !== undefined && !(Number.isSafeInteger(row.fold) && row.fold >= 0)) return `fold ${row.fold}`;
            if (!row.path) return 'empty path';
          }
          return rows.length ? null : 'no rows';
        },
      );
    }
    report('manifest', t);
  });
});
