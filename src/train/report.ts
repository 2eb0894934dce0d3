/**
 * Run reports: a self-contained HTML page (inline CSS and SVG, images as PNG data URLs, no scripts, no
 * external assets) and a Markdown summary, both rendered from one plain-data `RunReport`.
 *
 * The training loop fills a `RunReportInput` (per-fold hold-out predictions and per-epoch history, a few
 * example volumes) and calls `buildRunReport`, which computes every metric with metrics.ts so that the
 * report, the tables and the metrics JSON always agree. `serializeRunReport` / `parseRunReport` keep
 * ±Infinity (the ROC curve's first threshold) through JSON, so `eval` can merge fold results later.
 *
 * This module builds and serialises the report and is the one import path for all of it; the pieces live in
 * report-types.ts (the data), report-svg.ts (charts), report-image.ts (pixels), report-html.ts and
 * report-markdown.ts (the two renderers) and report-format.ts (what the renderers share).
 */
import { addConfusion, binaryMetrics, pooledRoc, rocCurve, summarizeFolds } from './metrics.js';
import type { FoldInput, FoldResult, RunReport, RunReportInput } from './report-types.js';
import { paperResultRows } from './table.js';

export type { EpochRecord, ExampleSlice, ExampleVolume, FoldInput, FoldResult, ReportImage, RunReport, RunReportInput, SliceLevel } from './report-types.js';
export { flattenConfig, tableSummary } from './report-format.js';
export { renderReportHtml } from './report-html.js';
export { heatColor, saliencyOverlayRgba } from './report-image.js';
export { renderReportMarkdown } from './report-markdown.js';
export { confusionSvg, learningCurveSvg, niceTicks, rocChartSvg, sliceBarsSvg } from './report-svg.js';

/** Computes every metric from the folds' hold-out predictions and assembles the report data. */
export function buildRunReport(input: RunReportInput): RunReport {
  if (input.folds.length === 0) throw new Error('buildRunReport: no folds given; pass at least one fold with hold-out predictions');
  const threshold = input.threshold ?? 0.5;
  const seenFold = new Set<number>();
  const seenId = new Map<string, number>();
  const warnings: string[] = [];
  const folds: FoldResult[] = [...input.folds]
    .sort((a, b) => a.fold - b.fold)
    .map((f) => {
      if (seenFold.has(f.fold)) throw new Error(`buildRunReport: fold ${f.fold} appears twice; merge or drop the duplicate run`);
      seenFold.add(f.fold);
      if (f.subjectIds.length !== f.labels.length) {
        throw new Error(`buildRunReport: fold ${f.fold} has ${f.subjectIds.length} subject ids but ${f.labels.length} labels`);
      }
      for (const id of f.subjectIds) {
        const other = seenId.get(id);
        if (other !== undefined) {
          throw new Error(`buildRunReport: subject "${id}" is in the test sets of folds ${other} and ${f.fold}; a subject must be tested once`);
        }
        seenId.set(id, f.fold);
      }
      const labels = Array.from(f.labels);
      const scores = Array.from(f.scores);
      const metrics = binaryMetrics(labels, scores, threshold);
      for (const w of metrics.warnings) warnings.push(`fold ${f.fold + 1}: ${w}`);
      const r: FoldResult = {
        fold: f.fold,
        subjectIds: f.subjectIds.slice(),
        labels,
        scores,
        metrics,
        roc: rocCurve(labels, scores),
        history: (f.history ?? []).slice(),
      };
      if (f.nTrain !== undefined) r.nTrain = f.nTrain;
      if (f.nVal !== undefined) r.nVal = f.nVal;
      if (f.bestEpoch !== undefined) r.bestEpoch = f.bestEpoch;
      if (f.seconds !== undefined) r.seconds = f.seconds;
      return r;
    });
  const allLabels = folds.flatMap((f) => f.labels);
  const allScores = folds.flatMap((f) => f.scores);
  const pooled = pooledRoc(allLabels, allScores, input.bootstrap);
  warnings.push(...pooled.warnings);
  const tableKind = input.tableKind ?? 4;
  const referenceRows: RunReport['referenceRows'] = [];
  if (input.paperReference) {
    const row = paperResultRows(input.paperReference.kind).find((r) => r.name === input.paperReference!.name);
    if (!row) {
      throw new Error(
        `buildRunReport: paper Table ${input.paperReference.kind} has no row "${input.paperReference.name}"; ` +
          `rows: ${paperResultRows(input.paperReference.kind)
            .map((r) => r.name)
            .join(', ')}`,
      );
    }
    referenceRows.push({ ...row, name: `paper: ${row.name}`, source: `Table ${input.paperReference.kind} of the paper (567 patients, 10 folds)` });
  }
  for (const w of input.inputWarnings ?? []) warnings.push(`input: ${w}`);
  const report: RunReport = {
    title: input.title ?? `voxelgrad run${input.model ? ` — ${input.model.name}` : ''}`,
    createdAt: input.createdAt ?? new Date().toISOString(),
    config: input.config,
    threshold,
    folds,
    summary: summarizeFolds(folds.map((f) => f.metrics)),
    pooled,
    confusion: addConfusion(folds.map((f) => f.metrics.confusion)),
    examples: input.examples ?? [],
    tableKind,
    rowName: input.rowName ?? input.model?.name ?? 'this run',
    referenceRows,
    environment: input.environment ?? {},
    notes: input.notes ?? [],
    warnings,
  };
  const withSlices = [...input.folds].sort((a, b) => a.fold - b.fold).map((f) => f.slices);
  if (withSlices.every((s) => s && s.labels.length > 0)) {
    const sl = withSlices as NonNullable<FoldInput['slices']>[];
    const perFold = sl.map((s) => binaryMetrics(Array.from(s.labels), Array.from(s.scores), threshold));
    report.sliceLevel = {
      folds: perFold,
      summary: summarizeFolds(perFold),
      pooled: pooledRoc(
        sl.flatMap((s) => Array.from(s.labels)),
        sl.flatMap((s) => Array.from(s.scores)),
        input.bootstrap,
      ),
    };
  }
  if (input.model) report.model = input.model;
  if (input.cohort) report.cohort = input.cohort;
  if (input.saliencyTruth) report.saliencyTruth = input.saliencyTruth;
  if (input.totalSeconds !== undefined) report.totalSeconds = input.totalSeconds;
  return report;
}

/** JSON text of a report; ±Infinity and NaN are kept as strings ("Infinity", "NaN"). */
export function serializeRunReport(report: RunReport): string {
  return JSON.stringify(
    report,
    (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    1,
  );
}

/** Inverse of serializeRunReport. */
export function parseRunReport(text: string): RunReport {
  return JSON.parse(text, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v)) as RunReport;
}
