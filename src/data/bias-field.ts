/**
 * Intensity non-uniformity (bias field) correction in the spirit of N4ITK, which the paper applies.
 * No JavaScript N4 exists; this follows N3/N4's algorithm with one simplification:
 *
 *   log v(x) = log u(x) + b(x) + noise,   b smooth.
 *
 * Each iteration (as N4's inner loop): take the current corrected log image c = log v - b; "sharpen" its
 * histogram by Wiener-deconvolving a Gaussian of FWHM `fwhm` (N4's default 0.15, Wiener noise 0.01);
 * map every voxel to E[true log intensity | c] under the sharpened histogram; fit a smooth field to the
 * residual c - E[...]; add it to b. Stop when the field update's SD falls below `convergence` (N4: 0.001)
 * or after `iterations`.
 * The simplification: N4 fits a multi-resolution cubic B-spline; here the smooth model is a low-order
 * polynomial in voxel coordinates scaled to [-1, 1] per axis (total degree `inPlaneDegree` in-plane,
 * `sliceDegree` across slices, so thick slices get a smoother model as N4's anisotropic spline spacing
 * would). That captures coil fall-off and B1 shading, not sharp local dips that N4's finer levels could.
 * Defaults are degree 2 in-plane and 1 across slices: on the synthetic rectal volumes degree 3 began to
 * absorb anatomy (the bright mesorectal disc) into the field on some subjects, leaving more error than no
 * correction, while degree 2 removed ~55-65 % of the field's log-SD on every subject tried
 * (test/data/preprocess.test.ts prints the numbers). Pass inPlaneDegree 3 for wavier fields.
 * The field is fitted over a foreground mask and its mean log over the mask is removed, so the
 * corrected image keeps the input's overall (geometric-mean) level.
 */
import type { Volume } from './volume.js';
import { percentiles } from './image-ops.js';

export interface BiasFieldOptions {
  /** Foreground mask (1 = use), length D*H*W. Default: voxels above `maskFraction` of the 99th percentile. */
  mask?: Uint8Array;
  maskFraction?: number;
  /** Polynomial degree in-plane (total degree in h, w) and across slices. Defaults 2 and 1 (higher degrees start to absorb anatomy, e.g. a bright central fat disc, into the field). */
  inPlaneDegree?: number;
  sliceDegree?: number;
  /** Maximum iterations (default 50, as one N4 level) and convergence threshold on the update's SD (0.001). */
  iterations?: number;
  convergence?: number;
  /** Histogram sharpening: Gaussian FWHM in log-intensity units (0.15), Wiener noise (0.01), bins (200). */
  fwhm?: number;
  wienerNoise?: number;
  bins?: number;
  /** Voxels used for the fit (evenly strided subsample of the mask). Default 40000. */
  maxSamples?: number;
}

export interface BiasFieldResult {
  /** The corrected volume (input / field). */
  volume: Volume;
  /** The estimated multiplicative field, mean log = 0 over the mask. */
  field: Float32Array;
  /** Foreground mask that was used. */
  mask: Uint8Array;
  /** Iterations actually run. */
  iterations: number;
}

/** Monomial exponents (c for slice, a/b in-plane) of the polynomial basis. */
function basisTerms(inPlane: number, slice: number): [number, number, number][] {
  const terms: [number, number, number][] = [];
  for (let c = 0; c <= slice; c++) for (let a = 0; a <= inPlane; a++) for (let b = 0; a + b <= inPlane; b++) terms.push([c, a, b]);
  return terms;
}

/** Solves the symmetric positive (semi)definite system A x = y by Cholesky with a small ridge. */
function solveSpd(A: Float64Array, y: Float64Array, n: number): Float64Array {
  let tr = 0;
  for (let i = 0; i < n; i++) tr += A[i * n + i]!;
  const ridge = (1e-9 * tr) / n + 1e-12;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]! + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) L[i * n + i] = Math.sqrt(Math.max(s, 1e-300));
      else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = y[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * z[k]!;
    z[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

/** In-place iterative radix-2 complex FFT (sign -1 forward, +1 inverse without scaling). */
function fft(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (sign * 2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const ar = re[i + k + len / 2]! * cr - im[i + k + len / 2]! * ci;
        const ai = re[i + k + len / 2]! * ci + im[i + k + len / 2]! * cr;
        re[i + k + len / 2] = re[i + k]! - ar;
        im[i + k + len / 2] = im[i + k]! - ai;
        re[i + k] = re[i + k]! + ar;
        im[i + k] = im[i + k]! + ai;
        [cr, ci] = [cr * wr - ci * wi, cr * wi + ci * wr];
      }
    }
  }
}

