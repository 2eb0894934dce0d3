/**
 * Results tables in the paper's layout (Tables 2–4): AUC as "0.815±0.057", accuracy and recalls in
 * percent as "77.3±4.4", mean ± sample SD over folds. Plain text (aligned on "±") or Markdown.
 */
import type { BinaryMetrics, FoldSummary, MeanSd } from './metrics.js';

export type PaperTableKind = 2 | 3 | 4;
export type TableFormat = 'text' | 'markdown';

export interface ResultRow {
  /** Row label: extractor ("f-rMC5"), loss ("+Triplet") or aggregation ("Bilin"). */
  name: string;
  summary: FoldSummary;
  /** Trainable parameter count (Table 2's "# params"). */
  params?: number;
}

export interface TableOptions {
  /** Which paper table's layout (first column name, # params column, caption). Default 2. */
  kind?: PaperTableKind;
  format?: TableFormat;
  /** Caption above the table; false for none. Default: the paper's caption plus the fold count. */
  title?: string | false;
  /** Mark the row with the highest mean AUC (the paper's selection rule). Default true. */
  markBest?: boolean;
}

interface PaperTableSpec {
  caption: string;
  firstColumn: string;
  showParams: boolean;
}

export const PAPER_TABLE_SPECS: Record<PaperTableKind, PaperTableSpec> = {
  2: { caption: 'Table 2. Performance comparison of different mixture of 2D CNN and 3D CNN', firstColumn: 'CNN', showParams: true },
  3: { caption: 'Table 3. Performance comparison among supplementary loss functions', firstColumn: 'Loss', showParams: false },
  4: { caption: 'Table 4. Performance comparison of depth aggregation functions', firstColumn: 'Pool', showParams: false },
};

type Pair = [number, number];
interface PaperRow {
  name: string;
  auc: Pair;
  /** percent */
  acc: Pair;
  recallT2: Pair;
  recallT3: Pair;
  params?: number;
}

/** The paper's published numbers (10-fold CV on 567 patients), for side-by-side comparison. */
export const PAPER_RESULTS: Record<PaperTableKind, PaperRow[]> = {
  2: [
    { name: 'f-R2D', auc: [0.798, 0.042], acc: [75.0, 2.9], recallT2: [60.0, 12.6], recallT3: [81.4, 7.0], params: 2796001 },
    { name: 'f-R3D', auc: [0.763, 0.074], acc: [74.5, 5.3], recallT2: [55.5, 12.9], recallT3: [82.5, 7.0], params: 8291873 },
    { name: 'f-R(2+1)D', auc: [0.758, 0.069], acc: [74.3, 5.0], recallT2: [50.1, 12.8], recallT3: [84.5, 5.6], params: 8294563 },
    { name: 'f-MC2', auc: [0.789, 0.061], acc: [73.5, 3.8], recallT2: [65.5, 13.3], recallT3: [76.9, 5.1], params: 2799137 },
    { name: 'f-MC3', auc: [0.746, 0.07], acc: [70.2, 9.4], recallT2: [58.8, 16.0], recallT3: [74.9, 17.1], params: 2872865 },
    { name: 'f-MC4', auc: [0.767, 0.059], acc: [72.5, 3.5], recallT2: [55.7, 12.8], recallT3: [79.7, 6.5], params: 3130913 },
    { name: 'f-MC5', auc: [0.737, 0.042], acc: [72.3, 4.8], recallT2: [49.7, 8.8], recallT3: [81.9, 8.0], params: 4163105 },
    { name: 'f-rMC2', auc: [0.778, 0.051], acc: [75.1, 4.3], recallT2: [55.6, 13.9], recallT3: [83.3, 6.5], params: 8288737 },
    { name: 'f-rMC3', auc: [0.796, 0.052], acc: [75.1, 2.2], recallT2: [59.0, 15.3], recallT3: [81.8, 6.8], params: 8215009 },
    { name: 'f-rMC4', auc: [0.787, 0.055], acc: [76.2, 4.5], recallT2: [50.0, 13.6], recallT3: [87.3, 4.6], params: 7956961 },
    { name: 'f-rMC5', auc: [0.815, 0.057], acc: [77.3, 4.4], recallT2: [48.5, 10.3], recallT3: [89.4, 5.0], params: 6924769 },
  ],
  3: [
    { name: 'Focal', auc: [0.815, 0.057], acc: [77.3, 4.4], recallT2: [48.5, 10.3], recallT3: [89.4, 5.0] },
    { name: '+Center', auc: [0.803, 0.041], acc: [74.9, 3.9], recallT2: [49.0, 13.9], recallT3: [85.8, 5.4] },
    { name: '+Triplet', auc: [0.834, 0.068], acc: [78.0, 4.9], recallT2: [49.9, 9.7], recallT3: [89.8, 4.7] },
  ],
  4: [
    { name: 'AVP', auc: [0.821, 0.055], acc: [76.0, 3.8], recallT2: [34.0, 9.6], recallT3: [93.7, 4.9] },
    { name: 'MXP', auc: [0.815, 0.047], acc: [78.1, 4.1], recallT2: [47.0, 12.6], recallT3: [91.2, 5.9] },
    { name: 'Bilin', auc: [0.831, 0.062], acc: [79.3, 6.2], recallT2: [62.1, 13.5], recallT3: [86.7, 6.8] },
    { name: 'Att', auc: [0.817, 0.057], acc: [77.2, 4.8], recallT2: [48.3, 14.7], recallT3: [89.5, 4.2] },
  ],
};

