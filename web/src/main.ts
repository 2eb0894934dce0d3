/**
 * The page: UI, viewer and charts on the main thread; every engine call goes to the worker
 * (engine-client.ts). This module never imports voxelgrad itself — only its types — so the engine
 * lives in the worker bundle alone.
 */
import { lineChart, sliceBars, type Series } from './charts.js';
import { EngineClient, EngineError } from './engine-client.js';
import type { InitResult, ModelSummary, PresetChoice, RunInfo, StageResult, TrainDone, TrainSpec, WorkerEvent } from './protocol.js';
import { SliceViewer } from './viewer.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmtS = (s: number) =>
  s < 60
    ? `${s.toFixed(s < 10 ? 1 : 0)} s`
    : s < 3600
      ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
      : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;

// ------------------------------------------------------------------------------------------ tabs

function showTab(name: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll<HTMLElement>('.tab')) s.hidden = s.id !== `tab-${name}`;
}
for (const b of document.querySelectorAll<HTMLButtonElement>('.tabs button')) b.onclick = () => showTab(b.dataset.tab!);

// ------------------------------------------------------------------------------------------ banner

const banner = $('banner');
function showBanner(kind: 'error' | 'warn', title: string, body: string, action?: { label: string; run: () => void }): void {
  banner.className = `banner${kind === 'warn' ? ' warn' : ''}`;
  banner.innerHTML = `<h4>${esc(title)}</h4><div>${body}</div>`;
  if (action) {
    const b = document.createElement('button');
    b.textContent = action.label;
    b.onclick = action.run;
    b.id = 'banner-action';
    banner.append(b);
  }
  banner.hidden = false;
}
const hideBanner = () => (banner.hidden = true);

const NO_WEBGPU = `<p>This page runs its neural network with WebGPU, which this browser does not expose (<code>navigator.gpu</code> is missing). Use one of:</p>
<ul>
<li><b>Chrome or Edge 113+</b> on Windows, macOS or ChromeOS (on by default); on Linux, Chrome 144+ with a supported GPU, or enable <code>chrome://flags/#enable-unsafe-webgpu</code> (and <code>#enable-vulkan</code>);</li>
<li><b>Safari 26+</b> on macOS, iOS or iPadOS;</li>
<li><b>Firefox 141+</b> on Windows (elsewhere set <code>dom.webgpu.enabled</code> in <code>about:config</code>).</li>
</ul>
<p>WebGPU also needs a secure context: open the page over https or from localhost (<code>npm run page</code> serves it on 127.0.0.1). Without a GPU, Chrome's software adapter (SwiftShader) works too: start it with <code>--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader</code>.</p>`;

function explainEngineError(e: unknown): void {
  const err = e instanceof EngineError ? e : new EngineError('error', String((e as Error)?.message ?? e));
  if (err.kind === 'no-webgpu') showBanner('error', 'WebGPU is not available', NO_WEBGPU);
  else if (err.kind === 'no-adapter')
    showBanner(
      'error',
      'No WebGPU adapter',
      `<p>${esc(err.message)}</p><p>The browser has WebGPU but offered no adapter: it is disabled or blocklisted for this GPU. In Chrome, <code>chrome://gpu</code> says why; <code>chrome://flags/#enable-unsafe-webgpu</code> lifts the blocklist.</p>`,
    );
  else showBanner('error', 'The GPU device could not be started', `<p>${esc(err.message)}</p>`);
  const pill = $('adapter');
  pill.textContent = 'no WebGPU';
  pill.className = 'pill bad';
}

// ------------------------------------------------------------------------------------------ engine

const state = {
  ready: false,
  init: null as InitResult | null,
  models: [] as ModelSummary[],
  staged: null as Omit<StageResult, 'displayNifti' | 'saliencyNifti'> | null,
  slice: 0,
  deviceLost: false,
  precompile: [] as WorkerEvent[],
  runs: [] as RunInfo[],
};

const hasWebGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && Boolean((navigator as Navigator & { gpu?: unknown }).gpu);
const engine = hasWebGpu ? new EngineClient() : null;

