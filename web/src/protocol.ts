/**
 * Messages between the page (main thread: UI and viewer) and the engine worker (the only code that
 * imports voxelgrad). Types only, so the main-thread bundle holds no engine code.
 */
import type { AdapterReport, CohortOptions, DemoPreset, ExperimentConfig, PrecompileResult, RunReport } from 'voxelgrad';

export type PresetChoice = 'quick' | 'cpu';

/** A training job: a preset, or (automation/tests) an explicit cohort and configuration. */
export interface TrainSpec {
  /** Shown in the run list; also part of the run's folder name. */
  name: string;
  cohort: CohortOptions & { n2: number; n3: number };
  config: ExperimentConfig;
  /** One line on why the preset is sized as it is (goes into the report's notes). */
  why?: string;
}

export interface ModelSummary {
  name: string;
  model: string;
  head: string;
  width: number;
  inputSize: number;
  depth: number;
  biasField: boolean;
  epochs: number | null;
  fold: number | null;
  params: number;
}

export interface StageResult {
  name: string;
  probabilityT3: number;
  predicted: 'T2' | 'T3';
  models: string[];
  modelProbabilities: number[];
  /** Per-slice P(T3); NaN for slices outside `inputSlices`. */
  sliceProbabilities: number[];
  /** The slices the model saw, [start, end) (see StagedVolume.inputSlices). */
  inputSlices: [number, number];
  attention: { perSlice: number[]; channels: number; weights: Float32Array } | null;
  /** The volume as read (our [D, H, W] orientation) as float32 NIfTI, for the viewer. */
  displayNifti: Uint8Array;
  /** Saliency on the model's input grid, as float32 NIfTI whose affine lines it up with the volume. */
  saliencyNifti: Uint8Array;
  dims: [number, number, number];
  spacing: [number, number, number];
  /** World axis (0 x, 1 y, 2 z) the slice axis D runs along: picks the viewer's plane. */
  sliceWorldAxis: 0 | 1 | 2;
  preparedDims: [number, number, number];
  /** Display-range hints: 2nd/98th percentile of the volume; saliency 95th/99.9th percentile. */
  window: [number, number];
  saliencyRange: [number, number];
  warnings: string[];
  ms: { read: number; stage: number; total: number };
  /** Whether the pipelines had been compiled ahead when this staging started. */
  precompiled: boolean;
}

export interface RunInfo {
  id: string;
  name: string;
  config: ExperimentConfig;
  cohort: TrainSpec['cohort'] | null;
  /** Per fold: epochs with a checkpoint, the per-epoch curve so far, and the hold-out AUC once finished. */
  folds: { fold: number; epochsDone: number; done: boolean; history: { epoch: number; trainLoss: number; valAuc?: number }[]; auc?: number }[];
  hasReport: boolean;
  why?: string;
}

export type Request =
  | { type: 'init'; precompile: boolean /** The page's base URL (bundled models and volumes live under it). */; base: string }
  | { type: 'models-demo' }
  | { type: 'models-files'; files: { name: string; bytes: Uint8Array }[] }
  | { type: 'models-run'; runId: string }
  | { type: 'stage'; name: string; bytes: Uint8Array }
  | { type: 'train'; spec: TrainSpec; runId?: string; fresh?: boolean }
  | { type: 'pause' }
  | { type: 'runs' }
  | { type: 'run-delete'; runId: string }
  | { type: 'run-file'; runId: string; path: string }
  | { type: 'run-zip'; runId: string }
  | { type: 'run-report'; runId: string }
  | { type: 'reacquire' }
  | { type: 'simulate-device-loss' }
  /** Resolves once the pipelines being compiled ahead are ready. */
  | { type: 'precompile-wait' };

export interface InitResult {
  adapter: AdapterReport;
  /** Features the engine can use and whether this adapter has them, with what their absence costs. */
  features: { name: string; present: boolean; note: string }[];
  /** The presets the page offers (the package's own definitions). */
  presets: Record<PresetChoice, DemoPreset>;
}

export interface TrainDone {
  runId: string;
  stopped: boolean;
  report: RunReport | null;
  reportHtml: string | null;
  table: string | null;
}

/** Responses carry the request's id; events do not. */
export type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WorkerError };

export interface WorkerError {
  /** 'no-webgpu' | 'no-adapter' | 'device-lost' | 'bad-input' | 'busy' | 'error' … */
  kind: string;
  message: string;
}

export type WorkerEvent =
  | { type: 'device-lost'; message: string }
  | { type: 'precompiled'; result: PrecompileResult & { work: string } }
  | { type: 'stage-progress'; phase: string; done?: number; total?: number }
  | { type: 'train-phase'; runId: string; phase: 'synthesising' | 'preparing' | 'training' | 'testing' | 'report'; done?: number; total?: number }
  | { type: 'train-fold-start'; runId: string; fold: number; epochsDone: number }
  | { type: 'train-step'; runId: string; fold: number; epoch: number; step: number; steps: number; loss: number }
  | { type: 'train-epoch'; runId: string; fold: number; epoch: number; trainLoss: number; lr: number; seconds: number; valAuc?: number; valLoss?: number }
  | { type: 'train-checkpoint'; runId: string; fold: number; epoch: number }
  | { type: 'train-fold-end'; runId: string; fold: number; auc: number; accuracy: number; seconds: number }
  | { type: 'train-done'; result: TrainDone }
  | { type: 'train-error'; runId: string; error: WorkerError };
