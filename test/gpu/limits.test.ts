/**
 * Limits below the adapter's: tiles that fit the workgroup-size and workgroup-storage limits, convolutions
 * over tensors larger than one storage binding split over the batch, and clear refusals where an
 * operation cannot split (the other ops that split: split.test.ts). The caps are the runtime's own (`lowerLimits`), since WebGPU raises requests
 * below its defaults; every kernel choice reads them, and pipelines are checked against them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { acquireNodeGpu } from '../../src/gpu/acquire.node.js';
import { GpuError } from '../../src/gpu/errors.js';
import { parseLimitsSpec } from '../../src/gpu/gpu.js';
import { conv3d, conv3dBackwardInput, conv3dBackwardWeight, convOutputShape, type ConvOptions } from '../../src/kernels/conv.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dRef } from '../../src/kernels/conv.ref.js';
import { matmul } from '../../src/kernels/matmul.js';
import { BROADCAST_NOWHERE, clampGemmTile, clampTiledTile, setTuning, stageBytes, tuningFor } from '../../src/kernels/tuning.js';
import { Rng } from '../../src/util/rng.js';
import { relErr } from '../helpers/gpu.js';

const KiB = 1024;
/** Small bindings and buffers: the convolutions' batch splits, and refusals elsewhere. */
const LOW_BINDING = { maxStorageBufferBindingSize: 256 * KiB, maxBufferSize: 4096 * KiB };
/** Workgroups below WebGPU's core minimum (256 invocations, 16 KiB): only the GEMM tiling and its helpers honour these. */
const LOW_WORKGROUP = { maxComputeWorkgroupStorageSize: 2 * KiB, maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeX: 64 };

