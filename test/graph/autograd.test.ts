import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { backward, leaf, noGrad } from '../../src/graph/autograd.js';
import { add, mul, relu, reshape, scale, sigmoid, sub } from '../../src/graph/ops/elementwise.js';
import type { Tensor } from '../../src/graph/tensor.js';
import { relErr, testGpu } from '../helpers/gpu.js';

// f(a, b) = relu(a·b + 2a) · σ(b) − 0.5·reshape(a) + a  (a is used four times, b twice)
function fRef(a: number, b: number): number {
  const s = 1 / (1 + Math.exp(-b));
  return Math.max(a * b + 2 * a, 0) * s - 0.5 * a + a;
}

describe('autograd tape', async () => {
  const gpu = await testGpu();

  it('matches central finite differences of the float64 function, with reuse and views', async () => {
    const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
    const rng = new Rng(seed);
    const n = 37;
    const a0 = rng.uniformArray(n, -2, 2);
    const b0 = rng.uniformArray(n, -2, 2);
    const r = rng.uniformArray(n, -1, 1); // L = Σ r·f
    const a = leaf(gpu.tensor(a0, [n]), true, 'a');
    const b = leaf(gpu.tensor(b0, [n]), true, 'b');
    const before = gpu.memory().liveTensors;
    gpu.tidy(() => {
      const y = add(sub(mul(relu(add(mul(a, b), a, 2)), sigmoid(b)), reshape(reshape(a, [1, n]), [n]), 0.5), a);
      const gout = gpu.tensor(r, [n]);
      backward(y, gout);
    });
    const ga = await a.grad!.read();
    const gb = await b.grad!.read();
    const h = 1e-6;
    const wantA = new Float64Array(n);
    const wantB = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      wantA[i] = (r[i]! * (fRef(a0[i]! + h, b0[i]!) - fRef(a0[i]! - h, b0[i]!))) / (2 * h);
      wantB[i] = (r[i]! * (fRef(a0[i]!, b0[i]! + h) - fRef(a0[i]!, b0[i]! - h))) / (2 * h);
    }
    expect(relErr(ga, wantA), `seed ${seed}`).toBeLessThan(1e-4);
    expect(relErr(gb, wantB), `seed ${seed}`).toBeLessThan(1e-4);
    // Only the two leaf gradients survive the step.
    expect(gpu.memory().liveTensors).toBe(before + 2);
    a.release();
    b.release();
  });

  it('accumulates into existing .grad like PyTorch, and skips inputs that need no gradient', async () => {
    const x = leaf(gpu.tensor([1, -2, 3], [3]), true);
    const c = leaf(gpu.tensor([4, 5, 6], [3]), false);
    for (let k = 0; k < 2; k++) {
      gpu.tidy(() => backward(mul(x, c), gpu.tensor([1, 1, 1], [3])));
    }
    expect(Array.from(await x.grad!.read())).toEqual([8, 10, 12]);
    expect(c.grad).toBeNull();
    x.release();
    c.release();
  });

  it('noGrad records nothing and backward then explains why it cannot run', () => {
    const x = leaf(gpu.tensor([1, 2], [2]), true);
    const y = noGrad(() => scale(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(() => backward(y)).toThrow(/does not require a gradient/);
    y.release();
    x.release();
  });

  it('a non-scalar without gradOutput and a second backward are clear errors', () => {
    const x = leaf(gpu.tensor([1, 2], [2]), true);
    gpu.tidy(() => {
      const y: Tensor = scale(x, 3);
      expect(() => backward(y)).toThrow(/not a scalar/);
      const s = reshape(scale(reshape(x, [2]), 1), [2]);
      backward(s, gpu.tensor([1, 1], [2]));
      expect(() => backward(s, gpu.tensor([1, 1], [2]))).toThrow(/already consumed/);
    });
    x.release();
  });

  it('frees intermediates during backward: 50 steps keep live bytes flat', async () => {
    const rng = new Rng(3);
    const n = 1000;
    const w = leaf(gpu.tensor(rng.uniformArray(n), [n]), true);
    const x = leaf(gpu.tensor(rng.uniformArray(n), [n]), false);
    const step = () =>
      gpu.tidy(() => {
        const y = relu(add(mul(w, x), scale(w, 0.5)));
        backward(sigmoid(y), gpu.tensor(new Float32Array(n).fill(1), [n]));
      });
    step();
    w.grad!.release();
    w.grad = null;
    await gpu.sync();
    const base = gpu.memory().liveBytes;
    for (let i = 0; i < 50; i++) {
      step();
      w.grad!.release();
      w.grad = null;
    }
    await gpu.sync();
    expect(gpu.memory().liveBytes).toBe(base);
    w.release();
    x.release();
  });
});
