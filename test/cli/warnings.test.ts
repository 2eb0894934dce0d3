/**
 * Loader repairs are shown, never dropped (issue 16): a volume with NaN voxels is repaired with a warning
 * on stderr, in the report of `train`, and in `predict --json` and prediction.json.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readVolumeFile, writeVolumeFile } from '../../src/data/io.node.js';
import { main } from '../../src/cli/main.js';
import { TINY_TRAIN_FLAGS, captureOutput } from '../helpers/cli.js';

const TINY = TINY_TRAIN_FLAGS;
const io = captureOutput();

describe('loader warnings', () => {
  it('reach stderr, the report and predict --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-warn-'));
    const cohort = join(dir, 'cohort');
    expect(await main(['synth', '--out', cohort, '--n2', '4', '--n3', '6', '--size', '16', '--slices', '5'])).toBe(0);
    const rows = readFileSync(join(cohort, 'manifest.csv'), 'utf8').trim().split('\n').slice(1);
    const file = join(cohort, rows[0]!.split(',')[1]!);
    const vol = readVolumeFile(file);
    const data = Float32Array.from(vol.data);
    data[3] = Number.NaN;
    data[40] = Number.POSITIVE_INFINITY;
    writeVolumeFile(file, { ...vol, data }, { datatype: 'float32' });
    io.err = '';
    const run = join(dir, 'run');
    expect(await main(['train', '--manifest', join(cohort, 'manifest.csv'), '--out', run, ...TINY])).toBe(0);
    expect(io.err).toMatch(new RegExp(`warning: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(NaN|non-finite)`));
    expect(readFileSync(join(run, 'report.md'), 'utf8')).toMatch(/- input: .*(NaN|non-finite)/);
    io.err = '';
    io.out = '';
    expect(await main(['predict', '--input', file, '--run', run, '--out', join(dir, 'pred'), '--json'])).toBe(0);
    expect(io.err).toMatch(/warning: .*(NaN|non-finite)/);
    const json = JSON.parse(io.out) as { warnings: { code: string; source: string; message: string }[] };
    expect(json.warnings.length).toBeGreaterThan(0);
    expect(json.warnings[0]!.source).toBe(file);
    expect(JSON.parse(readFileSync(join(dir, 'pred/prediction.json'), 'utf8')).warnings).toEqual(json.warnings);
  });
});
