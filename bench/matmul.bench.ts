/**
 * f32 GEMM throughput: the device's ceiling the convolutions are measured against (1024³, best
 * tiling), a few smaller products, and the linear layer on the paper's shapes (slice-wise FC of
 * f-rMC5: 24 slices × 256 features). Compared with TensorFlow.js on the same adapter when present.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { matmul } from '../src/kernels/matmul.js';
import { linear, linearBackward } from '../src/kernels/linear.js';
import { gemmPath, tuningFor } from '../src/kernels/tuning.js';
import { Rng } from '../src/util/rng.js';
import { gbps, gflops, table, timeIt } from './harness.js';
import type { BenchRecord } from './record.js';
import { PEER_MATMUL_GFLOPS } from './shapes.js';
import { tfjsPeer } from './tfjs-peer.js';

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

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<BenchRecord[]> {
  const rng = new Rng(5);
  const timing = { warmup: 1, reps: opts.quick ? 2 : 5 };
  const ceiling = await gemmCeiling(gpu, opts.quick);
  const tf = await tfjsPeer();
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const tile = tuningFor(gpu).matmul;

  const products: [number, number, number][] = opts.quick ? [[1024, 1024, 1024], [256, 256, 256]] : [[1024, 1024, 1024], [512, 512, 512], [256, 256, 256], [4096, 64, 576]];

  for (const [m, n, k] of products) {
    const flop = 2 * m * n * k;
    const bytes = 4 * (m * k + k * n + m * n);
    let ms: number;
    let spreadMs: [number, number];
    if (m === 1024 && n === 1024 && k === 1024) {
      ms = ceiling.ms;
      spreadMs = [ceiling.minMs, ceiling.maxMs];
    } else {
      const a = gpu.tensor(rng.uniformArray(m * k), [m, k]);
      const b = gpu.tensor(rng.uniformArray(k * n), [k, n]);
      const c = gpu.empty([m, n]);
      const t = await timeIt(gpu, () => void matmul(a, b, {}, c), timing);
      ms = t.medianMs;
      spreadMs = [t.minMs, t.maxMs];
      for (const x of [a, b, c]) x.release();
    }
    const g = gflops(flop, ms);
    const ratio: Record<string, number> = { gemm: g / ceiling.gflops };
    let tfMs = NaN;
    if (tf) {
      tfMs = await tf.matmul(m, n, k, opts.quick ? 1 : 2);
      ratio.tfjs = tfMs / ms;
    }
    ratio['jax-js'] = g / PEER_MATMUL_GFLOPS;
    records.push({ name: `matmul ${m}×${k}·${k}×${n}`, shape: [m, n, k], ms, spreadMs, gflops: g, gbps: gbps(bytes, ms), ratio });
    rows.push([`matmul ${m}×${k}·${k}×${n}`, ms, g, g / ceiling.gflops, tf ? tfMs : '-', tf ? `${(tfMs / ms).toFixed(1)}×` : '-', `${(g / PEER_MATMUL_GFLOPS).toFixed(2)}×`]);
  }

  // The slice-wise shared FC layer (24 slices × 256 features → 256, then → 1), forward + backward.
  for (const [m, k, o] of [[24, 256, 256], [24, 256, 1]] as [number, number, number][]) {
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
    records.push({ name: `linear fwd+bwd [${m}, ${k}]→${o}`, shape: [m, k, o], ms: t.medianMs, spreadMs: [t.minMs, t.maxMs], gflops: g, ratio: { gemm: g / ceiling.gflops } });
    rows.push([`linear fwd+bwd [${m},${k}]→${o}`, t.medianMs, g, g / ceiling.gflops, '-', '-', '-']);
    for (const z of [x, w, b, dy]) z.release();
  }

  const tiled = gemmPath(gpu, 'matmul', 'gemm') === 'tiled';
  const tt = tuningFor(gpu).tiled.matmul;
  console.log(
    `matmul on ${gpu.adapter.description} — ${tiled ? `tiled, WG ${tt.wg} × TM ${tt.tm} × ${4 * tt.tnq} columns, KC ${tt.kc}` : `broadcast, tile WG ${tile.wg} × TM ${tile.tm}`}; ` +
      `ceiling ${ceiling.gflops.toFixed(2)} GFLOP/s (1024³, median; runs ${ceiling.minMs.toFixed(0)}–${ceiling.maxMs.toFixed(0)} ms)`,
  );
  console.log(table(['product', 'ms', 'GFLOP/s', '÷ceiling', 'tfjs ms', 'vs tfjs', 'vs jax-js 2.2'], rows));
  return records;
}
