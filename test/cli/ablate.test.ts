/** `voxelgrad ablate`: rows, the carry-forward of the best extractor and loss, and refusals before work. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ablationRows, carriedChoices } from '../../src/cli/ablate.js';
import { main } from '../../src/cli/main.js';
import { MODEL_NAMES } from '../../src/model/resnet.js';
import { buildRunReport, serializeRunReport } from '../../src/train/report.js';
import { PRESETS } from '../../src/train/presets.js';
import { fakeRunInput } from '../train/fixtures/fake-run-report.js';

const base = { ...PRESETS.cpu.config, head: 'slice' as const };

/** A finished row: metrics.json whose slice-level AUC is about `auc`. */
function finishedRow(dir: string, auc: number): void {
  mkdirSync(dir, { recursive: true });
  const input = fakeRunInput(Math.round(auc * 1000));
  // Scores that rank perfectly for auc = 1 and randomly for 0.5: a mix by the wanted AUC.
  const folds = input.folds.map((f) => ({
    ...f,
    slices: { labels: Array.from(f.labels), scores: Array.from(f.labels, (y, i) => (((i * 7919) % 101) / 101 < 2 * (auc - 0.5) ? y : 0.5)) },
  }));
  writeFileSync(join(dir, 'metrics.json'), serializeRunReport(buildRunReport({ ...input, folds, tableKind: 2, paperReference: undefined })));
}

describe('ablate', () => {
  it('Table 3 rows use the --center / --triplet weights; Table 4 rows use the chosen loss on every aggregation', () => {
    const t3 = ablationRows(3, base, { extractor: 'f-R3D', loss: 'triplet' }, { triplet: 0.5, center: 0.01 });
    expect(t3.map((r) => [r.name, r.cfg.model, r.cfg.head, r.cfg.loss.center, r.cfg.loss.triplet])).toEqual([
      ['Focal', 'f-R3D', 'slice', 0, 0],
      ['+Center', 'f-R3D', 'slice', 0.01, 0],
      ['+Triplet', 'f-R3D', 'slice', 0, 0.5],
    ]);
    const t4 = ablationRows(4, base, { extractor: 'f-MC3', loss: 'center' }, { triplet: 1, center: 0.003 });
    expect(t4.map((r) => [r.name, r.cfg.model, r.cfg.head, r.cfg.loss.center, r.cfg.loss.triplet])).toEqual([
      ['AVP', 'f-MC3', 'avg', 0.003, 0],
      ['MXP', 'f-MC3', 'max', 0.003, 0],
      ['Bilin', 'f-MC3', 'bilinear', 0.003, 0],
      ['Att', 'f-MC3', 'attention', 0.003, 0],
    ]);
    expect(ablationRows(2, base, { extractor: 'f-rMC5', loss: 'triplet' }, { triplet: 1, center: 0 }).map((r) => r.cfg.model)).toEqual([...MODEL_NAMES]);
  });

  it("carries the best row of the previous table forward, says so, and falls back to the paper's choice", () => {
    const out = mkdtempSync(join(tmpdir(), 'vg-ablate-'));
    const none = carriedChoices(out, 4, {});
    expect(none).toMatchObject({ extractor: 'f-rMC5', loss: 'triplet' });
    expect(none.notes.join('\n')).toMatch(/Table 2 has not finished.*\n.*Table 3 has not finished/);
    MODEL_NAMES.forEach((m, i) => finishedRow(join(out, 'table-2', m.replace(/[^A-Za-z0-9+()_-]/g, '_')), m === 'f-MC4' ? 0.95 : 0.55 + i * 0.01));
    finishedRow(join(out, 'table-3', 'Focal'), 0.6);
    finishedRow(join(out, 'table-3', '+Center'), 0.9);
    finishedRow(join(out, 'table-3', '+Triplet'), 0.7);
    const carried = carriedChoices(out, 4, {});
    expect(carried).toMatchObject({ extractor: 'f-MC4', loss: 'center' });
    expect(carried.notes).toEqual([`extractor f-MC4: the best AUC of Table 2 in ${out}`, `loss center: the best AUC of Table 3 in ${out}`]);
    expect(carriedChoices(out, 4, { extractor: 'f-R2D', loss: 'focal' })).toMatchObject({ extractor: 'f-R2D', loss: 'focal', notes: [] });
  });

  it('refuses Table 4 with --slice-epochs >= --epochs before loading anything (the head would never train)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const out = mkdtempSync(join(tmpdir(), 'vg-ablate4-'));
      expect(await main(['ablate', '--table', '4', '--manifest', join(out, 'nope.csv'), '--out', out, '--epochs', '3', '--slice-epochs', '3'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /row AVP: --slice-epochs \(3\) must be below --epochs \(3\), or the avg head is never trained/,
      );
    } finally {
      err.mockRestore();
    }
  });
});
