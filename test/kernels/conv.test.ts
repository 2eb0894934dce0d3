import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { conv3d, conv3dBackwardInput, conv3dBackwardWeight, convOutputShape, type ConvOptions } from '../../src/kernels/conv.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dRef } from '../../src/kernels/conv.ref.js';
import { BROADCAST_NOWHERE, restoreTuning, setTuning, tuningFor } from '../../src/kernels/tuning.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { listGoldens, loadGolden } from '../golden.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

type T3 = [number, number, number];
interface Case {
  name: string;
  x: [number, number, number, number, number];
  cout: number;
  k: T3;
  opts: ConvOptions;
}

// Every extent of the paper's family, stride (1, 2, 2), padding that keeps or halves the plane, dilation,
// a strided depth, batch 1 and 2, odd channel counts (not multiples of 4 or of the 16-channel panel).
const CASES: Case[] = [
  { name: '3×3×3 keep', x: [2, 5, 4, 6, 7], cout: 17, k: [3, 3, 3], opts: { pad: [1, 1, 1] } },
  { name: '1×3×3 keep', x: [1, 8, 3, 9, 10], cout: 6, k: [1, 3, 3], opts: { pad: [0, 1, 1] } },
  { name: '1×3×3 keep, 19 → 21 channels', x: [2, 19, 2, 7, 6], cout: 21, k: [1, 3, 3], opts: { pad: [0, 1, 1] } },
  { name: '1×3×3 stride (1,2,2) halve', x: [2, 3, 2, 9, 8], cout: 19, k: [1, 3, 3], opts: { stride: [1, 2, 2], pad: [0, 1, 1] } },
  { name: '3×1×1 keep', x: [1, 4, 5, 4, 5], cout: 3, k: [3, 1, 1], opts: { pad: [1, 0, 0] } },
  { name: '1×7×7 stem stride (1,2,2)', x: [1, 1, 3, 13, 12], cout: 5, k: [1, 7, 7], opts: { stride: [1, 2, 2], pad: [0, 3, 3] } },
  { name: '3×7×7 stem stride (1,2,2)', x: [2, 1, 4, 11, 10], cout: 4, k: [3, 7, 7], opts: { stride: [1, 2, 2], pad: [1, 3, 3] } },
  { name: '3×7×7 three input channels', x: [1, 3, 3, 9, 9], cout: 2, k: [3, 7, 7], opts: { stride: [1, 2, 2], pad: [1, 3, 3] } },
  { name: '1×1×1 downsample stride (1,2,2)', x: [2, 6, 3, 7, 6], cout: 9, k: [1, 1, 1], opts: { stride: [1, 2, 2] } },
  { name: '1×1×1 downsample stride (1,2,2), 20 → 33 channels', x: [1, 20, 2, 5, 8], cout: 33, k: [1, 1, 1], opts: { stride: [1, 2, 2] } },
  { name: '3×3×3 dilation (1,2,2)', x: [1, 3, 5, 9, 9], cout: 4, k: [3, 3, 3], opts: { pad: [1, 2, 2], dilation: [1, 2, 2] } },
  { name: '3×3×3 depth stride 2, no padding', x: [2, 2, 7, 5, 6], cout: 3, k: [3, 3, 3], opts: { stride: [2, 1, 1] } },
  {
    name: '2×3×2 stride (2,1,3) pad (1,0,2) dilation (1,2,3)',
    x: [1, 5, 5, 6, 11],
    cout: 2,
    k: [2, 3, 2],
    opts: { stride: [2, 1, 3], pad: [1, 0, 2], dilation: [1, 2, 3] },
  },
];

const TOL = 1e-4;

/** Relative errors of forward, both input-gradient paths (col2im and 16-channel panels) and dw. */
async function checkAll(gpu: Gpu, rng: Rng, c: Case): Promise<{ fwd: number; dx: number; dxPanels: number; dw: number }> {
  const [n, cin] = c.x;
  const wShape = [c.cout, cin, ...c.k];
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
  expect(yShape[0]).toBe(n);
  return gpu.tidy(async () => {
    const tx = gpu.tensor(x, c.x);
    const tw = gpu.tensor(w, wShape);
    const tdy = gpu.tensor(dy, yShape);
    const y = await conv3d(tx, tw, c.opts, poisoned(gpu, yShape)).read();
    const dx = await conv3dBackwardInput(tdy, tw, c.x, c.opts, poisoned(gpu, c.x)).read();
    const saved = setTuning(gpu, { thinInputChannels: 0 });
    let dxPanels: Float32Array;
    try {
      dxPanels = await conv3dBackwardInput(tdy, tw, c.x, c.opts, poisoned(gpu, c.x)).read();
    } finally {
      restoreTuning(gpu, saved);
    }
    const dw = await conv3dBackwardWeight(tdy, tx, wShape, c.opts, poisoned(gpu, wShape)).read();
    const dxRef = conv3dBackwardInputRef(dy, w, wShape, c.x, c.opts);
    return {
      fwd: relErr(y, conv3dRef(x, c.x, w, wShape, c.opts).y),
      dx: relErr(dx, dxRef),
      dxPanels: relErr(dxPanels, dxRef),
      dw: relErr(dw, conv3dBackwardWeightRef(dy, x, c.x, wShape, c.opts)),
    };
  });
}

