/**
 * The command line's view of a run: progress bars with ETA on stderr (one line per phase in a log) and
 * Ctrl-C handling — the first interrupt finishes the epoch and keeps its checkpoint, a second quits.
 */
import type { ExperimentConfig, ExperimentEvents } from '../train/experiment.js';
import { Progress, type ProgressStream } from '../util/progress.js';

export function progressEvents(stderr: ProgressStream, cfg: ExperimentConfig, log: (s: string) => void): ExperimentEvents {
  let bar: Progress | null = null;
  return {
    onWarning: (m) => log(`warning: ${m}`),
    onFoldStart: (f, done) => {
      bar = new Progress(stderr, { label: `fold ${f + 1}/${cfg.folds} epochs`, total: cfg.epochs, unit: 'ep' });
      if (done) bar.update(done, `resumed after epoch ${done}`);
    },
    onEpoch: (_f, s) =>
      bar?.tick(1, `loss ${s.trainLoss.toFixed(4)}${s.valAuc !== undefined && Number.isFinite(s.valAuc) ? ` val AUC ${s.valAuc.toFixed(3)}` : ''}`),
    onPredict: (fold, d, t) => {
      if (d === 1) {
        bar?.finish();
        bar = new Progress(stderr, { label: `fold ${fold + 1}/${cfg.folds} test (TTA ×${cfg.tta})`, total: t, unit: 'batch' });
      }
      bar?.update(d);
    },
    onFoldEnd: (o) => {
      bar?.finish(`AUC ${Number.isFinite(o.metrics.auc) ? o.metrics.auc.toFixed(3) : 'n/a'} acc ${(100 * o.metrics.accuracy).toFixed(1)}%`);
      log(
        `fold ${o.fold}: AUC ${o.metrics.auc.toFixed(4)} accuracy ${o.metrics.accuracy.toFixed(4)} recall(T2) ${o.metrics.recallT2.toFixed(4)} recall(T3) ${o.metrics.recallT3.toFixed(4)} (${o.seconds.toFixed(0)} s)`,
      );
    },
  };
}

/**
 * Runs `fn` with a SIGINT handler: the first Ctrl-C sets the flag `fn` polls (the epoch finishes and
 * its checkpoint is written), a second one exits at once with 130.
 */
export async function withInterrupt<T>(stderr: ProgressStream, fn: (shouldStop: () => boolean) => Promise<T>): Promise<T> {
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130);
    stop = true;
    stderr.write('\ninterrupt: finishing the current epoch and saving a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSignal);
  try {
    return await fn(() => stop);
  } finally {
    process.off('SIGINT', onSignal);
  }
}
