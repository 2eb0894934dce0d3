/**
 * f32 GEMM throughput: the device's ceiling the convolutions are measured against (1024³, best
 * tiling), a few smaller products, and the linear layer on the paper's shapes (slice-wise FC of
 * f-rMC5: 24 slices × 256 features). Each product is also run by every peer on the same inputs
 * (checked against ours, then timed): TensorFlow.js in Node; tfjs, jax-js and ONNX Runtime Web in the page.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { linear, linearBackward } from '../src/kernels/linear.js';
import { matmul } from '../src/kernels/matmul.js';
import { gemmPath, tuningFor } from '../src/kernels/tuning.js';
import { Rng } from '../src/util/rng.js';
import { type BenchContext, profileRun, wanted } from './context.js';
import { gbps, gflops, table, timeIt } from './harness.js';
import { fmtErr, peerRatios, runPeers } from './peer.js';
import type { BenchRecord, PeerResult } from './record.js';

export interface Ceiling {
  ms: number;
  gflops: number;
  minMs: number;
  maxMs: number;
}

const ceilings = new WeakMap<Gpu, Promise<Ceiling>>();

/** Median time of C = A·B at 1024³ with the device's tuning, measured once per device and run. */
export function gemmCeiling(gpu: Gpu, quick: boolean): Promise<Ceiling> {
  let p = ceilings.get(gpu);
  if (!p) {
    // More repetitions than elsewhere: every ratio of the run divides by this median.
    p = measureCeiling(gpu, quick ? 3 : 5);
    ceilings.set(gpu, p);
  }
  return p;
}

/**
 * The 1024³ GEMM measured now (median of `reps` after a warm-up): benches that run for minutes on a
 * host shared with other jobs measure it next to each row, so a row's ratio compares two timings
 * taken under the same load rather than one taken minutes earlier.
 */
export async function measureCeiling(gpu: Gpu, reps: number): Promise<Ceiling> {
  const n = 1024;
  const rng = new Rng(11);
  const a = gpu.tensor(rng.uniformArray(n * n), [n, n]);
  const b = gpu.tensor(rng.uniformArray(n * n), [n, n]);
  const c = gpu.empty([n, n]);
  const t = await timeIt(gpu, () => void matmul(a, b, {}, c), { warmup: 1, reps });
  for (const x of [a, b, c]) x.release();
  return { ms: t.medianMs, gflops: gflops(2 * n ** 3, t.medianMs), minMs: t.minMs, maxMs: t.maxMs };
}

/** Products of the bench: the ceiling's 1024³ first. */
export function matmulProducts(quick: boolean): [number, number, number][] {
  return quick
    ? [
        [1024, 1024, 1024],
        [256, 256, 256],
      ]
    : [
        [1024, 1024, 1024],
        [512, 512, 512],
        [256, 256, 256],
        [4096, 64, 576],
      ];
}

