/**
 * A small run configuration for tests (seconds on a CPU driver): f-rMC5 at width 2, 16×16×4 input, 2 folds
 * × 2 epochs (1 slice-level), SGD, no augmentation, no TTA. Each test states what it changes.
 */
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { DEFAULT_LOSS } from '../../src/train/trainer.js';

export function smallConfig(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return {
    model: 'f-rMC5',
    head: 'attention',
    width: 2,
    epochs: 2,
    sliceEpochs: 1,
    batchSize: 2,
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 0.01,
    schedule: 'cosine',
    oversample: true,
    augment: false,
    tta: 1,
    headLrScale: 10,
    seed: 0,
    inputSize: 16,
    depth: 4,
    biasField: false,
    folds: 2,
    valFraction: 0,
    ...over,
    loss: { ...DEFAULT_LOSS, ...over.loss },
  };
}
