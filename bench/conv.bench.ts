/**
 * The convolution family on the real layers of f-rMC5 at 256×256×24 (bench/shapes.ts): forward and
 * forward + both gradients, GFLOP/s (2·MACs, the backward counted as twice the forward), GB/s (the
 * tensors each pass must read and write once), the ratio to the device's f32 GEMM ceiling measured in
 * the same run (bench/matmul.bench.ts), and the speed-up over each peer on the same adapter in the same
 * process or page (bench/peer.ts), whose outputs (y; dx and dw for the output gradient dy) are first
 * checked against ours on the same inputs.
 * A peer whose full layer would take longer than PEER_LIMIT_MS (predicted from a probe on the thinnest
 * volume) runs on a thinner volume (fewer slices, or fewer images for depth-1 layers) and is compared
 * by GFLOP/s; the row says so, and its check is against ours on that thinner volume.
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
import { numel } from '../src/gpu/tensor.js';
import { conv3d, conv3dBackwardInput, conv3dBackwardWeight, convGeometry } from '../src/kernels/conv.js';
import { winogradPlan } from '../src/kernels/conv-winograd.js';
import { BROADCAST_EVERYWHERE, BROADCAST_NOWHERE, type GemmOp, type LayerClass, restoreTuning, setTuning, tuningFor } from '../src/kernels/tuning.js';
import { layerClass } from '../src/kernels/conv.js';
import { Rng } from '../src/util/rng.js';
import { type BenchContext, profileRun } from './context.js';
import { gbps, gflops, table, timeIt, timeSynced } from './harness.js';
import { gemmCeiling, measureCeiling, peerCells } from './matmul.bench.js';
import { type ConvData, type OpPeer, type PeerRun, checkOutputs, firstLine, measurePeer, peerRatios } from './peer.js';
import type { BenchRecord, PeerResult } from './record.js';
import { type ConvShape, FRMC5_CONVS, PEER_CONVS, QUICK_CONVS, STEM_3D, convMacs, outShape, withBatch, withDepth } from './shapes.js';

/** Longest a peer may take on one layer's forward + backward before it runs on a thinner volume. */
const PEER_LIMIT_MS = 60_000;
/** The same in --quick mode (the peers of the issue's comparison, jax-js and ORT, fit at full size). */
const QUICK_PEER_LIMIT_MS = 15_000;
/** Longest predicted full-layer run for which a thinned peer is still checked once on the full layer. */
const FULL_CHECK_MS = 300_000;
const FULL_CHECK_QUICK_MS = 30_000;

/** The layer thinned to `k` slices (or, for depth-1 inputs, `k` batch entries), and how that reads. */
function thin(s: ConvShape, k: number): { shape: ConvShape; size: number; what: string } {
  if (s.x[2] > 1) return { shape: withDepth(s, k), size: s.x[2], what: 'slices' };
  return { shape: withBatch(s, k), size: s.x[0], what: 'images' };
}

function convData(s: ConvShape, seed: number): ConvData {
  const rng = new Rng(seed);
  return { x: rng.uniformArray(numel(s.x)), w: rng.uniformArray(numel(s.w), -0.1, 0.1), dy: rng.uniformArray(numel(outShape(s))) };
}

/** Our outputs on `d`: y, and dx, dw for dy (read back, for the peers' checks). */
async function ourOutputs(gpu: Gpu, s: ConvShape, d: ConvData): Promise<{ y: Float32Array; dx: Float32Array; dw: Float32Array }> {
  const conv = { stride: s.stride, pad: s.pad };
  const x = gpu.tensor(d.x, s.x);
  const w = gpu.tensor(d.w, s.w);
  const dy = gpu.tensor(d.dy, outShape(s));
  const y = conv3d(x, w, conv);
  const dx = conv3dBackwardInput(dy, w, s.x, conv);
  const dw = conv3dBackwardWeight(dy, x, s.w, conv);
  const out = { y: await y.read(), dx: await dx.read(), dw: await dw.read() };
  for (const t of [x, w, dy, y, dx, dw]) t.release();
  return out;
}

interface PeerRow {
  fwd: PeerResult;
  fwdBwd: PeerResult;
}

/**
 * One peer on one layer: the volume it can afford, then forward and forward + backward, each checked
 * against ours on the same inputs before it is timed.
 */
