/** The run report as Markdown: the same tables and figures as the HTML page, as text. */
import { flattenConfig, fmt, levelRows, resultsRowsForTable, SALIENCY_TRUTH_CAPTION, SALIENCY_TRUTH_HEAD, saliencyTruthRows } from './report-format.js';
import type { RunReport } from './report-types.js';
import type { SaliencyTruth } from './saliency-truth.js';
import { formatFoldTable, formatMeanSd, formatResultsTable } from './table.js';

function saliencyTruthMarkdown(t: SaliencyTruth): string[] {
  return [
    `**${SALIENCY_TRUTH_CAPTION}** (${t.input} input)`,
    '',
    `| ${SALIENCY_TRUTH_HEAD.join(' | ')} |`,
    `|:---|${SALIENCY_TRUTH_HEAD.slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...saliencyTruthRows(t).map((r) => `| ${r.join(' | ')} |`),
    '',
    t.classes
      .map((c) => `${c.label}: ${fmt(100 * c.tumour.mass, 1)} % of the saliency on the tumour (${fmt(100 * c.tumour.volume, 1)} % of the input)`)
      .join('; '),
  ];
}

/** A Markdown summary of the run (tables, pooled AUC, confusion matrix, examples, config). */
export function renderReportMarkdown(report: RunReport): string {
  const p = report.pooled;
  const level = Math.round(p.level * 100);
  const c = report.confusion;
  const lines: string[] = [`# ${report.title}`, ''];
  const meta = [
    report.model ? `**Model:** ${report.model.name}${report.model.params !== undefined ? ` (${report.model.params} parameters)` : ''}` : '',
    `**Subjects:** ${p.n} (${p.nT2} T2 / ${p.nT3} T3)${report.cohort ? ` from ${report.cohort.name}` : ''}`,
    `**Folds:** ${report.folds.length}`,
    `**Created:** ${report.createdAt}`,
    report.totalSeconds !== undefined ? `**Run time:** ${Math.round(report.totalSeconds)} s` : '',
  ].filter(Boolean);
  lines.push(meta.join('  \n'), '');
  for (const n of report.notes) lines.push(`> ${n}`);
  if (report.notes.length) lines.push('');
  if (report.warnings.length) {
    lines.push('**Warnings**', '', ...report.warnings.map((w) => `- ${w}`), '');
  }
  lines.push('## Results', '');
  lines.push(formatResultsTable(resultsRowsForTable(report), { kind: report.tableKind, format: 'markdown', markBest: false }), '');
  if (report.sliceLevel) {
    lines.push('| Scored | Samples | AUC | Pooled AUC | Acc (%) | Recall(T2) (%) | Recall(T3) (%) |', '|:---|---:|---:|---:|---:|---:|---:|');
    for (const r of levelRows(report)) {
      lines.push(
        `| ${r.level} | ${r.n} | ${formatMeanSd(r.s.auc, false)} | ${fmt(r.pooled.auc, 3)} | ${[r.s.accuracy, r.s.recallT2, r.s.recallT3].map((m) => formatMeanSd(m, true)).join(' | ')} |`,
      );
    }
    lines.push('');
  }
  if (report.saliencyTruth) lines.push(...saliencyTruthMarkdown(report.saliencyTruth), '');
  lines.push(
    `**Pooled AUC:** ${fmt(p.auc, 3)} (${level}% CI ${fmt(p.ci[0], 3)}–${fmt(p.ci[1], 3)}, percentile bootstrap, ${p.b} stratified resamples, seed ${p.seed})`,
    '',
  );
  lines.push(`### Confusion matrix (all folds, predicted T3 when P(T3) ≥ ${report.threshold})`, '');
  lines.push('| true \\ predicted | T2 | T3 |', '|:---|---:|---:|', `| T2 | ${c.tn} | ${c.fp} |`, `| T3 | ${c.fn} | ${c.tp} |`, '');
  lines.push(
    '### Per fold',
    '',
    formatFoldTable(
      report.folds.map((f) => f.metrics),
      'markdown',
    ),
    '',
    'Acc and recalls in %.',
    '',
  );
  if (report.examples.length) {
    lines.push('## Example volumes', '', '| Subject | True | P(T3) | Predicted | Highest-scoring slices |', '|:---|:---|---:|:---|:---|');
    for (const e of report.examples) {
      const top = e.sliceProbabilities
        .map((v, i) => [i, v] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([i, v]) => `${i} (${fmt(v, 2)})`)
        .join(', ');
      lines.push(`| ${e.id} | ${e.label === 1 ? 'T3' : 'T2'} | ${fmt(e.probability, 3)} | ${e.probability >= report.threshold ? 'T3' : 'T2'} | ${top} |`);
    }
    lines.push('');
  }
  lines.push('## Configuration', '', ...flattenConfig(report.config).map(([k, v]) => `- \`${k}\`: ${v}`), '');
  const env = Object.entries(report.environment);
  if (env.length) lines.push('## Environment', '', ...env.map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}
