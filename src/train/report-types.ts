/**
 * The run report's data: what the training loop hands over (`RunReportInput`, one `FoldInput` per fold)
 * and what `buildRunReport` (report.ts) makes of it (`RunReport`), which the HTML and Markdown renderers
 * read. Plain data, so a report survives JSON (serializeRunReport) and `eval` can merge fold results.
 */
import type { BinaryMetrics, BootstrapOptions, ConfusionMatrix, FoldSummary, PooledRoc, RocCurve } from './metrics.js';
import type { SaliencyTruth } from './saliency-truth.js';
import type { PaperTableKind, ResultRow } from './table.js';

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
  /** Synthetic cohorts: where the saliency falls against the ground truth (saliency-truth.ts). */
  saliencyTruth?: SaliencyTruth;
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
  saliencyTruth?: SaliencyTruth;
}
