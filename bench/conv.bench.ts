/**
 * The convolution family on the real layers of f-rMC5 at 256×256×24 (bench/shapes.ts): forward and
 * forward + both gradients, GFLOP/s (2·MACs, the backward counted as twice the forward), GB/s (the
 * tensors each pass must read and write once), the ratio to the device's f32 GEMM ceiling measured in
 * the same run (bench/matmul.bench.ts), and the speed-up over TensorFlow.js on the same adapter in the
 * same process. tfjs layers whose full-depth forward + backward would take over 60 s are timed on a
 * thinner volume (fewer slices) and compared by GFLOP/s; the row says so.
 * Each row names the algorithm conv3d chose for the layer (direct implicit GEMM, depth Winograd
 * F(m, 3), or 3-D Winograd F(m, 3) × F(2, 3)²). GFLOP/s always count the direct convolution's
 * 2·MACs, so a Winograd row's figure is an effective rate — it can exceed the GEMM ceiling, because
 * the layer does fewer multiply-adds than it is credited with; the times are what they are.
 *
 * `--paths` times the two GEMM kernel families side by side instead (src/kernels/tuning.ts): every layer's
 * forward, input gradient and weight gradient once with the subgroup-broadcast kernels (when the device
 * has subgroups) and once with the tiled kernels that need no optional feature, the runs interleaved so
 * a busy host slows both alike; it prints the tiled path's share of the subgroup path's speed per layer
 * and for all f-rMC5 convolutions, and which family won each op per layer class — the table
 * `broadcast` in tuning.ts is made of.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { conv3d, conv3dBackwardInput, conv3dBackwardWeight, convGeometry } from '../src/kernels/conv.js';
import { winogradPlan } from '../src/kernels/conv-winograd.js';
import { BROADCAST_EVERYWHERE, BROADCAST_NOWHERE, type GemmOp, type LayerClass, restoreTuning, setTuning, tuningFor } from '../src/kernels/tuning.js';
import { layerClass } from '../src/kernels/conv.js';
import { Rng } from '../src/util/rng.js';
import { gbps, gflops, table, timeIt } from './harness.js';
import { gemmCeiling, measureCeiling } from './matmul.bench.js';
import type { BenchRecord } from './record.js';
import { type ConvShape, FRMC5_CONVS, PEER_CONVS, QUICK_CONVS, STEM_3D, convMacs, outShape, withBatch, withDepth } from './shapes.js';
import { tfjsPeer, tfjsUnavailable } from './tfjs-peer.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** Longest a peer may take on one layer's forward + backward before it is timed on fewer slices. */
const PEER_LIMIT_MS = 60_000;

interface PeerTiming {
  fwdMs: number;
  fwdBwdMs: number;
  /** Slices (or, for depth-1 layers, batch entries) the peer ran on: the layer's own unless reduced. */
  depth: number;
  gflopsFwd: number;
  gflopsFwdBwd: number;
  note?: string;
}

/** The layer thinned to `k` slices (or, for depth-1 inputs, `k` batch entries), and how that reads. */
function thin(s: ConvShape, k: number): { shape: ConvShape; size: number; what: string } {
  if (s.x[2] > 1) return { shape: withDepth(s, k), size: s.x[2], what: 'slices' };
  return { shape: withBatch(s, k), size: s.x[0], what: 'images' };
}

