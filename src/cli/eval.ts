/**
 * `voxelgrad eval --run DIR`: merges the fold results of a run (folds may have been run as separate
 * jobs with `train --fold k`), prints the paper-style table and writes the report. Every fold result
 * is checked against the run's configuration before it is merged.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { parseExperimentConfig } from '../train/config.js';
import { DirStore } from '../train/dir-store.node.js';
import type { ExperimentConfig } from '../train/experiment.js';
import { readFoldResults } from '../train/experiment.js';
import { serializeRunReport } from '../train/report.js';
import { summaryTable, writeReport } from '../train/run-report.js';
import { formatFoldTable } from '../train/table.js';
import { type FlagSpec, RunIncompleteError, UsageError, formatHelp, parseArgs } from './args.js';

export const evalFlags: Record<string, FlagSpec> = {
  run: { type: 'string', help: 'run folder written by `voxelgrad train`' },
  partial: { type: 'boolean', help: 'report on the folds that are done even if some are missing' },
  json: { type: 'boolean', help: 'print the full metrics as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

/** The run configuration of a run folder, checked field by field. */
export function readRunConfig(dir: string): ExperimentConfig {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder; pass the --out folder of \`voxelgrad train\``);
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new UsageError(`${dir} is not a run folder (no config.json); pass the --out folder of \`voxelgrad train\``);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new InputError('corrupt', `${p} is not valid JSON (${(e as Error).message})`);
  }
  return parseExperimentConfig(json, p);
}

export async function evalCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, evalFlags, 'eval');
  if (flags.help) {
    out(formatHelp('eval', 'Merges the folds of a run into the results table, ROC with bootstrap CI and the HTML/Markdown report.', evalFlags, '--run DIR'));
    return 0;
  }
  if (!flags.run) throw new UsageError('--run is required');
  const dir = String(flags.run);
  const cfg = readRunConfig(dir);
  const store = new DirStore(dir);
  const { results, missing } = await readFoldResults(store, cfg);
  if (results.length === 0) throw new RunIncompleteError(`${dir}: no fold has finished yet (no fold-*/result.json)`);
  if (missing.length && !flags.partial) {
    throw new RunIncompleteError(`${dir}: folds ${missing.join(', ')} are not done yet; run them (train --resume --fold k) or pass --partial`);
  }
  const notes = missing.length ? [`partial: folds ${missing.join(', ')} missing`] : [];
  const report = await writeReport(store, cfg, results, { notes });
  if (flags.json) out(serializeRunReport(report));
  else {
    out(summaryTable(report, cfg));
    out('');
    out(formatFoldTable(report.folds.map((f) => f.metrics)));
    out(`\npooled AUC ${report.pooled.auc.toFixed(3)} (95 % bootstrap CI ${report.pooled.ci[0].toFixed(3)}–${report.pooled.ci[1].toFixed(3)})`);
    out(`report: ${store.path('report.html')}`);
  }
  return 0;
}
