/** Flags that used to swallow mistakes (issue 16): every one is now a usage error (exit 2) with a message. */
import { describe, expect, it, vi } from 'vitest';
import { UsageError, parseArgs } from '../../src/cli/args.js';
import { main } from '../../src/cli/main.js';
import { experimentConfig, trainFlags } from '../../src/cli/train.js';
import { presetConfig } from '../../src/train/presets.js';
import { Rng } from '../../src/util/rng.js';

const parse = (argv: string[]) => parseArgs(argv, trainFlags, 'train');

describe('flag parsing', () => {
  it.each([
    [['--out', '--tta', '1'], /'--out' argument is ambiguous/],
    [['-epochs', '2'], /Unknown option '-e'/],
    [['--manifest', 'm.csv', 'stray'], /Unexpected argument 'stray'/],
    [['--augment=0'], /--augment is a switch: write --augment or --no-augment/],
    [['--slice-epochs', ''], /--slice-epochs must be a whole number from 0 to 100000, got ''/],
    [['--momentum', '5'], /--momentum must be a number from 0 to below 1, got '5'/],
    [['--epochs', '2.5'], /--epochs must be a whole number/],
    [['--lr', 'NaN'], /--lr must be a number/],
    [['--lr', '1e400'], /--lr must be a number/],
    [['--head', 'sum'], /--head must be one of slice, avg, max, attention, bilinear, got 'sum'/],
    [['--adapter', 'cuda'], /--adapter must be one of auto, swiftshader, lavapipe/],
    [['--out', ''], /--out needs a value/],
  ])('%j is refused', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('switches read --x, --no-x and --x=true|false; defaults apply; typed flags are recorded as given', () => {
    expect(parse([]).flags.augment).toBe(true);
    expect(parse(['--no-augment']).flags.augment).toBe(false);
    expect(parse(['--augment=false']).flags.augment).toBe(false);
    expect(parse(['--augment=true']).flags.augment).toBe(true);
    const p = parse(['--lr', '0.03', '--out=runs/x', '--epochs=12']);
    expect(p.flags).toMatchObject({ lr: 0.03, out: 'runs/x', epochs: 12, batch: 4 });
    expect([...p.given].sort()).toEqual(['epochs', 'lr', 'out']);
  });
});

describe('flag fuzz', () => {
  it('500 generated command lines: each parses into in-range values or is a UsageError, never anything else', () => {
    const seed = Number(process.env.VOXELGRAD_SEED ?? Date.now() % 2 ** 31);
    const rng = new Rng(seed);
    const names = Object.keys(trainFlags);
    const values = ['', '0', '-1', '1', '2.5', '1e400', 'NaN', '-0', '0x10', ' 3', 'abc', '--', '-', '=', 'paper', 'slice', 'true', 'false', '999999999999'];
    const token = (): string => {
      const r = rng.uniform(0, 1);
      const name = names[rng.int(0, names.length - 1)]!;
      if (r < 0.35) return `--${name}`;
      if (r < 0.55) return `--${name}=${values[rng.int(0, values.length - 1)]}`;
      if (r < 0.65) return `--no-${name}`;
      if (r < 0.72) return `-${name}`;
      if (r < 0.78) return `--${name}x`;
      return values[rng.int(0, values.length - 1)]!;
    };
    for (let i = 0; i < 500; i++) {
      const argv = Array.from({ length: rng.int(0, 6) }, token);
      const t0 = performance.now();
      try {
        const { flags } = parse(argv);
        for (const [k, spec] of Object.entries(trainFlags)) {
          const v = flags[k];
          if (v === undefined) continue;
          if (spec.type === 'number') {
            expect(typeof v, `${JSON.stringify(argv)} seed=${seed}`).toBe('number');
            expect(Number.isFinite(v as number)).toBe(true);
            if (spec.integer) expect(Number.isInteger(v)).toBe(true);
            if (spec.min !== undefined) expect(v as number).toBeGreaterThanOrEqual(spec.min);
            if (spec.max !== undefined) expect(v as number).toBeLessThanOrEqual(spec.max);
            if (spec.below !== undefined) expect(v as number).toBeLessThan(spec.below);
            if (spec.above !== undefined) expect(v as number).toBeGreaterThan(spec.above);
          } else if (spec.type === 'boolean') expect(typeof v).toBe('boolean');
          else {
            expect(typeof v).toBe('string');
            expect(v).not.toBe('');
            if (spec.choices) expect(spec.choices).toContain(v);
          }
        }
      } catch (e) {
        expect(e, `${JSON.stringify(argv)} seed=${seed}: ${(e as Error).message}`).toBeInstanceOf(UsageError);
      }
      expect(performance.now() - t0).toBeLessThan(2000); // a hang guard, not a speed test (the host is shared)
    }
  });
});

describe('train --preset', () => {
  it("starts from the preset's recipe; only flags typed explicitly override it", () => {
    const p = parse(['--preset', 'cpu', '--epochs', '20', '--lr', '0.05', '--no-augment']);
    const cfg = experimentConfig(p.flags, p.given);
    expect(cfg).toEqual({ ...presetConfig('cpu'), epochs: 20, lr: 0.05, augment: false });
    // Defaults of flags not typed (e.g. --size 256) do not leak into the preset.
    expect(cfg.inputSize).toBe(presetConfig('cpu').inputSize);
    const q = parse(['--preset', 'cpu', '--triplet', '0', '--slice-epochs', '3']);
    expect(experimentConfig(q.flags, q.given)).toEqual({ ...presetConfig('cpu'), sliceEpochs: 3, loss: { ...presetConfig('cpu').loss, triplet: 0 } });
    const bad = parse(['--preset', 'cpu', '--epochs', '5', '--slice-epochs', '12']);
    expect(() => experimentConfig(bad.flags, bad.given)).toThrow(/--slice-epochs \(12\) must be below --epochs \(5\)/);
  });
});

describe('the command line maps every refusal to exit 2 before any work', () => {
  it.each([
    ['train', '--manifest', 'm.csv', '--out', '--tta', '1'],
    ['train', '--manifest', 'm.csv', '--momentum', '5'],
    ['demo', '--epochs', '1'],
    ['demo', '--folds', '1'],
    ['demo', '--preset', 'gpu'],
    ['synth', 'cohort'],
    ['eval', '--run'],
    ['predict', '--input', 'x.nii', '-o', 'y'],
    ['ablate', '--table', '5', '--manifest', 'm.csv'],
  ])('voxelgrad %s …', async (...argv) => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(argv)).toBe(2);
      const text = err.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toMatch(new RegExp(`^voxelgrad ${argv[0]}: `));
      expect(text).not.toMatch(/TypeError|RangeError|at .*\.ts:\d+/);
    } finally {
      err.mockRestore();
    }
  });
});