async function timePeer(s: ConvShape, quick: boolean): Promise<PeerTiming | null> {
  const tf = await tfjsPeer();
  if (!tf) return null;
  const full = thin(s, 1).size;
  const minK = Math.min(full, s.x[2] > 1 && s.w[2] > 1 ? 3 : 1);
  // In --quick mode the peer always runs thinned: a few slices, enough for steady state.
  const quickK = Math.min(full, s.x[2] > 1 && s.w[2] > 1 ? 3 : 2);
  let k = full;
  let note: string | undefined;
  if (quick && full > quickK) {
    k = quickK;
    note = `tfjs timed on ${k} of ${full} ${thin(s, 1).what} (--quick)`;
  } else {
    // Probe forward + backward on the thinnest volume to predict the full layer's cost (tfjs's
    // backward is far more than twice its forward for some layers, so the forward alone mispredicts).
    const probe = await tf.conv(thin(s, minK).shape, true, 1);
    const predicted = probe * (full / minK);
    if (predicted > PEER_LIMIT_MS) {
      k = Math.max(minK, Math.min(full, Math.floor((full * PEER_LIMIT_MS) / 3 / predicted)));
      // (a third of the limit: the peer runs once to warm up and twice timed, forward and forward+backward)
      note = `tfjs timed on ${k} of ${full} ${thin(s, 1).what} (the full layer's forward+backward predicted ${(predicted / 1000).toFixed(0)} s > 60 s)`;
    }
  }
  const sd = thin(s, k).shape;
  const reps = quick ? 1 : 2;
  const fwdMs = await tf.conv(sd, false, reps);
  const fwdBwdMs = await tf.conv(sd, true, reps);
  const macs = convMacs(sd);
  return { fwdMs, fwdBwdMs, depth: k, gflopsFwd: gflops(2 * macs, fwdMs), gflopsFwdBwd: gflops(6 * macs, fwdBwdMs), note };
}

/** The algorithm conv3d takes for this layer on this device (see src/kernels/conv-winograd.ts). */
function algorithmOf(gpu: Gpu, s: ConvShape): string {
  const plan = winogradPlan(gpu, convGeometry(s.x, s.w, { stride: s.stride, pad: s.pad }));
  if (!plan) return 'direct';
  return plan.full ? `Winograd F(${plan.m},3)×F(2,3)²` : `Winograd F(${plan.m},3) depth`;
}

