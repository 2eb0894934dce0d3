/**
 * The command line end to end on tiny settings: synth → train → eval → predict on the synthetic
 * cohort, train on a manifest of real NIfTI files (the loader path users take), and the exit codes.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../helpers/cli.js';
import { main } from '../../src/cli/main.js';

const TINY = [
  '--size',
  '16',
  '--depth',
  '4',
  '--width',
  '1',
  '--epochs',
  '1',
  '--slice-epochs',
  '0',
  '--folds',
  '2',
  '--batch',
  '4',
  '--tta',
  '2',
  '--bias-field=false',
  '--val-fraction',
  '0',
];

const io = captureOutput();

describe('voxelgrad CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-cli-'));

  it('synth → train → eval → predict', async () => {
    const cohort = join(dir, 'cohort');
    expect(await main(['synth', '--out', cohort, '--n2', '4', '--n3', '6', '--size', '16', '--slices', '5', '--json'])).toBe(0);
    expect(JSON.parse(io.out).subjects).toBe(10);
    const run = join(dir, 'run');
    expect(await main(['train', '--manifest', join(cohort, 'manifest.csv'), '--out', run, ...TINY])).toBe(0);
    expect(io.out).toMatch(/AUC\s+Acc\s+Recall\(T2\)\s+Recall\(T3\)/);
    for (const f of [
      'config.json',
      'folds.json',
      'fold-0/checkpoint.safetensors',
      'fold-1/model.safetensors',
      'fold-1/result.json',
      'report.html',
      'report.md',
      'metrics.json',
    ]) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    // The report embeds the example volumes' slices with their saliency overlays.
    expect(readFileSync(join(run, 'report.html'), 'utf8')).toMatch(/data:image\/png;base64,/);
    io.out = '';
    expect(await main(['eval', '--run', run])).toBe(0);
    expect(io.out).toMatch(/pooled AUC \d\.\d{3} \(95 % bootstrap CI/);
    io.out = '';
    const vol = join(cohort, 'volumes', readFileSync(join(cohort, 'manifest.csv'), 'utf8').split('\n')[1]!.split(',')[1]!.split('/')[1]!);
    const pred = join(dir, 'pred');
    expect(await main(['predict', '--input', vol, '--run', run, '--out', pred, '--json'])).toBe(0);
    const r = JSON.parse(io.out);
    expect(r.probabilityT3).toBeGreaterThanOrEqual(0);
    expect(r.probabilityT3).toBeLessThanOrEqual(1);
    expect(r.models).toHaveLength(2);
    expect(r.sliceProbabilities.length).toBeGreaterThan(0);
    for (const f of ['saliency.nii.gz', 'saliency.png', 'preprocessed.nii.gz', 'prediction.json']) expect(existsSync(join(pred, f)), f).toBe(true);
    // A second train into the same folder without --resume is refused.
    expect(await main(['train', '--manifest', join(cohort, 'manifest.csv'), '--out', run, ...TINY])).toBe(2);
    expect(io.err).toMatch(/already holds a run; pass --resume/);
  });

  it('trains and predicts on a manifest of real NIfTI files', async () => {
    const fx = new URL('../fixtures/nifti/', import.meta.url).pathname;
    const files = ['KmeansTest_T1UCharRaw.nii.gz', 'functional.nii', 'resampled_anat_moved.nii', 'example_nifti2.nii.gz', 'standard.nii.gz'];
    const real = join(dir, 'real');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(real, { recursive: true });
    files.forEach((f) => copyFileSync(join(fx, f), join(real, f)));
    const rows = files.map((f, i) => `s${i},${f},${i % 2 ? 'T3' : 'T2'},0,,`);
    writeFileSync(join(real, 'manifest.csv'), `subject,path,label,slices,roi,fold\n${rows.join('\n')}\n`);
    const run = join(dir, 'real-run');
    expect(await main(['train', '--manifest', join(real, 'manifest.csv'), '--out', run, ...TINY]), io.err).toBe(0);
    expect(existsSync(join(run, 'report.html'))).toBe(true);
    io.out = '';
    expect(
      await main([
        'predict',
        '--input',
        join(real, files[0]!),
        '--checkpoint',
        join(run, 'fold-0', 'model.safetensors'),
        '--out',
        join(dir, 'real-pred'),
        '--json',
      ]),
    ).toBe(0);
    expect(JSON.parse(io.out).predicted).toMatch(/^T[23]$/);
  });

  it("info shows the features left off and the limits in use beside the adapter's own", async () => {
    const saved = { f: process.env.VOXELGRAD_DISABLE_FEATURES, l: process.env.VOXELGRAD_LIMITS };
    try {
      process.env.VOXELGRAD_DISABLE_FEATURES = 'timestamp-query';
      process.env.VOXELGRAD_LIMITS = 'core,maxStorageBufferBindingSize=16777216';
      expect(await main(['info'])).toBe(0);
      expect(io.out).toMatch(/^limits +in use: WebGPU's core defaults/m);
      expect(io.out).toMatch(/^ {2}maxStorageBufferBindingSize +16777216 \(16\.0 MiB\) +\[adapter \d+/m);
      // The adapter offers timestamp-query (lavapipe and SwiftShader do); it is reported as left off.
      if (/^features .*timestamp-query/m.test(io.out)) expect(io.out).toMatch(/^left off +timestamp-query /m);
      expect(await main(['info', '--json'])).toBe(0);
      const j = JSON.parse(io.out.slice(io.out.lastIndexOf('{\n  "adapter"'))) as { limitsInUse: Record<string, number> };
      expect(j.limitsInUse.maxStorageBufferBindingSize).toBe(16777216);
    } finally {
      for (const [k, v] of [
        ['VOXELGRAD_DISABLE_FEATURES', saved.f],
        ['VOXELGRAD_LIMITS', saved.l],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('exit codes: usage 2, bad input 4, and clear messages', async () => {
    expect(await main(['train', '--bogus'])).toBe(2);
    expect(io.err).toMatch(/Unknown option '--bogus'/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'subject,path,label,slices\na,missing.nii,T5,0\n');
    expect(await main(['train', '--manifest', bad, '--out', join(dir, 'x'), ...TINY])).toBe(4);
    expect(io.err).toMatch(/line 2/);
    expect(await main(['train', '--manifest', bad, '--out', join(dir, 'y'), ...TINY, '--augment-set', 'heavy'])).toBe(2);
    expect(io.err).toMatch(/--augment-set must be one of paper, light, got 'heavy'/);
    expect(await main(['synth', '--out', join(dir, 'z'), '--fov-mm', '5'])).toBe(2);
    expect(io.err).toMatch(/--fov-mm must be a number from 20 to 400/);
    expect(await main(['predict', '--input', join(dir, 'nope.nii'), '--checkpoint', join(dir, 'nope.safetensors')])).toBe(2);
    expect(await main(['info', '--model', 'f-rMC5', '--json'])).toBe(0);
    expect(JSON.parse(io.out.slice(io.out.indexOf('{')))).toMatchObject({ model: 'f-rMC5', parameters: 6924769 });
  });
});
