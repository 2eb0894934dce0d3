/**
 * The package as an embedding developer gets it: `npm pack` → install the tarball into an empty folder
 * → the CLI runs, `import … from 'voxelgrad'` and 'voxelgrad/node' work in Node, and the embedding
 * example (examples/embed) builds with Vite with no warning, keeps the WGSL parser and every Node-only
 * module out of its bundle, and runs in headless Chromium with the same numbers as Node.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { smallConfig } from '../helpers/config.js';
import { launchChromium, serveDir, watchConsole } from '../../scripts/browser.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dRef } from '../../src/kernels/conv.ref.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { predictVolume } from '../../src/train/inference.js';
import { buildModel } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { relErr, testGpu } from '../helpers/gpu.js';

const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'voxelgrad-pack-'));
const app = join(work, 'app');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' },
  });

const cfg: ExperimentConfig = smallConfig({ head: 'bilinear' });

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  let tarball = '';

  it('packs built JavaScript with declarations and embedded shaders, and nothing of the tests', () => {
    const out = JSON.parse(npm(['pack', '--json', '--pack-destination', work], repo)) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, out[0]!.filename);
    const files = out[0]!.files.map((f) => f.path);
    for (const f of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/node.js',
      'dist/src/node.d.ts',
      'dist/src/reflect.js',
      'dist/src/kernels/shaders.gen.js',
      'dist/src/cli/main.js',
      'bin/voxelgrad.js',
      'package.json',
      'README.md',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.includes('.test.'))).toEqual([]);
  }, 300_000);

  it('installs into an empty folder; the CLI and both entry points work in Node', async () => {
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'embed-app', private: true, type: 'module' }));
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
    const cli = join(app, 'node_modules/.bin/voxelgrad');
    expect(execFileSync(cli, ['--help'], { encoding: 'utf8' })).toMatch(/voxelgrad — volumetric T-staging networks/);
    const info = JSON.parse(execFileSync(cli, ['info', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as {
      adapter: { description: string };
    };
    expect(info.adapter).toBeDefined();
    const script = `
      import { acquireGpu, F, leaf, backward } from 'voxelgrad';
      import { readManifest } from 'voxelgrad/node';
      const gpu = await acquireGpu();
      const x = leaf(gpu.tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 2, 2]), true);
      const w = leaf(gpu.tensor([1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 2, 2, 2]), true);
      const y = F.conv3d(x, w).retain();
      backward(F.sum(y));
      console.log(JSON.stringify({ y: Array.from(await y.read()), dx: Array.from(await x.grad.read()), readManifest: typeof readManifest }));
      gpu.destroy();`;
    const r = JSON.parse(
      execFileSync('node', ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .trim()
        .split('\n')
        .pop()!,
    );
    expect(r).toEqual({ y: [36], dx: [1, 1, 1, 1, 1, 1, 1, 1], readManifest: 'function' });
  }, 300_000);

  it("a TypeScript app with Vite's template settings type-checks against the built declarations", () => {
    const ts = join(app, 'ts-app'); // resolves 'voxelgrad' from the app's node_modules
    mkdirSync(join(ts, 'src'), { recursive: true });
    // Vite's vanilla-ts template tsconfig (strict, bundler resolution, erasableSyntaxOnly, …).
    const compilerOptions = {
      target: 'ES2022',
      useDefineForClassFields: true,
      module: 'ESNext',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      skipLibCheck: true,
      moduleResolution: 'bundler',
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      moduleDetection: 'force',
      noEmit: true,
      strict: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      erasableSyntaxOnly: true,
      noFallthroughCasesInSwitch: true,
      noUncheckedSideEffectImports: true,
    };
    writeFileSync(join(ts, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
    writeFileSync(
      join(ts, 'src/main.ts'),
      `import { acquireGpu, F, leaf, backward, type Gpu, type ExperimentConfig, PRESETS, MemoryStore, runExperiment } from 'voxelgrad';
       const gpu: Gpu = await acquireGpu();
       const x = leaf(gpu.tensor(new Float32Array(8), [1, 1, 2, 2, 2]), true);
       backward(F.sum(F.conv3d(x, leaf(gpu.tensor(new Float32Array(8), [1, 1, 2, 2, 2]), true))));
       const cfg: ExperimentConfig = PRESETS.cpu.config;
       export const run = () => runExperiment({ gpu, store: new MemoryStore(), cfg, samples: [] });
       export const device: GPUDevice = gpu.device;
`,
    );
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    let out = '';
    try {
      out = execFileSync('node', [tsc, '-p', ts], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
    }
    expect(out).toBe('');
  }, 120_000);

  it('the embedding example builds with Vite, with no warning, no WGSL parser and no Node module in the bundle', async () => {
    cpSync(join(repo, 'examples/embed'), app, { recursive: true, filter: (p) => !p.endsWith('README.md') });
    const gpu = await testGpu();
    const model = buildModel(cfg).materialize(gpu, new Rng(3));
    mkdirSync(join(app, 'public'), { recursive: true });
    writeFileSync(join(app, 'public/model.safetensors'), await saveCheckpoint(model, { config: cfg }));
    model.release();
    const { build, createLogger } = await import('vite');
    const warnings: string[] = [];
    const logger = createLogger('warn', { allowClearScreen: false });
    logger.warn = (msg) => void warnings.push(msg);
    logger.warnOnce = (msg) => void warnings.push(msg);
    await build({ root: app, logLevel: 'warn', customLogger: logger, configFile: false, build: { outDir: join(app, 'dist'), emptyOutDir: true } });
    expect(warnings).toEqual([]);
    const assets = readdirSync(join(app, 'dist/assets')).filter((f) => f.endsWith('.js'));
    const js = assets.map((f) => readFileSync(join(app, 'dist/assets', f), 'utf8')).join('\n');
    for (const banned of ['WgslReflect', 'node:fs', 'node:child_process', 'node:module', 'vk_swiftshader_icd']) expect(js, banned).not.toContain(banned);
    expect(js).toMatch(/navigator\.gpu/);
  }, 300_000);

  it('the example runs in headless Chromium and matches the float64 reference and Node', async () => {
    const server = await serveDir(join(app, 'dist'));
    const chrome = await launchChromium();
    try {
      const page = await chrome.browser.newPage();
      const con = watchConsole(page);
      await page.goto(server.url);
      await page.waitForFunction('window.embedResult !== undefined', { timeout: 120_000 });
      const r = (await page.evaluate('window.embedResult')) as { error?: string; y: number[]; dx: number[]; dw: number[]; prob: number; sliceProbs: number[] };
      expect(r.error).toBeUndefined();
      expect(con.errors).toEqual([]);
      // The same inputs as main.js, in float64.
      const rng = new Rng(1);
      const x = rng.normalArray(2 * 6 * 10 * 10);
      const w = rng.normalArray(4 * 2 * 27);
      const p = { pad: [1, 1, 1] as [number, number, number] };
      const ref = conv3dRef(x, [1, 2, 6, 10, 10], w, [4, 2, 3, 3, 3], p);
      const ones = new Float64Array(ref.y.length).fill(1);
      expect(relErr(r.y, ref.y)).toBeLessThan(1e-4);
      expect(relErr(r.dx, conv3dBackwardInputRef(ones, w, [4, 2, 3, 3, 3], [1, 2, 6, 10, 10], p))).toBeLessThan(1e-4);
      expect(relErr(r.dw, conv3dBackwardWeightRef(ones, x, [1, 2, 6, 10, 10], [4, 2, 3, 3, 3], p))).toBeLessThan(1e-4);
      // The checkpoint's prediction in Node (lavapipe or SwiftShader in Dawn) and in the page.
      const gpu = await testGpu();
      const model = buildModel(cfg).materialize(gpu, new Rng(3));
      const dims: [number, number, number] = [cfg.depth, cfg.inputSize, cfg.inputSize];
      const node = await predictVolume(gpu, model, new Rng(2).normalArray(dims[0] * dims[1] * dims[2]), dims);
      model.release();
      expect(Math.abs(r.prob - node.prob)).toBeLessThan(1e-4);
      expect(relErr(r.sliceProbs, node.sliceProbs)).toBeLessThan(1e-4);
    } finally {
      await chrome.close();
      await server.close();
    }
  }, 300_000);
});
