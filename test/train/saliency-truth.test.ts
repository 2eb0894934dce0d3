/**
 * saliencyVsTruth — the report's "where the model looks" table: each hold-out volume through its fold's
 * model on the input it was tested on, its saliency measured against the synthetic truth regenerated on
 * that input's grid. Checked against the same computation done by hand for one T2 and one T3 subject.
 */
import { describe, expect, it } from 'vitest';
import { generateCohortSubject, planCohort } from '../../src/data/synth.js';
import { truthMasks } from '../../src/data/synth-truth.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { prepareVolume } from '../../src/train/cohort.js';
import { centralStart, depthWindow, windowStart } from '../../src/train/dataset.js';
import type { ExperimentConfig, FoldOutcome } from '../../src/train/experiment.js';
import { predictVolume } from '../../src/train/inference.js';
import { MemoryStore } from '../../src/train/run-store.js';
import { distanceToMask, saliencyNearRegion } from '../../src/train/saliency-overlap.js';
import { type TruthSubject, saliencyVsTruth } from '../../src/train/saliency-truth.js';
import { buildModel } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';
import { smallConfig } from '../helpers/config.js';

const cfg: ExperimentConfig = smallConfig({ head: 'bilinear', width: 1, inputSize: 24, testInput: 'central' });

describe('saliencyVsTruth', async () => {
  const gpu = await testGpu();
  const settings = { n2: 1, n3: 1, size: 32, slices: [9, 9] as [number, number], difficulty: 0, fovMm: 64, seed: 3 };
  const subjects = new Map<string, TruthSubject & { label: 0 | 1 }>();
  for (const e of planCohort(settings)) {
    const s = generateCohortSubject(e, settings);
    subjects.set(e.subject, {
      anatomy: s.anatomy,
      prepared: prepareVolume(s.volume, { size: 24, biasField: false }),
      repSlices: s.representativeSlices,
      label: e.label === 'T3' ? 1 : 0,
    });
  }
  const model = buildModel(cfg).materialize(gpu, new Rng(5));
  const store = new MemoryStore();
  await store.write('fold-0/model.safetensors', await saveCheckpoint(model, { config: cfg }));
  const outcome = {
    fold: 0,
    predictions: [...subjects].map(([id, s]) => ({ id, label: s.label, prob: 0.5, sliceProbs: [], repSlices: [] })),
  } as unknown as FoldOutcome;

  async function byHand(s: TruthSubject, c: ExperimentConfig) {
    const [D, H, W] = s.prepared.dims;
    const start = c.testInput === 'central' ? centralStart(D, c.depth) : windowStart(D, c.depth, s.repSlices);
    const dims: [number, number, number] = [c.depth, H, W];
    const p = await predictVolume(gpu, model, depthWindow(s.prepared.data, s.prepared.dims, start, c.depth), dims);
    const m = truthMasks(s.anatomy, { dims, affine: s.prepared.affine }, { sliceOffset: start });
    const sp = s.prepared.spacing;
    return saliencyNearRegion(p.saliency, { distance: distanceToMask(m.criterion, dims, sp) }, dims, sp, [0, 3]);
  }

  for (const input of ['central', 'window'] as const) {
    it(`equals the computation by hand, ${input} input`, async () => {
      const c = { ...cfg, testInput: input };
      const t = (await saliencyVsTruth(gpu, store, c, [outcome], (id) => subjects.get(id) ?? null, { radiiMm: [0, 3] }))!;
      expect(t.input).toBe(input);
      expect(t.classes.map((k) => [k.label, k.n])).toEqual([
        ['T3', 1],
        ['T2', 1],
      ]);
      for (const k of t.classes) {
        const s = [...subjects.values()].find((x) => (x.label === 1 ? 'T3' : 'T2') === k.label)!;
        const want = await byHand(s, c);
        k.byRadius.forEach((r, i) => {
          expect(r.mass).toBeCloseTo(want[i]!.mass, 9);
          expect(r.volume).toBeCloseTo(want[i]!.volume, 12);
          expect(r.top).toBeCloseTo(want[i]!.top, 12);
        });
        // The criterion region is on the input (the crop holds the tumour): a non-empty share, growing with r.
        expect(k.byRadius[0]!.volume).toBeGreaterThan(0);
        expect(k.byRadius[1]!.volume).toBeGreaterThan(k.byRadius[0]!.volume);
      }
    });
  }

  it('is null without ground truth, and counts at most perClass volumes per class and fold', async () => {
    expect(await saliencyVsTruth(gpu, store, cfg, [outcome], () => null)).toBeNull();
    const twice = { ...outcome, predictions: [...outcome.predictions, ...outcome.predictions] } as FoldOutcome;
    const t = (await saliencyVsTruth(gpu, store, cfg, [twice], (id) => subjects.get(id) ?? null, { perClass: 1 }))!;
    expect(t.classes.map((k) => k.n)).toEqual([1, 1]);
  });
});
