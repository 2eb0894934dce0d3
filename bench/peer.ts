/**
 * Peers: other WebGPU engines run on the same adapter in the same process (Node: TensorFlow.js on
 * Dawn) or the same page (browser: TensorFlow.js, jax-js, ONNX Runtime Web). Each one is given the
 * SAME inputs as voxelgrad, in voxelgrad's layouts (NCDHW, weights [Cout, Cin, kD, kH, kW]); it converts
 * them to its own layout outside the timed region, and converts its outputs back for the check.
 * A peer's result is checked against ours before it is timed: relative error per output; a peer whose
 * result is wrong is reported as wrong, with its error, and its time is not turned into a ratio.
 */
import { timeSynced, type Timing } from './harness.js';
import type { PeerResult } from './record.js';
import type { ConvShape } from './shapes.js';

export type PeerName = 'tfjs' | 'jax-js' | 'ort';

/** One prepared operation of a peer on fixed inputs. */
export interface PeerRun {
  /** Enqueues one run (no readback); a promise it returns must be awaited before anything else. */
  run(): unknown;
  /** Waits until everything the peer queued has finished on the GPU (onSubmittedWorkDone). */
  sync(): Promise<void>;
  /** One run's outputs, converted to voxelgrad's layouts, by name (y; dx, dw for a backward). */
  outputs(): Promise<Record<string, Float32Array>>;
  dispose(): void | Promise<void>;
}

/** Inputs of a convolution row in voxelgrad's layouts: x NCDHW, w [Cout, Cin, kD, kH, kW], dy like y. */
export interface ConvData {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
}