/**
 * N3/N4 histogram sharpening: returns, for each value, E[true value | observed] under the histogram
 * Wiener-deconvolved by a Gaussian of the given FWHM (as N4BiasFieldCorrectionImageFilter::SharpenImage).
 */
function sharpen(values: Float64Array, bins: number, fwhm: number, noise: number): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float64Array(values.length);
  if (!(hi > lo)) {
    out.set(values);
    return out;
  }
  const slope = (hi - lo) / (bins - 1);
  const hist = new Float64Array(bins);
  for (const v of values) {
    const c = (v - lo) / slope;
    const i = Math.min(Math.floor(c), bins - 2);
    const f = c - i;
    hist[i]! += 1 - f;
    hist[i + 1]! += f;
  }
  let size = 1;
  while (size < 2 * bins) size <<= 1;
  const off = Math.floor((size - bins) / 2);
  const hr = new Float64Array(size);
  const hiArr = new Float64Array(size);
  for (let i = 0; i < bins; i++) hr[off + i] = hist[i]!;
  fft(hr, hiArr, -1);
  // Gaussian of the given FWHM in bin units, centred at index 0 (wrapped) so it does not shift.
  const sigma = fwhm / slope / (2 * Math.sqrt(2 * Math.log(2)));
  const gr = new Float64Array(size);
  const gi = new Float64Array(size);
  let gsum = 0;
  for (let i = 0; i < size; i++) {
    const d = Math.min(i, size - i);
    gr[i] = Math.exp(-(d * d) / (2 * sigma * sigma));
    gsum += gr[i]!;
  }
  for (let i = 0; i < size; i++) gr[i] = gr[i]! / gsum;
  fft(gr, gi, -1);
  // Wiener filter conj(G) / (|G|^2 + noise) applied to the histogram.
  const fr = new Float64Array(size);
  const fi = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const g2 = gr[i]! * gr[i]! + gi[i]! * gi[i]!;
    const wr = gr[i]! / (g2 + noise);
    const wi = -gi[i]! / (g2 + noise);
    fr[i] = wr * hr[i]! - wi * hiArr[i]!;
    fi[i] = wr * hiArr[i]! + wi * hr[i]!;
  }
  fft(fr, fi, 1);
  const sharp = new Float64Array(size);
  for (let i = 0; i < size; i++) sharp[i] = Math.max(0, fr[i]! / size);
  // E[u | observed bin] = conv(F * u, G) / conv(F, G).
  const nr = new Float64Array(size);
  const ni = new Float64Array(size);
  const dr = new Float64Array(size);
  const di = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    nr[i] = sharp[i]! * (lo + (i - off) * slope);
    dr[i] = sharp[i]!;
  }
  fft(nr, ni, -1);
  fft(dr, di, -1);
  for (let i = 0; i < size; i++) {
    [nr[i], ni[i]] = [nr[i]! * gr[i]! - ni[i]! * gi[i]!, nr[i]! * gi[i]! + ni[i]! * gr[i]!];
    [dr[i], di[i]] = [dr[i]! * gr[i]! - di[i]! * gi[i]!, dr[i]! * gi[i]! + di[i]! * gr[i]!];
  }
  fft(nr, ni, 1);
  fft(dr, di, 1);
  const E = new Float64Array(bins);
  for (let i = 0; i < bins; i++) {
    const den = dr[off + i]!;
    E[i] = den > 1e-12 * size ? nr[off + i]! / den : lo + i * slope;
  }
  for (let s = 0; s < values.length; s++) {
    const c = (values[s]! - lo) / slope;
    const i = Math.min(Math.floor(c), bins - 2);
    const f = c - i;
    out[s] = E[i]! * (1 - f) + E[i + 1]! * f;
  }
  return out;
}

