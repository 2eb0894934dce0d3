/**
 * The page (web/) in headless Chromium with WebGPU on SwiftShader, built with Vite's API like a user's
 * `npm run build:page`: no build warning and the engine in the worker bundle only; no console errors;
 * staging agrees with `voxelgrad predict` on the same file and checkpoint; training steps agree with
 * Node for the same seed; a reload resumes training; a broken file, a lost device and a browser
 * without WebGPU are explained while the page keeps working.
 *
 * VOXELGRAD_SCREENSHOTS=<dir> also saves screenshots of the staging and training views there.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumSession, type StaticServer, launchChromium, serveDir, watchConsole } from '../../scripts/browser.js';
import { main } from '../../src/cli/main.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import type { CohortOptions } from '../../src/data/synth.js';
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { PRESETS } from '../../src/train/presets.js';
import { MemoryStore } from '../../src/train/run-store.js';
import { runExperiment } from '../../src/train/run.js';
import { syntheticSamples } from '../../src/train/synth-samples.js';
import { buildModel } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';

const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'voxelgrad-page-'));
const dist = join(work, 'dist');
const shots = process.env.VOXELGRAD_SCREENSHOTS ? resolve(process.env.VOXELGRAD_SCREENSHOTS) : null;
const fixture = join(repo, 'test/fixtures/nifti/example_nifti2.nii.gz');
const demoModel = join(repo, 'web/public/models/demo-cpu.safetensors');

let server: StaticServer;
let chrome: ChromiumSession;
const buildWarnings: string[] = [];

/** What the page's automation API takes to train (web/src/protocol.ts TrainSpec). */
interface TrainSpec {
  name: string;
  cohort: CohortOptions & { n2: number; n3: number };
  config: ExperimentConfig;
}

/** A tiny run (seconds on SwiftShader) with the quick preset's recipe: 3 training steps per epoch. */
function tinySpec(name: string, epochs: number): TrainSpec {
  const config: ExperimentConfig = {
    ...PRESETS.quick.config,
    loss: { ...PRESETS.quick.config.loss },
    width: 2,
    inputSize: 16,
    depth: 4,
    batchSize: 4,
    epochs,
    sliceEpochs: 1,
    folds: 2,
    valFraction: 0,
  };
  return { name, cohort: { n2: 6, n3: 10, size: 32, fovMm: 64, slices: [6, 8], difficulty: 0, seed: 3 }, config };
}

/** The first epoch of the same run's fold 0 in Node (Dawn: lavapipe or SwiftShader): losses keyed fold/epoch/step. */
async function nodeRun(spec: TrainSpec): Promise<{ losses: Map<string, number> }> {
  const gpu = await testGpu();
  const samples = syntheticSamples(
    { ...spec.cohort, seed: spec.cohort.seed ?? spec.config.seed },
    { size: spec.config.inputSize, depth: spec.config.depth, biasField: spec.config.biasField },
  );
  const losses = new Map<string, number>();
  await runExperiment({
    gpu,
    store: new MemoryStore(),
    cfg: spec.config,
    samples,
    folds: [0],
    shouldStop: () => losses.size >= 3,
    events: { onStep: (f, e, s, _n, l) => losses.set(`${f}/${e}/${s}`, l) },
  });
  return { losses };
}

interface PageTrain {
  status: string;
  error?: string;
  steps: { fold: number; x: number; loss: number }[];
  foldAuc: { fold: number; auc: number }[];
  checkpoints: { fold: number; epoch: number }[];
  stepsPerEpoch: number | null;
}
const trainState = (page: Page) => page.evaluate('window.voxelgradPage.state().train') as Promise<PageTrain | null>;

async function openPage(query = ''): Promise<{ page: Page; con: ReturnType<typeof watchConsole> }> {
  const page = await chrome.browser.newPage();
  await page.setViewport({ width: 1360, height: 940 });
  const con = watchConsole(page);
  await page.goto(server.url + query);
  await page.waitForFunction('document.body.dataset.ready', { timeout: 120_000 });
  return { page, con };
}

/** Waits until the page reports `name` staged (or an error naming it) and returns the P(T3) it shows. */
async function stagedProbability(page: Page, name: string): Promise<{ prob: number; status: string }> {
  await page.waitForFunction(
    (n) => {
      const s = document.querySelector('#stage-status')!;
      return s.textContent!.startsWith(`staged ${n}:`) || (s.classList.contains('error') && s.textContent!.includes(n));
    },
    { timeout: 240_000 },
    name,
  );
  return page.evaluate(() => ({
    prob: Number(document.querySelector<HTMLElement>('#result')!.dataset.probability),
    status: document.querySelector('#stage-status')!.textContent!,
  }));
}

