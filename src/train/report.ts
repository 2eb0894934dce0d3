/**
 * Run reports: a self-contained HTML page (inline CSS and SVG, images as PNG data URLs, no scripts, no
 * external assets) and a Markdown summary, both rendered from one plain-data `RunReport`.
 *
 * The training loop fills a `RunReportInput` (per-fold hold-out predictions and per-epoch history, a few
 * example volumes) and calls `buildRunReport`, which computes every metric with metrics.ts so that the
 * report, the tables and the metrics JSON always agree. `serializeRunReport` / `parseRunReport` keep
 * ±Infinity (the ROC curve's first threshold) through JSON, so `eval` can merge fold results later.
 */
import {
  addConfusion,
  binaryMetrics,
  pooledRoc,
  rocCurve,
  summarizeFolds,
  type BinaryMetrics,
  type BootstrapOptions,
  type ConfusionMatrix,
  type FoldSummary,
  type MeanSd,
  type PooledRoc,
  type RocCurve,
} from './metrics.js';
import {
  formatFoldTable,
  formatMeanSd,
  formatResultsTable,
  paperResultRows,
  PAPER_TABLE_SPECS,
  type PaperTableKind,
  type ResultRow,
} from './table.js';
import { encodePng, pngDataUrl, toGray8 } from '../util/png.js';

// ---------------------------------------------------------------------------------------------------
// Types

/** One epoch of one fold. Losses are the epoch means; AUCs on the train / validation subjects. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  trainAuc?: number;
  valAuc?: number;
  lr?: number;
  seconds?: number;
}

/**
 * A 2-D image: either an already encoded PNG data URL, or a row-major gray array that the report
 * encodes (mapped to 0–255 over [min, max], default the data's range).
 */
export type ReportImage =
  | { kind: 'png'; dataUrl: string; width?: number; height?: number }
  | { kind: 'gray'; width: number; height: number; data: ArrayLike<number>; min?: number; max?: number };

export interface ExampleSlice {
  /** Slice (depth) index in the volume, 0-based. */
  index: number;
  image: ReportImage;
  /**
   * Saliency for this slice: a gray array (any non-negative scale, any size — it is resized bilinearly to
   * the image and shown as a heat overlay), or a PNG data URL (ideally RGBA) drawn over the image.
   */
  saliency?: ReportImage;
}

export interface ExampleVolume {
  id: string;
  /** True label: 1 = T3, 0 = T2. */
  label: 0 | 1;
  /** Volume-level P(T3) (after TTA). */
  probability: number;
  /** Test fold the volume was held out in (0-based). */
  fold?: number;
  /** P(T3) of every slice along depth (slice-level head, Fig. 2), 0-based slice order. */
  sliceProbabilities: number[];
  /** Radiologist-selected representative slices (0-based), highlighted in the chart. */
  representativeSlices?: number[];
  /** A few slices with images and optional saliency (keep to ≤ 4 per volume). */
  slices?: ExampleSlice[];
  note?: string;
}

/** What the training loop hands over for one fold. */
export interface FoldInput {
  /** 0-based fold index. */
  fold: number;
  /** Hold-out subjects of this fold: ids, true labels (1 = T3), final (TTA-averaged) P(T3). */
  subjectIds: string[];
  labels: ArrayLike<number>;
  scores: ArrayLike<number>;
  history?: EpochRecord[];
  /** Training / validation subject counts before oversampling. */
  nTrain?: number;
  nVal?: number;
  /** Epoch whose weights produced `scores` (if selected on validation). */
  bestEpoch?: number;
  seconds?: number;
  /**
   * Slice-level samples (one per representative slice, with its volume's label): Tables 2 and 3 of the
   * paper are scored this way. Reported beside the per-volume metrics.
   */
  slices?: { labels: ArrayLike<number>; scores: ArrayLike<number> };
}

/** Metrics over representative slices (the paper's Tables 2–3), beside the per-volume ones. */
export interface SliceLevel {
  /** Per fold, in fold order. */
  folds: BinaryMetrics[];
  summary: FoldSummary;
  pooled: PooledRoc;
}

export interface FoldResult extends Required<Pick<FoldInput, 'fold' | 'subjectIds'>> {
  labels: number[];
  scores: number[];
  metrics: BinaryMetrics;
  roc: RocCurve;
  history: EpochRecord[];
  nTrain?: number;
  nVal?: number;
  bestEpoch?: number;
  seconds?: number;
}

