/** Model structure without a GPU: Table 2's parameter counts, state-dict names, layer kinds. */
import { describe, expect, it } from 'vitest';
import { MODEL_NAMES, PAPER_PARAMETER_COUNTS, StagingNet, layerKinds } from '../../src/model/resnet.js';

describe('the paper’s model family', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: parameter count`, () => {
      const n = new StagingNet({ name }).parameterCount();
      if (name === 'f-R(2+1)D') {
        // Tran et al.'s M_i rule with the stem factorised too and BN+ReLU between the two convolutions
        // gives 8,298,091; the paper reports 8,294,563 without saying its mid-plane widths (README).
        expect(n).toBe(8_298_091);
      } else expect(n).toBe(PAPER_PARAMETER_COUNTS[name]);
    });
  }

  it('f-MCx / f-rMCx put 3-D convolutions where the paper says', () => {
    expect(layerKinds('f-MC2')).toEqual(['3d', '2d', '2d', '2d', '2d']);
    expect(layerKinds('f-MC5')).toEqual(['3d', '3d', '3d', '3d', '2d']);
    expect(layerKinds('f-rMC2')).toEqual(['2d', '3d', '3d', '3d', '3d']);
    expect(layerKinds('f-rMC5')).toEqual(['2d', '2d', '2d', '2d', '3d']);
  });

  it('uses torchvision-style state-dict names and shapes', () => {
    const m = new StagingNet({ name: 'f-rMC5', head: 'bilinear' });
    const names = new Map([...m.namedParameters()].map(([k, p]) => [k, p.shape]));
    expect(names.get('conv1.weight')).toEqual([32, 1, 1, 7, 7]);
    expect(names.get('layer4.0.conv1.weight')).toEqual([256, 128, 3, 3, 3]);
    expect(names.get('layer2.0.downsample.0.weight')).toEqual([64, 32, 1, 1, 1]);
    expect(names.get('layer2.0.downsample.1.weight')).toEqual([64]);
    expect(names.get('fc.weight')).toEqual([1, 256]);
    expect(names.get('head_fc.weight')).toEqual([1, 65536]);
    const buffers = [...m.namedBuffers()].map(([k]) => k);
    expect(buffers).toContain('bn1.running_mean');
    expect(buffers).toContain('layer1.1.bn2.num_batches_tracked');
  });

  it('the width multiplier scales every stage', () => {
    const m = new StagingNet({ name: 'f-R2D', width: 4 });
    expect(m.featureDim).toBe(32);
    expect(m.parameterCount()).toBeLessThan(60_000);
  });
});