async function upload(page: Page, selector: string, file: string): Promise<void> {
  const input = await page.$(selector);
  await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
}

async function cliPredict(
  input: string,
  checkpoint: string,
): Promise<{ probabilityT3: number; sliceProbabilities: (number | null)[]; attentionPerSlice?: number[] }> {
  const out = join(work, 'pred');
  expect(await main(['predict', '--input', input, '--checkpoint', checkpoint, '--out', out])).toBe(0);
  return JSON.parse(readFileSync(join(out, 'prediction.json'), 'utf8'));
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name) as `${string}.png` });
}

beforeAll(async () => {
  const { build, createLogger } = await import('vite');
  const logger = createLogger('warn', { allowClearScreen: false });
  logger.warn = (msg) => void buildWarnings.push(msg);
  logger.warnOnce = (msg) => void buildWarnings.push(msg);
  await build({ configFile: join(repo, 'web/vite.config.ts'), logLevel: 'warn', customLogger: logger, build: { outDir: dist, emptyOutDir: true } });
  server = await serveDir(dist);
  // SwiftShader for WebGL too (the viewer), without Chromium's deprecation warning for the fallback.
  chrome = await launchChromium({ args: ['--enable-unsafe-swiftshader'] });
}, 300_000);

afterAll(async () => {
  await chrome?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the page', () => {
  it('builds with no warning; the engine is in the worker bundle only', () => {
    expect(buildWarnings).toEqual([]);
    const assets = join(dist, 'assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const withShaders = js.filter((f) => readFileSync(join(assets, f), 'utf8').includes('@compute'));
    expect(withShaders.length).toBe(1);
    expect(withShaders[0]).toMatch(/^worker-/);
    const mainJs = js.find((f) => /^index-/.test(f))!;
    const mainSrc = readFileSync(join(assets, mainJs), 'utf8');
    for (const engineMark of ['@compute', 'createComputePipeline', 'requestDevice', 'createBindGroupLayout'])
      expect(mainSrc, engineMark).not.toContain(engineMark);
    expect(statSync(join(assets, mainJs)).size).toBeLessThan(80_000);
  });

  it('loads with no console errors and stages the demo volume with the demo model', async () => {
    const { page, con } = await openPage();
    try {
      expect(await page.$eval('#adapter', (e) => e.className)).toContain('ok');
      await page.click('[data-demo="synthetic-t3.nii.gz"]');
      const r = await stagedProbability(page, 'synthetic-t3.nii.gz');
      expect(r.status).toMatch(/^staged synthetic-t3\.nii\.gz: 15×96×96 voxels/);
      expect(r.prob).toBeGreaterThan(0);
      expect(r.prob).toBeLessThan(1);
      expect(await page.$$eval('#slice-chart [data-slice]', (g) => g.length)).toBe(15);
      // The slice control and the per-slice chart follow each other.
      await page.click('#slice-chart [data-slice="3"]');
      expect(await page.$eval('#slice', (e) => (e as HTMLInputElement).value)).toBe('3');
      await page.click('#slice-chart [data-slice="9"]');
      await new Promise((r) => setTimeout(r, 500));
      await screenshot(page, 'page-staging.png');
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);

  it('gives the P(T3) of `voxelgrad predict` on the same file and checkpoint (demo model, and a picked attention-head checkpoint)', async () => {
    // A checkpoint the user picks: a small attention-head model written like `voxelgrad train` writes it.
    const gpu = await testGpu();
    const cfg: ExperimentConfig = { ...tinySpec('x', 2).config, head: 'attention', width: 2, inputSize: 24 };
    const model = buildModel(cfg).materialize(gpu, new Rng(7));
    const picked = join(work, 'attention-model.safetensors');
    writeFileSync(picked, await saveCheckpoint(model, { epoch: 2, config: cfg, extra: { fold: 0 } }));
    model.release();
    const { page, con } = await openPage();
    try {
      await upload(page, '#vol-input', fixture);
      const demo = await stagedProbability(page, 'example_nifti2.nii.gz');
      const cliDemo = await cliPredict(fixture, demoModel);
      expect(Math.abs(demo.prob - cliDemo.probabilityT3)).toBeLessThan(1e-4);
      await upload(page, '#ckpt-input', picked);
      await page.waitForFunction(() => document.querySelector<HTMLElement>('#model-summary')!.dataset.head === 'attention', { timeout: 60_000 });
      await upload(page, '#vol-input', fixture);
      await page.waitForFunction((p) => document.querySelector<HTMLElement>('#result')!.dataset.probability !== String(p), { timeout: 240_000 }, demo.prob);
      const att = await stagedProbability(page, 'example_nifti2.nii.gz');
      const cliAtt = await cliPredict(fixture, picked);
      expect(Math.abs(att.prob - cliAtt.probabilityT3)).toBeLessThan(1e-4);
      const pageState = (await page.evaluate('window.voxelgradPage.state().staged')) as {
        sliceProbabilities: (number | null)[];
        attention: { perSlice: number[] };
      };
      // Slices outside the central crop the model was tested on: NaN in the page (null once puppeteer has
      // serialised it), null in predict's JSON; the same slices on both sides.
      expect(pageState.sliceProbabilities.map((p) => p === null || Number.isNaN(p))).toEqual(cliAtt.sliceProbabilities.map((c) => c === null));
      expect(cliAtt.sliceProbabilities.some((c) => c === null)).toBe(true); // the fixture has more slices than depth
      pageState.sliceProbabilities.forEach((p, i) => {
        const c = cliAtt.sliceProbabilities[i];
        if (c !== null) expect(Math.abs(p! - c!)).toBeLessThan(1e-4);
      });
      pageState.attention.perSlice.forEach((a, i) => expect(Math.abs(a - cliAtt.attentionPerSlice![i]!)).toBeLessThan(1e-4));
      expect(await page.$eval('#attention-legend', (e) => (e as HTMLElement).hidden)).toBe(false);
      expect(await page.$eval('#result-detail', (e) => e.textContent)).toMatch(/4-D|first/i); // the fixture is 4-D: the page says it used the first volume
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('says what is wrong with a broken file and keeps working', async () => {
    const { page, con } = await openPage();
    try {
      const broken = join(work, 'broken.nii.gz');
      writeFileSync(broken, new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7]));
      await upload(page, '#vol-input', broken);
      await page.waitForSelector('#stage-status.error', { timeout: 60_000 });
      expect(await page.$eval('#stage-status', (e) => e.textContent)).toMatch(/broken\.nii\.gz.*not a NIfTI volume this page can read/);
      const notNifti = join(work, 'notes.nii');
      writeFileSync(notNifti, 'subject,path,label\n');
      await upload(page, '#vol-input', notNifti);
      await page.waitForFunction(() => /notes\.nii/.test(document.querySelector('#stage-status')!.textContent!), { timeout: 60_000 });
      expect(await page.$eval('#stage-status', (e) => e.className)).toContain('error');
      await page.click('[data-demo="synthetic-t2.nii.gz"]');
      const r = await stagedProbability(page, 'synthetic-t2.nii.gz');
      expect(r.status).toMatch(/^staged synthetic-t2\.nii\.gz/);
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);

  it('three training steps in the page give the losses Node gives for the same seed', async () => {
    const spec = tinySpec('steps', 2);
    const { page, con } = await openPage();
    try {
      await page.evaluate(
        (s) => (window as unknown as { voxelgradPage: { train(s: unknown, fresh: boolean): Promise<string> } }).voxelgradPage.train(s, true),
        spec as never,
      );
      await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector<HTMLElement>('#train-status')!.dataset.status!), { timeout: 300_000 });
      const t = (await trainState(page))!;
      expect(t.error).toBeUndefined();
      expect(t.stepsPerEpoch).toBe(3);
      const node = await nodeRun(spec);
      const pageFold0 = t.steps.filter((s) => s.fold === 0);
      expect(pageFold0.length).toBe(6);
      for (let i = 0; i < 3; i++) expect(Math.abs(pageFold0[i]!.loss - node.losses.get(`0/1/${i + 1}`)!), `step ${i + 1}`).toBeLessThan(1e-4);
      await page.click('[data-tab="train"]');
      expect(await page.$eval('#train-result', (e) => (e as HTMLElement).hidden)).toBe(false);
      expect(await page.$eval('#train-table', (e) => e.textContent)).toMatch(/AUC/);
      // The run as the page downloads it is a run folder the command line reads.
      const zip = (await page.evaluate('window.voxelgradPage.runZip(window.voxelgradPage.state().train.runId).then((z) => Array.from(z))')) as number[];
      const unzipped = join(work, 'unzipped');
      for (const [path, data] of Object.entries(unzipSync(new Uint8Array(zip)))) {
        mkdirSync(dirname(join(unzipped, path)), { recursive: true });
        writeFileSync(join(unzipped, path), data);
      }
      const run = join(unzipped, readdirSync(unzipped)[0]!);
      for (const f of ['config.json', 'folds.json', 'report.html', 'metrics.json', 'fold-0/model.safetensors', 'fold-1/result.json'])
        expect(readdirSync(dirname(join(run, f))), f).toContain(f.split('/').pop());
      expect(await main(['eval', '--run', run])).toBe(0);
      expect(await main(['predict', '--input', join(repo, 'web/public/volumes/synthetic-t2.nii.gz'), '--run', run, '--out', join(work, 'pred-run')])).toBe(0);
      expect(JSON.parse(readFileSync(join(work, 'pred-run/prediction.json'), 'utf8')).models).toHaveLength(2);
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('a reload resumes training from the last checkpoint, ending as an uninterrupted run does', async () => {
    // Compared with the same run uninterrupted in the same browser: over many steps, rounding
    // differences between drivers (SwiftShader here, lavapipe in Node) grow chaotically (1e-6 after
    // three steps, 1e-2 after ten at this tiny size), so Node cannot be the reference here.
    const spec = tinySpec('resume', 4);
    const { page, con } = await openPage();
    const train = (s: TrainSpec) =>
      page.evaluate(
        (x) => (window as unknown as { voxelgradPage: { train(s: unknown, fresh: boolean): Promise<string> } }).voxelgradPage.train(x, true),
        s as never,
      );
    const finished = () =>
      page.waitForFunction(() => ['done', 'error'].includes(document.querySelector<HTMLElement>('#train-status')!.dataset.status!), { timeout: 300_000 });
    try {
      await train(spec);
      await page.waitForFunction('(window.voxelgradPage.state().train?.checkpoints.length ?? 0) >= 1', { timeout: 300_000 });
      await page.reload();
      await page.waitForFunction('document.body.dataset.ready', { timeout: 120_000 });
      await page.click('[data-tab="train"]');
      await page.waitForSelector('#runs [data-run] [data-act="resume"]', { timeout: 60_000 });
      const listed = await page.$eval('#runs [data-run]', (e) => e.textContent!);
      const done = Number(/fold 1 (\d)\/4 epochs/.exec(listed)![1]);
      expect(done).toBeGreaterThanOrEqual(1);
      expect(done).toBeLessThan(4);
      await page.click('#runs [data-run] [data-act="resume"]');
      await finished();
      const resumed = (await trainState(page))!;
      expect(resumed.error).toBeUndefined();
      // The first step after the reload is the first step of the epoch after the checkpoint.
      expect(resumed.steps[0]!.fold).toBe(0);
      expect(resumed.steps[0]!.x).toBeCloseTo(done + 1 / 3, 6);
      await page.click('[data-tab="train"]');
      await screenshot(page, 'page-training.png');
      await train({ ...spec, name: 'reference' });
      await finished();
      const reference = (await trainState(page))!;
      const key = (s: { fold: number; x: number }) => `${s.fold}/${s.x.toFixed(6)}`;
      const ref = new Map(reference.steps.map((s) => [key(s), s.loss]));
      expect(reference.steps.length).toBe(2 * 4 * 3);
      expect(resumed.steps.length).toBe(2 * 4 * 3 - 3 * done);
      for (const s of resumed.steps) expect(s.loss, key(s)).toBe(ref.get(key(s)));
      expect(resumed.foldAuc).toEqual(reference.foldAuc);
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('explains a lost GPU device and recovers when asked', async () => {
    const { page, con } = await openPage();
    try {
      await page.evaluate('window.voxelgradPage.simulateDeviceLoss()');
      await page.waitForSelector('#banner:not([hidden])', { timeout: 30_000 });
      expect(await page.$eval('#banner', (e) => e.textContent)).toMatch(/The GPU device was lost.*checkpoint/s);
      await page.click('[data-demo="synthetic-t2.nii.gz"]');
      await page.waitForSelector('#stage-status.error', { timeout: 30_000 });
      expect(await page.$eval('#stage-status', (e) => e.textContent)).toMatch(/re-acquire/);
      await page.click('#banner-action');
      await page.waitForSelector('#banner[hidden]', { timeout: 60_000 });
      await page.click('[data-demo="synthetic-t2.nii.gz"]');
      expect((await stagedProbability(page, 'synthetic-t2.nii.gz')).status).toMatch(/^staged synthetic-t2/);
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);

  it('explains a browser without WebGPU', async () => {
    const page = await chrome.browser.newPage();
    const con = watchConsole(page);
    try {
      await page.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
      await page.goto(server.url);
      await page.waitForFunction('document.body.dataset.ready === "no"', { timeout: 60_000 });
      const text = await page.$eval('#banner', (e) => e.textContent!);
      expect(text).toMatch(/WebGPU is not available/);
      for (const b of ['Chrome', 'Safari', 'Firefox', 'enable-unsafe-webgpu', 'localhost']) expect(text).toContain(b);
      expect(await page.$eval('[data-demo="synthetic-t3.nii.gz"]', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
      expect(con.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);
});
