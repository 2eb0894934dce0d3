/**
 * `voxelgrad ablate --table 2|3|4 --manifest M`: reruns the paper's comparisons on any cohort and prints
 * them in the paper's layout. Each row is an ordinary cross-validated run in <out>/table-<n>/<row>/ (so
 * rows can be resumed or run on other machines with `train --fold`), then merged here.
 *   Table 2: the eleven extractors, slice head, focal loss (scored per representative slice).
 *   Table 3: the best extractor, slice head, with focal, focal + center, focal + triplet.
 *   Table 4: the best extractor and loss with each depth aggregation (avg, max, bilinear, attention).
 * As in the paper, each table carries the best row of the one before forward (read from the finished
 * runs in --out); `--extractor` / `--loss` pin them instead; without either, the paper's choice
 * (f-rMC5, triplet) is used and the command says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { MODEL_NAMES, type ModelName } from '../model/resnet.js';
import { rangeOf } from '../train/config.js';
import { DirStore } from '../train/dir-store.node.js';
import { ConfigError, type ExperimentConfig, validateExperimentConfig } from '../train/experiment.js';
import { parseRunReport, tableSummary } from '../train/report.js';
import { formatResultsTable } from '../train/table.js';
import { buildModel } from '../train/trainer.js';
import { type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';
import { checkOutputDir } from './outputs.js';
import { experimentConfig, loadSamples, runWithProgress, stoppedExit, trainFlags } from './train.js';

export type AblationLoss = 'focal' | 'center' | 'triplet';
const LOSSES: readonly AblationLoss[] = ['focal', 'center', 'triplet'];
const LOSS_ROWS: Record<AblationLoss, string> = { focal: 'Focal', center: '+Center', triplet: '+Triplet' };

export const ablateFlags: Record<string, FlagSpec> = {
  table: { type: 'number', help: '2 (extractors) | 3 (supplementary losses) | 4 (aggregations)', integer: true, min: 2, max: 4 },
  format: { type: 'string', help: 'table format', choices: ['text', 'markdown'], default: 'text' },
  extractor: { type: 'string', help: 'Tables 3–4: pin the extractor (default: the best of Table 2 in --out, else f-rMC5)', choices: MODEL_NAMES },
  loss: { type: 'string', help: 'Table 4: pin the loss (default: the best of Table 3 in --out, else triplet)', choices: LOSSES },
  ...Object.fromEntries(Object.entries(trainFlags).filter(([k]) => !['model', 'head', 'triplet', 'center', 'fold', 'json', 'help'].includes(k))),
  triplet: { type: 'number', help: 'triplet loss weight in the rows that use it', default: 1, ...rangeOf('loss.triplet') },
  center: { type: 'number', help: 'center loss weight λ in the rows that use it (Wen et al.: 0.003)', default: 0.003, ...rangeOf('loss.center') },
  out: { type: 'string', help: 'folder for the rows’ runs (<out>/table-<n>/<row>)', default: 'runs/ablate' },
  help: { type: 'boolean', help: 'show this help' },
};

const rowDir = (out: string, table: number, row: string) => join(out, `table-${table}`, row.replace(/[^A-Za-z0-9+()_-]/g, '_'));

/** The table-summary AUC of every finished row of `table` in `out`, or null unless all rows finished. */
function finishedRows(out: string, table: number, names: readonly string[]): { name: string; auc: number }[] | null {
  const rows: { name: string; auc: number }[] = [];
  for (const name of names) {
    const p = join(rowDir(out, table, name), 'metrics.json');
    if (!existsSync(p)) return null;
    rows.push({ name, auc: tableSummary(parseRunReport(readFileSync(p, 'utf8'))).auc.mean });
  }
  return rows;
}

function best(rows: { name: string; auc: number }[]): string {
  return rows.reduce((a, b) => (b.auc > a.auc ? b : a)).name;
}

/** The extractor and loss a table uses, carried forward from the previous tables or pinned; with why. */
export function carriedChoices(
  out: string,
  table: number,
  pinned: { extractor?: ModelName; loss?: AblationLoss },
): { extractor: ModelName; loss: AblationLoss; notes: string[] } {
  const notes: string[] = [];
  let extractor: ModelName = 'f-rMC5';
  let loss: AblationLoss = 'triplet';
  if (table >= 3) {
    if (pinned.extractor) extractor = pinned.extractor;
    else {
      const t2 = finishedRows(out, 2, MODEL_NAMES);
      if (t2) {
        extractor = best(t2) as ModelName;
        notes.push(`extractor ${extractor}: the best AUC of Table 2 in ${out}`);
      } else notes.push(`extractor f-rMC5, the paper's best: Table 2 has not finished in ${out} (run --table 2 first, or pin one with --extractor)`);
    }
  }
  if (table === 4) {
    if (pinned.loss) loss = pinned.loss;
    else {
      const t3 = finishedRows(
        out,
        3,
        LOSSES.map((l) => LOSS_ROWS[l]),
      );
      if (t3) {
        loss = LOSSES.find((l) => LOSS_ROWS[l] === best(t3))!;
        notes.push(`loss ${loss}: the best AUC of Table 3 in ${out}`);
      } else notes.push(`loss focal + triplet, the paper's best: Table 3 has not finished in ${out} (run --table 3 first, or pin one with --loss)`);
    }
  }
  return { extractor, loss, notes };
}

