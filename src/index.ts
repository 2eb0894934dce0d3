/**
 * voxelgrad — the browser-safe engine (`import … from 'voxelgrad'`): GPU acquisition, tensors, the
 * functional ops with autograd, the paper's networks, SGD, safetensors checkpoints, NIfTI from bytes,
 * preprocessing, the synthetic cohort, and the cross-validated experiment runner. File access and the
 * command line are in 'voxelgrad/node'; the runtime WGSL parser for your own shaders is 'voxelgrad/reflect'.
 */
/// <reference types="@webgpu/types" preserve="true" />

// GPU runtime
export { acquireGpu, type AcquireOptions } from './gpu/acquire.js';
export { acquireBrowserGpu } from './gpu/acquire-browser.js';
export { Gpu, Kernel, type AdapterReport, type DispatchArgs, type GpuOptions, type KernelDef, type PipelineKey } from './gpu/gpu.js';
export { GpuError, type GpuErrorKind } from './gpu/errors.js';
export { GpuTensor, numel, type DType } from './gpu/tensor.js';

// Autograd and the functional API (PyTorch semantics)
export { Tensor, type F32 } from './graph/tensor.js';
export { backward, isGradEnabled, leaf, noGrad } from './graph/autograd.js';
export * as F from './graph/functional.js';

// Models, optimizer, checkpoints
export {
  StagingNet,
  MODEL_NAMES,
  HEAD_KINDS,
  PAPER_PARAMETER_COUNTS,
  parseModelName,
  type HeadKind,
  type ModelConfig,
  type ModelName,
  type NetOutput,
} from './model/resnet.js';
export { Module, Param } from './model/module.js';
export { SGD, type SgdOptions } from './model/optimizer.js';
export { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint, type TrainingState } from './model/checkpoint.js';
export { decodeSafetensors, encodeSafetensors, type SafeTensor } from './model/safetensors.js';

// Data: NIfTI on bytes, manifests, preprocessing, the synthetic cohort
export { readNifti, writeNifti, type NiftiReadOptions, type NiftiVolume, type NiftiWriteOptions } from './data/nifti.js';
export { type DataWarning, type Volume, diagonalAffine, formatWarning } from './data/volume.js';
export { parseManifest, formatManifest, type ManifestEntry, type ManifestRow } from './data/manifest.js';
export { preprocessVolume, normalizeIntensity, resizeInPlane, type PreprocessOptions } from './data/preprocess.js';
export { generateCohort, generateCohortSubject, planCohort, type CohortOptions, type CohortSubject } from './data/synth.js';
export { InputError, type InputErrorCode } from './util/errors.js';

// Training, evaluation and inference
export {
  buildModel,
  makeOptimizer,
  trainStep,
  trainFold,
  predict,
  DEFAULT_LOSS,
  NonFiniteLossError,
  type EpochStats,
  type LossConfig,
  type Prediction,
  type TrainConfig,
} from './train/trainer.js';
export { ConfigError, validateExperimentConfig, readFoldResults, type ExperimentConfig, type ExperimentEvents, type FoldOutcome } from './train/experiment.js';
export { runExperiment, runFolds, type ExperimentRun, type RunContext } from './train/run.js';
export { writeReport, summaryTable } from './train/run-report.js';
export { MemoryStore, OpfsStore, type RunStore } from './train/run-store.js';
export { PRESETS, PRESET_NAMES, presetConfig, planToBudget, measureStep, settingsTag, withEpochs, type DemoPreset, type PresetName } from './train/presets.js';
export { checkCohort, loadCohort, prepareVolume, sampleFromVolume } from './train/cohort.js';
export { fitDepth, type Sample } from './train/dataset.js';
export { predictVolume, type VolumePrediction } from './train/inference.js';
export { checkpointConfig, stageVolume, type StageCheckpoint, type StageOptions, type StagedVolume } from './train/stage.js';
export { planWork, precompileWork, type PrecompileResult, type PrecompileWork } from './train/precompile.js';
export { syntheticSamples } from './train/synth-samples.js';
export { binaryMetrics, rocAuc, type BinaryMetrics } from './train/metrics.js';
export { renderReportHtml, renderReportMarkdown, parseRunReport, type RunReport } from './train/report.js';
export { formatResultsTable } from './train/table.js';
export { Rng } from './util/rng.js';