function deviceInfo(init: InitResult): void {
  const a = init.adapter;
  const feats = init.features
    .map((f) => `<li>${f.present ? '✓' : '✗'} <code>${esc(f.name)}</code> — ${f.present ? 'available' : 'not available'}: ${esc(f.note)}</li>`)
    .join('');
  const lim = (k: string) => (a.limits[k] !== undefined ? `${(a.limits[k]! / 2 ** 20).toFixed(0)} MiB` : '?');
  const pre = state.precompile
    .filter((e): e is Extract<WorkerEvent, { type: 'precompiled' }> => e.type === 'precompiled')
    .map(
      (e) =>
        `<li>${esc(e.result.work)}: ${e.result.pipelines} pipelines (${e.result.compiled} compiled now) in ${fmtS((e.result.planMs + e.result.compileMs) / 1000)}</li>`,
    )
    .join('');
  $('device-info').classList.remove('muted');
  $('device-info').innerHTML = `<p><b>${esc(a.description)}</b>${a.isFallbackAdapter ? ' (a software adapter: expect CPU speed)' : ''}</p>
    <p class="muted">vendor ${esc(a.vendor || '–')}, architecture ${esc(a.architecture || '–')}; largest storage binding ${lim('maxStorageBufferBindingSize')}, largest buffer ${lim('maxBufferSize')}</p>
    <h3>Optional features</h3><ul>${feats}</ul>
    <h3>Compiled ahead</h3><ul>${pre || `<li class="muted">${params.get('precompile') === '0' ? 'off (?precompile=0)' : 'in progress…'}</li>`}</ul>`;
}

async function start(): Promise<void> {
  if (!engine) {
    explainEngineError(new EngineError('no-webgpu', 'navigator.gpu is missing'));
    $('model-summary').textContent = 'The engine needs WebGPU (see above).';
    for (const b of document.querySelectorAll<HTMLButtonElement>('button:not([data-tab])')) b.disabled = true;
    return;
  }
  engine.on('device-lost', (e) => onDeviceLost(e.message));
  engine.on('precompiled', (e) => {
    state.precompile.push(e);
    if (state.init) deviceInfo(state.init);
  });
  engine.on('*', (e) => onTrainEvent(e));
  try {
    state.init = await engine.request<InitResult>({ type: 'init', precompile: params.get('precompile') !== '0', base: document.baseURI });
  } catch (e) {
    explainEngineError(e);
    $('model-summary').textContent = 'No GPU device: staging and training are unavailable.';
    return;
  }
  const a = state.init.adapter;
  const pill = $('adapter');
  pill.textContent = `WebGPU: ${a.description}${a.isFallbackAdapter ? ' (software)' : ''}`;
  pill.className = 'pill ok';
  deviceInfo(state.init);
  const missing = state.init.features.filter((f) => !f.present && f.name === 'subgroups');
  if (missing.length)
    showBanner(
      'warn',
      'This adapter lacks a feature the engine uses when it can',
      `<p><code>subgroups</code> is not available: ${esc(missing[0]!.note)}. Everything works; training is slower.</p>`,
    );
  state.ready = true;
  showPresets(state.init.presets);
  await loadDemoModel();
  await refreshRuns();
}

function onDeviceLost(message: string): void {
  state.deviceLost = true;
  $('adapter').className = 'pill bad';
  $('adapter').textContent = 'GPU device lost';
  showBanner(
    'error',
    'The GPU device was lost',
    `<p>The browser took the GPU device away (${esc(message || 'no reason given')}): a driver reset, the GPU process restarting, or the tab being backgrounded for long on some systems. Your staged results stay on screen; a training run keeps its last epoch's checkpoint and resumes from it.</p>`,
    { label: 'Re-acquire the GPU', run: () => void reacquire() },
  );
}

async function reacquire(): Promise<void> {
  try {
    const r = await engine!.request<{ adapter: InitResult['adapter'] }>({ type: 'reacquire' });
    state.deviceLost = false;
    hideBanner();
    $('adapter').className = 'pill ok';
    $('adapter').textContent = `WebGPU: ${r.adapter.description}`;
    setStatus($('stage-status'), 'GPU device re-acquired.');
  } catch (e) {
    explainEngineError(e);
  }
}

// ------------------------------------------------------------------------------------------ models

function setStatus(el: HTMLElement, text: string, kind: '' | 'busy' | 'error' = ''): void {
  el.className = `status${kind ? ` ${kind}` : ''}`;
  el.textContent = text;
}

function showModels(ms: ModelSummary[], source: string): void {
  state.models = ms;
  const m = ms[0]!;
  const folds = ms.length > 1 ? `<br>ensemble of <b>${ms.length}</b> models (P(T3) is their mean)` : '';
  $('model-summary').innerHTML =
    `<b>${esc(m.model)} + ${esc(m.head)}</b>, width ${m.width} (${m.params.toLocaleString('en')} parameters)<br>` +
    `input ${m.inputSize}×${m.inputSize} in-plane, bias-field correction ${m.biasField ? 'on' : 'off'}${m.epochs !== null ? `, ${m.epochs} epochs` : ''}${folds}<br><span class="muted">${esc(source)}</span>`;
  $('model-summary').classList.remove('muted');
  $('model-summary').dataset.head = m.head;
}

