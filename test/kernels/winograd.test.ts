import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { conv3d, conv3dBackwardInput, conv3dBackwardWeight, convGeometry, convOutputShape, type ConvOptions } from '../../src/kernels/conv.js';
import { depthGather, depthWindow, winogradPlan } from '../../src/kernels/conv-winograd.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dRef } from '../../src/kernels/conv.ref.js';
import { depthGatherRef, depthWindowRef } from '../../src/kernels/winograd.ref.js';
import { restoreTuning, setTuning, tuningFor, type Tuning, BROADCAST_EVERYWHERE, BROADCAST_NOWHERE } from '../../src/kernels/tuning.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

const TOL = 1e-4;
const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // VOXELGRAD_SEED=<seed> replays a failure

describe('depth-Winograd transform kernels vs float64 reference', async () => {
  const gpu = await testGpu();
  const rng = new Rng(seed);
  // Odd sizes, padding on both ends, partial last tiles, overlapping windows (step < taps) and not.
  const layouts = [
    { points: 6, taps: 6, outer: 5, depth: 7, inner: 13, tiles: 2, step: 4, off: 1 },
    { points: 8, taps: 3, outer: 7, depth: 3, inner: 9, tiles: 1, step: 0, off: 0 },
    { points: 4, taps: 2, outer: 3, depth: 5, inner: 6, tiles: 3, step: 2, off: 0 },
    { points: 8, taps: 8, outer: 2, depth: 11, inner: 5, tiles: 2, step: 6, off: 2 },
  ];
  for (const c of layouts) {
    it(`window ${c.points}×${c.taps} over [${c.outer}, ${c.depth}, ${c.inner}], ${c.tiles} tiles, step ${c.step}, off ${c.off}; gather back; seed=${seed}`, async () => {
      const mat = Array.from({ length: c.points }, () => Array.from(rng.uniformArray(c.taps, -2, 2)));
      const src = rng.uniformArray(c.outer * c.depth * c.inner, -1, 1);
      const t = { outer: c.outer, inner: c.inner, tiles: c.tiles, step: c.step, off: c.off };
      const pStride = Math.ceil((c.outer * c.tiles * c.inner) / 64) * 64;
      const win = depthWindowRef(src, c.depth, mat, t);
      // The gather takes the transposed matrix (taps × points) and, where windows overlap, adds.
      const matT = mat[0]!.map((_, j) => mat.map((row) => row[j]!));
      const pts = Array.from({ length: c.points }, () => rng.uniformArray(c.outer * c.tiles * c.inner, -1, 1));
      const gatherStep = c.step === 0 ? c.taps : c.step; // one tile: any step; the weight path writes all taps per invocation
      const gat = depthGatherRef(pts, c.depth, matT, { ...t, step: gatherStep });
      await gpu.tidy(async () => {
        const dst = poisoned(gpu, [c.points * pStride]);
        depthWindow(gpu.tensor(src, [src.length]), dst, gpu.tensor(mat.flat(), [c.points * c.taps]), c.points, c.taps, { ...t, depth: c.depth, pStride });
        const got = await dst.read();
        for (let p = 0; p < c.points; p++) {
          expect(relErr(got.subarray(p * pStride, p * pStride + win[p]!.length), win[p]!), `point ${p}`).toBeLessThan(TOL);
        }
        const packed = new Float32Array(c.points * pStride).fill(Number.NaN); // the padding between points is never read
        pts.forEach((a, p) => packed.set(a, p * pStride));
        const out = poisoned(gpu, [c.outer * c.depth * c.inner]);
        depthGather(gpu.tensor(packed, [packed.length]), out, gpu.tensor(matT.flat(), [c.taps * c.points]), c.points, c.taps, {
          ...t,
          step: gatherStep,
          depth: c.depth,
          pStride,
        });
        expect(relErr(await out.read(), gat)).toBeLessThan(TOL);
      });
    });
  }
});

