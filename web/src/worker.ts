/**
 * The engine side of the page: the only module that imports voxelgrad, run in a dedicated Web Worker
 * so GPU submission, NIfTI decoding, preprocessing and cohort synthesis never block the page. It holds
 * the device, the models used for staging and the training run, and answers the page's requests
 * (protocol.ts); progress goes back as events.
 */
import { zipSync } from 'fflate';
import {
  InputError,
  type ExperimentConfig,
  type Gpu,
  GpuError,
  OpfsStore,
  PRESETS,
  type RunStore,
  type StageCheckpoint,
  acquireBrowserGpu,
  buildModel,
  checkCohort,
  checkpointConfig,
  decodeSafetensors,
  parseRunReport,
  precompileWork,
  readNifti,
  renderReportHtml,
  runExperiment,
  settingsTag,
  stageVolume,
  summaryTable,
  syntheticSamples,
  formatWarning,
  writeNifti,
} from 'voxelgrad';
import type { InitResult, ModelSummary, Request, Response, RunInfo, StageResult, TrainDone, TrainSpec, WorkerError, WorkerEvent } from './protocol.js';

const post = (m: Response | WorkerEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
const emit = (e: WorkerEvent) => post(e);

// ------------------------------------------------------------------------------------------ device

let gpu: Gpu | null = null;
/** Compile-ahead in flight: jobs wait for it, so no pipeline is compiled twice. */
let compiling: Promise<unknown> = Promise.resolve();
let precompileEnabled = true;
let lostByUs = false;

/** What each optional feature buys the engine, for the page's adapter panel. */
const FEATURE_NOTES: Record<string, string> = {
  subgroups:
    'register-blocked matrix and convolution kernels that share values across a subgroup; without it the workgroup-memory tiles run (slower on CPU drivers, fine on GPUs)',
  'timestamp-query': 'exact per-kernel GPU timings for profiling; without it profiles use wall-clock time',
  'shader-f16': 'not used by the current kernels (all f32)',
};

async function acquire(): Promise<Gpu> {
  const g = await acquireBrowserGpu();
  lostByUs = false;
  void g.device.lost.then((info) => {
    if (gpu !== g) return;
    gpu = null;
    if (info.reason === 'destroyed' && lostByUs) return;
    emit({ type: 'device-lost', message: info.message || String(info.reason) });
  });
  gpu = g;
  return g;
}

async function device(): Promise<Gpu> {
  if (!gpu) throw new GpuError('device-lost', 'the GPU device was lost; re-acquire it (the button in the banner) before staging or training');
  await compiling;
  return gpu;
}

function precompileInBackground(g: Gpu, cfg: ExperimentConfig, work: { stageDepths?: readonly number[]; train?: boolean }, label: string): void {
  if (!precompileEnabled) return;
  compiling = compiling
    .then(() => precompileWork(g, cfg, work))
    .then((r) => emit({ type: 'precompiled', result: { ...r, work: label } }))
    .catch(() => undefined); // a failure here resurfaces, with a proper message, in the real job
}

// ------------------------------------------------------------------------------------------ models

let models: StageCheckpoint[] = [];
/** Slices of the two demo volumes: the depths the staging pipelines are compiled for ahead. */
const DEMO_DEPTHS = [15, 12];

function summary(ck: StageCheckpoint): ModelSummary {
  const cfg = checkpointConfig(ck);
  const meta = decodeSafetensors(ck.bytes, ck.name).metadata;
  let fold: number | null = null;
  try {
    const extra = JSON.parse(meta.extra ?? '{}') as { fold?: number };
    if (typeof extra.fold === 'number') fold = extra.fold;
  } catch {
    // optional
  }
  return {
    name: ck.name,
    model: cfg.model,
    head: cfg.head,
    width: cfg.width,
    inputSize: cfg.inputSize,
    depth: cfg.depth,
    biasField: cfg.biasField,
    epochs: meta.epoch !== undefined ? Number(meta.epoch) : null,
    fold,
    params: buildModel(cfg).parameterCount(),
  };
}

async function setModels(cks: StageCheckpoint[]): Promise<ModelSummary[]> {
  if (!cks.length) throw new InputError('unsuitable', 'no checkpoint given');
  const out = cks.map(summary); // validates every one first
  const first = out[0]!;
  for (const s of out) {
    if (s.inputSize !== first.inputSize || s.biasField !== first.biasField) {
      throw new InputError(
        'unsuitable',
        `${s.name} was trained on ${s.inputSize}×${s.inputSize} inputs${s.biasField ? ' with' : ' without'} bias-field correction, ${first.name} on ${first.inputSize}×${first.inputSize}${first.biasField ? ' with' : ' without'}: pick checkpoints of one run`,
      );
    }
  }
  models = cks;
  if (gpu) precompileInBackground(gpu, checkpointConfig(cks[0]!), { stageDepths: DEMO_DEPTHS }, `staging with ${first.model} + ${first.head}`);
  return out;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

let base = self.location.href;

// ------------------------------------------------------------------------------------------ staging

function percentile(values: Float32Array, ps: number[]): number[] {
  // A strided sample is plenty for display ranges of large volumes.
  const step = Math.max(1, Math.floor(values.length / 200_000));
  const s: number[] = [];
  for (let i = 0; i < values.length; i += step) s.push(values[i]!);
  s.sort((a, b) => a - b);
  return ps.map((p) => s[Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))))]!);
}