describe('limits below the adapter', async () => {
  const gpu = await acquireNodeGpu({ lowerLimits: LOW_BINDING });
  const small = await acquireNodeGpu({ lowerLimits: LOW_WORKGROUP });
  afterAll(() => {
    gpu.destroy();
    small.destroy();
  });
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);
  /** NaN-filled output, uploaded: the fill kernel binds it whole (over the small binding) in 256-invocation workgroups (over the small device's cap). */
  const nanOut = (g: typeof gpu, shape: number[]) => g.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN), shape);

  it('the runtime reports the caps and tiles fit them', () => {
    expect(gpu.limits.maxStorageBufferBindingSize).toBe(LOW_BINDING.maxStorageBufferBindingSize);
    expect(small.limits.maxComputeInvocationsPerWorkgroup).toBe(64);
    const t = tuningFor(small);
    for (const tile of [t.matmul, t.convForward, t.convBackwardInput, t.convBackwardWeight, ...Object.values(t.tiled)]) expect(tile.wg).toBeLessThanOrEqual(64);
    for (const tile of Object.values(t.tiled)) expect(stageBytes(tile.kc)).toBeLessThanOrEqual(LOW_WORKGROUP.maxComputeWorkgroupStorageSize);
    // The clamps on their own: halve WG to fit the invocations, halve KC until the stage fits (0: no stage).
    expect(clampTiledTile({ maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 }, { wg: 1024, tm: 4, tnq: 4, kc: 64 })).toEqual({
      wg: 256,
      tm: 4,
      tnq: 4,
      kc: 32,
    });
    expect(clampTiledTile({ maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupStorageSize: 256 }, { wg: 128, tm: 8, tnq: 1, kc: 8 })).toEqual({
      wg: 64,
      tm: 8,
      tnq: 1,
      kc: 0,
    });
    expect(clampGemmTile({ maxComputeInvocationsPerWorkgroup: 48 }, { wg: 128, tm: 2 })).toEqual({ wg: 32, tm: 2 });
    expect(() => clampTiledTile({}, { wg: 6, tm: 8, tnq: 1, kc: 0 })).toThrow(/multiple of 4/);
    expect(() => clampTiledTile({}, { wg: 64, tm: 3 as 1, tnq: 1, kc: 0 })).toThrow(/tm must be 1, 2, 4 or 8/);
  });

  // x and y over the 256 KiB binding (9 × 37.5 KiB; the stem's output 5 × 60 KiB), so each op runs over batch chunks.
  const cases: { name: string; x: [number, number, number, number, number]; cout: number; k: [number, number, number]; opts: ConvOptions }[] = [
    { name: '1×3×3', x: [9, 8, 3, 20, 20], cout: 8, k: [1, 3, 3], opts: { pad: [0, 1, 1] } },
    { name: '3×3×3 (depth Winograd where chosen)', x: [9, 8, 6, 10, 20], cout: 8, k: [3, 3, 3], opts: { pad: [1, 1, 1] } },
    { name: 'stem 1×7×7 stride (1,2,2), one channel', x: [5, 1, 4, 40, 48], cout: 8, k: [1, 7, 7], opts: { stride: [1, 2, 2], pad: [0, 3, 3] } },
  ];
  for (const family of ['as tuned', 'tiled (no subgroups)'] as const) {
    for (const c of cases) {
      it(`conv3d, dx, dw over tensors larger than a binding (${c.name}), ${family}; seed=${seed}`, async () => {
        const saved = family === 'as tuned' ? null : setTuning(gpu, { broadcast: BROADCAST_NOWHERE });
        try {
          const wShape = [c.cout, c.x[1], ...c.k];
          const yShape = convOutputShape(c.x, wShape, c.opts);
          expect(
            4 *
              Math.max(
                c.x.reduce((a, b) => a * b, 1),
                yShape.reduce((a, b) => a * b, 1),
              ),
          ).toBeGreaterThan(LOW_BINDING.maxStorageBufferBindingSize);
          const x = rng.uniformArray(
            c.x.reduce((a, b) => a * b, 1),
            -1,
            1,
          );
          const w = rng.uniformArray(
            wShape.reduce((a, b) => a * b, 1),
            -1,
            1,
          );
          const dy = rng.uniformArray(
            yShape.reduce((a, b) => a * b, 1),
            -1,
            1,
          );
          await gpu.tidy(async () => {
            const tx = gpu.tensor(x, c.x);
            const tw = gpu.tensor(w, wShape);
            const tdy = gpu.tensor(dy, yShape);
            expect(relErr(await conv3d(tx, tw, c.opts, nanOut(gpu, yShape)).read(), conv3dRef(x, c.x, w, wShape, c.opts).y), 'forward').toBeLessThan(1e-4);
            expect(
              relErr(await conv3dBackwardInput(tdy, tw, c.x, c.opts, nanOut(gpu, c.x)).read(), conv3dBackwardInputRef(dy, w, wShape, c.x, c.opts)),
              'dx',
            ).toBeLessThan(1e-4);
            expect(
              relErr(await conv3dBackwardWeight(tdy, tx, wShape, c.opts, nanOut(gpu, wShape)).read(), conv3dBackwardWeightRef(dy, x, c.x, wShape, c.opts)),
              'dw',
            ).toBeLessThan(1e-4);
          });
        } finally {
          if (saved) setTuning(gpu, saved);
        }
      });
    }
  }

  it(`matmul and the convolutions with workgroups capped at 64 invocations and 2 KiB (both families, staged and not); seed=${seed}`, async () => {
    const [m, n, k] = [150, 70, 90];
    const a = rng.uniformArray(m * k, -1, 1);
    const b = rng.uniformArray(k * n, -1, 1);
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) want[i * n + j]! += a[i * k + t]! * b[t * n + j]!;
    const c = cases[0]!;
    const wShape = [c.cout, c.x[1], ...c.k];
    const xs: [number, number, number, number, number] = [2, c.x[1], 2, 9, 7];
    const yShape = convOutputShape(xs, wShape, c.opts);
    const x = rng.uniformArray(
      xs.reduce((p, q) => p * q, 1),
      -1,
      1,
    );
    const w = rng.uniformArray(
      wShape.reduce((p, q) => p * q, 1),
      -1,
      1,
    );
    const dy = rng.uniformArray(
      yShape.reduce((p, q) => p * q, 1),
      -1,
      1,
    );
    // Asked for more than fits: 256 invocations and 8 KiB stages; the clamp halves both.
    const tiled = { wg: 256, tm: 4 as const, tnq: 4 as const, kc: 16 };
    for (const patch of [
      {},
      { broadcast: BROADCAST_NOWHERE, tiled: { matmul: tiled, convForward: tiled, convBackwardInput: tiled, convBackwardWeight: tiled } },
    ]) {
      const saved = setTuning(small, patch);
      try {
        for (const tile of Object.values(tuningFor(small).tiled)) expect(tile.wg <= 64 && stageBytes(tile.kc) <= 2 * KiB).toBe(true);
        const got = await small.tidy(() => matmul(small.tensor(a, [m, k]), small.tensor(b, [k, n]), {}, nanOut(small, [m, n])).read());
        expect(relErr(got, want), 'matmul').toBeLessThan(1e-5);
        await small.tidy(async () => {
          const tx = small.tensor(x, xs);
          const tw = small.tensor(w, wShape);
          const tdy = small.tensor(dy, yShape);
          expect(relErr(await conv3d(tx, tw, c.opts, nanOut(small, yShape)).read(), conv3dRef(x, xs, w, wShape, c.opts).y), 'forward').toBeLessThan(1e-4);
          expect(
            relErr(await conv3dBackwardInput(tdy, tw, xs, c.opts, nanOut(small, xs)).read(), conv3dBackwardInputRef(dy, w, wShape, xs, c.opts)),
            'dx',
          ).toBeLessThan(1e-4);
          expect(
            relErr(await conv3dBackwardWeight(tdy, tx, wShape, c.opts, nanOut(small, wShape)).read(), conv3dBackwardWeightRef(dy, x, xs, wShape, c.opts)),
            'dw',
          ).toBeLessThan(1e-4);
        });
      } finally {
        setTuning(small, saved);
      }
    }
  });

  it('a kernel that cannot split refuses an oversized tensor by name; maxBufferSize bounds every tensor', () => {
    // (Element-wise ops, batch norm, max-pool and the optimizers split: test/gpu/split.test.ts. A matmul operand does not.)
    const big = gpu.empty([LOW_BINDING.maxStorageBufferBindingSize / 4 / 64 + 1, 64]);
    const b = gpu.empty([64, 8]);
    try {
      let err: unknown;
      try {
        matmul(big, b);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GpuError);
      expect((err as GpuError).kind).toBe('over-limit');
      expect((err as Error).message).toMatch(
        /kernel '[a-z0-9-]+': '[a-zA-Z]+' would bind .* more than this device's maxStorageBufferBindingSize of 256\.0 KiB/,
      );
    } finally {
      big.release();
      b.release();
    }
    expect(() => gpu.empty([LOW_BINDING.maxBufferSize / 4 + 1])).toThrow(/maxBufferSize of 4\.0 MiB/);
    // One batch entry bigger than a binding cannot be split over the batch.
    const x = gpu.empty([1, 1, 1, 300, 300]);
    const w = gpu.empty([1, 1, 1, 3, 3]);
    expect(() => conv3d(x, w)).toThrow(/conv3d: one batch entry needs .* more than this adapter's 256\.0 KiB/);
    x.release();
    w.release();
  });

  it('VOXELGRAD_LIMITS: a mode and caps, checked', () => {
    expect(parseLimitsSpec('core,maxStorageBufferBindingSize=1048576', 'VOXELGRAD_LIMITS')).toEqual({
      mode: 'core',
      lower: { maxStorageBufferBindingSize: 1048576 },
    });
    expect(() => parseLimitsSpec('maxFoo=3', 'VOXELGRAD_LIMITS')).toThrow(/'maxFoo' is not a limit voxelgrad reads/);
    expect(() => parseLimitsSpec('maxBufferSize=-1', 'VOXELGRAD_LIMITS')).toThrow(/must be a positive integer/);
  });
});
