/**
 * The run report's charts as inline SVG strings (no scripts, no external fonts): ROC curves, learning
 * curves, the confusion matrix, per-slice P(T3) bars and the saliency colour scale.
 */
import type { ConfusionMatrix } from './metrics.js';
import { esc, fmt } from './report-format.js';
import { heatColor } from './report-image.js';
import type { ExampleVolume, FoldResult, RunReport } from './report-types.js';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const TRAIN_COLOR = '#1f6fb4';
const VAL_COLOR = '#e8710a';
export const T2_COLOR = '#3b7dd8';
export const T3_COLOR = '#d6453d';

/** Round tick values covering [lo, hi] with about `count` steps of 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

interface LineSeries {
  points: Array<[number, number]>;
  color: string;
  width: number;
  dash?: string;
  opacity?: number;
}

interface BandSeries {
  x: number[];
  lo: number[];
  hi: number[];
  color: string;
  opacity: number;
}

interface LegendItem {
  label: string;
  color: string;
  kind: 'line' | 'band' | 'dash';
  width?: number;
  opacity?: number;
}

interface LinePlot {
  title: string;
  plotW: number;
  plotH: number;
  x: [number, number];
  y: [number, number];
  xTicks: number[];
  yTicks: number[];
  xFormat: (v: number) => string;
  yFormat: (v: number) => string;
  xLabel: string;
  yLabel: string;
  lines: LineSeries[];
  bands?: BandSeries[];
  legend: LegendItem[];
  legendW: number;
  /** Lines of small text under the legend. */
  note?: string[];
}

const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"`;

function legendSvg(items: LegendItem[], x0: number, y0: number): string {
  return items
    .map((it, i) => {
      const y = y0 + i * 20;
      const sym =
        it.kind === 'band'
          ? `<rect x="${x0}" y="${y - 6}" width="24" height="12" fill="${it.color}" fill-opacity="${it.opacity ?? 0.25}"/>`
          : `<line x1="${x0}" y1="${y}" x2="${x0 + 24}" y2="${y}" stroke="${it.color}" stroke-width="${it.width ?? 2}"` +
            `${it.kind === 'dash' ? ' stroke-dasharray="5 4"' : ''} stroke-opacity="${it.opacity ?? 1}"/>`;
      return `${sym}<text x="${x0 + 30}" y="${y + 4}" font-size="12" fill="#222">${esc(it.label)}</text>`;
    })
    .join('');
}