async function loadDemoModel(): Promise<void> {
  try {
    const info = await fetch(new URL('models/demo-cpu.json', document.baseURI)).then((r) => (r.ok ? (r.json() as Promise<{ summary?: string }>) : {}));
    const ms = await engine!.request<ModelSummary[]>({ type: 'models-demo' });
    showModels(ms, (info as { summary?: string }).summary ?? 'bundled demo model');
  } catch (e) {
    setStatus($('stage-status'), `The demo model could not be loaded: ${(e as Error).message}`, 'error');
  }
}

$('model-demo').onclick = () => void loadDemoModel();
$<HTMLInputElement>('ckpt-input').onchange = async (ev) => {
  const input = ev.target as HTMLInputElement;
  const files = [...(input.files ?? [])];
  input.value = '';
  if (!files.length || !engine) return;
  setStatus($('stage-status'), `reading ${files.length} checkpoint(s)…`, 'busy');
  try {
    const payload = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    const ms = await engine.request<ModelSummary[]>(
      { type: 'models-files', files: payload },
      payload.map((p) => p.bytes.buffer),
    );
    showModels(ms, files.map((f) => f.name).join(', '));
    setStatus($('stage-status'), `loaded ${files.length} checkpoint${files.length > 1 ? 's' : ''}.`);
  } catch (e) {
    setStatus($('stage-status'), (e as Error).message, 'error');
  }
};

// ------------------------------------------------------------------------------------------ staging

const viewer = new SliceViewer($<HTMLCanvasElement>('gl'));
const sliceInput = $<HTMLInputElement>('slice');
const overlayOn = $<HTMLInputElement>('overlay-on');
const overlayOpacity = $<HTMLInputElement>('overlay-opacity');
const winLo = $<HTMLInputElement>('win-lo');
const winHi = $<HTMLInputElement>('win-hi');
let staging = false;

viewer.onSlice = (d) => {
  state.slice = d;
  sliceInput.value = String(d);
  $('slice-out').textContent = state.staged ? `${d} / ${state.staged.dims[0] - 1}` : String(d);
  drawSliceChart();
};
viewer.onWindow = ([lo, hi]) => {
  winLo.value = String(+lo.toPrecision(4));
  winHi.value = String(+hi.toPrecision(4));
};
sliceInput.oninput = () => viewer.setSlice(Number(sliceInput.value));
const applyWindow = () => viewer.setWindow(Number(winLo.value), Number(winHi.value));
winLo.onchange = applyWindow;
winHi.onchange = applyWindow;
$('win-auto').onclick = () => {
  if (!state.staged) return;
  viewer.onWindow(state.staged.window);
  viewer.setWindow(...state.staged.window);
};
overlayOn.onchange = overlayOpacity.oninput = () => viewer.setOverlay(overlayOn.checked, Number(overlayOpacity.value));
$<HTMLInputElement>('multi').onchange = (ev) => viewer.setLayout((ev.target as HTMLInputElement).checked);

function drawSliceChart(): void {
  const s = state.staged;
  if (!s) return;
  $('slice-chart').innerHTML = sliceBars(s.sliceProbabilities, s.attention?.perSlice ?? null, state.slice);
  $('attention-legend').hidden = !s.attention;
}
$('slice-chart').onclick = (ev) => {
  const g = (ev.target as Element).closest('[data-slice]');
  if (g) viewer.setSlice(Number(g.getAttribute('data-slice')));
};

async function stageBytes(name: string, bytes: Uint8Array): Promise<void> {
  if (!engine || !state.ready) return;
  if (staging) {
    setStatus($('stage-status'), 'still staging the previous volume…', 'busy');
    return;
  }
  staging = true;
  const status = $('stage-status');
  setStatus(status, `reading ${name} (${(bytes.length / 2 ** 20).toFixed(1)} MiB)…`, 'busy');
  try {
    const r = await engine.request<StageResult>({ type: 'stage', name, bytes }, [bytes.buffer]);
    const { displayNifti: _d, saliencyNifti: _s, ...rest } = r;
    state.staged = rest;
    showResult(r);
    $('viewer-empty').hidden = true;
    const v = await viewer.show(r, { visible: overlayOn.checked, opacity: Number(overlayOpacity.value) });
    sliceInput.max = String(r.dims[0] - 1);
    viewer.onWindow(v.window);
    viewer.setSlice(v.slice);
    setStatus(status, `staged ${name}: ${r.dims.join('×')} voxels (${r.spacing.map((x) => +x.toFixed(2)).join('×')} mm), in ${fmtS(r.ms.total / 1000)}.`);
  } catch (e) {
    setStatus(status, (e as Error).message, 'error');
  } finally {
    staging = false;
  }
}