export interface OpPeer {
  readonly name: PeerName;
  readonly version: string;
  /** Its adapter as it reports it. */
  readonly adapter: string;
  /** C = A·B, A [m, k], B [k, n] row-major; outputs { y }. */
  matmul?(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Promise<PeerRun>;
  /** The convolution forward (outputs { y }) or forward + both gradients for `dy` (outputs { dx, dw }). */
  conv?(s: ConvShape, d: ConvData, backward: boolean): Promise<PeerRun>;
  /** Whether it can run this convolution at all (and if not, why). */
  convSupport?(s: ConvShape, backward: boolean): string | null;
  /**
   * Batch norm in training mode (batch statistics, biased variance, ε 1e-5), optionally fused with a ReLU,
   * on x NCDHW with γ, β [C]: forward → { y }; backward for dy → { dx, dgamma, dbeta }.
   */
  batchNorm?(
    shape: readonly number[],
    d: { x: Float32Array; gamma: Float32Array; beta: Float32Array; dy: Float32Array },
    relu: boolean,
    backward: boolean,
  ): Promise<PeerRun>;
  /** Max pooling with PyTorch's padding (padded cells never win), NCDHW: → { y } or, for dy, { dx }. */
  maxPool?(shape: readonly number[], p: PoolParams, d: { x: Float32Array; dy: Float32Array }, backward: boolean): Promise<PeerRun>;
  /** Mean over height and width, [N, C, D, H, W] → [N, C, D]: → { y } or { dx }. */
  planeAvgPool?(shape: readonly number[], d: { x: Float32Array; dy: Float32Array }, backward: boolean): Promise<PeerRun>;
  /** Bilinear pooling over depth (src/kernels/depth-agg.ts), [N, C, D] → [N, C²]: → { y } or { dx }. */
  bilinear?(shape: readonly number[], d: { x: Float32Array; dy: Float32Array }, backward: boolean): Promise<PeerRun>;
  /** Batch-hard triplet loss (margin, squared distances, optional L2 normalisation) of x [N, E]: → { loss } or { dx }. */
  triplet?(n: number, e: number, d: { x: Float32Array; labels: number[] }, opts: { margin: number; normalize: boolean }, backward: boolean): Promise<PeerRun>;
  /** SGD with momentum and weight decay (PyTorch's form) over tensors of these sizes, one step per run from the given parameters and gradients: → { param } after the first step. */
  sgd?(sizes: readonly number[], d: { param: Float32Array; grad: Float32Array }, opts: { lr: number; momentum: number; weightDecay: number }): Promise<PeerRun>;
}

export interface PoolParams {
  kernel: readonly [number, number, number];
  stride: readonly [number, number, number];
  pad: readonly [number, number, number];
}

/** The single-operation methods a peer may have (the row runners ask for one by name). */
export type PeerOp = 'matmul' | 'conv' | 'batchNorm' | 'maxPool' | 'planeAvgPool' | 'bilinear' | 'triplet' | 'sgd';

/**
 * Every peer that has `op` on one row: prepare, check against ours, time; the speed-up is the peer's
 * time ÷ `ourMs` when the check passed. Peers without the operation are left out of the row.
 */
export async function runPeers(
  peers: readonly OpPeer[],
  op: PeerOp,
  prepare: (p: OpPeer) => Promise<PeerRun>,
  ours: () => Promise<Record<string, ArrayLike<number>>>,
  ourMs: number,
  timing: { warmup: number; reps: number },
  tolerance = PEER_TOLERANCE,
): Promise<PeerResult[]> {
  const out: PeerResult[] = [];
  for (const p of peers) {
    if (!p[op]) continue;
    const r = (await measurePeer(p.name, () => prepare(p), ours, timing, tolerance)).result;
    if (r.ms !== undefined && r.check?.ok) r.speedup = r.ms / ourMs;
    out.push(r);
  }
  return out;
}

/** Relative error a peer's outputs may have against ours (f32, different summation orders and algorithms). */
export const PEER_TOLERANCE = 1e-3;

/** ‖a − b‖₂ / ‖b‖₂ in float64 (NaN anywhere in a gives NaN). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  if (Number.isNaN(num)) return Number.NaN;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Compares a peer's outputs with ours, output by output. */
export function checkOutputs(
  peer: Record<string, Float32Array>,
  ours: Record<string, ArrayLike<number>>,
  tolerance = PEER_TOLERANCE,
): NonNullable<PeerResult['check']> {
  const errors: Record<string, number> = {};
  const bad: string[] = [];
  for (const [k, ref] of Object.entries(ours)) {
    const p = peer[k];
    const e = p ? relErr(p, ref) : Number.POSITIVE_INFINITY;
    errors[k] = e;
    if (!(e < tolerance)) bad.push(p ? `${k} relative error ${fmtErr(e)}` : `${k} missing`);
  }
  return { ok: bad.length === 0, tolerance, errors, ...(bad.length ? { detail: `wrong: ${bad.join(', ')}` } : {}) };
}

export const fmtErr = (e: number) => (Number.isFinite(e) ? (e >= 0.01 ? e.toPrecision(3) : e.toExponential(1)) : String(e));

/**
 * Prepares a peer's run, checks its outputs against `ours` (computed on the same inputs), then times it
 * (warm-up, median of `reps`, each run closed by the peer's own onSubmittedWorkDone()). A peer that
 * throws is reported as unavailable with its message; one that computes a wrong result is still timed
 * (so the reader sees what it costs) but its check says wrong and no speed-up is derived from it.
 */
export async function measurePeer(
  name: string,
  prepare: () => Promise<PeerRun>,
  ours: () => Promise<Record<string, ArrayLike<number>>>,
  timing: { warmup: number; reps: number },
  tolerance = PEER_TOLERANCE,
): Promise<{ result: PeerResult; timing?: Timing }> {
  let run: PeerRun | null = null;
  try {
    run = await prepare();
    const out = await run.outputs();
    const check = checkOutputs(out, await ours(), tolerance);
    const t = await timeSynced(
      () => run!.sync(),
      () => run!.run(),
      timing,
    );
    return { result: { name, ms: t.medianMs, spreadMs: [t.minMs, t.maxMs], check }, timing: t };
  } catch (e) {
    return { result: { name, unavailable: firstLine(e) } };
  } finally {
    try {
      await run?.dispose();
    } catch {
      // a peer that fails to free is not a reason to stop the bench
    }
  }
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 300);
}

/** Peers of a row as ratio entries: peer ms ÷ ours for those whose check passed. */
export function peerRatios(peers: readonly PeerResult[]): Record<string, number> {
  const r: Record<string, number> = {};
  for (const p of peers) if (p.speedup !== undefined && p.check?.ok) r[p.name] = p.speedup;
  return r;
}