describe('conv3d kernels vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  for (const c of CASES) {
    it(`${c.name}: x [${c.x.join(', ')}], Cout ${c.cout} — forward, dx, dw; seed=${seed}`, async () => {
      const e = await checkAll(gpu, rng, c);
      expect(e.fwd, 'forward').toBeLessThan(TOL);
      expect(e.dx, 'backward input').toBeLessThan(TOL);
      expect(e.dxPanels, 'backward input through 16-channel panels').toBeLessThan(TOL);
      expect(e.dw, 'backward weight').toBeLessThan(TOL);
    });
  }

  it(`every rows-per-invocation choice (TM 1, 2, 4), channel-quad weight rows and a forced weight-gradient split, seed=${seed}`, async () => {
    const saved = tuningFor(gpu);
    try {
      // Each tile shape compiles new pipelines (seconds on CPU drivers): one case, three shapes.
      const c: Case = { name: 'tiles', x: [2, 5, 3, 7, 9], cout: 18, k: [1, 3, 3], opts: { stride: [1, 2, 2], pad: [0, 1, 1] } };
      // On 8-lane subgroups the 4-lane panel sharing is exercised too (sg8 off for one shape); the weight
      // gradient runs both with single rows and with channel quads.
      for (const [tm, wg, sg8, quads] of [
        [1, 32, saved.sg8, false],
        [2, 16, false, true],
        [4, 64, saved.sg8, false],
      ] as const) {
        const tile = { wg, tm };
        setTuning(gpu, {
          convForward: tile,
          convBackwardInput: tile,
          convBackwardWeight: tile,
          convBackwardWeightQuads: quads,
          minWorkgroups: 1000,
          minRowsPerSplit: 1,
          sg8,
        });
        const e = await checkAll(gpu, rng, c);
        expect(e.fwd, `forward tm=${tm}`).toBeLessThan(TOL);
        expect(e.dx, `dx tm=${tm}`).toBeLessThan(TOL);
        expect(e.dxPanels, `dx (panels) tm=${tm}`).toBeLessThan(TOL);
        expect(e.dw, `dw tm=${tm}`).toBeLessThan(TOL);
      }
    } finally {
      restoreTuning(gpu, saved);
    }
  });

  it(`the tiled family (no subgroups) with every tile shape: TM 1–8, 4–16 channels per invocation, the panel read from storage or staged in workgroup memory (KC 3 → 1, a divisor of the 5 groups; 8 → 2 or 5), seed=${seed}`, async () => {
    const saved = tuningFor(gpu);
    try {
      // Stride 2 (phases), 19 → 18 channels (5 input groups, ragged panels), batch 2: every index path.
      const c: Case = { name: 'tiled', x: [2, 19, 3, 7, 9], cout: 18, k: [1, 3, 3], opts: { stride: [1, 2, 2], pad: [0, 1, 1] } };
      const stem: Case = { name: 'tiled stem', x: [1, 1, 3, 13, 12], cout: 5, k: [1, 7, 7], opts: { stride: [1, 2, 2], pad: [0, 3, 3] } };
      for (const [wg, tm, tnq, kc] of [
        [16, 1, 1, 0],
        [32, 2, 2, 3],
        [64, 8, 4, 8],
      ] as const) {
        const tile = { wg, tm, tnq, kc };
        setTuning(gpu, {
          broadcast: BROADCAST_NOWHERE,
          tiled: { matmul: tile, convForward: tile, convBackwardInput: tile, convBackwardWeight: tile },
          minWorkgroups: 1000,
          minRowsPerSplit: 1,
        });
        for (const k of [c, stem]) {
          const e = await checkAll(gpu, rng, k);
          const at = `${k.name} WG ${wg} TM ${tm} TNQ ${tnq} KC ${kc}`;
          expect(e.fwd, `forward ${at}`).toBeLessThan(TOL);
          expect(e.dx, `dx ${at}`).toBeLessThan(TOL);
          expect(e.dxPanels, `dx (panels) ${at}`).toBeLessThan(TOL);
          expect(e.dw, `dw ${at}`).toBeLessThan(TOL);
        }
      }
    } finally {
      restoreTuning(gpu, saved);
    }
  });

  it(`large inputs in chunks: re-laid input and tap products over the binding limit, thin (stem) and blocked paths, seed=${seed}`, async () => {
    const saved = tuningFor(gpu);
    try {
      // Room for about one batch entry's re-laid input (stem: 3·13 window rows of 18 vec4s; blocked:
      // 2 channel quads of 60 voxels): three entries go through in three chunks, and the thin input
      // gradient's tap products go one row of taps at a time (accumulated over seven chunks).
      for (const [c, limit] of [
        [{ name: 'stem', x: [3, 1, 3, 13, 12], cout: 5, k: [1, 7, 7], opts: { stride: [1, 2, 2], pad: [0, 3, 3] } }, 16 * 3 * 13 * 18 + 64],
        [{ name: 'blocked', x: [3, 6, 2, 5, 6], cout: 7, k: [1, 3, 3], opts: { pad: [0, 1, 1] } }, 16 * 2 * 60 + 64],
      ] as [Case, number][]) {
        setTuning(gpu, { bindingLimit: limit });
        const e = await checkAll(gpu, rng, c);
        expect(e.fwd, `${c.name} forward`).toBeLessThan(TOL);
        expect(e.dx, `${c.name} dx`).toBeLessThan(TOL);
        expect(e.dw, `${c.name} dw`).toBeLessThan(TOL);
      }
    } finally {
      restoreTuning(gpu, saved);
    }
  });

  for (const path of listGoldens('kernels/conv3d')) {
    it(`PyTorch golden ${path}`, async () => {
      const g = loadGolden(path);
      const opts = { stride: g.params.stride as T3, pad: g.params.pad as T3, dilation: g.params.dilation as T3 };
      const t = (name: string) => gpu.tensor(g.get(name).data, g.get(name).shape);
      await gpu.tidy(async () => {
        const x = t('x');
        const w = t('w');
        const dy = t('dy');
        const y = await conv3d(x, w, opts, poisoned(gpu, g.get('y').shape)).read();
        const dx = await conv3dBackwardInput(dy, w, x.shape, opts, poisoned(gpu, x.shape)).read();
        const saved = setTuning(gpu, { thinInputChannels: 0 });
        const dxPanels = await conv3dBackwardInput(dy, w, x.shape, opts, poisoned(gpu, x.shape)).read();
        restoreTuning(gpu, saved);
        const dw = await conv3dBackwardWeight(dy, x, w.shape, opts, poisoned(gpu, w.shape)).read();
        expect(relErr(y, g.get('y').data), 'y').toBeLessThan(TOL);
        expect(relErr(dx, g.get('dx').data), 'dx').toBeLessThan(TOL);
        expect(relErr(dxPanels, g.get('dx').data), 'dx through panels').toBeLessThan(TOL);
        expect(relErr(dw, g.get('dw').data), 'dw').toBeLessThan(TOL);
      });
    });
  }

  it('releases its temporaries (packed panels, split-K partials)', async () => {
    const x = gpu.tensor(rng.uniformArray(2 * 3 * 2 * 6 * 6), [2, 3, 2, 6, 6]);
    const w = gpu.tensor(rng.uniformArray(4 * 3 * 9), [4, 3, 1, 3, 3]);
    const dy = gpu.tensor(rng.uniformArray(2 * 4 * 2 * 6 * 6), [2, 4, 2, 6, 6]);
    const before = gpu.memory().liveTensors;
    const outs = [
      conv3d(x, w, { pad: [0, 1, 1] }),
      conv3dBackwardInput(dy, w, x.shape, { pad: [0, 1, 1] }),
      conv3dBackwardWeight(dy, x, w.shape, { pad: [0, 1, 1] }),
    ];
    await gpu.sync();
    expect(gpu.memory().liveTensors).toBe(before + 3);
    for (const t of [x, w, dy, ...outs]) t.release();
  });

  it('rejects bad shapes and parameters with clear errors', () => {
    const x = gpu.tensor(new Float32Array(2 * 3 * 4 * 4), [1, 2, 3, 4, 4]);
    const w = gpu.tensor(new Float32Array(4 * 3 * 9), [4, 3, 1, 3, 3]);
    const w2 = gpu.tensor(new Float32Array(4 * 2 * 9), [4, 2, 1, 3, 3]);
    expect(() => conv3d(x, w)).toThrow(/weight has 3 input channels but the input has 2/);
    expect(() => conv3d(x, w2, { stride: [1, 0, 1] })).toThrow(/stride must be three integers >= 1/);
    expect(() => conv3d(x, w2, { pad: [0, -1, 0] })).toThrow(/pad must be three integers >= 0/);
    expect(() => conv3d(x, gpu.tensor(new Float32Array(2 * 2 * 5 * 5 * 5), [2, 2, 5, 5, 5]))).toThrow(/output would be empty/);
    expect(() => conv3d(gpu.tensor(new Float32Array(4), [2, 2]), w2)).toThrow(/\[N, Cin, D, H, W\]/);
    expect(() => conv3d(x, w2, {}, poisoned(gpu, [1, 4, 3, 4, 4]))).toThrow(/output is \[1, 4, 3, 4, 4\], expected \[1, 4, 3, 2, 2\]/);
    const dy = gpu.tensor(new Float32Array(4 * 3 * 2 * 2), [1, 4, 3, 2, 2]);
    expect(() => conv3dBackwardInput(dy, w2, [1, 2, 3, 5, 5])).toThrow(/dy is \[1, 4, 3, 2, 2\] but the forward output is \[1, 4, 3, 3, 3\]/);
    expect(() => conv3dBackwardWeight(dy, x, [4, 2, 1, 3, 3], {}, dy)).toThrow(/output is/);
    for (const t of [x, w, w2, dy]) t.release();
  });
});