function showResult(r: StageResult): void {
  $('result').hidden = false;
  const p = r.probabilityT3;
  $('prob').textContent = p.toFixed(3);
  $('result').dataset.probability = String(p);
  $('result').dataset.name = r.name;
  const verdict = $('verdict');
  verdict.textContent = r.predicted;
  verdict.className = `verdict ${r.predicted}`;
  $('prob-fill').style.width = `${(100 * p).toFixed(1)}%`;
  const lines: string[] = [];
  if (r.models.length > 1) lines.push(`models: ${r.modelProbabilities.map((q, i) => `${esc(r.models[i]!)} ${q.toFixed(3)}`).join(', ')}`);
  const seen = r.sliceProbabilities.map((q, i) => [q, i] as const).filter(([q]) => Number.isFinite(q));
  const [topP, top] = seen.reduce((a, b) => (b[0] > a[0] ? b : a));
  lines.push(`highest slice score: slice ${top} (${topP.toFixed(3)})`);
  const [i0, i1] = r.inputSlices;
  if (i1 - i0 < r.sliceProbabilities.length) lines.push(`the model saw slices ${i0}–${i1 - 1} (the central crop it was tested on), not the whole stack`);
  if (r.attention) {
    const a = r.attention.perSlice;
    const ta = a.indexOf(Math.max(...a));
    lines.push(`attention: most weight on slice ${ta} (${a[ta]!.toFixed(3)} of 1; uniform would be ${(1 / a.length).toFixed(3)})`);
  }
  lines.push(
    `model input ${[r.inputSlices[1] - r.inputSlices[0], r.preparedDims[1], r.preparedDims[2]].join('×')} (of the preprocessed ${r.preparedDims.join('×')}); read ${fmtS(r.ms.read / 1000)}, staged ${fmtS(r.ms.stage / 1000)}${r.precompiled ? ' (pipelines compiled ahead)' : ''}`,
  );
  for (const w of r.warnings) lines.push(`<span class="warn">⚠ ${esc(w)}</span>`);
  $('result-detail').innerHTML = lines.join('<br>');
}

async function stageFile(f: File): Promise<void> {
  await stageBytes(f.name, new Uint8Array(await f.arrayBuffer()));
}

$<HTMLInputElement>('vol-input').onchange = (ev) => {
  const input = ev.target as HTMLInputElement;
  const f = input.files?.[0];
  input.value = '';
  if (f) void stageFile(f);
};
const drop = $('drop');
drop.ondragover = (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
};
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const f = ev.dataTransfer?.files[0];
  if (f) void stageFile(f);
};
// Dropping a file anywhere else must not navigate away from the page.
window.addEventListener('dragover', (ev) => ev.preventDefault());
window.addEventListener('drop', (ev) => ev.preventDefault());
for (const b of document.querySelectorAll<HTMLButtonElement>('[data-demo]')) {
  b.onclick = async () => {
    const name = b.dataset.demo!;
    const r = await fetch(new URL(`volumes/${name}`, document.baseURI));
    if (!r.ok) return setStatus($('stage-status'), `${name}: HTTP ${r.status}`, 'error');
    await stageBytes(name, new Uint8Array(await r.arrayBuffer()));
  };
}

// ------------------------------------------------------------------------------------------ training

type Presets = InitResult['presets'];
let presets: Presets | null = null;
const PRESET_TIME: Record<PresetChoice, string> = {
  quick: 'about 5 minutes on SwiftShader (a CPU), faster on a GPU',
  cpu: 'about 15 minutes with Node and lavapipe on 2 cores, hours on SwiftShader: meant for a GPU',
};

