/**
 * First-step latency of the page with and without pipelines compiled ahead (`npm run bench:page`).
 * Each sample is a fresh headless Chromium (fresh profile: no shader cache on disk) on SwiftShader (or
 * the GPU with VOXELGRAD_PAGE_GPU=1): load the page, wait until it is idle (with compile-ahead: until
 * its pipelines are ready), then time
 *   - staging the demo T3 volume with the demo model (worker-side, after reading the file), twice;
 *   - a training run of the quick preset's network: set-up and first step, on a small cohort.
 * `?precompile=0` turns compile-ahead off. Rounds alternate the two modes; medians and all samples are
 * printed and written to web/bench/results/first-step-<adapter>.json with the load average.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { launchChromium, serveDir } from '../../scripts/browser.js';

const repo = resolve(import.meta.dirname, '../..');
const rounds = Number(process.env.VOXELGRAD_ROUNDS ?? 3);

interface Sample {
  precompile: boolean;
  compileAheadMs: number | null;
  stageFirstMs: number;
  stageSecondMs: number;
  trainFirstStepMs: number;
}

async function sample(url: string, precompile: boolean): Promise<Sample & { adapter: string }> {
  const chrome = await launchChromium({ gpu: process.env.VOXELGRAD_PAGE_GPU === '1', args: ['--enable-unsafe-swiftshader'] });
  try {
    const page = await chrome.browser.newPage();
    await page.goto(`${url}${precompile ? '' : '?precompile=0'}`);
    await page.waitForFunction('document.body.dataset.ready === "yes"', { timeout: 300_000 });
    const t0 = Date.now();
    if (precompile) await page.evaluate('window.voxelgradPage.precompiled()');
    const compileAheadMs = precompile ? ((await page.evaluate(`window.voxelgradPage.state().precompile.reduce((a, e) => a + e.result.planMs + e.result.compileMs, 0)`)) as number) : null;
    void t0;
    const stage = async (): Promise<number> => {
      const bytes = Array.from(new Uint8Array(await (await fetch(`${url}volumes/synthetic-t3.nii.gz`)).arrayBuffer()));
      await page.evaluate((b) => (window as unknown as { voxelgradPage: { stage(n: string, b: Uint8Array): Promise<void> } }).voxelgradPage.stage('synthetic-t3.nii.gz', new Uint8Array(b)), bytes);
      return (await page.evaluate('window.voxelgradPage.state().staged.ms.stage')) as number;
    };
    const stageFirstMs = await stage();
    const stageSecondMs = await stage();
    const spec = (await page.evaluate('window.voxelgradPage.presetSpec("quick")')) as { cohort: { n2: number; n3: number } };
    spec.cohort.n2 = 8;
    spec.cohort.n3 = 12;
    await page.evaluate((s) => (window as unknown as { voxelgradPage: { train(s: unknown, f: boolean): Promise<string> } }).voxelgradPage.train(s, true), spec as never);
    await page.waitForFunction('window.voxelgradPage.state().train?.firstStepMs != null', { timeout: 600_000 });
    const trainFirstStepMs = (await page.evaluate('window.voxelgradPage.state().train.firstStepMs')) as number;
    const adapter = (await page.evaluate('window.voxelgradPage.state().init.adapter.description')) as string;
    return { precompile, compileAheadMs, stageFirstMs, stageSecondMs, trainFirstStepMs, adapter };
  } finally {
    await chrome.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('page first-step latency', () => {
  it('with and without pipelines compiled ahead', async () => {
    const work = mkdtempSync(join(tmpdir(), 'voxelgrad-page-bench-'));
    const { build } = await import('vite');
    await build({ configFile: join(repo, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: join(work, 'dist'), emptyOutDir: true } });
    const server = await serveDir(join(work, 'dist'));
    const samples: (Sample & { adapter: string })[] = [];
    const load: number[] = [];
    try {
      for (let r = 0; r < rounds; r++) {
        for (const pre of r % 2 ? [true, false] : [false, true]) {
          load.push(loadavg()[0]!);
          samples.push(await sample(server.url, pre));
          console.log(JSON.stringify(samples.at(-1)));
        }
      }
    } finally {
      await server.close();
      rmSync(work, { recursive: true, force: true });
    }
    const row = (pre: boolean) => {
      const s = samples.filter((x) => x.precompile === pre);
      return {
        stageFirstMs: median(s.map((x) => x.stageFirstMs)),
        stageSecondMs: median(s.map((x) => x.stageSecondMs)),
        trainFirstStepMs: median(s.map((x) => x.trainFirstStepMs)),
        compileAheadMs: pre ? median(s.map((x) => x.compileAheadMs!)) : null,
      };
    };
    const result = { date: new Date().toISOString(), adapter: samples[0]!.adapter, rounds, loadavg: { min: Math.min(...load), max: Math.max(...load) }, cold: row(false), precompiled: row(true), samples };
    console.log(
      [
        `first-step latency on ${result.adapter} (median of ${rounds}; load average ${result.loadavg.min.toFixed(1)}–${result.loadavg.max.toFixed(1)})`,
        `                      stage 1st   stage 2nd   train 1st step   compile ahead (at load)`,
        `compiled on demand  ${result.cold.stageFirstMs.toFixed(0).padStart(9)}   ${result.cold.stageSecondMs.toFixed(0).padStart(9)}   ${result.cold.trainFirstStepMs.toFixed(0).padStart(14)}   –`,
        `compiled ahead      ${result.precompiled.stageFirstMs.toFixed(0).padStart(9)}   ${result.precompiled.stageSecondMs.toFixed(0).padStart(9)}   ${result.precompiled.trainFirstStepMs.toFixed(0).padStart(14)}   ${result.precompiled.compileAheadMs!.toFixed(0)}`,
      ].join('\n'),
    );
    const dir = join(repo, 'web/bench/results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `first-step-${result.adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  }, 3_600_000);
});