export async function run(gpu: Gpu, opts: { quick: boolean; layers?: string[]; paths?: boolean }): Promise<BenchRecord[]> {
  if (opts.paths) return runPaths(gpu, opts);
  const rng = new Rng(3);
  // Five runs in the full bench: CPU drivers share the host, and the median must survive a busy spell.
  const timing = { warmup: 1, reps: opts.quick ? 1 : 5 };
  const ceiling = await gemmCeiling(gpu, opts.quick);
  const all = [...FRMC5_CONVS, STEM_3D, ...PEER_CONVS];
  // --layers picks rows by name from the full list, in either mode.
  const shapes = opts.layers ? all.filter((s) => opts.layers!.some((l) => s.name.includes(l))) : opts.quick ? QUICK_CONVS : all;
  if (!shapes.length) throw new Error(`conv bench: no layer name contains ${opts.layers!.join(' or ')} (layers: ${all.map((s) => s.name).join('; ')})`);
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const peerNotes: string[] = [];
  let netFwd = 0;
  let netFwdBwd = 0;
  let netFlop = 0;

  for (const s of shapes) {
    const yShape = outShape(s);
    const macs = convMacs(s);
    const x = gpu.tensor(rng.uniformArray(numel(s.x)), s.x);
    const w = gpu.tensor(rng.uniformArray(numel(s.w), -0.1, 0.1), s.w);
    const dy = gpu.tensor(rng.uniformArray(numel(yShape)), yShape);
    const conv = { stride: s.stride, pad: s.pad };
    const algorithm = algorithmOf(gpu, s);
    const local = opts.quick ? ceiling : await measureCeiling(gpu, 3);
    const tf = await timeIt(gpu, () => gpu.tidy(() => void conv3d(x, w, conv)), timing);
    const tb = await timeIt(
      gpu,
      () =>
        gpu.tidy(() => {
          conv3d(x, w, conv);
          conv3dBackwardInput(dy, w, s.x, conv);
          conv3dBackwardWeight(dy, x, s.w, conv);
        }),
      timing,
    );
    for (const t of [x, w, dy]) t.release();
    const bx = numel(s.x) * 4;
    const bw = numel(s.w) * 4;
    const by = numel(yShape) * 4;
    const gf = gflops(2 * macs, tf.medianMs);
    const gb = gflops(6 * macs, tb.medianMs);
    netFwd += s.count * tf.medianMs;
    netFwdBwd += s.count * tb.medianMs;
    netFlop += s.count * 6 * macs;

    const peer = await timePeer(s, opts.quick);
    const fwdRatio: Record<string, number> = { gemm: gf / local.gflops };
    const bwdRatio: Record<string, number> = { gemm: gb / local.gflops };
    if (peer) {
      fwdRatio.tfjs = gf / peer.gflopsFwd;
      bwdRatio.tfjs = gb / peer.gflopsFwdBwd;
      if (peer.note) peerNotes.push(`${s.name}: ${peer.note}`);
    }
    if (s.peer) bwdRatio[s.peer.name] = gb / s.peer.gflopsFwdBwd;
    const note = [peer?.note, s.peer?.note].filter(Boolean).join('; ') || undefined;
    records.push({ name: `${s.name} fwd`, algorithm, ceilingGflops: local.gflops, shape: [...s.x, ...s.w], ms: tf.medianMs, spreadMs: [tf.minMs, tf.maxMs], gflops: gf, gbps: gbps(bx + bw + by, tf.medianMs), ratio: fwdRatio, ...(peer?.note ? { note: peer.note } : {}) });
    records.push({ name: `${s.name} fwd+bwd`, algorithm, ceilingGflops: local.gflops, shape: [...s.x, ...s.w], ms: tb.medianMs, spreadMs: [tb.minMs, tb.maxMs], gflops: gb, gbps: gbps(3 * (bx + bw + by), tb.medianMs), ratio: bwdRatio, ...(note ? { note } : {}) });
    // Progress as it goes: the full run takes minutes on a CPU driver.
    const thinned = peer && peer.depth !== thin(s, 1).size;
    console.log(`  ${s.name} [${algorithm}]: fwd ${tf.medianMs.toFixed(0)} ms, fwd+bwd ${tb.medianMs.toFixed(0)} ms (${gb.toFixed(2)} GFLOP/s)${peer ? `, tfjs ${peer.fwdBwdMs.toFixed(0)} ms${thinned ? ` on ${peer.depth} ${thin(s, 1).what}` : ''}` : ''}`);
    rows.push([
      s.name,
      algorithm,
      s.count || '-',
      local.gflops,
      tf.medianMs,
      gf,
      gf / local.gflops,
      `${tb.medianMs.toFixed(0)} (${tb.minMs.toFixed(0)}–${tb.maxMs.toFixed(0)})`,
      gb,
      gb / local.gflops,
      gbps(3 * (bx + bw + by), tb.medianMs),
      peer ? `${peer.fwdBwdMs.toFixed(0)}${thinned ? `@${s.x[2] > 1 ? 'D' : 'N'}${peer.depth}` : ''}` : '-',
      peer ? `${(gb / peer.gflopsFwdBwd).toFixed(1)}×` : '-',
      s.peer ? `${(gb / s.peer.gflopsFwdBwd).toFixed(1)}× ${s.peer.name}` : '',
    ]);
  }
  const t = tuningFor(gpu);
  console.log(
    `conv on ${gpu.adapter.description} — tiles fwd ${t.convForward.wg}×${t.convForward.tm}, dx ${t.convBackwardInput.wg}×${t.convBackwardInput.tm}, dw ${t.convBackwardWeight.wg}×${t.convBackwardWeight.tm}; ` +
      `GEMM ceiling ${ceiling.gflops.toFixed(2)} GFLOP/s (1024³) at the start${opts.quick ? '' : ', re-measured before each layer (÷ceil uses that one)'}`,
  );
  console.log(table(['layer', 'algorithm', '×', 'ceil GFLOP/s', 'fwd ms', 'GFLOP/s', '÷ceil', 'f+b ms (min–max)', 'GFLOP/s', '÷ceil', 'GB/s', 'tfjs f+b ms', 'vs tfjs', 'vs quoted'], rows));
  if (!opts.quick && !opts.layers) {
    console.log(`f-rMC5 convolutions, one 256×256×24 volume: forward ${(netFwd / 1000).toFixed(2)} s, forward+backward ${(netFwdBwd / 1000).toFixed(2)} s (${gflops(netFlop, netFwdBwd).toFixed(2)} GFLOP/s)`);
    records.push({ name: 'f-rMC5 convolutions fwd+bwd (sum over layers)', shape: [1, 1, 24, 256, 256], ms: netFwdBwd, gflops: gflops(netFlop, netFwdBwd), ratio: { gemm: gflops(netFlop, netFwdBwd) / ceiling.gflops } });
  }
  if (!(await tfjsPeer())) console.log(`tfjs peer unavailable: ${tfjsUnavailable}`);
  for (const n of peerNotes) console.log(`note: ${n}`);
  return records;
}