export function correctBiasField(vol: Volume, opts: BiasFieldOptions = {}): BiasFieldResult {
  const [D, H, W] = vol.dims;
  const n = D * H * W;
  const iters = opts.iterations ?? 50;
  const convergence = opts.convergence ?? 1e-3;
  const fwhm = opts.fwhm ?? 0.15;
  const wienerNoise = opts.wienerNoise ?? 0.01;
  const bins = opts.bins ?? 200;
  const maxSamples = opts.maxSamples ?? 40000;
  const sliceDeg = Math.min(opts.sliceDegree ?? 1, D - 1);
  const planeDeg = opts.inPlaneDegree ?? 2;
  const name = vol.source ?? 'volume';

  let mask = opts.mask;
  if (mask && mask.length !== n) throw new Error(`${name}: bias-field mask has ${mask.length} voxels, volume has ${n}`);
  if (!mask) {
    const [p99] = percentiles(vol.data, [99]);
    const thr = Math.max((opts.maskFraction ?? 0.05) * p99!, 1e-12);
    mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) mask[i] = vol.data[i]! > thr ? 1 : 0;
  }
  const idx: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) if (mask[i] && vol.data[i]! > 0) count++;
  if (count < 50) throw new Error(`${name}: bias-field correction needs at least 50 positive foreground voxels, found ${count}`);
  const stride = Math.max(1, Math.floor(count / maxSamples));
  let seen = 0;
  for (let i = 0; i < n; i++) if (mask[i] && vol.data[i]! > 0 && seen++ % stride === 0) idx.push(i);

  // Coordinates scaled to [-1, 1] per axis keep the normal equations well conditioned.
  const coord = (i: number, size: number): number => (size > 1 ? (2 * i) / (size - 1) - 1 : 0);
  const terms = basisTerms(planeDeg, sliceDeg);
  const P = terms.length;
  const m = idx.length;
  const phi = new Float64Array(m * P);
  const logv = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    const i = idx[s]!;
    const d = Math.floor(i / (H * W));
    const h = Math.floor((i % (H * W)) / W);
    const w = i % W;
    const z = coord(d, D);
    const y = coord(h, H);
    const x = coord(w, W);
    for (let t = 0; t < P; t++) {
      const [c, a, b] = terms[t]!;
      phi[s * P + t] = z ** c * y ** a * x ** b;
    }
    logv[s] = Math.log(vol.data[i]!);
  }
  // Normal matrix is the same every iteration.
  const A = new Float64Array(P * P);
  for (let s = 0; s < m; s++) {
    for (let t = 0; t < P; t++) {
      const ft = phi[s * P + t]!;
      for (let u = 0; u <= t; u++) A[t * P + u]! += ft * phi[s * P + u]!;
    }
  }
  for (let t = 0; t < P; t++) for (let u = 0; u < t; u++) A[u * P + t] = A[t * P + u]!;

  const bias = new Float64Array(m);
  const corrected = new Float64Array(m);
  const coef = new Float64Array(P);
  let ran = 0;
  for (let it = 0; it < iters; it++) {
    ran++;
    for (let s = 0; s < m; s++) corrected[s] = logv[s]! - bias[s]!;
    const expected = sharpen(corrected, bins, fwhm, wienerNoise);
    const rhs = new Float64Array(P);
    for (let s = 0; s < m; s++) {
      const r = corrected[s]! - expected[s]!;
      for (let t = 0; t < P; t++) rhs[t]! += phi[s * P + t]! * r;
    }
    const delta = solveSpd(A, rhs, P);
    let mean = 0;
    const upd = new Float64Array(m);
    for (let s = 0; s < m; s++) {
      let b = 0;
      for (let t = 0; t < P; t++) b += phi[s * P + t]! * delta[t]!;
      upd[s] = b;
      mean += b;
    }
    mean /= m;
    delta[0] = delta[0]! - mean; // the constant term is the first (c = a = b = 0)
    let ss = 0;
    for (let s = 0; s < m; s++) {
      const u = upd[s]! - mean;
      bias[s] = bias[s]! + u;
      ss += u * u;
    }
    for (let t = 0; t < P; t++) coef[t] = coef[t]! + delta[t]!;
    if (Math.sqrt(ss / m) < convergence) break;
  }

  const field = new Float32Array(n);
  const data = new Float32Array(n);
  for (let d = 0; d < D; d++) {
    const z = coord(d, D);
    for (let h = 0; h < H; h++) {
      const y = coord(h, H);
      for (let w = 0; w < W; w++) {
        const x = coord(w, W);
        let b = 0;
        for (let t = 0; t < P; t++) {
          const [c, a, bb] = terms[t]!;
          b += coef[t]! * z ** c * y ** a * x ** bb;
        }
        const i = (d * H + h) * W + w;
        const f = Math.exp(b);
        field[i] = f;
        data[i] = vol.data[i]! / f;
      }
    }
  }
  const volume: Volume = { ...vol, data, dims: [...vol.dims], spacing: [...vol.spacing], affine: vol.affine.slice(), warnings: vol.warnings.slice() };
  return { volume, field, mask, iterations: ran };
}