interface TrainView {
  runId: string;
  spec: TrainSpec;
  folds: number;
  epochs: number;
  stepsPerEpoch: number | null;
  /** Per fold: epochs done before this session (from checkpoints) and finished folds. */
  done: Map<number, number>;
  steps: { fold: number; x: number; loss: number }[];
  epochLoss: Map<number, [number, number][]>;
  valAuc: Map<number, [number, number][]>;
  foldAuc: { fold: number; auc: number }[];
  current: { fold: number; epoch: number; step: number; steps: number } | null;
  sessionStart: number | null;
  sessionSteps: number;
  phase: string;
  checkpoints: { fold: number; epoch: number }[];
  status: 'starting' | 'running' | 'pausing' | 'paused' | 'done' | 'error';
  error?: string;
  result?: TrainDone;
  /** From the start of training (cohort ready) to the first step's loss: model set-up and one step. */
  firstStepMs: number | null;
  startedAt: number;
  trainingAt?: number;
}
let tv: TrainView | null = null;
const FOLD_COLORS = ['#2f6fdf', '#d2553a', '#3a9b6b', '#7a4fd6', '#c58b12', '#17879a', '#b0417f', '#5b6b82', '#8a9a2b', '#9a4a2b'];

function presetChoice(): PresetChoice {
  return (document.querySelector<HTMLInputElement>('input[name="preset"]:checked')?.value ?? 'quick') as PresetChoice;
}

function showPresets(p: Presets): void {
  // The package's own presets, from the worker (the main thread holds no engine code).
  presets = p;
  $('presets').innerHTML = (['quick', 'cpu'] as PresetChoice[])
    .map((k, i) => {
      const p = presets![k];
      const c = p.config;
      return `<label class="preset"><input type="radio" name="preset" value="${k}"${i === 0 ? ' checked' : ''} /><span class="name">${k}</span>
        <span class="desc">${p.cohort.n2 + p.cohort.n3} subjects, ${c.inputSize}×${c.inputSize}×${c.depth}, ${esc(c.model)} + ${esc(c.head)} width ${c.width}, ${c.folds} folds × ${c.epochs} epochs — ${PRESET_TIME[k]}.</span>
        <details><summary>why this size</summary>${esc(p.why)}</details></label>`;
    })
    .join('');
}

function specOf(name: PresetChoice): TrainSpec {
  const p = presets![name];
  return { name, cohort: { ...p.cohort, seed: p.config.seed }, config: { ...p.config, loss: { ...p.config.loss } }, why: p.why };
}

function newView(runId: string, spec: TrainSpec, info: RunInfo | null): TrainView {
  const v: TrainView = {
    runId,
    spec,
    folds: spec.config.folds,
    epochs: spec.config.epochs,
    stepsPerEpoch: null,
    done: new Map(),
    steps: [],
    epochLoss: new Map(),
    valAuc: new Map(),
    foldAuc: [],
    current: null,
    sessionStart: null,
    sessionSteps: 0,
    phase: 'starting',
    checkpoints: [],
    status: 'starting',
    firstStepMs: null,
    startedAt: performance.now(),
  };
  for (const f of info?.folds ?? []) {
    v.done.set(f.fold, f.epochsDone);
    v.epochLoss.set(
      f.fold,
      f.history.map((h) => [h.epoch, h.trainLoss]),
    );
    v.valAuc.set(
      f.fold,
      f.history.filter((h) => h.valAuc !== undefined && Number.isFinite(h.valAuc)).map((h) => [h.epoch, h.valAuc!]),
    );
    if (f.auc !== undefined) v.foldAuc.push({ fold: f.fold, auc: f.auc });
  }
  return v;
}

async function startTraining(spec: TrainSpec, fresh = false): Promise<string> {
  if (!engine || !state.ready) throw new Error('the engine is not ready');
  if (tv && (tv.status === 'running' || tv.status === 'starting' || tv.status === 'pausing')) throw new Error('a run is already training');
  const runs = await engine.request<RunInfo[]>({ type: 'runs' });
  const { runId } = await engine.request<{ runId: string }>({ type: 'train', spec, fresh });
  const info = fresh ? null : (runs.find((r) => r.id === runId) ?? null);
  tv = newView(runId, spec, info);
  $('train-result').hidden = true;
  $<HTMLButtonElement>('train-start').disabled = true;
  $<HTMLButtonElement>('train-pause').disabled = false;
  drawTraining();
  return runId;
}

