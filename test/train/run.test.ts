/** The shared run pipeline (src/train/run.ts): what `train`, `demo`, `ablate` and the page call. */
import { describe, expect, it } from 'vitest';
import { normalizeIntensity } from '../../src/data/preprocess.js';
import { generateCohort } from '../../src/data/synth.js';
import { type Sample, fitDepth } from '../../src/train/dataset.js';
import { ConfigError, type ExperimentConfig } from '../../src/train/experiment.js';
import { runExperiment } from '../../src/train/run.js';
import { MemoryStore } from '../../src/train/run-store.js';
import { testGpu } from '../helpers/gpu.js';
import { smallConfig } from '../helpers/config.js';

const cfg: ExperimentConfig = smallConfig({ head: 'bilinear', width: 1, batchSize: 4, augment: true, augmentSet: 'light', seed: 5 });

function cohort(): Sample[] {
  return generateCohort({ n2: 4, n3: 6, size: 16, slices: 5, seed: 2 }).map((s) => {
    const v = normalizeIntensity(s.volume);
    return fitDepth({ id: s.subject, label: s.label === 'T3' ? 1 : 0, volume: v.data, dims: v.dims, repSlices: s.representativeSlices }, cfg.depth);
  });
}

describe('runExperiment', async () => {
  const gpu = await testGpu();
  const samples = cohort();

  it('runs every fold, then writes the report into the store; a pause resumes to the same report', async () => {
    const a = new MemoryStore('a');
    const events: string[] = [];
    const full = await runExperiment({ gpu, store: a, cfg, samples, events: { onFoldEnd: (o) => void events.push(`fold ${o.fold}`) } });
    expect(full.stopped).toBe(false);
    expect(full.missing).toEqual([]);
    expect(events).toEqual(['fold 0', 'fold 1']);
    expect(full.report!.folds.length).toBe(2);
    for (const f of ['config.json', 'folds.json', 'report.html', 'report.md', 'metrics.json', 'fold-0/model.safetensors', 'fold-1/result.json']) {
      expect(a.files.has(f), f).toBe(true);
    }
    expect(new TextDecoder().decode(a.files.get('report.html'))).toContain('<html');

    // Paused after the first epoch (as the page's pause button or Ctrl-C does), then resumed.
    const b = new MemoryStore('b');
    let epochs = 0;
    const paused = await runExperiment({ gpu, store: b, cfg, samples, events: { onEpoch: () => void epochs++ }, shouldStop: () => epochs >= 1 });
    expect(paused.stopped).toBe(true);
    expect(paused.report).toBeNull();
    expect(b.files.has('fold-0/checkpoint.safetensors')).toBe(true);
    const resumed = await runExperiment({ gpu, store: b, cfg, samples });
    expect(resumed.report!.pooled.auc).toBe(full.report!.pooled.auc);
    expect(resumed.outcomes.map((o) => o.predictions.map((p) => p.prob))).toEqual(full.outcomes.map((o) => o.predictions.map((p) => p.prob)));
  });

  it('runs a subset of folds and reports which are missing, without a report', async () => {
    const s = new MemoryStore();
    const r = await runExperiment({ gpu, store: s, cfg, samples, folds: [1] });
    expect(r.missing).toEqual([0]);
    expect(r.report).toBeNull();
    expect(s.files.has('report.html')).toBe(false);
  });

  it('a slice-head run is scored per representative slice as well as per volume', async () => {
    const r = await runExperiment({ gpu, store: new MemoryStore(), cfg: { ...cfg, head: 'slice', sliceEpochs: 0, epochs: 1 }, samples });
    const nRep = samples.reduce((a, s) => a + s.repSlices.length, 0);
    expect(r.report!.tableKind).toBe(2);
    expect(r.report!.sliceLevel!.pooled.n).toBe(nRep);
    expect(r.report!.pooled.n).toBe(samples.length);
    for (const o of r.outcomes) for (const p of o.predictions) expect(p.repSlices).toEqual(samples.find((s) => s.id === p.id)!.repSlices);
  });

  it('refuses a configuration whose aggregation head would never train', async () => {
    await expect(runExperiment({ gpu, store: new MemoryStore(), cfg: { ...cfg, sliceEpochs: 2 }, samples })).rejects.toThrow(ConfigError);
  });
});
