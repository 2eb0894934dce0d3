import { describe, expect, it } from 'vitest';
import { leaf } from '../../src/graph/autograd.js';
import { conv3d } from '../../src/graph/ops/conv.js';
import { maxPool3d } from '../../src/graph/ops/maxpool.js';
import type { Triple } from '../../src/kernels/axes.js';
import { testGpu } from '../helpers/gpu.js';

// The graph ops take torch.nn.functional's per-axis arguments (one integer, or a (depth, height, width)
// triple) and refuse a malformed one before anything is dispatched or recorded.
describe('per-axis arguments of the graph ops', async () => {
  const gpu = await testGpu();
  const bad = (v: unknown) => v as Triple;

  it('maxPool3d refuses malformed kernel sizes, strides, paddings and dilations, naming the argument', () => {
    gpu.tidy(() => {
      const x = leaf(gpu.tensor(new Float32Array(2 * 4 * 6 * 6), [1, 2, 4, 6, 6]), true);
      expect(maxPool3d(x, [1, 2, 2]).shape).toEqual([1, 2, 4, 3, 3]);
      expect(maxPool3d(x, 2).shape).toEqual([1, 2, 2, 3, 3]);
      expect(() => maxPool3d(x, bad([2, 2]))).toThrow(/^maxPool3d: kernel size must be three integers >= 1 .*, got \[2, 2\]$/);
      expect(() => maxPool3d(x, bad([1, 2, 2, 2]))).toThrow(/maxPool3d: kernel size .* got \[1, 2, 2, 2\]/);
      expect(() => maxPool3d(x, 1.5)).toThrow(/maxPool3d: kernel size .* got 1\.5/);
      expect(() => maxPool3d(x, bad('2'))).toThrow(/maxPool3d: kernel size .* got "2"/);
      expect(() => maxPool3d(x, [1, 2, 2], bad([1, 0, 2]))).toThrow(/maxPool3d: stride must be three integers >= 1 .* got \[1, 0, 2\]/);
      expect(() => maxPool3d(x, [1, 3, 3], 1, bad([0, Number.NaN, 0]))).toThrow(/maxPool3d: padding must be three integers >= 0 .* got \[0, NaN, 0\]/);
      expect(() => maxPool3d(x, [1, 3, 3], 1, -1)).toThrow(/maxPool3d: padding .* got -1/);
      expect(() => maxPool3d(x, [1, 3, 3], 1, 0, 0)).toThrow(/maxPool3d: dilation must be three integers >= 1 .* got 0/);
    });
  });

  it('conv3d refuses malformed strides, paddings and dilations the same way', () => {
    gpu.tidy(() => {
      const x = leaf(gpu.tensor(new Float32Array(2 * 4 * 6 * 6), [1, 2, 4, 6, 6]), true);
      const w = leaf(gpu.tensor(new Float32Array(3 * 2 * 27), [3, 2, 3, 3, 3]), true);
      expect(conv3d(x, w, null, 1, [1, 1, 1]).shape).toEqual([1, 3, 4, 6, 6]);
      expect(() => conv3d(x, w, null, 0)).toThrow(/^conv3d: stride must be three integers >= 1 .* got 0$/);
      expect(() => conv3d(x, w, null, 1, bad([1, 1]))).toThrow(/conv3d: padding must be three integers >= 0 .* got \[1, 1\]/);
      expect(() => conv3d(x, w, null, 1, 1, bad([1, 1.5, 1]))).toThrow(/conv3d: dilation must be three integers >= 1 .* got \[1, 1\.5, 1\]/);
    });
  });
});