async function stage(name: string, bytes: Uint8Array): Promise<{ result: StageResult; transfer: Transferable[] }> {
  if (!models.length) throw new InputError('unsuitable', 'no model loaded; pick the demo model or open a checkpoint');
  const t0 = performance.now();
  emit({ type: 'stage-progress', phase: 'reading' });
  let vol;
  try {
    vol = readNifti(bytes, { name });
  } catch (e) {
    throw new InputError(
      'unsuitable',
      `${(e as Error).message.startsWith(name) ? '' : `${name}: `}${(e as Error).message} — not a NIfTI volume this page can read (.nii or .nii.gz, NIfTI-1 or NIfTI-2)`,
    );
  }
  const t1 = performance.now();
  const precompiled = precompileEnabled;
  const g = await device();
  emit({ type: 'stage-progress', phase: 'staging', done: 0, total: models.length });
  const s = await stageVolume(g, vol, models, { onModel: (done, total) => emit({ type: 'stage-progress', phase: 'staging', done, total }) });
  const t2 = performance.now();
  const display = writeNifti(vol, { description: 'voxelgrad page: volume as read' });
  const sal = writeNifti({ ...s.prepared, data: s.saliency, warnings: [] }, { description: 'voxelgrad saliency |d logit / d voxel|' });
  const col = [vol.affine[0]!, vol.affine[4]!, vol.affine[8]!].map(Math.abs);
  const sliceWorldAxis = col.indexOf(Math.max(...col)) as 0 | 1 | 2;
  const [w0, w1] = percentile(vol.data, [2, 98]) as [number, number];
  const [s0, s1] = percentile(s.saliency, [95, 99.9]) as [number, number];
  const result: StageResult = {
    name,
    probabilityT3: s.probabilityT3,
    predicted: s.predicted,
    models: s.models,
    modelProbabilities: s.modelProbabilities,
    sliceProbabilities: s.sliceProbabilities,
    inputSlices: s.inputSlices,
    attention: s.attention,
    displayNifti: display,
    saliencyNifti: sal,
    dims: vol.dims,
    spacing: vol.spacing,
    sliceWorldAxis,
    preparedDims: s.prepared.dims,
    window: w1 > w0 ? [w0, w1] : [w0, w0 + 1],
    saliencyRange: s1 > s0 ? [s0, s1] : [s0, s0 + 1e-12],
    warnings: [...new Set([...vol.warnings, ...s.warnings].map(formatWarning))],
    ms: { read: t1 - t0, stage: t2 - t1, total: performance.now() - t0 },
    precompiled,
  };
  const transfer: Transferable[] = [display.buffer, sal.buffer];
  if (s.attention) transfer.push(s.attention.weights.buffer);
  return { result, transfer };
}

// ------------------------------------------------------------------------------------------ runs

const RUNS = 'runs';
let training: { runId: string; stop: boolean } | null = null;

function runIdOf(spec: TrainSpec): string {
  return `${spec.name}-${settingsTag({ cohort: spec.cohort, config: spec.config })}`;
}