export interface RunReportInput {
  title?: string;
  /** ISO time; default now. */
  createdAt?: string;
  /** Everything needed to rerun (CLI flags, seeds, sizes); shown flattened as key = value. */
  config: Record<string, unknown>;
  model?: { name: string; params?: number; description?: string };
  cohort?: { name: string; nSubjects?: number; nT2?: number; nT3?: number; source?: string };
  folds: FoldInput[];
  examples?: ExampleVolume[];
  /** Decision threshold on P(T3) (default 0.5). */
  threshold?: number;
  bootstrap?: BootstrapOptions;
  /** Which paper table layout to show the result row in (default 4: the final model's table). */
  tableKind?: PaperTableKind;
  /** Row label in that table (default model name). */
  rowName?: string;
  /** Paper row to show for comparison, e.g. { kind: 4, name: 'Bilin' }. */
  paperReference?: { kind: PaperTableKind; name: string };
  environment?: Record<string, string>;
  totalSeconds?: number;
  /** Extra messages to show at the top (e.g. "reduced preset: 64×64 in-plane"). */
  notes?: string[];
  /** What the loader repaired in the input files, one line each (shown with the warnings). */
  inputWarnings?: string[];
}

export interface RunReport {
  title: string;
  createdAt: string;
  config: Record<string, unknown>;
  model?: { name: string; params?: number; description?: string };
  cohort?: { name: string; nSubjects?: number; nT2?: number; nT3?: number; source?: string };
  threshold: number;
  folds: FoldResult[];
  /** Mean ± SD (ddof = 1) over folds of AUC, accuracy, recall(T2), recall(T3). */
  summary: FoldSummary;
  /** ROC of all hold-out predictions pooled, with the bootstrap CI of its AUC. */
  pooled: PooledRoc;
  /** Sum of the folds' confusion matrices (each subject counted once). */
  confusion: ConfusionMatrix;
  /** Slice-level metrics when every fold gave its representative-slice samples. */
  sliceLevel?: SliceLevel;
  examples: ExampleVolume[];
  tableKind: PaperTableKind;
  rowName: string;
  referenceRows: Array<ResultRow & { source: string }>;
  environment: Record<string, string>;
  totalSeconds?: number;
  notes: string[];
  /** Fold warnings (single-class folds) and input problems, prefixed with the fold. */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------------
// Building

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
          `rows: ${paperResultRows(input.paperReference.kind).map((r) => r.name).join(', ')}`,
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
      pooled: pooledRoc(sl.flatMap((s) => Array.from(s.labels)), sl.flatMap((s) => Array.from(s.scores)), input.bootstrap),
    };
  }
  if (input.model) report.model = input.model;
  if (input.cohort) report.cohort = input.cohort;
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
  return JSON.parse(text, (_k, v: unknown) =>
    v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v,
  ) as RunReport;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const TRAIN_COLOR = '#1f6fb4';
const VAL_COLOR = '#e8710a';
const T2_COLOR = '#3b7dd8';
const T3_COLOR = '#d6453d';

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}
function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a';
}

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

// Perceptual "inferno"-like ramp for saliency (dark purple → orange → pale yellow).
const HEAT_STOPS: Array<[number, number, number]> = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

/** RGB of the saliency colormap at t ∈ [0, 1]. */
export function heatColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = HEAT_STOPS[i]!;
  const b = HEAT_STOPS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/** Bilinear resize (half-pixel centres, like align_corners=False) of a row-major float map. */
function resizeBilinear(src: ArrayLike<number>, sw: number, sh: number, dw: number, dh: number): Float64Array {
  const out = new Float64Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / dh - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / dw - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bot = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[y * dw + x] = top * (1 - wy) + bot * wy;
    }
  }
  return out;
}

/**
 * RGBA pixels of a gray image with a saliency heat map blended over it (the CLI's `predict` writes these
 * as PNG). Saliency is normalised to [0, its maximum] (negative values count as 0), resized bilinearly
 * to the image size, and drawn with opacity `alphaMax × saliency` so unimportant regions stay clear.
 */
export function saliencyOverlayRgba(
  image: { width: number; height: number; data: ArrayLike<number>; min?: number; max?: number },
  saliency: { width: number; height: number; data: ArrayLike<number> },
  options: { alphaMax?: number } = {},
): Uint8Array {
  const { width: w, height: h } = image;
  if (image.data.length !== w * h) throw new Error(`saliencyOverlayRgba: image data has ${image.data.length} values, expected ${w}×${h}`);
  if (saliency.data.length !== saliency.width * saliency.height) {
    throw new Error(`saliencyOverlayRgba: saliency data has ${saliency.data.length} values, expected ${saliency.width}×${saliency.height}`);
  }
  const alphaMax = options.alphaMax ?? 0.65;
  const gray = toGray8(image.data, { ...(image.min !== undefined ? { min: image.min } : {}), ...(image.max !== undefined ? { max: image.max } : {}) });
  const sal = resizeBilinear(saliency.data, saliency.width, saliency.height, w, h);
  let smax = 0;
  for (const v of sal) if (Number.isFinite(v) && v > smax) smax = v;
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const s = smax > 0 && Number.isFinite(sal[i]!) ? Math.max(0, sal[i]!) / smax : 0;
    const [r, g, b] = heatColor(s);
    const a = alphaMax * s;
    const gv = gray[i]!;
    out[i * 4] = Math.round(gv * (1 - a) + r * a);
    out[i * 4 + 1] = Math.round(gv * (1 - a) + g * a);
    out[i * 4 + 2] = Math.round(gv * (1 - a) + b * a);
    out[i * 4 + 3] = 255;
  }
  return out;
}

