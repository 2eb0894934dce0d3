/** A run killed in the middle and resumed ends with the same metrics as an uninterrupted run. */
import { describe, expect, it } from 'vitest';
import { generateCohort } from '../../src/data/synth.js';
import { normalizeIntensity } from '../../src/data/preprocess.js';
import { type ExperimentConfig, prepareRun, runFold } from '../../src/train/experiment.js';
import { MemoryStore as MemStore } from '../../src/train/run-store.js';
import { bytesToF32, decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { type Sample, fitDepth } from '../../src/train/dataset.js';
import { testGpu } from '../helpers/gpu.js';
import { smallConfig } from '../helpers/config.js';

const cfg: ExperimentConfig = smallConfig({ head: 'bilinear', width: 1, epochs: 3, batchSize: 4, tta: 2, seed: 3 });

function cohort(): Sample[] {
  return generateCohort({ n2: 5, n3: 7, size: 16, slices: 5, seed: 1 }).map((s) => {
    const v = normalizeIntensity(s.volume);
    return fitDepth({ id: s.subject, label: s.label === 'T3' ? 1 : 0, volume: v.data, dims: v.dims, repSlices: s.representativeSlices }, cfg.depth);
  });
}

describe('resume', async () => {
  const gpu = await testGpu();
  const samples = cohort();

  it('stopping after an epoch and resuming gives exactly the uninterrupted result', async () => {
    const a = new MemStore();
    const planA = await prepareRun(a, cfg, samples);
    const full = [];
    for (let f = 0; f < cfg.folds; f++) full.push((await runFold({ gpu, store: a, config: cfg, samples, plan: planA, fold: f }))!);

    const b = new MemStore();
    const planB = await prepareRun(b, cfg, samples);
    let epochs = 0;
    const stopped = await runFold({
      gpu,
      store: b,
      config: cfg,
      samples,
      plan: planB,
      fold: 0,
      shouldStop: () => epochs >= 1,
      events: { onEpoch: () => void epochs++ },
    });
    expect(stopped).toBeNull();
    expect(b.files.has('fold-0/checkpoint.safetensors')).toBe(true);
    expect(b.files.has('fold-0/result.json')).toBe(false);
    let resumedFrom = -1;
    const resumed = [];
    for (let f = 0; f < cfg.folds; f++) {
      resumed.push(
        (await runFold({ gpu, store: b, config: cfg, samples, plan: planB, fold: f, events: { onFoldStart: (_f, done) => f === 0 && (resumedFrom = done) } }))!,
      );
    }
    expect(resumedFrom).toBe(1);
    for (let f = 0; f < cfg.folds; f++) {
      expect(resumed[f]!.predictions.map((p) => p.prob)).toEqual(full[f]!.predictions.map((p) => p.prob));
      expect(resumed[f]!.metrics).toEqual(full[f]!.metrics);
      expect(resumed[f]!.history.map((h) => h.trainLoss)).toEqual(full[f]!.history.map((h) => h.trainLoss));
    }
    // A finished fold is not recomputed.
    const again = await runFold({
      gpu,
      store: b,
      config: cfg,
      samples,
      plan: planB,
      fold: 0,
      events: {
        onFoldStart: () => {
          throw new Error('recomputed');
        },
      },
    });
    expect(again!.metrics).toEqual(full[0]!.metrics);
  });

  it('with the center loss on, the class centres are checkpointed: stop-and-resume gives exactly the uninterrupted result', async () => {
    const c = { ...cfg, loss: { ...cfg.loss, center: 0.01 } };
    const a = new MemStore();
    const planA = await prepareRun(a, c, samples);
    const full = (await runFold({ gpu, store: a, config: c, samples, plan: planA, fold: 0 }))!;
    const b = new MemStore();
    const planB = await prepareRun(b, c, samples);
    let epochs = 0;
    // Epoch 1 is slice-level (no supplementary loss); stop after epoch 2, when the centres have moved.
    expect(
      await runFold({ gpu, store: b, config: c, samples, plan: planB, fold: 0, shouldStop: () => epochs >= 2, events: { onEpoch: () => void epochs++ } }),
    ).toBeNull();
    const ck = decodeSafetensors(b.files.get('fold-0/checkpoint.safetensors')!);
    const centres = ck.tensors.get('trainer.centers')!;
    expect(centres.shape[0]).toBe(2);
    expect(Array.from(bytesToF32(centres.data)).some((v) => v !== 0)).toBe(true); // they moved during epoch 2
    const resumed = (await runFold({ gpu, store: b, config: c, samples, plan: planB, fold: 0 }))!;
    expect(resumed.history.map((h) => h.trainLoss)).toEqual(full.history.map((h) => h.trainLoss));
    expect(resumed.predictions.map((p) => p.prob)).toEqual(full.predictions.map((p) => p.prob));
    // A checkpoint without centres cannot resume a center-loss run: refused, not restarted from zero.
    const d = new MemStore();
    const planD = await prepareRun(d, c, samples);
    ck.tensors.delete('trainer.centers');
    d.files.set('fold-0/checkpoint.safetensors', encodeSafetensors(ck.tensors, ck.metadata));
    await expect(runFold({ gpu, store: d, config: c, samples, plan: planD, fold: 0 })).rejects.toThrow(/no center-loss centres, this run needs \[2, \d+\]/);
  });

  it('a run folder with another configuration is refused', async () => {
    const s = new MemStore();
    await prepareRun(s, cfg, samples);
    await expect(prepareRun(s, { ...cfg, lr: 0.02 }, samples)).rejects.toThrow(/different configuration \(differs in: lr\)/);
  });
});
