/** The demo's presets and time check: which epochs fit the budget, given measured step and prediction times. */
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../src/train/config.js';
import { PRESETS, PRESET_NAMES, fitEpochs } from '../../src/train/presets.js';

describe('demo time budget', () => {
  it('keeps every epoch when they fit, and says how long it will take', () => {
    const p = fitEpochs({ budgetS: 900, spentS: 120, predictS: 20, epochS: 40, epochs: 16, sliceEpochs: 12 });
    expect(p).toMatchObject({ epochs: 16, sliceEpochs: 12, overrun: false });
    expect(p.estimateS).toBeCloseTo(120 + 20 + 16 * 40, 6);
  });

  it('drops epochs to fit, keeping the slice/volume proportion and at least one of each', () => {
    // 900 − 120 − 20 − 30 = 730 s left at 80 s an epoch: 9 epochs.
    const p = fitEpochs({ budgetS: 900, spentS: 120, predictS: 20, epochS: 80, epochs: 16, sliceEpochs: 12 });
    expect(p).toMatchObject({ epochs: 9, sliceEpochs: 7, overrun: false });
    expect(p.fittedS).toBeLessThanOrEqual(900);
    const slow = fitEpochs({ budgetS: 900, spentS: 120, predictS: 200, epochS: 800, epochs: 16, sliceEpochs: 12 });
    expect(slow).toMatchObject({ epochs: 2, sliceEpochs: 1, overrun: true });
    expect(slow.fittedS).toBeGreaterThan(900);
  });

  it('every preset is a valid run configuration', () => {
    for (const name of PRESET_NAMES) {
      expect(parseExperimentConfig(JSON.parse(JSON.stringify(PRESETS[name].config)), name)).toEqual(PRESETS[name].config);
      const c = PRESETS[name].config;
      expect(c.sliceEpochs, name).toBeLessThan(c.epochs);
      expect(PRESETS[name].cohort.n2 / (PRESETS[name].cohort.n2 + PRESETS[name].cohort.n3), name).toBeCloseTo(0.3, 1);
    }
  });
});
