/**
 * A finished run's report: the report model from the fold outcomes, saliency overlays of a few hold-out
 * volumes (each through the model of the fold that held it out), and report.html / report.md /
 * metrics.json written into the run's store.
 */
import type { Gpu } from '../gpu/gpu.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { Rng } from '../util/rng.js';
import { type Sample, testSamples } from './dataset.js';
import type { ExperimentConfig, FoldOutcome } from './experiment.js';
import { predictVolume } from './inference.js';
import { type ExampleVolume, type RunReport, buildRunReport, renderReportHtml, renderReportMarkdown, serializeRunReport, tableSummary } from './report.js';
import type { RunStore } from './run-store.js';
import { type TruthSource, saliencyVsTruth } from './saliency-truth.js';
import { formatResultsTable } from './table.js';
import { buildModel } from './trainer.js';

/** Builds the report from all fold outcomes and writes report.html, report.md and metrics.json. */
export async function writeReport(
  store: RunStore,
  cfg: ExperimentConfig,
  outcomes: FoldOutcome[],
  extra: {
    notes?: string[];
    totalSeconds?: number;
    cohortName?: string;
    gpu?: Gpu;
    samples?: readonly Sample[];
    inputWarnings?: string[];
    truth?: TruthSource;
  } = {},
): Promise<RunReport> {
  const params = buildModel(cfg).parameterCount();
  const examples = pickExamples(outcomes);
  if (extra.gpu && extra.samples)
    await addSaliency(
      extra.gpu,
      store,
      cfg,
      examples,
      testSamples(
        extra.samples.filter((x) => examples.some((e) => e.id === x.id)),
        cfg.testInput ?? 'window',
        cfg.head,
      ),
    );
  const saliencyTruth = extra.gpu && extra.truth ? await saliencyVsTruth(extra.gpu, store, cfg, outcomes, extra.truth) : null;
  const report = buildRunReport({
    title: `voxelgrad — ${cfg.model} + ${cfg.head}`,
    config: cfg as unknown as Record<string, unknown>,
    model: { name: `${cfg.model}${cfg.head === 'slice' ? '' : ` + ${cfg.head}`}`, params },
    cohort: {
      name: extra.cohortName ?? 'cohort',
      nSubjects: outcomes.reduce((a, o) => a + o.predictions.length, 0),
      nT2: count(outcomes, 0),
      nT3: count(outcomes, 1),
    },
    folds: outcomes.map((o) => ({
      fold: o.fold,
      subjectIds: o.testIds,
      labels: o.predictions.map((p) => p.label),
      scores: o.predictions.map((p) => p.prob),
      history: o.history.map((h) => ({
        epoch: h.epoch,
        trainLoss: h.trainLoss,
        lr: h.lr,
        seconds: h.seconds,
        ...(h.valLoss !== undefined ? { valLoss: h.valLoss } : {}),
        ...(h.valAuc !== undefined ? { valAuc: h.valAuc } : {}),
      })),
      nTrain: o.nTrain,
      nVal: o.nVal,
      seconds: o.seconds,
      ...(o.predictions.every((p) => Array.isArray(p.repSlices)) ? { slices: sliceSamples(o) } : {}),
    })),
    examples,
    tableKind: cfg.head === 'slice' ? 2 : 4,
    rowName: cfg.head === 'slice' ? cfg.model : `${cfg.model}+${cfg.head}`,
    notes: extra.notes ?? [],
    ...(extra.inputWarnings?.length ? { inputWarnings: extra.inputWarnings } : {}),
    ...(saliencyTruth ? { saliencyTruth } : {}),
    ...(extra.totalSeconds !== undefined ? { totalSeconds: extra.totalSeconds } : {}),
  });
  const enc = new TextEncoder();
  await store.write('report.html', enc.encode(renderReportHtml(report)));
  await store.write('report.md', enc.encode(renderReportMarkdown(report)));
  await store.write('metrics.json', enc.encode(serializeRunReport(report)));
  return report;
}

