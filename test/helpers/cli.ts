/** Command-line flags for a training run that takes seconds on a CPU driver (CLI tests). */
export const TINY_TRAIN_FLAGS = '--size 16 --depth 4 --width 1 --epochs 1 --slice-epochs 0 --folds 2 --batch 4 --tta 1 --no-bias-field --val-fraction 0'.split(
  ' ',
);