type Family = 'subgroup' | 'tiled';
const OPS: { op: GemmOp; label: string }[] = [
  { op: 'convForward', label: 'fwd' },
  { op: 'convBackwardInput', label: 'dx' },
  { op: 'convBackwardWeight', label: 'dw' },
];

/** The layer class whose GEMMs a layer runs (Winograd layers: their points' in-plane convolutions or matrix products). */
function gemmClassOf(gpu: Gpu, s: ConvShape): LayerClass {
  const g = convGeometry(s.x, s.w, { stride: s.stride, pad: s.pad });
  const plan = winogradPlan(gpu, g);
  if (plan) return plan.full ? 'gemm' : layerClass(plan.plane);
  return layerClass(g, g.cin <= tuningFor(gpu).thinInputChannels);
}

/** `--paths`: both kernel families on every layer, side by side (see the header). */
async function runPaths(gpu: Gpu, opts: { quick: boolean; layers?: string[] }): Promise<BenchRecord[]> {
  const rng = new Rng(3);
  const reps = opts.quick ? 2 : 5;
  const families: Family[] = gpu.features.has('subgroups') ? ['subgroup', 'tiled'] : ['tiled'];
  const all = [...FRMC5_CONVS, STEM_3D];
  const shapes = opts.layers ? all.filter((s) => opts.layers!.some((l) => s.name.includes(l))) : opts.quick ? QUICK_CONVS.filter((s) => s.count > 0) : all;
  if (!shapes.length) throw new Error(`conv bench: no layer name contains ${opts.layers!.join(' or ')}`);
  const saved = tuningFor(gpu);
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const net: Record<Family, number> = { subgroup: 0, tiled: 0 };
  // Per op and layer class: summed time of each family (weighted by how often f-rMC5 has the layer).
  const byClass = new Map<string, Record<Family, number>>();
  try {
    for (const s of shapes) {
      const yShape = outShape(s);
      const x = gpu.tensor(rng.uniformArray(numel(s.x)), s.x);
      const w = gpu.tensor(rng.uniformArray(numel(s.w), -0.1, 0.1), s.w);
      const dy = gpu.tensor(rng.uniformArray(numel(yShape)), yShape);
      const conv = { stride: s.stride, pad: s.pad };
      const run = [
        () => gpu.tidy(() => void conv3d(x, w, conv)),
        () => gpu.tidy(() => void conv3dBackwardInput(dy, w, s.x, conv)),
        () => gpu.tidy(() => void conv3dBackwardWeight(dy, x, s.w, conv)),
      ];
      const times: Record<Family, number[][]> = { subgroup: [[], [], []], tiled: [[], [], []] };
      const cls = gemmClassOf(gpu, s);
      for (let r = 0; r < reps; r++) {
        for (const f of families) {
          setTuning(gpu, { broadcast: f === 'subgroup' ? BROADCAST_EVERYWHERE : BROADCAST_NOWHERE });
          for (let o = 0; o < 3; o++) times[f][o]!.push((await timeIt(gpu, run[o]!, { warmup: r === 0 ? 1 : 0, reps: 1 })).medianMs);
        }
      }
      restoreTuning(gpu, saved);
      for (const t of [x, w, dy]) t.release();
      const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
      const macs = convMacs(s);
      const algorithm = algorithmOf(gpu, s);
      const ms: Record<Family, number[]> = { subgroup: times.subgroup.map(median), tiled: times.tiled.map(median) };
      for (const f of families) {
        const total = ms[f].reduce((a, b) => a + b, 0);
        net[f] += s.count * total;
        OPS.forEach(({ op, label }, o) => {
          const key = `${op} ${cls}`;
          const acc = byClass.get(key) ?? { subgroup: 0, tiled: 0 };
          acc[f] += Math.max(s.count, 1) * ms[f][o]!;
          byClass.set(key, acc);
          records.push({ name: `${s.name} ${label} ${f}`, algorithm, shape: [...s.x, ...s.w], ms: ms[f][o]!, spreadMs: [Math.min(...times[f][o]!), Math.max(...times[f][o]!)], gflops: gflops(2 * macs, ms[f][o]!) });
        });
        records.push({ name: `${s.name} fwd+bwd ${f}`, algorithm, shape: [...s.x, ...s.w], ms: total, gflops: gflops(6 * macs, total) });
      }
      const sub = families.includes('subgroup') ? ms.subgroup : null;
      const tot = (f: Family) => ms[f].reduce((a, b) => a + b, 0);
      rows.push([
        s.name,
        `${algorithm} (${cls})`,
        ...OPS.map((_, o) => (sub ? `${sub[o]!.toFixed(0)} / ${ms.tiled[o]!.toFixed(0)}` : ms.tiled[o]!.toFixed(0))),
        sub ? `${tot('subgroup').toFixed(0)} / ${tot('tiled').toFixed(0)}` : tot('tiled').toFixed(0),
        sub ? (tot('subgroup') / tot('tiled')).toFixed(2) : '-',
      ]);
      console.log(`  ${s.name} [${algorithm}, ${cls}]: fwd+bwd ${families.map((f) => `${f} ${tot(f).toFixed(0)} ms`).join(', ')}`);
    }
  } finally {
    restoreTuning(gpu, saved);
  }
  console.log(`conv kernel families on ${gpu.adapter.description}: ms per op (subgroup / tiled), median of ${reps} interleaved runs`);
  console.log(table(['layer', 'algorithm (GEMM class)', 'fwd ms', 'dx ms', 'dw ms', 'fwd+bwd ms', 'tiled ÷ subgroup speed'], rows));
  if (families.length === 2 && net.tiled > 0 && !opts.layers) {
    const share = net.subgroup / net.tiled;
    console.log(`all f-rMC5 convolutions fwd+bwd (one 256×256×24 volume): subgroup ${(net.subgroup / 1000).toFixed(2)} s, tiled ${(net.tiled / 1000).toFixed(2)} s — the tiled path runs at ${(100 * share).toFixed(0)} % of the subgroup path's speed`);
    records.push({ name: 'f-rMC5 convolutions fwd+bwd: tiled ÷ subgroup speed', shape: [1, 1, 24, 256, 256], ms: net.tiled, ratio: { subgroup: share }, note: `subgroup ${net.subgroup.toFixed(0)} ms, tiled ${net.tiled.toFixed(0)} ms` });
  }
  if (families.length === 2) {
    const winners: Record<string, string[]> = {};
    for (const [key, t] of byClass) {
      const [op, cls] = key.split(' ') as [string, string];
      if (t.subgroup < t.tiled) (winners[op] ??= []).push(cls);
    }
    console.log(`subgroup kernels won (op: layer classes; tuning.ts 'broadcast'): ${JSON.stringify(winners)}`);
  }
  return records;
}