function onTrainEvent(e: WorkerEvent): void {
  if (!tv || !('runId' in e || e.type === 'train-done')) return;
  if ('runId' in e && e.runId !== tv.runId) return;
  const v = tv;
  switch (e.type) {
    case 'train-phase':
      v.phase =
        e.phase === 'synthesising'
          ? `synthesising the cohort ${e.done ?? 0}/${e.total ?? '?'}`
          : e.phase === 'testing'
            ? `testing the hold-out fold (batch ${e.done}/${e.total})`
            : e.phase;
      if (e.phase === 'training') {
        v.status = 'running';
        v.trainingAt ??= performance.now();
      }
      break;
    case 'train-fold-start':
      v.done.set(e.fold, e.epochsDone);
      break;
    case 'train-step': {
      if (v.sessionStart === null) {
        v.sessionStart = performance.now();
        v.firstStepMs = v.sessionStart - (v.trainingAt ?? v.startedAt);
      }
      v.sessionSteps++;
      v.stepsPerEpoch = e.steps;
      v.current = { fold: e.fold, epoch: e.epoch, step: e.step, steps: e.steps };
      v.steps.push({ fold: e.fold, x: e.epoch - 1 + e.step / e.steps, loss: e.loss });
      v.phase = `fold ${e.fold + 1}/${v.folds} · epoch ${e.epoch}/${v.epochs} · step ${e.step}/${e.steps} · loss ${e.loss.toFixed(4)}`;
      break;
    }
    case 'train-epoch': {
      const l = v.epochLoss.get(e.fold) ?? [];
      l.push([e.epoch, e.trainLoss]);
      v.epochLoss.set(e.fold, l);
      if (e.valAuc !== undefined && Number.isFinite(e.valAuc)) {
        const a = v.valAuc.get(e.fold) ?? [];
        a.push([e.epoch, e.valAuc]);
        v.valAuc.set(e.fold, a);
      }
      v.done.set(e.fold, e.epoch);
      break;
    }
    case 'train-checkpoint':
      v.checkpoints.push({ fold: e.fold, epoch: e.epoch });
      if (v.checkpoints.length === 1) void refreshRuns(); // the run now shows in the list
      break;
    case 'train-fold-end':
      v.foldAuc.push({ fold: e.fold, auc: e.auc });
      v.done.set(e.fold, v.epochs);
      break;
    case 'train-done':
      if (e.result.runId !== v.runId) return;
      v.result = e.result;
      v.status = e.result.stopped ? 'paused' : 'done';
      v.phase = e.result.stopped ? 'paused' : 'done';
      finishTraining();
      break;
    case 'train-error':
      v.status = 'error';
      v.error = e.error.message;
      v.phase = 'stopped by an error';
      finishTraining();
      break;
    default:
      return;
  }
  drawTraining();
}

function finishTraining(): void {
  $<HTMLButtonElement>('train-start').disabled = false;
  $<HTMLButtonElement>('train-pause').disabled = true;
  void refreshRuns();
  if (tv?.result?.report) showRunResult(tv.result);
}

function progressOf(v: TrainView): { frac: number; etaS: number | null } {
  const spe = v.stepsPerEpoch;
  if (!spe) return { frac: 0, etaS: null };
  const total = v.folds * v.epochs * spe;
  let done = 0;
  for (let f = 0; f < v.folds; f++) done += (v.done.get(f) ?? 0) * spe;
  if (v.current && (v.done.get(v.current.fold) ?? 0) < v.current.epoch) done += v.current.step;
  const frac = Math.min(1, done / total);
  if (!v.sessionStart || v.sessionSteps < 2) return { frac, etaS: null };
  const rate = v.sessionSteps / ((performance.now() - v.sessionStart) / 1000);
  return { frac, etaS: (total - done) / rate };
}