const productName = ([m, n, k]: readonly number[]) => `matmul ${m}×${k}·${k}×${n}`;

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(5);
  const timing = { warmup: 1, reps: ctx.quick ? 2 : 5 };
  // The checked run compiles the peer's pipelines; --quick takes it as the warm-up.
  const peerTiming = ctx.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 3 };
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const tile = tuningFor(gpu).matmul;
  const products = matmulProducts(ctx.quick).filter((p) => wanted(ctx, productName(p)));
  // The ceiling is measured even when a filter leaves out its row: other rows divide by it.
  const ceiling = await gemmCeiling(gpu, ctx.quick);

  for (const [m, n, k] of products) {
    const name = productName([m, n, k]);
    const flop = 2 * m * n * k;
    const bytes = 4 * (m * k + k * n + m * n);
    const ah = rng.uniformArray(m * k);
    const bh = rng.uniformArray(k * n);
    const a = gpu.tensor(ah, [m, k]);
    const b = gpu.tensor(bh, [k, n]);
    const c = gpu.empty([m, n]);
    let ms: number;
    let spreadMs: [number, number];
    if (m === 1024 && n === 1024 && k === 1024) {
      ms = ceiling.ms;
      spreadMs = [ceiling.minMs, ceiling.maxMs];
    } else {
      const t = await timeIt(gpu, () => void matmul(a, b, {}, c), timing);
      ms = t.medianMs;
      spreadMs = [t.minMs, t.maxMs];
    }
    matmul(a, b, {}, c);
    const y = await c.read();
    const kernels = ctx.profile ? await profileRun(gpu, () => void matmul(a, b, {}, c)) : undefined;
    for (const x of [a, b, c]) x.release();

    const peers = await runPeers(
      ctx.peers,
      'matmul',
      (p) => p.matmul!(ah, bh, m, n, k),
      async () => ({ y }),
      ms,
      peerTiming,
    );
    const g = gflops(flop, ms);
    const rec = await ctx.emit({
      name,
      shape: [m, n, k],
      ms,
      spreadMs,
      gflops: g,
      gbps: gbps(bytes, ms),
      ratio: { gemm: g / ceiling.gflops, ...peerRatios(peers) },
      ...(peers.length ? { peers } : {}),
      ...(kernels ? { kernels } : {}),
    });
    records.push(rec);
    rows.push([name, ms, g, g / ceiling.gflops, ...peerCells(ctx, peers)]);
  }

  // The slice-wise shared FC layer (24 slices × 256 features → 256, then → 1), forward + backward.
  for (const [m, k, o] of [
    [24, 256, 256],
    [24, 256, 1],
  ] as [number, number, number][]) {
    const name = `linear fwd+bwd [${m}, ${k}]→${o}`;
    if (!wanted(ctx, name)) continue;
    const x = gpu.tensor(rng.uniformArray(m * k), [m, k]);
    const w = gpu.tensor(rng.uniformArray(o * k), [o, k]);
    const b = gpu.tensor(rng.uniformArray(o), [o]);
    const dy = gpu.tensor(rng.uniformArray(m * o), [m, o]);
    const t = await timeIt(
      gpu,
      () =>
        gpu.tidy(() => {
          linear(x, w, b);
          linearBackward(dy, x, w, true);
        }),
      timing,
    );
    const flop = 3 * 2 * m * k * o;
    const g = gflops(flop, t.medianMs);
    records.push(await ctx.emit({ name, shape: [m, k, o], ms: t.medianMs, spreadMs: [t.minMs, t.maxMs], gflops: g, ratio: { gemm: g / ceiling.gflops } }));
    rows.push([name, t.medianMs, g, g / ceiling.gflops, ...ctx.peers.map(() => '-')]);
    for (const z of [x, w, b, dy]) z.release();
  }

  const tiled = gemmPath(gpu, 'matmul', 'gemm') === 'tiled';
  const tt = tuningFor(gpu).tiled.matmul;
  ctx.log(
    `matmul on ${gpu.adapter.description} — ${tiled ? `tiled, WG ${tt.wg} × TM ${tt.tm} × ${4 * tt.tnq} columns, KC ${tt.kc}` : `broadcast, tile WG ${tile.wg} × TM ${tile.tm}`}; ` +
      `ceiling ${ceiling.gflops.toFixed(2)} GFLOP/s (1024³, median; runs ${ceiling.minMs.toFixed(0)}–${ceiling.maxMs.toFixed(0)} ms)`,
  );
  ctx.log(table(['product', 'ms', 'GFLOP/s', '÷ceiling', ...ctx.peers.map((p) => `vs ${p.name}`)], rows));
  return records;
}

/** One table cell per peer: "3.1×", "wrong (dw 18.9)" or "-". */
export function peerCells(ctx: BenchContext, peers: readonly PeerResult[]): string[] {
  return ctx.peers.map((p) => {
    const r = peers.find((q) => q.name === p.name);
    if (!r) return '-';
    if (r.unavailable) return 'n/a';
    if (r.check && !r.check.ok)
      return `wrong (${Object.entries(r.check.errors)
        .filter(([, e]) => !(e < r.check!.tolerance))
        .map(([k, e]) => `${k} ${fmtErr(e)}`)
        .join(', ')})`;
    return r.speedup !== undefined ? `${r.speedup.toFixed(1)}×` : '-';
  });
}
