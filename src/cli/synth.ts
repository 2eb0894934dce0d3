/** `voxelgrad synth`: writes the built-in synthetic rectal MR cohort (NIfTI + manifest.csv). */
import { writeSyntheticCohort } from '../data/synth.node.js';
import { PAPER_COHORT } from '../data/synth.js';
import { Progress } from '../util/progress.js';
import { type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';
import { checkOutputDir } from './outputs.js';

export const synthFlags: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'output folder', default: 'cohort' },
  n2: { type: 'number', help: 'T2 subjects', default: PAPER_COHORT.n2, integer: true, min: 1, max: 100_000 },
  n3: { type: 'number', help: 'T3 subjects', default: PAPER_COHORT.n3, integer: true, min: 1, max: 100_000 },
  size: { type: 'number', help: 'in-plane matrix S×S (the paper: 256)', default: 256, integer: true, min: 16, max: 1024 },
  slices: { type: 'string', help: 'slices per volume, N or MIN:MAX', default: '20:30' },
  difficulty: { type: 'number', help: '0 (easy) … 1 (hard); see README for the calibration', default: 0.5, min: 0, max: 1 },
  'fov-mm': {
    type: 'number',
    help: 'in-plane field of view in mm (the paper: 112.6 = 256 × 0.44 mm); smaller = tighter localisation around the rectum',
    min: 20,
    max: 400,
  },
  'size-matched': {
    type: 'boolean',
    help: 'T3 tumour volumes distributed as T2 ones (default: T3 tumours ~1.3× the volume on average, size-only AUC ~0.62), so size cannot stand in for the breach',
  },
  seed: { type: 'number', help: 'cohort seed', default: 0, integer: true, min: 0, max: 2 ** 32 - 1 },
  overwrite: { type: 'boolean', help: 'regenerate subjects that already exist' },
  json: { type: 'boolean', help: 'print a JSON summary' },
  help: { type: 'boolean', help: 'show this help' },
};

export function parseSlices(s: string): number | [number, number] {
  const m = /^(\d+)(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`--slices must be N or MIN:MAX, got '${s}'`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b < a) throw new UsageError(`--slices range ${s} is empty`);
  return a === b ? a : [a, b];
}

export async function synthCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, synthFlags, 'synth');
  if (flags.help) {
    out(formatHelp('synth', 'Generates the synthetic T2/T3 rectal MR cohort as NIfTI volumes with a manifest.', synthFlags));
    return 0;
  }
  checkOutputDir(String(flags.out));
  const n2 = Number(flags.n2);
  const n3 = Number(flags.n3);
  const fovMm = flags['fov-mm'] === undefined ? undefined : Number(flags['fov-mm']);
  const bar = new Progress(process.stderr, { label: 'synthesising volumes', total: n2 + n3, unit: 'vol' });
  const res = writeSyntheticCohort(
    String(flags.out),
    {
      n2,
      n3,
      size: Number(flags.size),
      slices: parseSlices(String(flags.slices)),
      difficulty: Number(flags.difficulty),
      ...(fovMm !== undefined ? { fovMm } : {}),
      ...(flags['size-matched'] ? { sizeMatched: true } : {}),
      seed: Number(flags.seed),
      overwrite: Boolean(flags.overwrite),
    },
    (done) => bar.update(done),
  );
  bar.finish();
  if (flags.json) out(JSON.stringify({ dir: res.dir, manifest: res.manifestPath, subjects: res.entries.length, generated: res.generated }));
  else out(`${res.entries.length} subjects (${res.generated} generated now) in ${res.dir}; manifest: ${res.manifestPath}`);
  return 0;
}