function drawTraining(): void {
  const v = tv;
  if (!v) return;
  const { frac, etaS } = progressOf(v);
  $('train-bar').style.width = `${(100 * frac).toFixed(1)}%`;
  const status = $('train-status');
  if (v.status === 'error') setStatus(status, `Training stopped: ${v.error}`, 'error');
  else if (v.status === 'done') setStatus(status, `Done: ${v.folds} folds trained and tested; the report is below.`);
  else if (v.status === 'paused')
    setStatus(status, `Paused after epoch ${[...v.done.values()].join('/')} — the checkpoint is kept; Resume continues from it (also after a reload).`);
  else {
    const ck = v.checkpoints.at(-1);
    const eta = etaS !== null ? ` · about ${fmtS(etaS)} left` : '';
    setStatus(
      status,
      `${v.status === 'pausing' ? 'pausing after this epoch… ' : ''}${v.phase} · ${(100 * frac).toFixed(0)} %${eta}${ck ? ` · checkpoint: fold ${ck.fold + 1} epoch ${ck.epoch}` : ''}`,
      'busy',
    );
  }
  status.dataset.status = v.status;
  const lossSeries: Series[] = [];
  for (let f = 0; f < v.folds; f++) {
    const pts = v.steps.filter((s) => s.fold === f).map((s) => [s.x, s.loss] as [number, number]);
    if (pts.length) lossSeries.push({ name: `fold ${f + 1} steps`, color: `${FOLD_COLORS[f % 10]}66`, points: pts });
    const ep = v.epochLoss.get(f) ?? [];
    if (ep.length) lossSeries.push({ name: `fold ${f + 1} epoch mean`, color: FOLD_COLORS[f % 10]!, points: ep });
  }
  const foldsSeen = [...new Set([...v.steps.map((s) => s.fold), ...[...v.epochLoss.entries()].filter(([, l]) => l.length).map(([f]) => f)])].sort();
  const legend = [
    ...foldsSeen.map((f) => ({ name: `fold ${f + 1}`, color: FOLD_COLORS[f % 10]! })),
    ...(foldsSeen.length ? [{ name: 'faint: each step; bold: epoch mean', color: '#ffffff00' }] : []),
  ];
  $('loss-chart').innerHTML = lineChart({ series: lossSeries, xLabel: 'epoch', yLabel: 'loss', x: [0, v.epochs], empty: v.phase, legend });
  const aucSeries: Series[] = [];
  for (let f = 0; f < v.folds; f++) {
    const a = v.valAuc.get(f) ?? [];
    if (a.length) aucSeries.push({ name: `fold ${f + 1} validation`, color: FOLD_COLORS[f % 10]!, points: a });
  }
  if (v.foldAuc.length) aucSeries.push({ name: 'hold-out fold (test)', color: '#1d2430', dots: true, points: v.foldAuc.map((a) => [v.epochs, a.auc]) });
  aucSeries.push({
    name: 'chance',
    color: '#b8c0cc',
    dashed: true,
    points: [
      [0, 0.5],
      [v.epochs, 0.5],
    ],
  });
  $('auc-chart').innerHTML = lineChart({
    series: aucSeries,
    xLabel: 'epoch',
    yLabel: 'AUC',
    x: [0, v.epochs],
    y: [0, 1],
    empty: v.spec.config.valFraction > 0 ? 'validation AUC after each epoch' : 'AUC of each hold-out fold when it finishes',
  });
}

$('train-start').onclick = async () => {
  try {
    const fresh = false;
    await startTraining(specOf(presetChoice()), fresh);
  } catch (e) {
    setStatus($('train-status'), (e as Error).message, 'error');
  }
};
$('train-pause').onclick = async () => {
  if (!engine || !tv) return;
  await engine.request({ type: 'pause' });
  tv.status = 'pausing';
  $<HTMLButtonElement>('train-pause').disabled = true;
  drawTraining();
};

