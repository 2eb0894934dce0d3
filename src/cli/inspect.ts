/**
 * `voxelgrad inspect FILE [--json]`: what a NIfTI volume or a checkpoint holds, read the way training and
 * prediction read it (src/train/inspect.ts), before any work is spent on it. Exit codes as for every
 * command: 0 the file is usable, 2 usage, 4 a file that is refused — one that cannot be read, or one that
 * reads but that training/prediction would refuse (a single slice, non-finite weights, an invalid
 * configuration, tensors that do not match it); the report is still printed for the second kind.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_BYTES } from '../data/nifti.js';
import { hostBudget } from '../data/io.node.js';
import { type InspectReport, formatInspectReport, inspectBytes } from '../train/inspect.js';
import { InputError, checkHostBytes, formatBytes } from '../util/errors.js';
import { UsageError } from './args.js';

const HELP = `voxelgrad inspect FILE [--json]

Shows what a NIfTI volume (.nii, .nii.gz) or a checkpoint (.safetensors) holds, read the same way training
and prediction read it.
  volume:     stored and loaded dimensions (D = slice axis), spacing, where the orientation comes from,
              datatype, scaling, every repair the loader made, intensity min/max/mean/SD, usable or not
  checkpoint: model configuration (checked field by field), epoch and fold, every tensor's name, dtype
              and shape, whether every value is finite, whether the tensors match the configuration

Options:
  --json       print the report as JSON
  --help       show this help

Exit codes: 0 usable, 2 usage error, 4 a file that cannot be read or that training/prediction would refuse.`;

/** Why training or prediction would refuse a file that could be read (null when usable). */
export function refusal(r: InspectReport): string | null {
  if (r.kind === 'nifti') return r.notAVolume;
  if (!r.allFinite) return `${r.file}: ${r.tensors.filter((t) => t.nonFinite).length} tensor(s) hold NaN or infinite values; the checkpoint cannot be used`;
  if (r.configProblems.length)
    return `${r.file}: the model configuration in the metadata is not usable (${r.configProblems[0]}${r.configProblems.length > 1 ? ', …' : ''})`;
  if (r.modelMismatches?.length)
    return `${r.file}: the tensors do not match the configuration's model (${r.modelMismatches[0]}${r.modelMismatches.length > 1 ? ', …' : ''})`;
  return null;
}

export async function inspectCommand(argv: string[], out: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}; usage: voxelgrad inspect FILE [--json]`);
  }
  if (parsed.values.help) {
    out(HELP);
    return 0;
  }
  const files = parsed.positionals;
  if (files.length !== 1)
    throw new UsageError(`give exactly one FILE (got ${files.length}${files.length ? `: ${files.join(' ')}` : ''}); usage: voxelgrad inspect FILE [--json]`);
  const path = files[0]!;
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError('unreadable', `${path}: is a folder; give a .nii, .nii.gz or .safetensors file`, path);
    if (!st.isFile()) throw new InputError('unreadable', `${path}: not a regular file`, path);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      'unreadable',
      `${path}: cannot read the file (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message})`,
      path,
    );
  }
  if (size > DEFAULT_MAX_BYTES)
    throw new InputError(
      'too-large',
      `${path}: the file is ${formatBytes(size)}, over the ${formatBytes(DEFAULT_MAX_BYTES)} a volume or checkpoint can have`,
      path,
    );
  const budget = hostBudget();
  checkHostBytes(size, budget, 'reading the file', path, 'free memory');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError('unreadable', `${path}: cannot read the file (${(e as Error).message})`, path);
  }
  const report = inspectBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, { budget });
  const refused = refusal(report);
  if (parsed.values.json) out(JSON.stringify({ ...report, usable: refused === null, refusal: refused }, null, 2));
  else out(formatInspectReport(report).join('\n'));
  if (refused) {
    process.stderr.write(`voxelgrad inspect: ${refused}\n`);
    return 4;
  }
  return 0;
}