/** A store that reports each checkpoint written (the page shows it; the reload test waits for it). */
class ReportingStore implements RunStore {
  constructor(
    private readonly inner: RunStore,
    private readonly runId: string,
  ) {}
  read(path: string) {
    return this.inner.read(path);
  }
  async write(path: string, data: Uint8Array) {
    await this.inner.write(path, data);
    const m = /^fold-(\d+)\/checkpoint\.safetensors$/.exec(path);
    if (m) {
      const epoch = Number(decodeSafetensors(data, path).metadata.epoch);
      emit({ type: 'train-checkpoint', runId: this.runId, fold: Number(m[1]), epoch });
    }
  }
  path(rel: string) {
    return this.inner.path(rel);
  }
}

const dec = new TextDecoder();
const enc = new TextEncoder();

async function runInfo(id: string): Promise<RunInfo | null> {
  const store = await OpfsStore.open(`${RUNS}/${id}`);
  const cfgBytes = await store.read('config.json');
  if (!cfgBytes) return null;
  const config = JSON.parse(dec.decode(cfgBytes)) as ExperimentConfig;
  const pageBytes = await store.read('page.json');
  const page = pageBytes ? (JSON.parse(dec.decode(pageBytes)) as { name: string; cohort: TrainSpec['cohort']; why?: string }) : null;
  const folds: RunInfo['folds'] = [];
  type History = RunInfo['folds'][number]['history'];
  for (let f = 0; f < config.folds; f++) {
    const result = await store.read(`fold-${f}/result.json`);
    if (result) {
      const r = JSON.parse(dec.decode(result)) as { history: History; metrics: { auc: number | string } };
      folds.push({ fold: f, epochsDone: config.epochs, done: true, history: r.history, auc: Number(r.metrics.auc) });
      continue;
    }
    const ck = await store.read(`fold-${f}/checkpoint.safetensors`);
    let epochsDone = 0;
    let history: History = [];
    if (ck) {
      const meta = decodeSafetensors(ck, 'checkpoint').metadata;
      epochsDone = Number(meta.epoch ?? 0);
      history = ((JSON.parse(meta.extra ?? '{}') as { history?: History }).history ?? []).slice();
    }
    folds.push({ fold: f, epochsDone, done: false, history });
  }
  return {
    id,
    name: page?.name ?? id,
    config,
    cohort: page?.cohort ?? null,
    folds,
    hasReport: (await store.read('report.html')) !== null,
    ...(page?.why ? { why: page.why } : {}),
  };
}

async function listRuns(): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  for (const id of await OpfsStore.list(RUNS)) {
    try {
      const r = await runInfo(id);
      if (r) out.push(r);
    } catch {
      // a run folder this version cannot read is left alone
    }
  }
  return out;
}

/** Run-folder files in the CLI's layout, for the zip download. */
async function runFiles(id: string): Promise<Record<string, Uint8Array>> {
  const store = await OpfsStore.open(`${RUNS}/${id}`);
  const info = await runInfo(id);
  if (!info) throw new InputError('unsuitable', `no run '${id}' in this browser`);
  const paths = ['config.json', 'folds.json', 'report.html', 'report.md', 'metrics.json'];
  for (let f = 0; f < info.config.folds; f++) for (const p of ['checkpoint.safetensors', 'model.safetensors', 'result.json']) paths.push(`fold-${f}/${p}`);
  const files: Record<string, Uint8Array> = {};
  for (const p of paths) {
    const b = await store.read(p);
    if (b) files[`${id}/${p}`] = b;
  }
  return files;
}

async function storedReport(runId: string): Promise<TrainDone> {
  const store = await OpfsStore.open(`${RUNS}/${runId}`);
  const b = await store.read('metrics.json');
  if (!b) throw new InputError('unsuitable', `run ${runId} has no report yet`);
  const report = parseRunReport(dec.decode(b));
  const info = await runInfo(runId);
  const html = await store.read('report.html');
  return { runId, stopped: false, report, reportHtml: html ? dec.decode(html) : null, table: info ? summaryTable(report, info.config) : null };
}

