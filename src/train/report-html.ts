/**
 * The self-contained HTML run report: inline CSS and SVG, images as PNG data URLs, no scripts and no
 * external requests, so the file can be mailed or archived as it is.
 */
import { encodePng, pngDataUrl } from '../util/png.js';
import type { MeanSd } from './metrics.js';
import {
  esc,
  flattenConfig,
  fmt,
  levelRows,
  pct,
  resultsRowsForTable,
  SALIENCY_TRUTH_CAPTION,
  SALIENCY_TRUTH_HEAD,
  saliencyTruthRows,
} from './report-format.js';
import { checkDataUrl, grayDataUrl, saliencyOnlyRgba, saliencyOverlayRgba } from './report-image.js';
import { confusionSvg, learningCurveSvg, rocChartSvg, saliencyLegendSvg, sliceBarsSvg, T2_COLOR, T3_COLOR } from './report-svg.js';
import type { ExampleSlice, ExampleVolume, ReportImage, RunReport } from './report-types.js';
import { formatMeanSd, PAPER_TABLE_SPECS } from './table.js';

function imageHtml(img: ReportImage, alt: string): string {
  const src = img.kind === 'png' ? checkDataUrl(img.dataUrl) : grayDataUrl(img);
  return `<img src="${src}" alt="${esc(alt)}">`;
}

function sliceFigureHtml(ex: ExampleVolume, s: ExampleSlice, threshold: number): string {
  const p = ex.sliceProbabilities[s.index];
  const rep = (ex.representativeSlices ?? []).includes(s.index);
  const caption = `slice ${s.index}${rep ? ' ▲' : ''} · P(T3) ${p === undefined ? 'n/a' : fmt(p, 2)}`;
  let overlay = '';
  if (s.saliency) {
    if (s.image.kind === 'gray' && s.saliency.kind === 'gray') {
      const rgba = saliencyOverlayRgba(s.image, s.saliency);
      const url = pngDataUrl(encodePng({ width: s.image.width, height: s.image.height, channels: 4, data: rgba }));
      overlay = `<div class="pane"><img src="${url}" alt="${esc(`${ex.id} ${caption} with saliency`)}"><span>with saliency</span></div>`;
    } else {
      // Already-encoded pictures: stack the saliency PNG over the image with CSS (no compositing here).
      let salSrc: string;
      if (s.saliency.kind === 'png') salSrc = checkDataUrl(s.saliency.dataUrl);
      else {
        // Upsample to the image's size when known, so the browser does not show 8×8 blocks.
        const w = s.image.width ?? s.saliency.width;
        const h = s.image.height ?? s.saliency.height;
        salSrc = pngDataUrl(encodePng({ width: w, height: h, channels: 4, data: saliencyOnlyRgba(s.saliency, w, h) }));
      }
      overlay = `<div class="pane"><div class="stack">${imageHtml(s.image, `${ex.id} ${caption}`)}<img class="over" src="${salSrc}" alt="saliency"></div><span>with saliency</span></div>`;
    }
  }
  const wrong = p !== undefined && p >= threshold !== (ex.label === 1);
  return (
    `<figure class="slice"><div class="panes"><div class="pane">${imageHtml(s.image, `${ex.id} ${caption}`)}<span>image</span></div>${overlay}</div>` +
    `<figcaption${wrong ? ' class="wrong"' : ''}>${esc(caption)}</figcaption></figure>`
  );
}

function saliencyTruthHtml(report: RunReport): string {
  const t = report.saliencyTruth;
  if (!t) return '';
  const rows = saliencyTruthRows(t).map((r) => `<tr>${r.map((c, i) => `<td class="${i ? 'num' : 'name'}">${esc(c)}</td>`).join('')}</tr>`);
  const tumour = t.classes
    .map((c) => `${c.label}: ${fmt(100 * c.tumour.mass, 1)} % of the saliency on the tumour (${fmt(100 * c.tumour.volume, 1)} % of the input)`)
    .join('; ');
  return (
    `<table class="results"><caption>${esc(SALIENCY_TRUTH_CAPTION)} (${t.input} input)</caption>` +
    `<thead><tr>${SALIENCY_TRUTH_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table><p class="note">${esc(tumour)}</p>`
  );
}