async function runPeer(
  gpu: Gpu,
  p: OpPeer,
  s: ConvShape,
  full: { data: ConvData; ours: { y: Float32Array; dx: Float32Array; dw: Float32Array }; fwdMs: number; fwdBwdMs: number },
  ctx: BenchContext,
): Promise<PeerRow> {
  const unsupported = (why: string): PeerRow => ({ fwd: { name: p.name, unavailable: why }, fwdBwd: { name: p.name, unavailable: why } });
  if (!p.conv) return unsupported('no convolution');
  const fwdWhy = p.convSupport?.(s, false) ?? null;
  if (fwdWhy) return unsupported(fwdWhy);
  const bwdWhy = p.convSupport?.(s, true) ?? null;
  const size = thin(s, 1).size;
  const minK = Math.min(size, s.x[2] > 1 && s.w[2] > 1 ? 3 : 1);
  const limit = ctx.quick ? QUICK_PEER_LIMIT_MS : PEER_LIMIT_MS;
  let k = size;
  let note: string | undefined;
  let predicted = 0;
  /** The probe, kept when the peer ends up timed on the probe's own volume (its timed run is reused). */
  let kept: { run: PeerRun; ms: number } | null = null;
  if (size > minK) {
    // Probe on the thinnest volume to predict the full layer's cost (forward + backward where the peer
    // has one: tfjs's backward is far more than twice its forward for some layers).
    let probe: PeerRun | null = null;
    try {
      const probeShape = thin(s, minK).shape;
      probe = await p.conv(probeShape, convData(probeShape, 7), !bwdWhy);
      await probe.run(); // compiles its pipelines: the probe times the second run
      await probe.sync();
      const t0 = performance.now();
      await probe.run();
      await probe.sync();
      const probeMs = performance.now() - t0;
      predicted = probeMs * (size / minK);
      if (predicted > limit) {
        // (a third of the limit: the peer runs once to warm up and twice timed)
        k = Math.max(minK, Math.min(size, Math.floor((size * limit) / 3 / predicted)));
        note = `${p.name} ran on ${k} of ${size} ${thin(s, 1).what} (the full layer predicted ${(predicted / 1000).toFixed(0)} s > ${limit / 1000} s)`;
      }
      if (k === minK && !bwdWhy) kept = { run: probe, ms: probeMs };
      else await probe.dispose();
    } catch (e) {
      await probe?.dispose();
      return unsupported(e instanceof Error ? e.message.split('\n')[0]! : String(e));
    }
  }
  const shape = thin(s, k).shape;
  const same = k === size;
  const data = same ? full.data : convData(shape, 7);
  let oursThin: Promise<{ y: Float32Array; dx: Float32Array; dw: Float32Array }> | null = null;
  const ours = () => (same ? Promise.resolve(full.ours) : (oursThin ??= ourOutputs(gpu, shape, data)));
  // The checked run compiles the peer's pipelines; --quick takes it as the warm-up.
  const timing = ctx.quick ? { warmup: 0, reps: 1 } : { warmup: 1, reps: 3 };
  const macs = convMacs(shape);
  const speed = (ms: number, flopPerMac: number, ourMs: number) =>
    same ? ms / ourMs : gflops(flopPerMac * convMacs(s), ourMs) / gflops(flopPerMac * macs, ms);
  const withShape = (r: PeerResult): PeerResult =>
    r.ms === undefined ? r : { ...r, ...(same ? {} : { shape: [...shape.x, ...shape.w] }), ...((r.note ?? note) ? { note: r.note ?? note } : {}) };

  const f = (
    await measurePeer(
      p.name,
      () => p.conv!(shape, data, false),
      async () => ({ y: (await ours()).y }),
      timing,
    )
  ).result;
  if (f.ms !== undefined && f.check?.ok) f.speedup = speed(f.ms, 2, full.fwdMs);
  let b: PeerResult;
  if (bwdWhy) b = { name: p.name, unavailable: bwdWhy };
  else {
    const oursB = async () => ({ dx: (await ours()).dx, dw: (await ours()).dw });
    b = kept ? await measureKept(p.name, kept, oursB, timing) : (await measurePeer(p.name, () => p.conv!(shape, data, true), oursB, timing)).result;
    if (b.ms !== undefined && b.check?.ok) b.speedup = speed(b.ms, 6, full.fwdBwdMs);
  }
  // A peer timed on a thinner volume is also checked once on the full layer when that is affordable:
  // a result can be right on a few slices and wrong on the layer itself (jax-js's conv3d weight gradient).
  if (!same && predicted <= (ctx.quick ? FULL_CHECK_QUICK_MS : FULL_CHECK_MS)) {
    for (const [r, backward] of [
      [f, false],
      [b, true],
    ] as const) {
      if (!r.check?.ok) continue;
      let run: PeerRun | null = null;
      try {
        run = await p.conv!(s, full.data, backward);
        const c = checkOutputs(await run.outputs(), backward ? { dx: full.ours.dx, dw: full.ours.dw } : { y: full.ours.y });
        if (!c.ok) {
          r.check = { ...c, detail: `${c.detail} on the full layer (right on ${k} of ${size} ${thin(s, 1).what}, where it was timed)` };
          delete r.speedup;
        } else r.note = `${note ?? ''}; checked on the full layer too`.replace(/^; /, '');
      } catch (e) {
        r.note = `${note ?? ''}; the full-layer check failed to run: ${firstLine(e)}`.replace(/^; /, '');
      } finally {
        await run?.dispose();
      }
    }
  }
  return { fwd: withShape(f), fwdBwd: withShape(b) };
}