interface Case {
  name: string;
  x: [number, number, number, number, number];
  cout: number;
  k: [number, number, number];
  opts: ConvOptions;
}
const CASES: Case[] = [
  { name: '3×3×3 keep, depth 7, 9 → 11 channels, N=2', x: [2, 9, 7, 6, 5], cout: 11, k: [3, 3, 3], opts: { pad: [1, 1, 1] } },
  { name: '3×3×3 stride (1,2,2) halve, depth 12', x: [1, 12, 12, 9, 8], cout: 17, k: [3, 3, 3], opts: { stride: [1, 2, 2], pad: [1, 1, 1] } },
  { name: '3×1×1 keep, depth 9, N=2', x: [2, 8, 9, 4, 3], cout: 8, k: [3, 1, 1], opts: { pad: [1, 0, 0] } },
  { name: '3×3×3 no depth padding, depth 10', x: [1, 10, 10, 5, 5], cout: 9, k: [3, 3, 3], opts: { pad: [0, 1, 1] } },
  { name: '3×3×3 depth pad 2, in-plane dilation 2', x: [1, 8, 5, 7, 7], cout: 8, k: [3, 3, 3], opts: { pad: [2, 2, 2], dilation: [1, 2, 2] } },
];

describe('conv3d through depth Winograd vs the direct float64 reference', async () => {
  const gpu = await testGpu();
  const rng = new Rng(seed);
  /** Forward, dx and dw of one case under a tuning patch, each against the direct float64 reference. */
  async function checkCase(c: Case, patch: Partial<Tuning>, expectFull: boolean): Promise<void> {
    const wShape = [c.cout, c.x[1], ...c.k];
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
    const yShape = convOutputShape(c.x, wShape, c.opts);
    const dy = rng.uniformArray(
      yShape.reduce((a, b) => a * b, 1),
      -1,
      1,
    );
    const saved = setTuning(gpu, patch);
    try {
      const plan = winogradPlan(gpu, convGeometry(c.x, wShape, c.opts));
      expect(plan?.m, 'the Winograd path is taken').toBe(patch.depthWinograd!.tiles[0]);
      expect(Boolean(plan?.full), 'the 3-D path is taken (or not)').toBe(expectFull);
      await gpu.tidy(async () => {
        const tx = gpu.tensor(x, c.x);
        const tw = gpu.tensor(w, wShape);
        const tdy = gpu.tensor(dy, yShape);
        const y = await conv3d(tx, tw, c.opts, poisoned(gpu, yShape)).read();
        const dx = await conv3dBackwardInput(tdy, tw, c.x, c.opts, poisoned(gpu, c.x)).read();
        const dw = await conv3dBackwardWeight(tdy, tx, wShape, c.opts, poisoned(gpu, wShape)).read();
        expect(relErr(y, conv3dRef(x, c.x, w, wShape, c.opts).y), 'forward').toBeLessThan(TOL);
        expect(relErr(dx, conv3dBackwardInputRef(dy, w, wShape, c.x, c.opts)), 'backward input').toBeLessThan(TOL);
        expect(relErr(dw, conv3dBackwardWeightRef(dy, x, c.x, wShape, c.opts)), 'backward weight').toBeLessThan(TOL);
      });
    } finally {
      restoreTuning(gpu, saved);
    }
  }

  for (const m of [2, 4, 6]) {
    for (const c of CASES) {
      it(`F(${m}, 3), ${c.name} — forward, dx, dw; seed=${seed}`, () =>
        // Forced, even where slower than the direct path.
        checkCase(c, { depthWinograd: { tiles: [m], minChannels: 1, maxWork: 2, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 } }, false));
    }
  }

  // F(m, 3) × F(2, 3)²: stride 1 everywhere; partial tiles on every axis, padding 0, 1, 2 and mixed,
  // batch 2 (entries 256-byte aligned), odd channel counts.
  const FULL: Case[] = [
    { name: '3×3×3 keep, N=2, 8 → 12 channels', x: [2, 8, 4, 4, 4], cout: 12, k: [3, 3, 3], opts: { pad: [1, 1, 1] } },
    { name: '3×3×3 keep, odd plane 7×6, 9 → 5 channels', x: [1, 9, 5, 7, 6], cout: 5, k: [3, 3, 3], opts: { pad: [1, 1, 1] } },
    { name: '3×3×3 no padding', x: [1, 8, 6, 7, 9], cout: 8, k: [3, 3, 3], opts: {} },
    { name: '3×3×3 padding (1, 0, 2)', x: [1, 8, 7, 5, 4], cout: 9, k: [3, 3, 3], opts: { pad: [1, 0, 2] } },
  ];
  for (const [m, variant] of [
    [4, 'broadcast'],
    [6, 'broadcast'],
    [4, 'tiled'],
  ] as const) {
    for (const c of variant === 'tiled' ? FULL.slice(0, 1) : FULL) {
      it(`F(${m}, 3) × F(2, 3)², ${c.name}, ${variant} matmul — forward, dx, dw; seed=${seed}`, () =>
        checkCase(
          c,
          {
            depthWinograd: { tiles: [m], minChannels: 1, maxWork: 2, inPlane: true, inPlaneMinChannels: 1, minTiles: 1, minMacs: 0 },
            broadcast: variant === 'tiled' ? BROADCAST_NOWHERE : BROADCAST_EVERYWHERE,
          },
          true,
        ));
    }
  }

  it('plans: only 3-tap depth kernels with depth stride and dilation 1, enough channels and depth; the cheapest tile; bindings that fit', () => {
    const saved = setTuning(gpu, {
      depthWinograd: { tiles: [4, 6], minChannels: 8, maxWork: 0.75, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 },
    });
    try {
      const plan = (x: number[], w: number[], o: ConvOptions = {}) => winogradPlan(gpu, convGeometry(x, w, o));
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })?.m).toBe(6); // 8·4 = 32 < 6·6 = 36 depth slices
      expect(plan([1, 16, 8, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })?.m).toBe(4); // 6·2 = 12 < 8·2 = 16
      const p31 = plan([1, 16, 12, 8, 8], [16, 16, 3, 1, 1], { pad: [1, 0, 0] })?.plane;
      expect(p31 && { in: p31.inSize, k: p31.kernel, out: p31.outSize, s: p31.stride, p: p31.pad }).toEqual({
        in: [2, 8, 8],
        k: [1, 1, 1],
        out: [2, 8, 8],
        s: [1, 1, 1],
        p: [0, 0, 0],
      });
      const p333 = plan([2, 16, 24, 16, 16], [32, 16, 3, 3, 3], { pad: [1, 1, 1], stride: [1, 2, 2] })?.plane;
      expect(p333 && { in: p333.inSize, k: p333.kernel, out: p333.outSize, s: p333.stride, p: p333.pad }).toEqual({
        in: [4, 16, 16],
        k: [1, 3, 3],
        out: [4, 8, 8],
        s: [1, 2, 2],
        p: [0, 1, 1],
      });
      expect(plan([1, 16, 2, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })).toBeNull(); // Do = 2: 6 slices ≥ ¾ of 3·2
      setTuning(gpu, { depthWinograd: { tiles: [4, 6], minChannels: 8, maxWork: 0.75, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 1e9 } });
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] }), 'under minMacs').toBeNull();
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1], stride: [2, 1, 1] })).toBeNull();
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [2, 1, 1], dilation: [2, 1, 1] })).toBeNull();
      expect(plan([1, 16, 24, 8, 8], [16, 16, 1, 3, 3], { pad: [0, 1, 1] })).toBeNull();
      expect(plan([1, 4, 24, 8, 8], [16, 4, 3, 3, 3], { pad: [1, 1, 1] })).toBeNull(); // too few input channels
      expect(plan([1, 1, 24, 32, 32], [32, 1, 3, 7, 7], { pad: [1, 3, 3], stride: [1, 2, 2] })).toBeNull(); // the 3×7×7 stem
      // The 3-D path: 3×3×3 with stride 1 everywhere, enough tiles, aligned batch entries.
      setTuning(gpu, { depthWinograd: { tiles: [4, 6], minChannels: 8, maxWork: 0.75, inPlane: true, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 } });
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })?.full).toEqual({ tilesH: 4, tilesW: 4 });
      expect(plan([1, 16, 24, 16, 16], [16, 16, 3, 3, 3], { pad: [1, 1, 1], stride: [1, 2, 2] })?.full).toBeNull();
      expect(plan([1, 16, 8, 4, 4], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })?.full, '2·2·2 = 8 tiles < 32').toBeNull();
      expect(plan([2, 9, 24, 7, 7], [16, 9, 3, 3, 3], { pad: [1, 1, 1] })?.full, 'batch entries of 9·24·49 elements are not 256-byte aligned').toBeNull();
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 1, 1], { pad: [1, 0, 0] })?.full).toBeNull();
      setTuning(gpu, { depthWinograd: { tiles: [4, 6], minChannels: 8, maxWork: 0.75, inPlane: true, inPlaneMinChannels: 128, minTiles: 32, minMacs: 0 } });
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })?.full, 'fewer channels than inPlaneMinChannels').toBeNull();
      setTuning(gpu, { depthWinograd: { tiles: [], minChannels: 8, maxWork: 0.75, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 } });
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] })).toBeNull();
      setTuning(gpu, {
        depthWinograd: { tiles: [4], minChannels: 8, maxWork: 0.75, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 },
        bindingLimit: 4096,
      });
      expect(plan([1, 16, 24, 8, 8], [16, 16, 3, 3, 3], { pad: [1, 1, 1] }), 'transformed tensors over one binding').toBeNull();
    } finally {
      restoreTuning(gpu, saved);
    }
  });

  for (const quads of [true, false]) {
    it(`weight gradient with ${quads ? 'channel-quad rows (blocked points)' : 'one row at a time (plain points)'}, F(4, 3), seed=${seed}`, async () => {
      const c = CASES[1]!;
      const wShape = [c.cout, c.x[1], ...c.k];
      const x = rng.uniformArray(
        c.x.reduce((a, b) => a * b, 1),
        -1,
        1,
      );
      const yShape = convOutputShape(c.x, wShape, c.opts);
      const dy = rng.uniformArray(
        yShape.reduce((a, b) => a * b, 1),
        -1,
        1,
      );
      const saved = setTuning(gpu, {
        depthWinograd: { tiles: [4], minChannels: 1, maxWork: 2, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 },
        convBackwardWeightQuads: quads,
      });
      try {
        await gpu.tidy(async () => {
          const dw = await conv3dBackwardWeight(gpu.tensor(dy, yShape), gpu.tensor(x, c.x), wShape, c.opts, poisoned(gpu, wShape)).read();
          expect(relErr(dw, conv3dBackwardWeightRef(dy, x, c.x, wShape, c.opts))).toBeLessThan(TOL);
        });
      } finally {
        restoreTuning(gpu, saved);
      }
    });
  }

  it('releases its temporaries (transformed points, packed panels)', async () => {
    const saved = setTuning(gpu, {
      depthWinograd: { tiles: [4], minChannels: 1, maxWork: 1, inPlane: false, inPlaneMinChannels: 8, minTiles: 32, minMacs: 0 },
    });
    try {
      const opts: ConvOptions = { pad: [1, 1, 1] };
      const x = gpu.tensor(rng.uniformArray(2 * 8 * 6 * 5 * 5), [2, 8, 6, 5, 5]);
      const w = gpu.tensor(rng.uniformArray(8 * 8 * 27), [8, 8, 3, 3, 3]);
      const dy = gpu.tensor(rng.uniformArray(2 * 8 * 6 * 5 * 5), [2, 8, 6, 5, 5]);
      const before = gpu.memory().liveTensors;
      const outs = [conv3d(x, w, opts), conv3dBackwardInput(dy, w, x.shape, opts), conv3dBackwardWeight(dy, x, w.shape, opts)];
      await gpu.sync();
      expect(gpu.memory().liveTensors).toBe(before + 3);
      for (const t of [x, w, dy, ...outs]) t.release();
    } finally {
      restoreTuning(gpu, saved);
    }
  });

  it("the default tuning routes the paper's stage-5 3×3×3 convolutions through it", () => {
    const t = tuningFor(gpu);
    expect(t.depthWinograd.tiles.length).toBeGreaterThan(0);
    expect(winogradPlan(gpu, convGeometry([1, 256, 24, 8, 8], [256, 256, 3, 3, 3], { pad: [1, 1, 1] }))).not.toBeNull();
    expect(winogradPlan(gpu, convGeometry([1, 128, 24, 16, 16], [256, 128, 3, 3, 3], { pad: [1, 1, 1], stride: [1, 2, 2] }))).not.toBeNull();
  });
});
