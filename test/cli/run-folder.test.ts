/**
 * Run folders and outputs that come in broken (issue 16): every case gets a clear message and the
 * documented exit code, fast — an output path that cannot be written fails before any volume loads,
 * a hand-edited config or fold result is refused rather than merged, and a killed write's temporary
 * file is cleaned up on the next start.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { TINY_TRAIN_FLAGS, captureOutput } from '../helpers/cli.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { DirStore } from '../../src/train/dir-store.node.js';

const TINY = TINY_TRAIN_FLAGS;
const dir = mkdtempSync(join(tmpdir(), 'vg-runfolder-'));
const cohort = join(dir, 'cohort');
const run = join(dir, 'run');

const io = captureOutput();

beforeAll(async () => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await main(['synth', '--out', cohort, '--n2', '4', '--n3', '6', '--size', '16', '--slices', '5'])).toBe(0);
  expect(await main(['train', '--manifest', join(cohort, 'manifest.csv'), '--out', run, ...TINY])).toBe(0);
  vi.restoreAllMocks();
}, 180_000);

/** A copy of the finished run with one file replaced. */
function tampered(name: string, file: string, edit: (text: string) => string): string {
  const copy = join(dir, name);
  mkdirSync(join(copy, 'fold-0'), { recursive: true });
  mkdirSync(join(copy, 'fold-1'), { recursive: true });
  for (const f of ['config.json', 'folds.json', 'fold-0/result.json', 'fold-1/result.json']) writeFileSync(join(copy, f), readFileSync(join(run, f)));
  writeFileSync(join(copy, file), edit(readFileSync(join(run, file), 'utf8')));
  return copy;
}

describe('outputs are checked before work', () => {
  it('an --out that is a file, or under a file, is a usage error before any volume is loaded', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const out of [file, join(file, 'sub')]) {
      const t0 = performance.now();
      expect(await main(['train', '--manifest', join(cohort, 'manifest.csv'), '--out', out, ...TINY])).toBe(2);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(io.err).toMatch(/cannot be used as an output folder|is a file, not a folder/);
      expect(io.err).not.toMatch(/EEXIST|ENOTDIR|EISDIR|loading volumes/);
    }
    expect(await main(['synth', '--out', file])).toBe(2);
    expect(await main(['demo', '--out', join(file, 'x')])).toBe(2);
  });
});

describe('eval refuses what it cannot trust', () => {
  it('merges the genuine run', async () => {
    expect(await main(['eval', '--run', run])).toBe(0);
  });

  it.each([
    [
      'absurd folds',
      'config.json',
      (t: string) => t.replace(/"folds": 2/, '"folds": 1000000000'),
      /'folds' is 1000000000: must be a whole number from 2 to 1000/,
    ],
    ['config not an object', 'config.json', () => 'null', /not a JSON object/],
    ['config not JSON', 'config.json', () => '{"model": ', /is not valid JSON/],
    ['unknown field', 'config.json', (t: string) => t.replace(/"lr":/, '"lrr": 1, "lr":'), /'lrr' is not a configuration field/],
    ['probability 2.5', 'fold-0/result.json', (t: string) => t.replace(/"prob": [0-9.e-]+/, '"prob": 2.5'), /P\(T3\) = 2\.5, not a probability/],
    [
      'another configuration',
      'fold-1/result.json',
      (t: string) => t.replace(/"lr": 0\.01/, '"lr": 0.02'),
      /trained with another configuration .*differs in: lr/,
    ],
    ['another fold', 'fold-1/result.json', (t: string) => t.replace(/"fold": 1,/, '"fold": 0,'), /it says fold 0, but it is fold 1's file/],
  ])('%s → exit 4 with a message', async (name, file, edit, message) => {
    const copy = tampered(name.replace(/\W+/g, '-'), file, edit);
    const t0 = performance.now();
    expect(await main(['eval', '--run', copy])).toBe(4);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(io.err).toMatch(message);
    expect(io.err).not.toMatch(/TypeError|RangeError|internal error/);
  });

  it('a folder that is not a run is a usage error', async () => {
    expect(await main(['eval', '--run', cohort])).toBe(2);
    expect(io.err).toMatch(/is not a run folder \(no config\.json\)/);
  });
});

describe('--resume trusts no checkpoint metadata', () => {
  it.each([
    ['"abc"', /metadata 'epoch' is "abc", not a whole number of epochs/],
    ['99', /'epoch' is 99, outside this run's 1…1/],
    ['1e400', /metadata 'epoch' is "1e400", not a whole number/],
  ])('epoch %s → exit 4, the fold is not marked finished', async (epoch, message) => {
    const copy = join(dir, `resume-${epoch.replace(/\W+/g, '')}`);
    mkdirSync(join(copy, 'fold-0'), { recursive: true });
    mkdirSync(join(copy, 'fold-1'), { recursive: true });
    for (const f of ['config.json', 'folds.json', 'fold-0/result.json', 'fold-0/model.safetensors']) writeFileSync(join(copy, f), readFileSync(join(run, f)));
    const ck = decodeSafetensors(new Uint8Array(readFileSync(join(run, 'fold-1/checkpoint.safetensors'))));
    writeFileSync(
      join(copy, 'fold-1/checkpoint.safetensors'),
      encodeSafetensors(ck.tensors, { ...ck.metadata, epoch: JSON.parse(JSON.stringify(epoch)).replace(/"/g, '') }),
    );
    expect(await main(['train', '--resume', '--manifest', join(cohort, 'manifest.csv'), '--out', copy, ...TINY])).toBe(4);
    expect(io.err).toMatch(message);
    expect(existsSync(join(copy, 'fold-1/result.json'))).toBe(false);
  });
});

describe('leftovers of a killed write', () => {
  it('a dead process’s temporary checkpoint is removed when the run folder is opened; a live one’s is kept', () => {
    const d = join(dir, 'leftovers');
    mkdirSync(join(d, 'fold-0'), { recursive: true });
    const dead = join(d, 'fold-0', '.checkpoint.safetensors.tmp-999999999-1700000000000-0');
    const live = join(d, 'fold-0', `.checkpoint.safetensors.tmp-${process.pid}-1700000000000-1`);
    writeFileSync(dead, 'half');
    writeFileSync(live, 'in progress');
    new DirStore(d);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
