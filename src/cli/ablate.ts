/**
 * `voxelgrad ablate --table 2|3|4 --manifest M`: reruns the paper's comparisons on any cohort and prints
 * them in the paper's layout. Each row is an ordinary cross-validated run in <out>/<row>/ (so rows can be
 * resumed or run on other machines with `train --fold`), then merged here.
 *   Table 2: the eleven extractors, slice head, focal loss.
 *   Table 3: f-rMC5 slice head with focal, focal + center, focal + triplet.
 *   Table 4: f-rMC5 with focal + triplet and each depth aggregation (avg, max, bilinear, attention).
 */
import { join } from 'node:path';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { MODEL_NAMES } from '../model/resnet.js';
import { DirStore } from '../train/dir-store.node.js';
import type { ExperimentConfig } from '../train/experiment.js';
import { formatResultsTable } from '../train/table.js';
import { buildModel } from '../train/trainer.js';
import { type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';
import { checkOutputDir } from './outputs.js';
import { experimentConfig, loadSamples, runWithProgress, stoppedExit, trainFlags } from './train.js';

export const ablateFlags: Record<string, FlagSpec> = {
  table: { type: 'number', help: '2 (extractors) | 3 (supplementary losses) | 4 (aggregations)', integer: true, min: 2, max: 4 },
  format: { type: 'string', help: 'table format', choices: ['text', 'markdown'], default: 'text' },
  ...Object.fromEntries(Object.entries(trainFlags).filter(([k]) => !['model', 'head', 'triplet', 'center', 'fold', 'json', 'help'].includes(k))),
  out: { type: 'string', help: 'folder for the rows’ runs', default: 'runs/ablate' },
  help: { type: 'boolean', help: 'show this help' },
};

export function ablationRows(table: number, base: ExperimentConfig): { name: string; cfg: ExperimentConfig }[] {
  const mk = (name: string, patch: Partial<ExperimentConfig>, loss: Partial<ExperimentConfig['loss']> = {}) => ({
    name,
    cfg: { ...base, ...patch, loss: { ...base.loss, ...loss } },
  });
  if (table === 2) return MODEL_NAMES.map((m) => mk(m, { model: m, head: 'slice' }, { triplet: 0, center: 0 }));
  if (table === 3) {
    return [
      mk('Focal', { model: 'f-rMC5', head: 'slice' }, { triplet: 0, center: 0 }),
      mk('+Center', { model: 'f-rMC5', head: 'slice' }, { triplet: 0, center: base.loss.center > 0 ? base.loss.center : 0.003 }),
      mk('+Triplet', { model: 'f-rMC5', head: 'slice' }, { triplet: base.loss.triplet > 0 ? base.loss.triplet : 1, center: 0 }),
    ];
  }
  if (table === 4) {
    const loss = { triplet: base.loss.triplet > 0 ? base.loss.triplet : 1, center: 0 };
    return [
      mk('AVP', { model: 'f-rMC5', head: 'avg' }, loss),
      mk('MXP', { model: 'f-rMC5', head: 'max' }, loss),
      mk('Bilin', { model: 'f-rMC5', head: 'bilinear' }, loss),
      mk('Att', { model: 'f-rMC5', head: 'attention' }, loss),
    ];
  }
  throw new UsageError(`--table must be 2, 3 or 4, got ${table}`);
}

export async function ablateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, ablateFlags, 'ablate');
  if (flags.help) {
    out(formatHelp('ablate', "Reruns one of the paper's comparison tables (2, 3 or 4) on a cohort.", ablateFlags, '--table 4 --manifest cohort/manifest.csv [train options]'));
    return 0;
  }
  if (!flags.manifest) throw new UsageError('--manifest is required');
  const table = Number(flags.table);
  checkOutputDir(String(flags.out));
  const base = experimentConfig({ ...flags, model: 'f-rMC5', head: 'slice', triplet: 1, center: 0 });
  const rows = ablationRows(table, base);
  const samples = loadSamples(String(flags.manifest), base, process.stderr);
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  const resultRows = [];
  try {
    for (const row of rows) {
      process.stderr.write(`\n== ${row.name} ==\n`);
      const store = new DirStore(join(String(flags.out), row.name.replace(/[^A-Za-z0-9+()_-]/g, '_')));
      const run = await runWithProgress({ gpu, store, cfg: row.cfg, samples, report: { cohortName: String(flags.manifest) } });
      if (run.stopped) return stoppedExit(store);
      if (!run.report) throw new Error(`${row.name}: folds ${run.missing.join(', ')} did not finish`);
      resultRows.push({ name: row.name, summary: run.report.summary, params: buildModel(row.cfg).parameterCount() });
    }
  } finally {
    gpu.destroy();
  }
  out(formatResultsTable(resultRows, { kind: table as 2 | 3 | 4, format: flags.format === 'markdown' ? 'markdown' : 'text' }));
  return 0;
}