/**
 * The forward + backward of a peer from its probe (same volume, same inputs): checked, then timed — the
 * probe's timed run is the --quick measurement, the full bench adds runs for a median.
 */
async function measureKept(
  name: string,
  kept: { run: PeerRun; ms: number },
  ours: () => Promise<Record<string, ArrayLike<number>>>,
  timing: { warmup: number; reps: number },
): Promise<PeerResult> {
  try {
    const check = checkOutputs(await kept.run.outputs(), await ours());
    if (timing.reps <= 1) return { name, ms: kept.ms, spreadMs: [kept.ms, kept.ms], check };
    const t = await timeSynced(
      () => kept.run.sync(),
      () => kept.run.run(),
      { warmup: 0, reps: timing.reps },
    );
    return { name, ms: t.medianMs, spreadMs: [t.minMs, t.maxMs], check };
  } catch (e) {
    return { name, unavailable: firstLine(e) };
  } finally {
    await kept.run.dispose();
  }
}

/** The algorithm conv3d takes for this layer on this device (see src/kernels/conv-winograd.ts). */
function algorithmOf(gpu: Gpu, s: ConvShape): string {
  const plan = winogradPlan(gpu, convGeometry(s.x, s.w, { stride: s.stride, pad: s.pad }));
  if (!plan) return 'direct';
  return plan.full ? `Winograd F(${plan.m},3)×F(2,3)²` : `Winograd F(${plan.m},3) depth`;
}

