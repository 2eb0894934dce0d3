/**
 * What the HTML and Markdown renderers of a run report share: escaping and number formats, the rows of
 * the results tables, the saliency-truth table and the flattened configuration.
 */
import type { FoldSummary, PooledRoc } from './metrics.js';
import type { RunReport } from './report-types.js';
import type { SaliencyTruth } from './saliency-truth.js';
import type { ResultRow } from './table.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

export function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a';
}

/**
 * The summary that goes into the paper's table: slice-level for Tables 2 and 3 (the paper scores them
 * per representative slice), per volume for Table 4.
 */
export function tableSummary(report: RunReport): FoldSummary {
  return report.tableKind !== 4 && report.sliceLevel ? report.sliceLevel.summary : report.summary;
}

export function resultsRowsForTable(report: RunReport): ResultRow[] {
  const own: ResultRow = {
    name: report.rowName,
    summary: tableSummary(report),
    ...(report.model?.params !== undefined ? { params: report.model.params } : {}),
  };
  return [own, ...report.referenceRows];
}

/** Slice-level beside volume-level metrics (mean ± SD over folds, pooled AUC). */
export function levelRows(report: RunReport): { level: string; n: string; s: FoldSummary; pooled: PooledRoc }[] {
  const rows = [{ level: 'per volume', n: `${report.pooled.n} volumes`, s: report.summary, pooled: report.pooled }];
  if (report.sliceLevel) {
    const p = report.sliceLevel.pooled;
    rows.unshift({ level: 'per representative slice', n: `${p.n} slices`, s: report.sliceLevel.summary, pooled: p });
  }
  return rows;
}

export const SALIENCY_TRUTH_CAPTION =
  'Where the model looks (synthetic ground truth): share of the saliency |∂ logit / ∂ voxel| within r mm of the tumour’s outgrowth — where the T2/T3 criterion is decided (T3: the breach of the muscularis) — ' +
  'against the share of the input there (an even map), its ratio (enrichment; 1 = no preference), the share of the top 1 % most salient voxels there, and how often the most salient voxel is; hold-out volumes through their fold’s model, on the input they were tested on';

export function saliencyTruthRows(t: SaliencyTruth): string[][] {
  return t.classes.flatMap((c) =>
    c.byRadius.map((r) => [
      `${c.label} (${c.n})`,
      `${r.radiusMm}`,
      fmt(100 * r.mass, 1),
      fmt(100 * r.volume, 1),
      fmt(r.enrichment, 2),
      fmt(100 * r.top, 1),
      fmt(100 * r.peak, 0),
    ]),
  );
}

export const SALIENCY_TRUTH_HEAD = ['Volumes', 'r (mm)', 'Saliency (%)', 'Input (%)', 'Enrichment', 'Top 1 % (%)', 'Peak (%)'];

/** Nested config flattened to [dotted key, printable value] rows. */
export function flattenConfig(obj: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) out.push(...flattenConfig(v as Record<string, unknown>, key));
    else if (Array.isArray(v)) out.push([key, JSON.stringify(v)]);
    else out.push([key, String(v)]);
  }
  return out;
}