function download(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function downloadRunFile(runId: string, path: string, name: string): Promise<void> {
  download(await engine!.request<Uint8Array>({ type: 'run-file', runId, path }), name);
}

function showRunResult(r: TrainDone): void {
  if (!r.report) return;
  $('train-result').hidden = false;
  $('train-table').textContent = r.table ?? '';
  const k = Number(r.report.config.folds ?? r.report.folds.length);
  const buttons = [
    `<button data-dl="report.html">report.html</button>`,
    ...Array.from({ length: k }, (_, f) => `<button data-dl="fold-${f}/model.safetensors">fold ${f + 1} model.safetensors</button>`),
    `<button data-zip>whole run (.zip)</button>`,
    `<button data-stage-with>stage with this run's models</button>`,
  ];
  const dl = $('train-downloads');
  dl.innerHTML = buttons.join('');
  dl.onclick = async (ev) => {
    const b = (ev.target as Element).closest('button');
    if (!b) return;
    if (b.dataset.dl) await downloadRunFile(r.runId, b.dataset.dl, `${r.runId}-${b.dataset.dl.replace('/', '-')}`);
    else if (b.hasAttribute('data-zip')) download(await engine!.request<Uint8Array>({ type: 'run-zip', runId: r.runId }), `${r.runId}.zip`, 'application/zip');
    else if (b.hasAttribute('data-stage-with')) await stageWithRun(r.runId);
  };
  const frame = $<HTMLIFrameElement>('report-frame');
  frame.srcdoc = r.reportHtml ?? '';
}

async function stageWithRun(runId: string): Promise<void> {
  try {
    const ms = await engine!.request<ModelSummary[]>({ type: 'models-run', runId });
    showModels(ms, `trained in this browser (run ${runId})`);
    showTab('stage');
  } catch (e) {
    setStatus($('train-status'), (e as Error).message, 'error');
  }
}

async function refreshRuns(): Promise<void> {
  if (!engine || !state.ready) return;
  let runs: RunInfo[];
  try {
    runs = await engine.request<RunInfo[]>({ type: 'runs' });
  } catch (e) {
    $('runs').innerHTML = `<li class="muted">${esc((e as Error).message)}</li>`;
    return;
  }
  state.runs = runs;
  const busy = tv && (tv.status === 'running' || tv.status === 'starting' || tv.status === 'pausing') ? tv.runId : null;
  $('runs').innerHTML = runs.length
    ? runs
        .map((r) => {
          const finished = r.folds.every((f) => f.done);
          const folds = r.folds
            .map((f) =>
              f.done
                ? `fold ${f.fold + 1} done${f.auc !== undefined ? ` (AUC ${f.auc.toFixed(3)})` : ''}`
                : `fold ${f.fold + 1} ${f.epochsDone}/${r.config.epochs} epochs`,
            )
            .join(' · ');
          const actions = finished
            ? `<button class="small" data-act="report">report</button><button class="small" data-act="stage">stage with it</button><button class="small" data-act="zip">.zip</button>`
            : `<button class="small" data-act="resume"${busy ? ' disabled' : ''}>${r.folds.some((f) => f.epochsDone > 0) ? 'Resume' : 'Start'}</button>`;
          return `<li class="run" data-run="${esc(r.id)}"><div class="run-name">${esc(r.name)} <span class="muted">${esc(r.id)}</span></div><div>${folds}</div>
            <div class="row">${actions}<button class="small" data-act="delete"${busy === r.id ? ' disabled' : ''}>delete</button></div></li>`;
        })
        .join('')
    : '<li class="muted">none yet</li>';
}

$('runs').onclick = async (ev) => {
  const b = (ev.target as Element).closest('button');
  const li = (ev.target as Element).closest('[data-run]');
  if (!b || !li || !engine) return;
  const runId = li.getAttribute('data-run')!;
  const run = state.runs.find((r) => r.id === runId);
  try {
    switch (b.dataset.act) {
      case 'resume': {
        if (!run?.cohort) throw new Error('this run was not started by the page (no cohort recorded); continue it with the command line');
        await startTraining({ name: run.name, cohort: run.cohort, config: run.config, ...(run.why ? { why: run.why } : {}) });
        break;
      }
      case 'report':
        showRunResult(await engine.request<TrainDone>({ type: 'run-report', runId }));
        break;
      case 'stage':
        await stageWithRun(runId);
        break;
      case 'zip':
        download(await engine.request<Uint8Array>({ type: 'run-zip', runId }), `${runId}.zip`, 'application/zip');
        break;
      case 'delete':
        if (!confirm(`Delete run ${runId} and its checkpoints from this browser?`)) return;
        await engine.request({ type: 'run-delete', runId });
        await refreshRuns();
        break;
    }
  } catch (e) {
    setStatus($('train-status'), (e as Error).message, 'error');
  }
};

// ------------------------------------------------------------------------------------------ automation

/** For scripts and tests (puppeteer): the same functions the buttons call, and the page's state. */
const api = {
  ready: null as Promise<void> | null,
  state: () => ({
    ...state,
    train: tv ? { ...tv, done: Object.fromEntries(tv.done), epochLoss: Object.fromEntries(tv.epochLoss), valAuc: Object.fromEntries(tv.valAuc) } : null,
  }),
  stage: (name: string, bytes: Uint8Array) => stageBytes(name, bytes),
  train: (spec: TrainSpec, fresh = false) => startTraining(spec, fresh),
  presetSpec: (name: PresetChoice) => specOf(name),
  pause: async () => {
    await engine?.request({ type: 'pause' });
    if (tv) tv.status = 'pausing';
  },
  runs: () => engine!.request<RunInfo[]>({ type: 'runs' }),
  /** The run folder as the .zip the download button gives. */
  runZip: (runId: string) => engine!.request<Uint8Array>({ type: 'run-zip', runId }),
  simulateDeviceLoss: () => engine!.request({ type: 'simulate-device-loss' }),
  /** Resolves when the pipelines compiled ahead at load are ready. */
  precompiled: () => engine!.request({ type: 'precompile-wait' }),
};
(window as unknown as { voxelgradPage: typeof api }).voxelgradPage = api;

// body[data-ready]: 'yes' once the engine answered (or 'no' when it cannot run here), for scripts.
api.ready = start().then(
  () => void (document.body.dataset.ready = state.ready ? 'yes' : 'no'),
  (e) => {
    document.body.dataset.ready = 'no';
    throw e;
  },
);