function svgLinePlot(p: LinePlot): string {
  const m = { l: 58, r: 16, t: 30, b: 46 };
  const legendH = p.legend.length * 20 + 10;
  // Widen the legend column to fit its longest label (≈ 7 px per character at 12 px).
  const legendW = Math.max(
    p.legendW,
    44 + 7 * Math.max(0, ...p.legend.map((it) => it.label.length)),
    10 + 6.2 * Math.max(0, ...(p.note ?? []).map((n) => n.length)),
  );
  const W = Math.ceil(m.l + p.plotW + m.r + legendW);
  const H = Math.max(m.t + p.plotH + m.b, m.t + legendH);
  const sx = (v: number): number => m.l + ((v - p.x[0]) / (p.x[1] - p.x[0])) * p.plotW;
  const sy = (v: number): number => m.t + p.plotH - ((v - p.y[0]) / (p.y[1] - p.y[0])) * p.plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(p.title)}" ${FONT}>`);
  parts.push(`<title>${esc(p.title)}</title>`);
  parts.push(`<text x="${m.l}" y="18" font-size="14" font-weight="600" fill="#111">${esc(p.title)}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${p.plotW}" height="${p.plotH}" fill="#fff" stroke="#999"/>`);
  for (const t of p.yTicks) {
    const y = sy(t);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + p.plotW}" y2="${y}" stroke="#e6e6e6"/>`);
    parts.push(`<line x1="${m.l - 5}" y1="${y}" x2="${m.l}" y2="${y}" stroke="#555"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y + 4}" font-size="11" text-anchor="end" fill="#333">${esc(p.yFormat(t))}</text>`);
  }
  for (const t of p.xTicks) {
    const x = sx(t);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + p.plotH}" stroke="#eeeeee"/>`);
    parts.push(`<line x1="${x}" y1="${m.t + p.plotH}" x2="${x}" y2="${m.t + p.plotH + 5}" stroke="#555"/>`);
    parts.push(`<text x="${x}" y="${m.t + p.plotH + 18}" font-size="11" text-anchor="middle" fill="#333">${esc(p.xFormat(t))}</text>`);
  }
  parts.push(`<text x="${m.l + p.plotW / 2}" y="${m.t + p.plotH + 38}" font-size="13" text-anchor="middle" fill="#111">${esc(p.xLabel)}</text>`);
  parts.push(
    `<text x="14" y="${m.t + p.plotH / 2}" font-size="13" text-anchor="middle" fill="#111" transform="rotate(-90 14 ${m.t + p.plotH / 2})">${esc(p.yLabel)}</text>`,
  );
  parts.push(`<clipPath id="clip-${p.title.replace(/[^A-Za-z0-9]/g, '')}"><rect x="${m.l}" y="${m.t}" width="${p.plotW}" height="${p.plotH}"/></clipPath>`);
  parts.push(`<g clip-path="url(#clip-${p.title.replace(/[^A-Za-z0-9]/g, '')})">`);
  for (const b of p.bands ?? []) {
    const ok = b.x.map((_, i) => Number.isFinite(b.lo[i]!) && Number.isFinite(b.hi[i]!));
    const up = b.x.flatMap((x, i) => (ok[i] ? [`${sx(x).toFixed(1)},${sy(b.hi[i]!).toFixed(1)}`] : []));
    const down = b.x.flatMap((x, i) => (ok[i] ? [`${sx(x).toFixed(1)},${sy(b.lo[i]!).toFixed(1)}`] : [])).reverse();
    if (up.length > 1) parts.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${b.color}" fill-opacity="${b.opacity}" stroke="none"/>`);
  }
  for (const s of p.lines) {
    // Split at non-finite values so a missing epoch leaves a gap instead of a wrong segment.
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 1) {
        parts.push(
          `<polyline points="${run.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${s.width}" stroke-opacity="${s.opacity ?? 1}"` +
            `${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round" stroke-linecap="round"/>`,
        );
      } else if (run.length === 1) {
        const [x, y] = run[0]!.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="${s.width + 1}" fill="${s.color}" fill-opacity="${s.opacity ?? 1}"/>`);
      }
      run = [];
    };
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) run.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      else flush();
    }
    flush();
  }
  parts.push('</g>');
  parts.push(legendSvg(p.legend, m.l + p.plotW + m.r + 6, m.t + 10));
  (p.note ?? []).forEach((line, i) =>
    parts.push(`<text x="${m.l + p.plotW + m.r + 6}" y="${m.t + legendH + 12 + i * 15}" font-size="11" fill="#555">${esc(line)}</text>`),
  );
  parts.push('</svg>');
  return parts.join('');
}

/** ROC curves: one thin line per fold, the pooled curve thick, its bootstrap band shaded, the chance line dashed. */
export function rocChartSvg(report: RunReport): string {
  const lines: LineSeries[] = [];
  const legend: LegendItem[] = [];
  report.folds.forEach((f, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (f.roc.fpr.every(Number.isFinite) && f.roc.tpr.every(Number.isFinite)) {
      lines.push({ points: f.roc.fpr.map((x, k) => [x, f.roc.tpr[k]!]), color, width: 1.4, opacity: 0.7 });
    }
    legend.push({ label: `Fold ${f.fold + 1} (AUC ${fmt(f.metrics.auc, 3)})`, color, kind: 'line', width: 1.6, opacity: 0.8 });
  });
  lines.unshift({
    points: [
      [0, 0],
      [1, 1],
    ],
    color: '#888',
    width: 1.2,
    dash: '5 4',
  });
  const p = report.pooled;
  lines.push({ points: p.roc.fpr.map((x, k) => [x, p.roc.tpr[k]!]), color: '#111', width: 3 });
  const level = Math.round(p.level * 100);
  legend.push(
    { label: `Pooled (AUC ${fmt(p.auc, 3)})`, color: '#111', kind: 'line', width: 3 },
    { label: `${level}% bootstrap band`, color: '#555', kind: 'band', opacity: 0.22 },
    { label: 'Chance (AUC 0.5)', color: '#888', kind: 'dash', width: 1.2 },
  );
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  return svgLinePlot({
    title: 'ROC curves (hold-out folds and pooled)',
    plotW: 360,
    plotH: 360,
    x: [0, 1],
    y: [0, 1],
    xTicks: ticks,
    yTicks: ticks,
    xFormat: (v) => v.toFixed(1),
    yFormat: (v) => v.toFixed(1),
    xLabel: 'False-positive rate (1 − recall T2)',
    yLabel: 'True-positive rate (recall T3)',
    lines,
    bands: [{ x: p.band.fpr, lo: p.band.tprLower, hi: p.band.tprUpper, color: '#555', opacity: 0.22 }],
    legend,
    legendW: 190,
    note: [`Pooled AUC ${level}% CI:`, `[${fmt(p.ci[0], 3)}, ${fmt(p.ci[1], 3)}], ${p.b} bootstrap`, 'resamples (stratified)'],
  });
}

type HistoryKey = 'trainLoss' | 'valLoss' | 'trainAuc' | 'valAuc';

/** Mean over the folds that have a finite value at each epoch. */
function meanCurve(folds: FoldResult[], key: HistoryKey): Array<[number, number]> {
  const byEpoch = new Map<number, number[]>();
  for (const f of folds) {
    for (const e of f.history) {
      const v = e[key];
      if (v !== undefined && Number.isFinite(v)) {
        const list = byEpoch.get(e.epoch) ?? [];
        list.push(v);
        byEpoch.set(e.epoch, list);
      }
    }
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([ep, vs]) => [ep, vs.reduce((s, v) => s + v, 0) / vs.length]);
}

function hasKey(folds: FoldResult[], key: HistoryKey): boolean {
  return folds.some((f) => f.history.some((e) => e[key] !== undefined && Number.isFinite(e[key]!)));
}

/** Loss or AUC per epoch: thin lines per fold, thick lines for the mean over folds; train blue, validation orange. */
export function learningCurveSvg(report: RunReport, what: 'loss' | 'auc'): string | undefined {
  const keys: [HistoryKey, HistoryKey] = what === 'loss' ? ['trainLoss', 'valLoss'] : ['trainAuc', 'valAuc'];
  const present = keys.filter((k) => hasKey(report.folds, k));
  if (present.length === 0) return undefined;
  const lines: LineSeries[] = [];
  const legend: LegendItem[] = [];
  let maxEpoch = 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (const key of present) {
    const color = key.startsWith('train') ? TRAIN_COLOR : VAL_COLOR;
    const dash = key.startsWith('train') ? undefined : '6 3';
    for (const f of report.folds) {
      const pts = f.history.map((e) => [e.epoch, e[key] ?? NaN] as [number, number]);
      for (const [ep, v] of pts) {
        if (Number.isFinite(v)) {
          maxEpoch = Math.max(maxEpoch, ep);
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      lines.push({ points: pts, color, width: 1, opacity: 0.28, ...(dash ? { dash } : {}) });
    }
  }
  for (const key of present) {
    const color = key.startsWith('train') ? TRAIN_COLOR : VAL_COLOR;
    const dash = key.startsWith('train') ? undefined : '6 3';
    lines.push({ points: meanCurve(report.folds, key), color, width: 3, ...(dash ? { dash } : {}) });
    legend.push({
      label: `${key.startsWith('train') ? 'Training' : 'Validation'} (mean)`,
      color,
      kind: dash ? 'dash' : 'line',
      width: 3,
    });
  }
  legend.push({ label: 'Single folds', color: '#777', kind: 'line', width: 1, opacity: 0.5 });
  let y: [number, number];
  if (what === 'auc') y = [Math.min(0.5, Math.floor(lo * 10) / 10), 1];
  else {
    const span = hi - lo || Math.abs(hi) || 1;
    y = [Math.max(0, lo - 0.05 * span), hi + 0.05 * span];
    if (lo >= 0 && lo < 0.3 * hi) y[0] = 0;
  }
  const yTicks = niceTicks(y[0], y[1], 5);
  const xTicks = niceTicks(1, maxEpoch, Math.min(8, Math.max(1, maxEpoch - 1))).filter((t) => Number.isInteger(t) && t >= 1);
  const step = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1;
  const digits = Math.max(0, Math.min(4, -Math.floor(Math.log10(step) + 1e-9)));
  return svgLinePlot({
    title: what === 'loss' ? 'Loss per epoch' : 'AUC per epoch',
    plotW: 290,
    plotH: 220,
    x: [1, Math.max(2, maxEpoch)],
    y,
    xTicks: xTicks.length > 0 ? xTicks : [1],
    yTicks,
    xFormat: (v) => String(v),
    yFormat: (v) => v.toFixed(digits),
    xLabel: 'Epoch',
    yLabel: what === 'loss' ? 'Loss (epoch mean)' : 'AUC',
    lines,
    legend,
    legendW: 130,
  });
}

/** 2×2 confusion matrix heatmap: counts, and the fraction of each true class (row) in each cell. */
export function confusionSvg(cm: ConfusionMatrix, threshold: number): string {
  const cell = 112;
  const x0 = 96;
  const y0 = 62;
  const rows: Array<[string, number, number]> = [
    ['T2', cm.tn, cm.fp],
    ['T3', cm.fn, cm.tp],
  ];
  const W = x0 + 2 * cell + 20;
  const H = y0 + 2 * cell + 56;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Confusion matrix" ${FONT}>`,
    `<title>Confusion matrix</title>`,
    `<text x="8" y="18" font-size="14" font-weight="600" fill="#111">Confusion matrix (all folds)</text>`,
    `<text x="${x0 + cell}" y="${y0 - 28}" font-size="13" text-anchor="middle" fill="#111">Predicted stage</text>`,
    `<text x="22" y="${y0 + cell}" font-size="13" text-anchor="middle" fill="#111" transform="rotate(-90 22 ${y0 + cell})">True stage</text>`,
  ];
  ['T2', 'T3'].forEach((l, j) =>
    parts.push(`<text x="${x0 + j * cell + cell / 2}" y="${y0 - 8}" font-size="13" font-weight="600" text-anchor="middle" fill="#111">${l}</text>`),
  );
  rows.forEach(([name, a, b], i) => {
    const total = a + b;
    parts.push(`<text x="${x0 - 12}" y="${y0 + i * cell + cell / 2 + 5}" font-size="13" font-weight="600" text-anchor="end" fill="#111">${name}</text>`);
    [a, b].forEach((count, j) => {
      const frac = total > 0 ? count / total : 0;
      const correct = i === j;
      // Blue for correct cells, red for errors; intensity = row fraction.
      const base = correct ? [33, 102, 172] : [202, 64, 54];
      const mix = 0.12 + 0.88 * frac;
      const rgb = base.map((c) => Math.round(255 - (255 - c) * mix));
      const dark = mix > 0.55;
      const x = x0 + j * cell;
      const y = y0 + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${rgb.join(',')})" stroke="#fff" stroke-width="2"/>`);
      parts.push(
        `<text x="${x + cell / 2}" y="${y + cell / 2}" font-size="24" font-weight="700" text-anchor="middle" fill="${dark ? '#fff' : '#111'}">${count}</text>`,
      );
      parts.push(
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 22}" font-size="12" text-anchor="middle" fill="${dark ? '#fff' : '#333'}">${total > 0 ? (frac * 100).toFixed(1) : 'n/a'}% of ${name}</text>`,
      );
    });
  });
  parts.push(`<text x="8" y="${y0 + 2 * cell + 22}" font-size="11" fill="#555">Predicted T3 when P(T3) ≥ ${threshold}. Rows: true stage.</text>`);
  parts.push(`<text x="8" y="${y0 + 2 * cell + 38}" font-size="11" fill="#555">Blue: correct; red: errors; shade = share of the row.</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Per-slice P(T3) bars for one volume, the 0.5 threshold dashed, representative slices marked ▲. */
export function sliceBarsSvg(ex: ExampleVolume, threshold: number): string {
  const n = ex.sliceProbabilities.length;
  const m = { l: 52, r: 16, t: 30, b: 52 };
  const plotW = Math.max(240, Math.min(560, n * 22));
  const plotH = 150;
  const legendW = 170;
  const W = m.l + plotW + m.r + legendW;
  const H = m.t + plotH + m.b;
  const bw = plotW / Math.max(1, n);
  const sy = (v: number): number => m.t + plotH - v * plotH;
  const rep = new Set(ex.representativeSlices ?? []);
  const shown = new Set((ex.slices ?? []).map((s) => s.index));
  const title = `Per-slice P(T3) — ${ex.id}`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" ${FONT}>`,
    `<title>${esc(title)}</title>`,
    `<text x="${m.l}" y="18" font-size="14" font-weight="600" fill="#111">${esc(title)}</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${m.l}" y1="${sy(t)}" x2="${m.l + plotW}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 8}" y="${sy(t) + 4}" font-size="11" text-anchor="end" fill="#333">${t.toFixed(2)}</text>`);
  }
  const labelEvery = Math.max(1, Math.ceil(n / 20));
  ex.sliceProbabilities.forEach((p, i) => {
    const x = m.l + i * bw;
    const v = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
    const color = p >= threshold ? T3_COLOR : T2_COLOR;
    parts.push(
      `<rect x="${(x + bw * 0.12).toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(bw * 0.76).toFixed(1)}" height="${(plotH * v).toFixed(1)}" fill="${color}"` +
        `${shown.has(i) ? ' stroke="#111" stroke-width="1.5"' : ''}><title>slice ${i}: P(T3) = ${fmt(p, 3)}</title></rect>`,
    );
    if (i % labelEvery === 0 || rep.has(i)) {
      parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${m.t + plotH + 15}" font-size="10" text-anchor="middle" fill="#333">${i}</text>`);
    }
    if (rep.has(i)) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${m.t + plotH + 29}" font-size="12" text-anchor="middle" fill="#111">▲</text>`);
  });
  parts.push(`<line x1="${m.l}" y1="${sy(threshold)}" x2="${m.l + plotW}" y2="${sy(threshold)}" stroke="#333" stroke-width="1.2" stroke-dasharray="5 4"/>`);
  parts.push(`<text x="${m.l + plotW / 2}" y="${m.t + plotH + 46}" font-size="12" text-anchor="middle" fill="#111">Slice index (depth)</text>`);
  parts.push(`<text x="14" y="${m.t + plotH / 2}" font-size="12" text-anchor="middle" fill="#111" transform="rotate(-90 14 ${m.t + plotH / 2})">P(T3)</text>`);
  const lx = m.l + plotW + m.r + 6;
  const items = [
    `<rect x="${lx}" y="${m.t + 4}" width="14" height="12" fill="${T3_COLOR}"/><text x="${lx + 20}" y="${m.t + 14}" font-size="12">slice P(T3) ≥ ${threshold}</text>`,
    `<rect x="${lx}" y="${m.t + 24}" width="14" height="12" fill="${T2_COLOR}"/><text x="${lx + 20}" y="${m.t + 34}" font-size="12">slice P(T3) &lt; ${threshold}</text>`,
    `<line x1="${lx}" y1="${m.t + 50}" x2="${lx + 14}" y2="${m.t + 50}" stroke="#333" stroke-dasharray="4 3"/><text x="${lx + 20}" y="${m.t + 54}" font-size="12">threshold</text>`,
    `<text x="${lx + 1}" y="${m.t + 74}" font-size="12">▲</text><text x="${lx + 20}" y="${m.t + 74}" font-size="12">representative slice</text>`,
    `<rect x="${lx}" y="${m.t + 84}" width="14" height="12" fill="none" stroke="#111" stroke-width="1.5"/><text x="${lx + 20}" y="${m.t + 94}" font-size="12">shown below</text>`,
  ];
  parts.push(...items.map((s) => s.replace(/<text /g, '<text fill="#222" ')));
  parts.push('</svg>');
  return parts.join('');
}

export function saliencyLegendSvg(): string {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = heatColor(i / 10);
    return `<stop offset="${i * 10}%" stop-color="rgb(${r},${g},${b})"/>`;
  }).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="250" height="34" viewBox="0 0 250 34" role="img" aria-label="Saliency colour scale" ${FONT}>` +
    `<defs><linearGradient id="heat-grad">${stops}</linearGradient></defs>` +
    `<text x="0" y="12" font-size="12" fill="#222">Saliency (overlay opacity grows with it)</text>` +
    `<rect x="0" y="18" width="170" height="10" fill="url(#heat-grad)"/>` +
    `<text x="176" y="27" font-size="11" fill="#444">low → high</text></svg>`
  );
}
