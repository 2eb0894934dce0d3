/**
 * Where a saliency map points, against a ground-truth region: the share of the saliency mass within r
 * mm of the region, next to the share of the volume within r mm (what a map spread evenly would give)
 * and their ratio (enrichment; 1 = no preference for the region); and, less sensitive to the diffuse
 * low-level noise of gradient maps, the share of the most salient voxels (top 1 %) within r mm and
 * whether the single most salient voxel is (the "pointing game"). Distances are Euclidean in mm with
 * the grid's anisotropic spacing (exact distance transform, Felzenszwalb & Huttenlocher 2012).
 * Used with the synthetic cohort's truth (src/data/synth-truth.ts) to check what the network looks at.
 */

/** Squared distance transform along one line: f holds 0 (in the region) or Infinity; step in mm. */
function edt1d(f: Float64Array, n: number, step: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  // Lower envelope of the parabolas (x − q·step)² + f(q) over the finite f(q).
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    const pq = q * step;
    let s = -Infinity;
    while (k >= 0) {
      const r = v[k]! * step;
      s = (f[q]! + pq * pq - (f[v[k]!]! + r * r)) / (2 * (pq - r));
      if (s > z[k]!) break;
      k--;
    }
    if (k < 0) s = -Infinity;
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let p = 0; p < n; p++) {
    const x = p * step;
    while (z[j + 1]! < x) j++;
    const dx = x - v[j]! * step;
    out[p] = dx * dx + f[v[j]!]!;
  }
}

/**
 * Euclidean distance (mm) from every voxel centre to the nearest voxel with `mask > threshold`, on a
 * [D, H, W] grid with `spacing` = [sD, sH, sW] mm. Infinity everywhere when the mask is empty.
 */
export function distanceToMask(
  mask: ArrayLike<number>,
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
  threshold = 0.5,
): Float64Array {
  const [D, H, W] = dims;
  const n = D * H * W;
  if (mask.length !== n) throw new Error(`distanceToMask: mask has ${mask.length} values, dims [${dims.join(', ')}] need ${n}`);
  if (spacing.some((s) => !(s > 0))) throw new Error(`distanceToMask: spacing must be positive, got [${spacing.join(', ')}]`);
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) g[i] = mask[i]! > threshold ? 0 : Infinity;
  const L = Math.max(D, H, W);
  const f = new Float64Array(L);
  const out = new Float64Array(L);
  const v = new Int32Array(L);
  const z = new Float64Array(L + 1);
  const pass = (len: number, stride: number, starts: Iterable<number>, step: number) => {
    for (const s0 of starts) {
      for (let i = 0; i < len; i++) f[i] = g[s0 + i * stride]!;
      edt1d(f, len, step, out, v, z);
      for (let i = 0; i < len; i++) g[s0 + i * stride] = out[i]!;
    }
  };
  function* lines(outer: number[], strides: number[]): Generator<number> {
    for (let a = 0; a < outer[0]!; a++) for (let b = 0; b < outer[1]!; b++) yield a * strides[0]! + b * strides[1]!;
  }
  pass(W, 1, lines([D, H], [H * W, W]), spacing[2]);
  pass(H, W, lines([D, W], [H * W, 1]), spacing[1]);
  pass(D, H * W, lines([H, W], [W, 1]), spacing[0]);
  for (let i = 0; i < n; i++) g[i] = Math.sqrt(g[i]!);
  return g;
}

export interface SaliencyNear {
  radiusMm: number;
  /** Share of the saliency mass on voxels within radiusMm of the region (0..1). */
  mass: number;
  /** Share of the voxels within radiusMm of the region (0..1): the mass an even map would put there. */
  volume: number;
  /** mass / volume (1 = no preference; NaN when the region is empty or the map is zero). */
  enrichment: number;
  /** Share of the top `topFraction` most salient voxels within radiusMm (an even map: `volume`). */
  top: number;
  /** Whether the most salient voxel lies within radiusMm. */
  peak: boolean;
}

/**
 * How much of `saliency` (non-negative, [D, H, W]) lies within each radius of the region `mask > 0.5`.
 * Pass the distances from distanceToMask to score several maps against one region without recomputing.
 */
export function saliencyNearRegion(
  saliency: ArrayLike<number>,
  region: { mask: ArrayLike<number> } | { distance: Float64Array },
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number],
  radiiMm: readonly number[] = [0, 3, 6],
  topFraction = 0.01,
): SaliencyNear[] {
  if (!(topFraction > 0 && topFraction <= 1)) throw new Error(`saliencyNearRegion: topFraction must be in (0, 1], got ${topFraction}`);
  const n = dims[0] * dims[1] * dims[2];
  if (saliency.length !== n) throw new Error(`saliencyNearRegion: saliency has ${saliency.length} values, dims [${dims.join(', ')}] need ${n}`);
  const dist = 'distance' in region ? region.distance : distanceToMask(region.mask, dims, spacing);
  if (dist.length !== n) throw new Error(`saliencyNearRegion: distance map has ${dist.length} values, need ${n}`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = saliency[i]!;
    if (!(s >= 0) || !Number.isFinite(s)) throw new Error(`saliencyNearRegion: saliency must be finite and non-negative; voxel ${i} is ${s}`);
    total += s;
  }
  // The top voxels: ties at the threshold are broken by index, so exactly k voxels count.
  const k = Math.max(1, Math.round(topFraction * n));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => saliency[b]! - saliency[a]! || a - b);
  const top = order.slice(0, k);
  const peakDist = dist[order[0]!]!;
  return radiiMm.map((r) => {
    let mass = 0;
    let vox = 0;
    // A voxel whose centre is in the region has distance 0; "within r" includes r (and a half-voxel slack
    // is not added: radii are in mm, the caller picks them against the spacing).
    for (let i = 0; i < n; i++) {
      if (dist[i]! <= r) {
        mass += saliency[i]!;
        vox++;
      }
    }
    const m = total > 0 ? mass / total : NaN;
    const v = vox / n;
    const topShare = top.reduce((a, i) => a + (dist[i]! <= r ? 1 : 0), 0) / k;
    return { radiusMm: r, mass: m, volume: v, enrichment: v > 0 && total > 0 ? m / v : NaN, top: topShare, peak: peakDist <= r };
  });
}