/** The paper's rows of one table as ResultRows (fractions, 10 folds), to print next to a rerun. */
export function paperResultRows(kind: PaperTableKind): ResultRow[] {
  const ms = ([mean, sd]: Pair, scale: number): MeanSd => ({ mean: mean / scale, sd: sd / scale, n: 10, nMissing: 0 });
  return PAPER_RESULTS[kind].map((r) => ({
    name: r.name,
    summary: {
      auc: ms(r.auc, 1),
      accuracy: ms(r.acc, 100),
      recallT2: ms(r.recallT2, 100),
      recallT3: ms(r.recallT3, 100),
      nFolds: 10,
    },
    ...(r.params !== undefined ? { params: r.params } : {}),
  }));
}

/** Splits "0.815±0.057" into its two parts so text tables can align on "±". */
function meanSdParts(m: MeanSd, percent: boolean): [string, string] {
  const scale = percent ? 100 : 1;
  const digits = percent ? 1 : 3;
  const mean = Number.isNaN(m.mean) ? 'n/a' : (m.mean * scale).toFixed(digits);
  if (Number.isNaN(m.mean)) return [mean, ''];
  const sd = Number.isNaN(m.sd) ? 'n/a' : (m.sd * scale).toFixed(digits);
  return [mean, sd + (m.nMissing > 0 ? '†' : '')];
}

/** "0.815±0.057" for an AUC, "77.3±4.4" for a percentage; "n/a" when undefined; "†" if folds were skipped. */
export function formatMeanSd(m: MeanSd, percent: boolean): string {
  const [a, b] = meanSdParts(m, percent);
  return b === '' ? a : `${a}±${b}`;
}

/** A table of any string cells; numeric-looking columns align right, "±" cells align on the sign. */
function renderCells(header: string[], rows: string[][], format: TableFormat, alignLeft: boolean[]): string {
  if (format === 'markdown') {
    const esc = (s: string): string => s.replace(/\|/g, '\\|');
    const lines = [
      `| ${header.map(esc).join(' | ')} |`,
      `|${alignLeft.map((l) => (l ? ':---' : '---:')).join('|')}|`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ];
    return lines.join('\n');
  }
  const nCol = header.length;
  const cols: string[][] = [];
  for (let c = 0; c < nCol; c++) {
    const cells = rows.map((r) => r[c] ?? '');
    const pm = cells.filter((s) => s.includes('±'));
    let aligned: string[];
    if (pm.length > 0) {
      const left = Math.max(...cells.map((s) => (s.includes('±') ? s.indexOf('±') : s.length)));
      const right = Math.max(0, ...pm.map((s) => s.length - s.indexOf('±') - 1));
      aligned = cells.map((s) => {
        const i = s.includes('±') ? s.indexOf('±') : s.length;
        const a = s.slice(0, i).padStart(left);
        const b = s.slice(i);
        return (a + b).padEnd(left + 1 + right);
      });
    } else aligned = cells.map((s) => s);
    const width = Math.max(header[c]!.length, ...aligned.map((s) => s.length));
    cols.push([
      alignLeft[c] ? header[c]!.padEnd(width) : header[c]!.padStart(width),
      ...aligned.map((s) => (alignLeft[c] || pm.length > 0 ? s.padEnd(width) : s.padStart(width))),
    ]);
  }
  const lines = cols[0]!.map((_, r) =>
    cols
      .map((col) => col[r])
      .join('  ')
      .trimEnd(),
  );
  const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)));
  return [lines[0]!, rule, ...lines.slice(1), rule].join('\n');
}