async function train(spec: TrainSpec, fresh: boolean): Promise<TrainDone> {
  if (training) throw Object.assign(new Error(`a run is already training (${training.runId}); pause it first`), { kind: 'busy' });
  const runId = runIdOf(spec);
  const job = { runId, stop: false };
  training = job;
  const lockName = `voxelgrad-run-${runId}`;
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  const body = async (): Promise<TrainDone> => {
    const t0 = performance.now();
    if (fresh) await OpfsStore.remove(`${RUNS}/${runId}`);
    else {
      // Already finished: its stored report, without synthesising the cohort again.
      const info = await runInfo(runId);
      if (info?.hasReport && info.folds.every((f) => f.done)) return storedReport(runId);
    }
    const opfs = await OpfsStore.open(`${RUNS}/${runId}`);
    await opfs.write('page.json', enc.encode(JSON.stringify({ name: spec.name, cohort: spec.cohort, why: spec.why }, null, 1)));
    const cfg = spec.config;
    const n = spec.cohort.n2 + spec.cohort.n3;
    emit({ type: 'train-phase', runId, phase: 'synthesising', done: 0, total: n });
    let last = 0;
    const samples = syntheticSamples(
      { ...spec.cohort, seed: spec.cohort.seed ?? cfg.seed },
      {
        size: cfg.inputSize,
        depth: cfg.depth,
        biasField: cfg.biasField,
        ...(cfg.testInput ? { testInput: cfg.testInput } : {}),
        onProgress: (done, total) => {
          const now = performance.now();
          if (now - last > 100 || done === total) {
            last = now;
            emit({ type: 'train-phase', runId, phase: 'synthesising', done, total });
          }
        },
      },
    );
    checkCohort(samples, cfg.folds, spec.name);
    const g = await device();
    emit({ type: 'train-phase', runId, phase: 'training' });
    const store = new ReportingStore(opfs, runId);
    const run = await runExperiment({
      gpu: g,
      store,
      cfg,
      samples,
      shouldStop: () => job.stop,
      events: {
        onFoldStart: (fold, epochsDone) => emit({ type: 'train-fold-start', runId, fold, epochsDone }),
        onStep: (fold, epoch, step, steps, loss) => emit({ type: 'train-step', runId, fold, epoch, step, steps, loss }),
        onEpoch: (fold, s) =>
          emit({
            type: 'train-epoch',
            runId,
            fold,
            epoch: s.epoch,
            trainLoss: s.trainLoss,
            lr: s.lr,
            seconds: s.seconds,
            ...(s.valAuc !== undefined ? { valAuc: s.valAuc } : {}),
          }),
        onPredict: (_fold, done, total) => emit({ type: 'train-phase', runId, phase: 'testing', done, total }),
        onFoldEnd: (o) => emit({ type: 'train-fold-end', runId, fold: o.fold, auc: o.metrics.auc, accuracy: o.metrics.accuracy, seconds: o.seconds }),
      },
      report: {
        cohortName: `synthetic (difficulty ${spec.cohort.difficulty ?? 0}), generated in the page`,
        startedAt: t0,
        notes: [`trained in the browser (voxelgrad page, ${g.adapter.description})${spec.why ? `; preset '${spec.name}': ${spec.why}` : ''}`],
      },
    });
    const html = run.report ? renderReportHtml(run.report) : null;
    return { runId, stopped: run.stopped, report: run.report, reportHtml: html, table: run.report ? summaryTable(run.report, cfg) : null };
  };
  try {
    if (!locks) return await body();
    return await locks.request(lockName, { ifAvailable: true }, async (lock) => {
      if (!lock) throw Object.assign(new Error('this run is training in another tab of this browser; pause it there or close that tab'), { kind: 'busy' });
      return body();
    });
  } finally {
    training = null;
  }
}

// ------------------------------------------------------------------------------------------ requests

function toError(e: unknown): WorkerError {
  if (e instanceof GpuError) return { kind: e.kind === 'no-adapter' && /navigator\.gpu is missing/.test(e.message) ? 'no-webgpu' : e.kind, message: e.message };
  if (e instanceof InputError) return { kind: 'bad-input', message: e.message };
  const err = e as Error & { kind?: string };
  return { kind: err.kind ?? 'error', message: err?.message ?? String(e) };
}