export async function run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  if (ctx.paths) return runPaths(gpu, ctx);
  // Five runs in the full bench: CPU drivers share the host, and the median must survive a busy spell.
  // The run that reads our outputs back for the peers' checks compiles every pipeline: it is the warm-up.
  const timing = { warmup: 0, reps: ctx.quick ? 2 : 5 };
  const ceiling = await gemmCeiling(gpu, ctx.quick);
  const all = [...FRMC5_CONVS, STEM_3D, ...PEER_CONVS];
  // --layers picks rows by name from the full list, in either mode.
  const shapes = ctx.layers ? all.filter((s) => ctx.layers!.some((l) => s.name.includes(l))) : ctx.quick ? QUICK_CONVS : all;
  if (!shapes.length) throw new Error(`conv bench: no layer name contains ${ctx.layers!.join(' or ')} (layers: ${all.map((s) => s.name).join('; ')})`);
  const records: BenchRecord[] = [];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  let netFwd = 0;
  let netFwdBwd = 0;
  let netFlop = 0;

  for (const [i, s] of shapes.entries()) {
    const yShape = outShape(s);
    const macs = convMacs(s);
    const data = convData(s, 3 + i);
    const x = gpu.tensor(data.x, s.x);
    const w = gpu.tensor(data.w, s.w);
    const dy = gpu.tensor(data.dy, yShape);
    const conv = { stride: s.stride, pad: s.pad };
    const algorithm = algorithmOf(gpu, s);
    const local = ctx.quick ? ceiling : await measureCeiling(gpu, 3);
    const fwdBwd = () =>
      gpu.tidy(() => {
        conv3d(x, w, conv);
        conv3dBackwardInput(dy, w, s.x, conv);
        conv3dBackwardWeight(dy, x, s.w, conv);
      });
    const ours = await ourOutputs(gpu, s, data);
    const tf = await timeIt(gpu, () => gpu.tidy(() => void conv3d(x, w, conv)), timing);
    const tb = await timeIt(gpu, fwdBwd, timing);
    const kernels = ctx.profile ? await profileRun(gpu, fwdBwd) : undefined;
    for (const t of [x, w, dy]) t.release();
    const bx = numel(s.x) * 4;
    const bw = numel(s.w) * 4;
    const by = numel(yShape) * 4;
    const gf = gflops(2 * macs, tf.medianMs);
    const gb = gflops(6 * macs, tb.medianMs);
    netFwd += s.count * tf.medianMs;
    netFwdBwd += s.count * tb.medianMs;
    netFlop += s.count * 6 * macs;

    const fwdPeers: PeerResult[] = [];
    const bwdPeers: PeerResult[] = [];
    if (ctx.peers.length) {
      for (const p of ctx.peers) {
        const r = await runPeer(gpu, p, s, { data, ours, fwdMs: tf.medianMs, fwdBwdMs: tb.medianMs }, ctx);
        fwdPeers.push(r.fwd);
        bwdPeers.push(r.fwdBwd);
        if (r.fwdBwd.note) notes.push(`${s.name}: ${r.fwdBwd.note}`);
        if (r.fwdBwd.check && !r.fwdBwd.check.ok) notes.push(`${s.name}: ${p.name} fwd+bwd ${r.fwdBwd.check.detail}`);
        if (r.fwd.check && !r.fwd.check.ok) notes.push(`${s.name}: ${p.name} fwd ${r.fwd.check.detail}`);
      }
    }
    const base = { algorithm, ceilingGflops: local.gflops, shape: [...s.x, ...s.w] };
    records.push(
      await ctx.emit({
        name: `${s.name} fwd`,
        ...base,
        ms: tf.medianMs,
        spreadMs: [tf.minMs, tf.maxMs],
        gflops: gf,
        gbps: gbps(bx + bw + by, tf.medianMs),
        ratio: { gemm: gf / local.gflops, ...peerRatios(fwdPeers) },
        ...(fwdPeers.length ? { peers: fwdPeers } : {}),
      }),
    );
    records.push(
      await ctx.emit({
        name: `${s.name} fwd+bwd`,
        ...base,
        ms: tb.medianMs,
        spreadMs: [tb.minMs, tb.maxMs],
        gflops: gb,
        gbps: gbps(3 * (bx + bw + by), tb.medianMs),
        ratio: { gemm: gb / local.gflops, ...peerRatios(bwdPeers) },
        ...(bwdPeers.length ? { peers: bwdPeers } : {}),
        ...(kernels ? { kernels } : {}),
      }),
    );
    // Progress as it goes: the full run takes minutes on a CPU driver.
    const peerText = bwdPeers
      .map((r) => `${r.name} ${r.ms !== undefined ? `${r.ms.toFixed(0)} ms${r.shape ? '*' : ''}${r.check && !r.check.ok ? ' WRONG' : ''}` : 'n/a'}`)
      .join(', ');
    ctx.log(
      `  ${s.name} [${algorithm}]: fwd ${tf.medianMs.toFixed(0)} ms, fwd+bwd ${tb.medianMs.toFixed(0)} ms (${gb.toFixed(2)} GFLOP/s)${peerText ? `; ${peerText}` : ''}`,
    );
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
      ...peerCells(ctx, fwdPeers),
      ...peerCells(ctx, bwdPeers),
    ]);
  }
  const t = tuningFor(gpu);
  ctx.log(
    `conv on ${gpu.adapter.description} — tiles fwd ${t.convForward.wg}×${t.convForward.tm}, dx ${t.convBackwardInput.wg}×${t.convBackwardInput.tm}, dw ${t.convBackwardWeight.wg}×${t.convBackwardWeight.tm}; ` +
      `GEMM ceiling ${ceiling.gflops.toFixed(2)} GFLOP/s (1024³) at the start${ctx.quick ? '' : ', re-measured before each layer (÷ceil uses that one)'}`,
  );
  ctx.log(
    table(
      [
        'layer',
        'algorithm',
        '×',
        'ceil GFLOP/s',
        'fwd ms',
        'GFLOP/s',
        '÷ceil',
        'f+b ms (min–max)',
        'GFLOP/s',
        '÷ceil',
        ...ctx.peers.map((p) => `fwd vs ${p.name}`),
        ...ctx.peers.map((p) => `f+b vs ${p.name}`),
      ],
      rows,
    ),
  );
  if (!ctx.quick && !ctx.layers) {
    ctx.log(
      `f-rMC5 convolutions, one 256×256×24 volume: forward ${(netFwd / 1000).toFixed(2)} s, forward+backward ${(netFwdBwd / 1000).toFixed(2)} s (${gflops(netFlop, netFwdBwd).toFixed(2)} GFLOP/s)`,
    );
    records.push(
      await ctx.emit({
        name: 'f-rMC5 convolutions fwd+bwd (sum over layers)',
        shape: [1, 1, 24, 256, 256],
        ms: netFwdBwd,
        gflops: gflops(netFlop, netFwdBwd),
        ratio: { gemm: gflops(netFlop, netFwdBwd) / ceiling.gflops },
      }),
    );
  }
  for (const [name, why] of Object.entries(ctx.unavailable)) ctx.log(`${name} unavailable: ${why}`);
  for (const n of notes) ctx.log(`note: ${n}`);
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
async function runPaths(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]> {
  const rng = new Rng(3);
  const reps = ctx.quick ? 2 : 5;
  const families: Family[] = gpu.features.has('subgroups') ? ['subgroup', 'tiled'] : ['tiled'];
  const all = [...FRMC5_CONVS, STEM_3D];
  const shapes = ctx.layers ? all.filter((s) => ctx.layers!.some((l) => s.name.includes(l))) : ctx.quick ? QUICK_CONVS.filter((s) => s.count > 0) : all;
  if (!shapes.length) throw new Error(`conv bench: no layer name contains ${ctx.layers!.join(' or ')}`);
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
          records.push({
            name: `${s.name} ${label} ${f}`,
            algorithm,
            shape: [...s.x, ...s.w],
            ms: ms[f][o]!,
            spreadMs: [Math.min(...times[f][o]!), Math.max(...times[f][o]!)],
            gflops: gflops(2 * macs, ms[f][o]!),
          });
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
      ctx.log(`  ${s.name} [${algorithm}, ${cls}]: fwd+bwd ${families.map((f) => `${f} ${tot(f).toFixed(0)} ms`).join(', ')}`);
    }
  } finally {
    restoreTuning(gpu, saved);
  }
  ctx.log(`conv kernel families on ${gpu.adapter.description}: ms per op (subgroup / tiled), median of ${reps} interleaved runs`);
  ctx.log(table(['layer', 'algorithm (GEMM class)', 'fwd ms', 'dx ms', 'dw ms', 'fwd+bwd ms', 'tiled ÷ subgroup speed'], rows));
  if (families.length === 2 && net.tiled > 0 && !ctx.layers) {
    const share = net.subgroup / net.tiled;
    ctx.log(
      `all f-rMC5 convolutions fwd+bwd (one 256×256×24 volume): subgroup ${(net.subgroup / 1000).toFixed(2)} s, tiled ${(net.tiled / 1000).toFixed(2)} s — the tiled path runs at ${(100 * share).toFixed(0)} % of the subgroup path's speed`,
    );
    records.push({
      name: 'f-rMC5 convolutions fwd+bwd: tiled ÷ subgroup speed',
      shape: [1, 1, 24, 256, 256],
      ms: net.tiled,
      ratio: { subgroup: share },
      note: `subgroup ${net.subgroup.toFixed(0)} ms, tiled ${net.tiled.toFixed(0)} ms`,
    });
  }
  if (families.length === 2) {
    const winners: Record<string, string[]> = {};
    for (const [key, t] of byClass) {
      const [op, cls] = key.split(' ') as [string, string];
      if (t.subgroup < t.tiled) (winners[op] ??= []).push(cls);
    }
    ctx.log(`subgroup kernels won (op: layer classes; tuning.ts 'broadcast'): ${JSON.stringify(winners)}`);
  }
  return records;
}
