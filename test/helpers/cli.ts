import { afterEach, beforeEach, vi } from 'vitest';

/** Command-line flags for a training run that takes seconds on a CPU driver (CLI tests). */
export const TINY_TRAIN_FLAGS = '--size 16 --depth 4 --width 1 --epochs 1 --slice-epochs 0 --folds 2 --batch 4 --tta 1 --no-bias-field --val-fraction 0'.split(
  ' ',
);

/** What the CLI wrote in the current test; `out`/`err` may be reset by the test between commands. */
export interface CapturedOutput {
  out: string;
  err: string;
}

/**
 * Captures `process.stdout` and `process.stderr` writes for every test of the calling file (call it
 * at the top level of a test file): both start empty before each test and the real streams are back
 * after it.
 */
export function captureOutput(): CapturedOutput {
  const io: CapturedOutput = { out: '', err: '' };
  beforeEach(() => {
    io.out = '';
    io.err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((io.out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((io.err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return io;
}