/** Formats result rows in the layout of the paper's Table 2, 3 or 4. */
export function formatResultsTable(rows: readonly ResultRow[], options: TableOptions = {}): string {
  const kind = options.kind ?? 2;
  const format = options.format ?? 'text';
  const spec = PAPER_TABLE_SPECS[kind];
  if (!spec) throw new Error(`formatResultsTable: unknown table kind ${String(kind)}; use 2, 3 or 4`);
  const markBest = options.markBest ?? true;
  let best = -1;
  if (markBest && rows.length > 1) {
    rows.forEach((r, i) => {
      if (!Number.isNaN(r.summary.auc.mean) && (best < 0 || r.summary.auc.mean > rows[best]!.summary.auc.mean)) best = i;
    });
  }
  const header = [spec.firstColumn, 'AUC', 'Acc', 'Recall(T2)', 'Recall(T3)', ...(spec.showParams ? ['# params'] : [])];
  const body = rows.map((r, i) => {
    const isBest = i === best;
    const name = isBest ? (format === 'markdown' ? `**${r.name}**` : `${r.name} *`) : r.name;
    return [
      name,
      formatMeanSd(r.summary.auc, false),
      formatMeanSd(r.summary.accuracy, true),
      formatMeanSd(r.summary.recallT2, true),
      formatMeanSd(r.summary.recallT3, true),
      ...(spec.showParams ? [r.params === undefined ? 'n/a' : String(r.params)] : []),
    ];
  });
  const folds = [...new Set(rows.map((r) => r.summary.nFolds))];
  const foldText = folds.length === 1 ? `${folds[0]}-fold CV` : 'cross-validation';
  const out: string[] = [];
  if (options.title !== false) {
    const title = options.title ?? `${spec.caption} (${foldText}, mean±SD over folds; SD with ddof=1)`;
    out.push(format === 'markdown' ? `**${title}**\n` : title);
  }
  out.push(
    renderCells(
      header,
      body,
      format,
      header.map((_, c) => c === 0),
    ),
  );
  const notes: string[] = [];
  if (best >= 0) notes.push(`${format === 'markdown' ? 'bold' : '*'}: highest mean AUC`);
  if (rows.some((r) => [r.summary.auc, r.summary.accuracy, r.summary.recallT2, r.summary.recallT3].some((m) => m.nMissing > 0))) {
    notes.push('†: undefined in some folds (single-class test fold); mean and SD over the other folds');
  }
  notes.push('Acc, Recall in %; Recall(T2) = specificity, Recall(T3) = sensitivity (T3 positive)');
  out.push(format === 'markdown' ? `\n${notes.map((n) => `${n}`).join('  \n')}` : notes.join('\n'));
  return out.join('\n');
}

/** One row per fold: test-set size, the four metrics and the confusion counts. */
export function formatFoldTable(folds: readonly BinaryMetrics[], format: TableFormat = 'text'): string {
  const header = ['Fold', 'n (T2/T3)', 'AUC', 'Acc', 'Recall(T2)', 'Recall(T3)', 'TN', 'FP', 'FN', 'TP'];
  const num = (v: number, percent: boolean): string => (Number.isNaN(v) ? 'n/a' : percent ? (v * 100).toFixed(1) : v.toFixed(3));
  const body = folds.map((m, i) => [
    String(i + 1),
    `${m.n} (${m.nT2}/${m.nT3})`,
    num(m.auc, false),
    num(m.accuracy, true),
    num(m.recallT2, true),
    num(m.recallT3, true),
    String(m.confusion.tn),
    String(m.confusion.fp),
    String(m.confusion.fn),
    String(m.confusion.tp),
  ]);
  return renderCells(
    header,
    body,
    format,
    header.map((_, c) => c <= 1),
  );
}