async function handle(req: Request): Promise<{ result: unknown; transfer?: Transferable[] }> {
  switch (req.type) {
    case 'init': {
      precompileEnabled = req.precompile;
      base = req.base;
      const g = gpu ?? (await acquire());
      const features = Object.entries(FEATURE_NOTES).map(([name, note]) => ({ name, present: g.features.has(name), note }));
      const result: InitResult = { adapter: g.adapter, features, presets: { quick: PRESETS.quick, cpu: PRESETS.cpu } };
      // Compile ahead what the first actions will need: staging with the demo model, then a training
      // step of the quick preset. The page is usable meanwhile; jobs wait for it to finish.
      precompileInBackground(g, PRESETS.cpu.config, { stageDepths: DEMO_DEPTHS }, 'staging with the demo model');
      precompileInBackground(g, PRESETS.quick.config, { train: true }, "training the 'quick' preset");
      return { result };
    }
    case 'reacquire': {
      if (gpu) {
        lostByUs = true;
        gpu.destroy();
        gpu = null;
      }
      compiling = Promise.resolve();
      const g = await acquire();
      if (models.length) precompileInBackground(g, checkpointConfig(models[0]!), { stageDepths: DEMO_DEPTHS }, 'staging');
      return { result: { adapter: g.adapter } };
    }
    case 'precompile-wait':
      await compiling;
      return { result: true };
    case 'simulate-device-loss': {
      // Automation/tests: destroy the device without telling the loss handler it was us.
      gpu?.device.destroy();
      return { result: true };
    }
    case 'models-demo':
      return {
        result: await setModels([{ name: 'demo model (cpu preset, fold 0)', bytes: await fetchBytes(new URL('models/demo-cpu.safetensors', base).href) }]),
      };
    case 'models-files':
      return { result: await setModels(req.files) };
    case 'models-run': {
      const store = await OpfsStore.open(`${RUNS}/${req.runId}`);
      const info = await runInfo(req.runId);
      if (!info) throw new InputError('unsuitable', `no run '${req.runId}' in this browser`);
      const cks: StageCheckpoint[] = [];
      for (let f = 0; f < info.config.folds; f++) {
        const b = await store.read(`fold-${f}/model.safetensors`);
        if (b) cks.push({ name: `${info.name} fold ${f}`, bytes: b });
      }
      if (!cks.length) throw new InputError('unsuitable', `run '${info.name}' has no finished fold yet`);
      return { result: await setModels(cks) };
    }
    case 'stage': {
      const { result, transfer } = await stage(req.name, req.bytes);
      return { result, transfer };
    }
    case 'train': {
      const spec = req.spec;
      // Runs go on in the background; their end arrives as an event, and the request answers at once.
      train(spec, Boolean(req.fresh)).then(
        (r) => emit({ type: 'train-done', result: r }),
        (e) => emit({ type: 'train-error', runId: runIdOf(spec), error: toError(e) }),
      );
      return { result: { runId: runIdOf(spec) } };
    }
    case 'pause':
      if (training) training.stop = true;
      return { result: Boolean(training) };
    case 'runs':
      return { result: await listRuns() };
    case 'run-delete':
      if (training?.runId === req.runId) throw Object.assign(new Error('pause the run before deleting it'), { kind: 'busy' });
      await OpfsStore.remove(`${RUNS}/${req.runId}`);
      return { result: true };
    case 'run-file': {
      const b = await (await OpfsStore.open(`${RUNS}/${req.runId}`)).read(req.path);
      if (!b) throw new InputError('unsuitable', `${req.path} is not in run ${req.runId}`);
      return { result: b, transfer: [b.buffer] };
    }
    case 'run-zip': {
      const zip = zipSync(await runFiles(req.runId), { level: 0 });
      return { result: zip, transfer: [zip.buffer] };
    }
    case 'run-report':
      return { result: await storedReport(req.runId) };
  }
}

self.onmessage = (ev: MessageEvent<Request & { id: number }>) => {
  const { id, ...req } = ev.data;
  handle(req as Request).then(
    ({ result, transfer }) => post({ id, ok: true, result }, transfer ?? []),
    (e) => post({ id, ok: false, error: toError(e) }),
  );
};
