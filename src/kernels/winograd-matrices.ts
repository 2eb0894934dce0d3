/**
 * Winograd minimal filtering F(m, r) in one dimension (Lavin & Gray 2016; Toom–Cook): m outputs of an
 * r-tap correlation y_i = Σ_k g_k·d_{i+k} from n = m + r − 1 inputs with n multiplications instead of
 * m·r:  y = Aᵀ[(G g) ⊙ (Bᵀ d)].
 *
 * Derived here rather than copied: with the n − 1 finite points a_j and the point at infinity, let V_c be
 * the n × c Vandermonde matrix (V_c[j][i] = a_j^i; the infinity row picks the leading coefficient). The
 * linear convolution g ∗ h = T(g)·h is then V_n⁻¹·((V_r g) ⊙ (V_m h)), and the correlation is its
 * transpose, T(g)ᵀ d = V_mᵀ·((V_r g) ⊙ (V_n⁻ᵀ d)): Aᵀ = V_mᵀ, G = V_r, Bᵀ = V_n⁻ᵀ. Computed in float64;
 * `test/kernels/winograd.ref.test.ts` checks every tile size against the direct sum.
 *
 * voxelgrad uses these along the depth axis only (3-tap kernels, stride 1): the in-plane part of each
 * transformed point is an ordinary 1×kH×kW convolution (see `conv.ts`).
 */

/** Interpolation points per output tile size (the infinity point is implicit and last). */
const POINTS: Readonly<Record<number, readonly number[]>> = {
  2: [0, 1, -1],
  4: [0, 1, -1, 2, -2],
  6: [0, 1, -1, 2, -2, 0.5, -0.5],
};

/** The output tile sizes with known points. */
export const WINOGRAD_TILES: readonly number[] = Object.keys(POINTS).map(Number);

export interface WinogradMatrices {
  /** Outputs per tile. */
  m: number;
  /** Kernel taps. */
  r: number;
  /** Points = inputs per tile = m + r − 1. */
  n: number;
  /** Output transform Aᵀ, m × n (row-major rows). */
  AT: number[][];
  /** Kernel transform G, n × r. */
  G: number[][];
  /** Data transform Bᵀ, n × n. */
  BT: number[][];
}

function vandermonde(points: readonly number[], cols: number): number[][] {
  const rows = points.map((a) => Array.from({ length: cols }, (_, i) => a ** i));
  rows.push(Array.from({ length: cols }, (_, i) => (i === cols - 1 ? 1 : 0)));
  return rows;
}

/** Gauss–Jordan inverse with partial pivoting (n ≤ 8, well conditioned for these points). */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const d = m[c]![c]!;
    if (d === 0) throw new Error('winograd: singular Vandermonde matrix (repeated points)');
    for (let k = 0; k < 2 * n; k++) m[c]![k]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      if (f !== 0) for (let k = 0; k < 2 * n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row) => row.slice(n));
}

const cache = new Map<string, WinogradMatrices>();

/** The matrices of F(m, r) for m in WINOGRAD_TILES. */
export function winogradMatrices(m: number, r: number): WinogradMatrices {
  const key = `${m},${r}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const points = POINTS[m];
  if (!points) throw new Error(`winograd: no points for a tile of ${m} outputs; use one of ${WINOGRAD_TILES.join(', ')}`);
  if (!Number.isInteger(r) || r < 1) throw new Error(`winograd: kernel taps must be a positive integer, got ${r}`);
  const n = m + r - 1;
  if (points.length !== n - 1) throw new Error(`winograd: F(${m}, ${r}) needs ${n - 1} finite points, the table has ${points.length} (r = 3 only)`);
  const vm = vandermonde(points, m);
  const vi = invert(vandermonde(points, n));
  const out: WinogradMatrices = {
    m,
    r,
    n,
    AT: Array.from({ length: m }, (_, i) => vm.map((row) => row[i]!)),
    G: vandermonde(points, r),
    BT: Array.from({ length: n }, (_, p) => vi.map((row) => row[p]!)),
  };
  cache.set(key, out);
  return out;
}