/**
 * Saliency overlays for the report's example volumes: each is run through the model of the fold that
 * held it out (`fold-k/model.safetensors`), on its representative slices (at most 3) and the slice the
 * model scores highest.
 */
async function addSaliency(gpu: Gpu, store: RunStore, cfg: ExperimentConfig, examples: ExampleVolume[], samples: readonly Sample[]): Promise<void> {
  for (const ex of examples) {
    const sample = samples.find((s) => s.id === ex.id);
    const bytes = ex.fold !== undefined ? await store.read(`fold-${ex.fold}/model.safetensors`) : null;
    if (!sample || !bytes) continue;
    const model = buildModel(cfg).materialize(gpu, new Rng(0));
    try {
      loadCheckpoint(gpu, model, bytes, `fold-${ex.fold}/model.safetensors`);
      const p = await predictVolume(gpu, model, sample.volume, sample.dims, sample.repSlices);
      const [, H, W] = sample.dims;
      const top = p.sliceProbs.indexOf(Math.max(...p.sliceProbs));
      // (`sample` is the input the fold was tested on: with a central crop, representative slices
      // outside it are absent and only the highest-scoring slice is shown.)
      const idx = [...new Set([...sample.repSlices.slice(0, 3), top])].sort((a, b) => a - b);
      ex.representativeSlices = sample.repSlices;
      ex.slices = idx.map((d) => ({
        index: d,
        image: { kind: 'gray' as const, width: W, height: H, data: sample.volume.subarray(d * H * W, (d + 1) * H * W) },
        saliency: { kind: 'gray' as const, width: W, height: H, data: p.saliency.subarray(d * H * W, (d + 1) * H * W) },
      }));
    } finally {
      model.release();
    }
  }
}

/** One sample per representative slice: the volume's label and that slice's P(T3). */
function sliceSamples(o: FoldOutcome): { labels: number[]; scores: number[] } {
  const labels: number[] = [];
  const scores: number[] = [];
  for (const p of o.predictions) {
    for (const r of p.repSlices) {
      labels.push(p.label);
      scores.push(p.sliceProbs[r]!);
    }
  }
  return { labels, scores };
}

function count(outcomes: FoldOutcome[], label: 0 | 1): number {
  return outcomes.reduce((a, o) => a + o.predictions.filter((p) => p.label === label).length, 0);
}

/** A few hold-out volumes for the report: the most confident T3, the most confident T2, the worst error. */
function pickExamples(outcomes: FoldOutcome[]): ExampleVolume[] {
  const all = outcomes.flatMap((o) => o.predictions.map((p) => ({ ...p, fold: o.fold })));
  if (!all.length) return [];
  const byProb = [...all].sort((a, b) => b.prob - a.prob);
  const worst = [...all].sort((a, b) => Math.abs(b.prob - b.label) - Math.abs(a.prob - a.label))[0]!;
  const picks = [byProb[0]!, byProb[byProb.length - 1]!, worst].filter((p, i, arr) => arr.findIndex((q) => q.id === p.id) === i);
  return picks.map((p) => ({ id: p.id, label: p.label, probability: p.prob, fold: p.fold, sliceProbabilities: p.sliceProbs }));
}

/** The run's row of the paper's table (Table 2 for the slice head, Table 4 for aggregation heads). */
export function summaryTable(report: RunReport, cfg: ExperimentConfig, format: 'text' | 'markdown' = 'text'): string {
  const params = buildModel(cfg).parameterCount();
  const table = formatResultsTable([{ name: report.rowName, summary: tableSummary(report), params }], { kind: report.tableKind, format, title: false });
  if (report.tableKind === 4 || !report.sliceLevel) return table;
  const v = report.summary;
  return `${table}\n(scored per representative slice, as the paper's Table ${report.tableKind}: ${report.sliceLevel.pooled.n} slices; per volume: AUC ${v.auc.mean.toFixed(3)} ± ${v.auc.sd.toFixed(3)} over ${report.pooled.n} volumes)`;
}