function levelTableHtml(report: RunReport): string {
  if (!report.sliceLevel) return '';
  const rows = levelRows(report).map(
    (r) =>
      `<tr><td class="name">${esc(r.level)}</td><td class="num">${esc(r.n)}</td><td class="num">${esc(formatMeanSd(r.s.auc, false))}</td><td class="num">${esc(fmt(r.pooled.auc, 3))}</td>` +
      `${[r.s.accuracy, r.s.recallT2, r.s.recallT3].map((m) => `<td class="num">${esc(formatMeanSd(m, true))}</td>`).join('')}</tr>`,
  );
  return (
    `<table class="results"><caption>Slice-level (the paper's Tables 2–3: one sample per representative slice, with its volume's stage) and volume-level metrics</caption>` +
    `<thead><tr>${['Scored', 'Samples', 'AUC', 'Pooled AUC', 'Acc (%)', 'Recall(T2) (%)', 'Recall(T3) (%)'].map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function resultsTableHtml(report: RunReport): string {
  const spec = PAPER_TABLE_SPECS[report.tableKind];
  const head = [spec.firstColumn, 'AUC', 'Acc (%)', 'Recall(T2) (%)', 'Recall(T3) (%)', ...(spec.showParams ? ['# params'] : [])];
  const rows = resultsRowsForTable(report).map((r, i) => {
    const cells = [
      `<td class="name">${esc(r.name)}</td>`,
      ...[r.summary.auc, r.summary.accuracy, r.summary.recallT2, r.summary.recallT3].map(
        (m: MeanSd, k) => `<td class="num">${esc(formatMeanSd(m, k > 0))}</td>`,
      ),
      ...(spec.showParams ? [`<td class="num">${r.params === undefined ? 'n/a' : r.params}</td>`] : []),
    ];
    return `<tr${i > 0 ? ' class="ref"' : ''}>${cells.join('')}</tr>`;
  });
  return (
    `<table class="results"><caption>${esc(spec.caption)} — layout of the paper; mean ± SD over ${report.summary.nFolds} folds</caption>` +
    `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function foldTableHtml(report: RunReport): string {
  const head = ['Fold', 'Test n (T2/T3)', 'Train n', 'AUC', 'Acc', 'Recall(T2)', 'Recall(T3)', 'TN', 'FP', 'FN', 'TP', 'Best epoch', 'Time'];
  const rows = report.folds.map((f) => {
    const m = f.metrics;
    const c = [
      String(f.fold + 1),
      `${m.n} (${m.nT2}/${m.nT3})`,
      f.nTrain === undefined ? '—' : `${f.nTrain}${f.nVal ? ` + ${f.nVal} val` : ''}`,
      fmt(m.auc, 3),
      pct(m.accuracy),
      pct(m.recallT2),
      pct(m.recallT3),
      String(m.confusion.tn),
      String(m.confusion.fp),
      String(m.confusion.fn),
      String(m.confusion.tp),
      f.bestEpoch === undefined ? '—' : String(f.bestEpoch),
      f.seconds === undefined ? '—' : `${Math.round(f.seconds)} s`,
    ];
    return `<tr>${c.map((v, k) => `<td class="${k <= 2 ? 'name' : 'num'}">${esc(v)}</td>`).join('')}</tr>`;
  });
  const th = head.map((h, k) => `<th${k <= 2 ? ' class="name"' : ''}>${esc(h)}</th>`).join('');
  return `<table class="folds"><thead><tr>${th}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1b1d21;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid #dde1e6}
.sub{color:#555;margin:0 0 18px}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:18px 20px;margin:0 0 18px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px}
.card{flex:1 1 160px;border:1px solid #dde1e6;border-radius:8px;padding:10px 14px;background:#fafbfc}
.card .k{font-size:12px;color:#555;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums}
.card .s{font-size:12px;color:#555}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:4px 0 8px}
caption{caption-side:top;text-align:left;font-size:13px;color:#444;padding:0 0 6px}
th,td{padding:5px 12px;border-bottom:1px solid #e6e8eb}
th{background:#f0f2f5;text-align:right;font-weight:600;font-size:13px}
th:first-child,th.name{text-align:left}
td.num{text-align:right;white-space:nowrap}
td.name{text-align:left;white-space:nowrap}
tr.ref td{color:#666;font-style:italic}
table.results td{font-size:16px}
table.folds td{font-size:13px}
.row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.row svg{max-width:100%;height:auto}
.notes{font-size:13px;color:#444;margin:8px 0 0;padding-left:18px}
.warn{background:#fff7e0;border:1px solid #f0c36d;border-radius:8px;padding:10px 14px;margin:0 0 18px;font-size:14px}
.warn ul{margin:4px 0 0;padding-left:18px}
.example{border-top:1px solid #e6e8eb;padding:14px 0 6px}
.example:first-of-type{border-top:0;padding-top:0}
.example h3{font-size:16px;margin:0 0 6px}
.tag{display:inline-block;border-radius:4px;padding:0 7px;font-size:13px;font-weight:600;color:#fff;margin-left:6px}
.tag.t2{background:${T2_COLOR}}.tag.t3{background:${T3_COLOR}}.tag.ok{background:#2e8b57}.tag.bad{background:#8a2b2b}
.slices{display:flex;flex-wrap:wrap;gap:14px;margin:8px 0 0}
figure.slice{margin:0;border:1px solid #e1e4e8;border-radius:6px;padding:8px;background:#fafbfc}
.panes{display:flex;gap:6px}
.pane{display:flex;flex-direction:column;align-items:center;font-size:11px;color:#555}
.pane img{width:150px;height:150px;image-rendering:pixelated;display:block;background:#000;object-fit:contain}
.stack{position:relative;width:150px;height:150px}
.stack img{position:absolute;left:0;top:0}
.stack img.over{background:transparent;image-rendering:auto}
figcaption{font-size:12px;text-align:center;margin-top:4px;color:#222}
figcaption.wrong{color:#8a2b2b}
dl.config{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;font-size:13px;margin:0}
dl.config dt{color:#555;font-family:ui-monospace,Menlo,Consolas,monospace}
dl.config dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.empty{color:#666;font-style:italic}
footer{font-size:12px;color:#666;text-align:center}
`;

function exampleHtml(ex: ExampleVolume, threshold: number): string {
  const predT3 = ex.probability >= threshold;
  const correct = predT3 === (ex.label === 1);
  const head =
    `<h3>${esc(ex.id)}<span class="tag ${ex.label === 1 ? 't3' : 't2'}">true ${ex.label === 1 ? 'T3' : 'T2'}</span>` +
    `<span class="tag ${predT3 ? 't3' : 't2'}">predicted ${predT3 ? 'T3' : 'T2'}</span>` +
    `<span class="tag ${correct ? 'ok' : 'bad'}">${correct ? 'correct' : 'wrong'}</span></h3>` +
    `<div class="sub" style="margin:0 0 6px">Volume P(T3) = <b>${fmt(ex.probability, 3)}</b>` +
    `${ex.fold !== undefined ? ` · held out in fold ${ex.fold + 1}` : ''} · ${ex.sliceProbabilities.length} slices` +
    `${ex.note ? ` · ${esc(ex.note)}` : ''}</div>`;
  const slices = (ex.slices ?? []).map((s) => sliceFigureHtml(ex, s, threshold)).join('');
  return `<div class="example">${head}<div class="row">${sliceBarsSvg(ex, threshold)}</div>${slices ? `<div class="slices">${slices}</div>` : ''}</div>`;
}

/** The self-contained HTML report (no scripts, no external requests). */
export function renderReportHtml(report: RunReport): string {
  const s = report.summary;
  const p = report.pooled;
  const level = Math.round(p.level * 100);
  const cards = [
    ['AUC', formatMeanSd(s.auc, false), `mean ± SD over ${s.nFolds} folds`],
    ['Pooled AUC', fmt(p.auc, 3), `${level}% CI ${fmt(p.ci[0], 3)}–${fmt(p.ci[1], 3)} (bootstrap)`],
    ['Accuracy', `${formatMeanSd(s.accuracy, true)}%`, 'mean ± SD'],
    ['Recall T2', `${formatMeanSd(s.recallT2, true)}%`, 'specificity'],
    ['Recall T3', `${formatMeanSd(s.recallT3, true)}%`, 'sensitivity'],
  ]
    .map(([k, v, sub]) => `<div class="card"><div class="k">${esc(k!)}</div><div class="v">${esc(v!)}</div><div class="s">${esc(sub!)}</div></div>`)
    .join('');
  const cohort = report.cohort
    ? `${report.cohort.name}${report.cohort.nSubjects !== undefined ? ` · ${report.cohort.nSubjects} subjects` : ''}` +
      `${report.cohort.nT2 !== undefined ? ` (${report.cohort.nT2} T2 / ${report.cohort.nT3 ?? '?'} T3)` : ''}`
    : `${p.n} subjects (${p.nT2} T2 / ${p.nT3} T3)`;
  const sub = [
    report.model ? `Model ${report.model.name}${report.model.params !== undefined ? ` (${report.model.params.toLocaleString('en-US')} parameters)` : ''}` : '',
    cohort,
    `${report.folds.length} folds`,
    report.totalSeconds !== undefined ? `run time ${Math.round(report.totalSeconds / 60)} min` : '',
    `created ${report.createdAt}`,
  ]
    .filter(Boolean)
    .map(esc)
    .join(' · ');
  const notes = report.notes.length
    ? `<div class="warn" style="background:#eef5ff;border-color:#9cc0ef"><b>Notes</b><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></div>`
    : '';
  const warns = report.warnings.length ? `<div class="warn"><b>Warnings</b><ul>${report.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>` : '';
  const loss = learningCurveSvg(report, 'loss');
  const auc = learningCurveSvg(report, 'auc');
  const curves = loss || auc ? `<div class="row">${loss ?? ''}${auc ?? ''}</div>` : '<p class="empty">No per-epoch history was recorded for this run.</p>';
  const examples = report.examples.length
    ? `${report.examples.map((e) => exampleHtml(e, report.threshold)).join('')}<div class="row" style="margin-top:10px;align-items:center">${saliencyLegendSvg()}` +
      `<span class="sub" style="margin:0;font-size:13px">Slice captions in red: that slice's prediction disagrees with the true stage. ▲: representative slice.</span></div>`
    : '<p class="empty">No example volumes were included.</p>';
  const config = flattenConfig(report.config)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('');
  const env = Object.entries(report.environment)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(report.title)}</h1>
<p class="sub">${sub}</p>
${notes}${warns}
<section><h2>Results</h2>
<div class="cards">${cards}</div>
${resultsTableHtml(report)}
${levelTableHtml(report)}
${saliencyTruthHtml(report)}
<ul class="notes">
<li>Metrics on each fold's hold-out subjects; a subject is predicted T3 when P(T3) ≥ ${report.threshold}. Recall(T2) is the specificity and Recall(T3) the sensitivity (T3 is the positive class).</li>
<li>SD is the sample standard deviation over folds (ddof = 1). The pooled AUC is computed on all hold-out predictions together; its ${level}% CI is the percentile interval of ${p.b} stratified bootstrap resamples (seed ${p.seed}).</li>
${report.referenceRows.map((r) => `<li>Grey row: ${esc(r.source)}, for comparison only — a different cohort.</li>`).join('')}
</ul></section>
<section><h2>ROC and confusion matrix</h2><div class="row">${rocChartSvg(report)}${confusionSvg(report.confusion, report.threshold)}</div></section>
<section><h2>Learning curves</h2>${curves}</section>
<section><h2>Per-fold results</h2>${foldTableHtml(report)}</section>
<section><h2>Example volumes</h2>${examples}</section>
<section><h2>Run configuration</h2><dl class="config">${config}</dl>${env ? `<h2 style="margin-top:16px">Environment</h2><dl class="config">${env}</dl>` : ''}</section>
<footer>Generated by voxelgrad. Self-contained file: all charts are inline SVG and all images are embedded.</footer>
</main></body></html>
`;
}