function checkDataUrl(url: string): string {
  if (!/^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]*$/.test(url)) {
    throw new Error('report image: dataUrl must be a base64 "data:image/png;base64,…" URL (the report embeds all images)');
  }
  return url;
}

function grayDataUrl(img: Extract<ReportImage, { kind: 'gray' }>): string {
  if (img.data.length !== img.width * img.height) {
    throw new Error(`report image: gray data has ${img.data.length} values, expected ${img.width}×${img.height}`);
  }
  const range = { ...(img.min !== undefined ? { min: img.min } : {}), ...(img.max !== undefined ? { max: img.max } : {}) };
  return pngDataUrl(encodePng({ width: img.width, height: img.height, channels: 1, data: toGray8(img.data, range) }));
}

// ---------------------------------------------------------------------------------------------------
// SVG charts

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
  const legendW = Math.max(p.legendW, 44 + 7 * Math.max(0, ...p.legend.map((it) => it.label.length)), 10 + 6.2 * Math.max(0, ...(p.note ?? []).map((n) => n.length)));
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
  lines.unshift({ points: [[0, 0], [1, 1]], color: '#888', width: 1.2, dash: '5 4' });
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
  ['T2', 'T3'].forEach((l, j) => parts.push(`<text x="${x0 + j * cell + cell / 2}" y="${y0 - 8}" font-size="13" font-weight="600" text-anchor="middle" fill="#111">${l}</text>`));
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
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2}" font-size="24" font-weight="700" text-anchor="middle" fill="${dark ? '#fff' : '#111'}">${count}</text>`);
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

function saliencyLegendSvg(): string {
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

/** Transparent-background heat RGBA of a saliency map alone, resized to w×h (for stacking over a PNG). */
function saliencyOnlyRgba(sal: Extract<ReportImage, { kind: 'gray' }>, w: number, h: number): Uint8Array {
  if (sal.data.length !== sal.width * sal.height) {
    throw new Error(`report image: saliency data has ${sal.data.length} values, expected ${sal.width}×${sal.height}`);
  }
  const v = resizeBilinear(sal.data, sal.width, sal.height, w, h);
  let smax = 0;
  for (const x of v) if (Number.isFinite(x) && x > smax) smax = x;
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const s = smax > 0 && Number.isFinite(v[i]!) ? Math.max(0, v[i]!) / smax : 0;
    const [r, g, b] = heatColor(s);
    out.set([r, g, b, Math.round(255 * 0.65 * s)], i * 4);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Tables as HTML

/**
 * The summary that goes into the paper's table: slice-level for Tables 2 and 3 (the paper scores them
 * per representative slice), per volume for Table 4.
 */
export function tableSummary(report: RunReport): FoldSummary {
  return report.tableKind !== 4 && report.sliceLevel ? report.sliceLevel.summary : report.summary;
}

function resultsRowsForTable(report: RunReport): ResultRow[] {
  const own: ResultRow = { name: report.rowName, summary: tableSummary(report), ...(report.model?.params !== undefined ? { params: report.model.params } : {}) };
  return [own, ...report.referenceRows];
}

/** Slice-level beside volume-level metrics (mean ± SD over folds, pooled AUC). */
function levelRows(report: RunReport): { level: string; n: string; s: FoldSummary; pooled: PooledRoc }[] {
  const rows = [{ level: 'per volume', n: `${report.pooled.n} volumes`, s: report.summary, pooled: report.pooled }];
  if (report.sliceLevel) {
    const p = report.sliceLevel.pooled;
    rows.unshift({ level: 'per representative slice', n: `${p.n} slices`, s: report.sliceLevel.summary, pooled: p });
  }
  return rows;
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

// ---------------------------------------------------------------------------------------------------
// Pages

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
  const notes = report.notes.length ? `<div class="warn" style="background:#eef5ff;border-color:#9cc0ef"><b>Notes</b><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></div>` : '';
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
      lines.push(`| ${r.level} | ${r.n} | ${formatMeanSd(r.s.auc, false)} | ${fmt(r.pooled.auc, 3)} | ${[r.s.accuracy, r.s.recallT2, r.s.recallT3].map((m) => formatMeanSd(m, true)).join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push(
    `**Pooled AUC:** ${fmt(p.auc, 3)} (${level}% CI ${fmt(p.ci[0], 3)}–${fmt(p.ci[1], 3)}, percentile bootstrap, ${p.b} stratified resamples, seed ${p.seed})`,
    '',
  );
  lines.push(`### Confusion matrix (all folds, predicted T3 when P(T3) ≥ ${report.threshold})`, '');
  lines.push('| true \\ predicted | T2 | T3 |', '|:---|---:|---:|', `| T2 | ${c.tn} | ${c.fp} |`, `| T3 | ${c.fn} | ${c.tp} |`, '');
  lines.push('### Per fold', '', formatFoldTable(report.folds.map((f) => f.metrics), 'markdown'), '', 'Acc and recalls in %.', '');
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