export function ablationRows(
  table: number,
  base: ExperimentConfig,
  choice: { extractor: ModelName; loss: AblationLoss },
  weights: { triplet: number; center: number },
): { name: string; cfg: ExperimentConfig }[] {
  const lossOf = (l: AblationLoss) => ({ triplet: l === 'triplet' ? weights.triplet : 0, center: l === 'center' ? weights.center : 0 });
  const mk = (name: string, patch: Partial<ExperimentConfig>, loss: Partial<ExperimentConfig['loss']>) => ({
    name,
    cfg: { ...base, ...patch, loss: { ...base.loss, ...loss } },
  });
  if (table === 2) return MODEL_NAMES.map((m) => mk(m, { model: m, head: 'slice' }, lossOf('focal')));
  if (table === 3) return LOSSES.map((l) => mk(LOSS_ROWS[l], { model: choice.extractor, head: 'slice' }, lossOf(l)));
  if (table === 4) {
    const heads = [
      ['AVP', 'avg'],
      ['MXP', 'max'],
      ['Bilin', 'bilinear'],
      ['Att', 'attention'],
    ] as const;
    return heads.map(([name, head]) => mk(name, { model: choice.extractor, head }, lossOf(choice.loss)));
  }
  throw new UsageError(`--table must be 2, 3 or 4, got ${table}`);
}

export async function ablateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags, given } = parseArgs(argv, ablateFlags, 'ablate');
  if (flags.help) {
    out(
      formatHelp(
        'ablate',
        "Reruns one of the paper's comparison tables (2, 3 or 4) on a cohort.",
        ablateFlags,
        '--table 4 --manifest cohort/manifest.csv [train options]',
      ),
    );
    return 0;
  }
  if (flags.table === undefined) throw new UsageError('--table is required (2, 3 or 4)');
  if (!flags.manifest) throw new UsageError('--manifest is required');
  const table = Number(flags.table);
  const outDir = String(flags.out);
  checkOutputDir(outDir);
  // Rows differ from the base only in model, head and loss; the base's other settings are the flags'.
  const base = experimentConfig({ ...flags, model: 'f-rMC5', head: 'slice' }, given);
  const choice = carriedChoices(outDir, table, {
    ...(flags.extractor ? { extractor: flags.extractor as ModelName } : {}),
    ...(flags.loss ? { loss: flags.loss as AblationLoss } : {}),
  });
  const rows = ablationRows(table, base, choice, { triplet: Number(flags.triplet), center: Number(flags.center) });
  // Every row must be able to train before any volume is loaded (e.g. Table 4 with --slice-epochs >= --epochs).
  for (const row of rows) {
    try {
      validateExperimentConfig(row.cfg);
    } catch (e) {
      if (e instanceof ConfigError)
        throw new UsageError(`row ${row.name}: ${e.message.replace('slice-level epochs', '--slice-epochs').replace('the epochs', '--epochs')}`);
      throw e;
    }
  }
  for (const n of choice.notes) process.stderr.write(`ablate: ${n}\n`);
  const samples = loadSamples(String(flags.manifest), base, process.stderr);
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  const resultRows = [];
  try {
    for (const row of rows) {
      process.stderr.write(`\n== Table ${table}: ${row.name} ==\n`);
      const store = new DirStore(rowDir(outDir, table, row.name));
      const run = await runWithProgress({ gpu, store, cfg: row.cfg, samples, report: { cohortName: String(flags.manifest), notes: choice.notes } });
      if (run.stopped) return stoppedExit(store);
      if (!run.report) throw new Error(`${row.name}: folds ${run.missing.join(', ')} did not finish`);
      resultRows.push({ name: row.name, summary: tableSummary(run.report), params: buildModel(row.cfg).parameterCount() });
    }
  } finally {
    gpu.destroy();
  }
  out(formatResultsTable(resultRows, { kind: table as 2 | 3 | 4, format: flags.format === 'markdown' ? 'markdown' : 'text' }));
  if (choice.notes.length) out(choice.notes.map((n) => `note: ${n}`).join('\n'));
  return 0;
}
