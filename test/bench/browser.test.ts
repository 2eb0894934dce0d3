/**
 * The browser bench's harness, end to end in one row: the page is built with Vite, runs in the system's
 * headless Chromium on SwiftShader, times matmul 256³ with voxelgrad and every peer (TensorFlow.js,
 * jax-js, ONNX Runtime Web) after checking their results against ours, profiles our kernels with
 * timestamp queries, and the runner writes the JSON (with the host's load average on the row), the
 * Markdown table and the HTML chart. It checks the harness, not speed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromiumFlags, parseBrowserArgs, runBrowserBench } from '../../bench/browser/run.js';
import type { BenchResults } from '../../bench/record.js';
import { UsageError } from '../../src/cli/args.js';
import { benchCommand } from '../../src/cli/bench.js';
import { describeError } from '../../src/cli/main.js';

const out = mkdtempSync(join(tmpdir(), 'voxelgrad-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench:browser', () => {
  it('one row in headless Chromium: ours and every peer, checked, timed, written as JSON, Markdown and HTML', async () => {
    const lines: string[] = [];
    const r = await runBrowserBench({ quick: true, only: ['matmul'], layers: ['matmul 256×256'], outDir: out, timeoutMin: 4, log: (s) => lines.push(s) });
    expect(r.files.json).toMatch(/browser-swiftshader-quick\.json$/);
    const res = JSON.parse(readFileSync(r.files.json, 'utf8')) as BenchResults;
    expect(res.browser?.userAgent).toMatch(/Chrome/);
    expect(Object.keys(res.browser!.engines).sort()).toEqual(['jax-js', 'ort', 'tfjs']);
    const rows = res.benches.matmul!.records;
    expect(rows.map((x) => x.name)).toEqual(['matmul 256×256·256×256']);
    const row = rows[0]!;
    expect(row.ms).toBeGreaterThan(0);
    expect(row.loadavg?.start).toHaveLength(3);
    expect(row.kernels?.source).toBe('timestamp-query');
    expect(row.kernels?.kernels.some((k) => k.kernel.startsWith('matmul'))).toBe(true);
    for (const name of ['tfjs', 'jax-js', 'ort']) {
      const p = row.peers?.find((q) => q.name === name);
      expect(p?.unavailable, `${name}: ${JSON.stringify(p)}`).toBeUndefined();
      expect(p?.check?.ok, `${name}: ${JSON.stringify(p?.check)}`).toBe(true);
      expect(p!.ms).toBeGreaterThan(0);
      expect(row.ratio?.[name]).toBeCloseTo(p!.ms! / row.ms, 6);
    }
    expect(readFileSync(r.files.md, 'utf8')).toMatch(/\| matmul 256×256·256×256 \|/);
    expect(readFileSync(r.files.html, 'utf8')).toMatch(/class="bar"/);
    expect(lines.join('\n')).not.toMatch(/\[page error\]/);
  }, 240_000);

  it('names the Chromium flags for an adapter, and refuses one it cannot ask for', () => {
    expect(chromiumFlags({})).toEqual({ base: 'swiftshader', extra: [] });
    expect(chromiumFlags({ gpu: true })).toEqual({ base: 'gpu', extra: [] });
    expect(chromiumFlags({ gpu: true, adapter: 'd3d11' })).toEqual({ base: 'gpu', extra: ['--use-webgpu-adapter=d3d11'] });
    expect(chromiumFlags({ gpu: true, adapter: 'low-power' })).toMatchObject({ base: 'gpu', power: 'low-power' });
    expect(() => chromiumFlags({ adapter: 'lavapipe' })).toThrow(/not an adapter Chromium can be asked for/);
    expect(() => chromiumFlags({ adapter: 'd3d11' })).toThrow(/needs --gpu/);
  });

  it('voxelgrad bench and both runners: one flag table, usage errors (exit 2) before anything starts', async () => {
    let help = '';
    expect(await benchCommand(['--help'], (x) => (help += x))).toBe(0);
    expect(help).toMatch(/--browser/);
    const usage = async (argv: string[], re: RegExp) => {
      const e = await benchCommand(argv, () => {}).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e, argv.join(' ')).toBeInstanceOf(UsageError);
      expect(describeError(e).code).toBe(2);
      expect((e as Error).message).toMatch(re);
    };
    await usage(['--bogus'], /Unknown option '--bogus'/);
    await usage(['--browser', '--paths'], /--paths only in Node/);
    await usage(['--browser', '--adapter', 'lavapipe'], /--adapter must be one of swiftshader/);
    await usage(['--browser', '--adapter', 'd3d11'], /needs --gpu/);
    await usage(['--adapter', 'd3d11'], /--adapter must be one of auto, swiftshader, lavapipe in Node/);
    await usage(['--gpu', '--quick'], /leave out --quick and --adapter/);
    await usage(['--peers', 'jax-js'], /--peers in Node is tfjs or none/);
    await usage(['--quick=1'], /is a switch/);
    // The runners parse the same tables: what the command would pass on, they read back.
    expect(parseBrowserArgs(['--quick', '--peers', 'none', '--only', 'conv,matmul', '--timeout-min', '12'])).toMatchObject({
      quick: true,
      peers: [],
      only: ['conv', 'matmul'],
      timeoutMin: 12,
      profile: true,
    });
    expect(parseBrowserArgs(['--gpu', '--adapter', 'd3d11', '--no-profile'])).toMatchObject({ gpu: true, adapter: 'd3d11', profile: false });
    expect(() => parseBrowserArgs(['--peers', 'torch'])).toThrow(/unknown peer torch/);
    expect(() => parseBrowserArgs(['--only', 'memory'])).toThrow(/unknown bench memory \(benches in the page/);
    // The old group names still parse (runBrowserBench expands them, with a notice).
    expect(parseBrowserArgs(['--only', 'norm-pool,head-loss'])).toMatchObject({ only: ['norm-pool', 'head-loss'] });
    expect(() => parseBrowserArgs(['--only', 'norm-pool,nope'])).toThrow(/unknown bench nope \(benches in the page: .*batchnorm/);
    expect(() => parseBrowserArgs(['--timeout-min', '0'])).toThrow(UsageError);
  });
});
