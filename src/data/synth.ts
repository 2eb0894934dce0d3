/**
 * The built-in synthetic rectal MR cohort: T2-weighted-looking pelvic volumes, already "x-y localised"
 * around the rectum as in the paper, with T2 (tumour confined within the muscularis propria) and T3
 * (tumour breaking through it into the mesorectal fat) subjects.
 *
 * Geometry is defined in millimetres, so the anatomy is the same at every matrix size: the in-plane field
 * of view (default 112.6 mm = 256 x 0.44 mm, the paper's pixel spacing) is divided into S x S pixels, and
 * slices are ~3.1 mm thick. An axial slice, around the rectal centre (which drifts along z):
 *   lumen (air-dark or gel-bright) -> mucosa (intermediate) -> submucosa (bright) -> muscularis propria
 *   (dark ring) -> mesorectal fat (bright, with vessels and lymph nodes) -> mesorectal fascia (thin dark
 *   line) -> pelvic soft tissue, an anterior organ (bladder or prostate/uterus) and the sacrum behind.
 * The tumour (intermediate signal, heterogeneous) thickens the wall over an arc and several slices:
 * it bulges into the lumen, replaces mucosa/submucosa and invades the muscularis, and over a sub-arc
 * it grows outward (the "outgrowth": broad, nodular or spiculated, a few mm deep). Tumour shape and size,
 * outgrowth included, are drawn from one distribution for both labels; the label decides only what the
 * muscularis does there. T3: the outgrowth replaces the muscularis and reaches into the fat (the breach).
 * T2: the muscularis stays intact around it, pushed outward (its whole thickness at difficulty 0, thinning
 * to `minRemaining` at 1), and elsewhere at least `minRemaining` mm of it remains outside the tumour.
 * Size: T3 tumours are 1.15× larger in length, arc and bulge (~1.3× the volume: larger on average, as
 * in real cohorts, yet size alone gives AUC ~0.62), or drawn like T2 ones with `sizeMatched` (~0.5);
 * src/data/synth-size.ts measures it and test/data/synth-calibration.test.ts pins both bounds.
 * Nuisances: per-subject anatomy, spacing and gain; desmoplastic (fibrotic) dark spicules and lymph nodes
 * near the wall, independent of the label (the classic over-staging confounders); tumour heterogeneity;
 * a smooth multiplicative bias field; partial volume (each voxel averages a supersampled slab: 3 samples
 * across the slice, and in-plane samples at <= 0.9 mm); Rician noise. Output is rounded to integers
 * ("scanner units" ~ fat at 600-1400) so it stores losslessly as int16 NIfTI.
 *
 * Difficulty d in [0, 1] moves every label-relevant cue towards ambiguity: the outgrowth's depth
 * (~3-9 mm at d = 0, ~0.6-2.2 mm at d = 1) and arc, the T3 extension's contrast (its signal fades towards
 * fat), the T2 muscularis left around the tumour (1.0 mm -> 0.35 mm; around the outgrowth the whole
 * muscularis -> 0.35 mm), the confounder rates, and the noise (SNR of fat ~40 -> ~14).
 * Calibration (how the scale was set, and re-measured by test/data/synth-calibration.test.ts): an
 * oracle-localised hand-crafted cue — on the representative slices, the darkest of 12 angular sectors of
 * the 0-4 mm fat band outside the muscularis along the tumour arc, relative to the fat level far from the
 * wall — scored by ROC AUC (T2 vs T3) on balanced cohorts, slices 12-16:
 *     difficulty        0      0.25   0.5    0.75   1
 *     S = 32  (n=40+40) 0.86   0.77   0.67   0.51   0.38*
 *     S = 64  (n=40+40) 0.98   0.94   0.87   0.73   0.52
 *     S = 128 (n=25+25) 0.998  0.99   0.96   0.87   0.69
 * (* below 0.5: at 3.5 mm pixels the cue flips sign — the breach replaces the dark muscularis in the
 * band's partial volume; the information is |AUC - 0.5|.) The default d = 0.5 sits where this oracle
 * cue gives ~0.87 at S = 64 (0.96 at S = 128): the local evidence is there but noisy, as in the paper's task (their
 * best model 0.831, radiologists 0.64-0.73). At S = 32 the anatomy is only a few pixels thick: use a
 * tighter localisation, fovMm = 80 (2.5 mm pixels), which gives 0.96 0.92 0.82 0.70 0.58 (n=30+30) —
 * the S = 64 behaviour — or a lower difficulty. T3 tumours are also larger on average (as in the paper),
 * a cue this feature ignores and a CNN can use.
 */
import { Rng } from '../util/rng.js';
import type { Roi } from './manifest.js';
import type { Volume } from './volume.js';

export type SynthLabel = 'T2' | 'T3';

/** Tissue classes of the model (label maps, tests, previews). */
export const TISSUE = {
  other: 0,
  lumen: 1,
  mucosa: 2,
  submucosa: 3,
  muscularis: 4,
  fat: 5,
  fascia: 6,
  tumour: 7,
  node: 8,
  vessel: 9,
  fibrosis: 10,
  organ: 11,
  marrow: 12,
  cortex: 13,
  muscle: 14,
} as const;
export type Tissue = (typeof TISSUE)[keyof typeof TISSUE];
const NT = 15;

/** Paper geometry: 256 x 256 at 0.44 mm, 3.1 mm slices. */
export const PAPER_FOV_MM = 256 * 0.44;
export const PAPER_SLICE_MM = 3.1;
export const PAPER_COHORT = { n2: 168, n3: 399 } as const;

export interface SynthOptions {
  label: SynthLabel;
  /** In-plane matrix S (S x S). Default 256. */
  size?: number;
  /** Number of slices N, or a [min, max] range sampled per subject. Default [20, 30]. */
  slices?: number | [number, number];
  /** 0 (easy) .. 1 (hard). Default 0.5. */
  difficulty?: number;
  /** In-plane field of view in mm (default 112.64) and nominal slice thickness (3.1). */
  fovMm?: number;
  sliceMm?: number;
  /** Per-subject jitter of FOV (±8 %) and slice thickness (±0.4 mm). Default true. */
  jitterSpacing?: boolean;
  /**
   * T3 tumour volumes drawn from the same distribution as T2 ones (size alone does not tell the label),
   * instead of T3_VOLUME_RATIO × larger. Default false.
   */
  sizeMatched?: boolean;
  /** Subject id put in Volume.source. */
  subject?: string;
}

/** All per-subject model parameters (mm, radians); JSON-serialisable. */
export interface SynthAnatomy {
  label: SynthLabel;
  difficulty: number;
  fovMm: number;
  sliceMm: number;
  slices: number;
  /** Rectal centre path: c(z) = c0 + amp * sin(2 pi z / period + phase). */
  centre: { x0: number; y0: number; ax: number; ay: number; period: number; px: number; py: number };
  lumen: { r: number; ecc: number; eccAngle: number; folds: number; foldAmp: number; foldPhase: number; signal: number };
  wall: { mucosa: number; submucosa: number; muscularis: number };
  fascia: { dx: number; dy: number; ax: number; ay: number; thick: number; lobes: [number, number, number, number] };
  tumour: {
    z: number;
    halfLength: number;
    angle: number;
    halfArc: number;
    inward: number;
    push: number;
    invasion: number;
    minRemaining: number;
    edgeNoise: [number, number, number, number];
  };
  /**
   * The tumour's outward growth over a sub-arc, drawn from one distribution for both labels, so the
   * tumour's shape and size do not depend on the label. T3: it breaks through the muscularis into the
   * fat (its signal fading towards fat by `fade`); T2: it pushes the intact muscularis outward, which
   * keeps at least `tumour.minRemaining` mm of it around the tumour.
   */
  outgrowth: {
    z: number;
    halfLength: number;
    angle: number;
    halfArc: number;
    depth: number;
    shape: 'broad' | 'nodular' | 'spiculated';
    lobes: { angle: number; width: number; gain: number }[];
    fade: number;
  };
  fibrosis: { angle: number; z: number; halfZ: number; length: number; width: number }[];
  nodes: { angle: number; r: number; z: number; radius: number; signal: number }[];
  vessels: { angle: number; r: number; drift: number; radius: number }[];
  organ: { x: number; y: number; rx: number; ry: number; signal: number };
  sacrum: { y: number; curve: number };
  /** Pelvic side-wall muscles (levator ani / obturator), mirrored left and right of the fascia. */
  levator: { dx: number; dy: number; rx: number; ry: number; signal: number };
  signal: Record<'mucosa' | 'submucosa' | 'muscularis' | 'fat' | 'fascia' | 'tumour' | 'other', number>;
  bias: number[];
  noise: number;
  gain: number;
}

export interface SynthSubject {
  volume: Volume;
  label: SynthLabel;
  /** 1-3 contiguous slice indices (0-based along D): widest tumour, extramural extension weighted up. */
  representativeSlices: number[];
  /** Tumour slices (±1) x the mesorectum's in-plane box. */
  roi: Roi;
  /** Fraction of each voxel's supersamples that were tumour (0..1), [D, H, W]. */
  tumourFraction: Float32Array;
  /** Largest radial extension of tumour beyond the outer muscularis boundary, mm (0 for T2). */
  extensionMm: number;
  anatomy: SynthAnatomy;
}

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;
/** Smooth bump, 1 at u = 0 falling to 0 at |u| = 1. */
const bump = (u: number): number => (Math.abs(u) >= 1 ? 0 : Math.cos((u * Math.PI) / 2) ** 2);
const wrap = (a: number): number => {
  let x = (a + Math.PI) % (2 * Math.PI);
  if (x < 0) x += 2 * Math.PI;
  return x - Math.PI;
};

/** Samples one subject's anatomy. All randomness comes from `rng`. */
export function sampleAnatomy(
  rng: Rng,
  label: SynthLabel,
  difficulty: number,
  geom: { fovMm: number; sliceMm: number; slices: number },
  size: { matched?: boolean } = {},
): SynthAnatomy {
  const d = Math.max(0, Math.min(1, difficulty));
  const t3 = label === 'T3';
  const Lz = geom.slices * geom.sliceMm;
  const lumenR = rng.uniform(5, 11);
  const wall = { mucosa: rng.uniform(0.7, 1.2), submucosa: rng.uniform(1.2, 2.4), muscularis: rng.uniform(2.0, 3.2) };
  // Largest outer muscularis radius the wall can reach (ellipticity 1.35, tumour push up to 2 mm).
  const outer = lumenR * 1.35 + wall.mucosa + wall.submucosa + wall.muscularis + 2;
  // One size distribution for both labels; T3 volumes are set relative to it below (size model).
  // Size: one distribution for both labels (a common log-normal scale of length, arc and bulge spreads
  // volumes over ~an order of magnitude, as in real cohorts), T3 scaled up unless size-matched.
  const scale = Math.exp(SIZE_LOG_SD * rng.normal()) * (t3 && !size.matched ? T3_SIZE_SCALE : 1);
  const halfLength = Math.min(rng.uniform(7, 13) * scale, 0.42 * Lz);
  const halfArc = Math.min(rng.uniform(0.75, 1.9) * scale, 3.0);
  const tumour = {
    z: rng.uniform(-0.12, 0.12) * Lz,
    halfLength,
    angle: rng.uniform(-Math.PI, Math.PI),
    halfArc,
    inward: rng.uniform(2.5, 7) * scale,
    push: rng.uniform(0.5, 2),
    invasion: rng.uniform(0.25, 1),
    minRemaining: lerp(1.0, 0.35, d),
    edgeNoise: [rng.uniform(-0.2, 0.2), rng.uniform(0, 6.3), rng.uniform(-0.15, 0.15), rng.uniform(0, 6.3)] as [number, number, number, number],
  };
  const shapes = ['broad', 'nodular', 'spiculated'] as const;
  const shape = shapes[rng.int(0, 3)]!;
  const bArc = Math.max(0.35, rng.uniform(0.4, 0.75) * halfArc * lerp(1, 0.7, d));
  const lobes: { angle: number; width: number; gain: number }[] = [];
  if (shape === 'nodular') {
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) lobes.push({ angle: rng.uniform(-0.7, 0.7) * bArc, width: rng.uniform(0.12, 0.3), gain: rng.uniform(0.7, 1.3) });
  } else if (shape === 'spiculated') {
    const n = rng.int(3, 7);
    for (let i = 0; i < n; i++) lobes.push({ angle: rng.uniform(-0.85, 0.85) * bArc, width: rng.uniform(0.03, 0.06), gain: rng.uniform(0.8, 1.6) });
  }
  const outgrowth: SynthAnatomy['outgrowth'] = {
    z: tumour.z + rng.uniform(-0.1, 0.1) * halfLength,
    halfLength: rng.uniform(0.55, 0.85) * halfLength,
    angle: tumour.angle + rng.uniform(-0.35, 0.35) * halfArc,
    halfArc: bArc,
    depth: rng.uniform(lerp(3, 0.6, d), lerp(9, 2.2, d)),
    shape,
    lobes,
    fade: rng.uniform(0, 0.45 * d),
  };
  // Drawn for both labels (the same random stream), used by T3 only.
  if (!t3) outgrowth.fade = 0;
  // Confounders, independent of the label.
  const fibrosis: SynthAnatomy['fibrosis'] = [];
  if (rng.next() < lerp(0.15, 0.6, d)) {
    const n = rng.int(2, 6);
    for (let i = 0; i < n; i++) {
      fibrosis.push({
        angle: tumour.angle + rng.uniform(-0.8, 0.8) * halfArc,
        z: tumour.z + rng.uniform(-0.6, 0.6) * halfLength,
        halfZ: rng.uniform(2, 5),
        length: rng.uniform(1.5, 6),
        width: rng.uniform(0.4, 0.9),
      });
    }
  }
  const fasciaAx = Math.max(rng.uniform(30, 42), outer + 10);
  const fasciaDy = rng.uniform(2, 8);
  const fasciaAy = Math.max(rng.uniform(25, 35), outer + 7 + fasciaDy);
  const nodes: SynthAnatomy['nodes'] = [];
  const nNodes = rng.int(0, 4);
  for (let i = 0; i < nNodes; i++) {
    const radius = rng.uniform(1.5, 4);
    nodes.push({
      angle: rng.uniform(-Math.PI, Math.PI),
      r: rng.uniform(outer + 3 + radius, Math.max(outer + 3.5 + radius, fasciaAy - radius - 1)),
      z: rng.uniform(-0.5, 0.5) * Lz,
      radius,
      signal: rng.uniform(0.38, 0.55),
    });
  }
  const vessels: SynthAnatomy['vessels'] = [];
  const nVessels = rng.int(3, 9);
  for (let i = 0; i < nVessels; i++) {
    vessels.push({
      angle: rng.uniform(-Math.PI, Math.PI),
      r: rng.uniform(outer + 2, fasciaAy - 1.5),
      drift: rng.uniform(-0.08, 0.08),
      radius: rng.uniform(0.4, 1.0),
    });
  }
  const organRy = rng.uniform(18, 30);
  const bladder = rng.next() < 0.5;
  const a: SynthAnatomy = {
    label,
    difficulty: d,
    fovMm: geom.fovMm,
    sliceMm: geom.sliceMm,
    slices: geom.slices,
    centre: {
      x0: rng.normal(0, 3),
      y0: rng.normal(0, 3),
      ax: rng.uniform(0, 4),
      ay: rng.uniform(0, 4),
      period: rng.uniform(80, 160),
      px: rng.uniform(0, 6.3),
      py: rng.uniform(0, 6.3),
    },
    lumen: {
      r: lumenR,
      ecc: rng.uniform(0, 0.35),
      eccAngle: rng.uniform(0, Math.PI),
      folds: rng.int(4, 8),
      foldAmp: rng.uniform(0, 0.25),
      foldPhase: rng.uniform(0, 6.3),
      signal: rng.next() < 0.6 ? rng.uniform(0.03, 0.12) : rng.uniform(0.6, 0.9),
    },
    wall,
    fascia: {
      dx: rng.normal(0, 1.5),
      dy: fasciaDy,
      ax: fasciaAx,
      ay: fasciaAy,
      thick: rng.uniform(0.6, 1.1),
      lobes: [rng.uniform(-0.06, 0.06), rng.uniform(0, 6.3), rng.uniform(-0.04, 0.04), rng.uniform(0, 6.3)],
    },
    tumour,
    outgrowth,
    fibrosis,
    nodes,
    vessels,
    organ: {
      x: rng.normal(0, 4),
      y: -(fasciaAy - fasciaDy) - organRy - rng.uniform(1, 6),
      rx: rng.uniform(22, 34),
      ry: organRy,
      signal: bladder ? rng.uniform(1.0, 1.25) : rng.uniform(0.4, 0.55),
    },
    sacrum: { y: fasciaAy + fasciaDy + rng.uniform(4, 10), curve: rng.uniform(0.002, 0.008) },
    levator: { dx: fasciaAx + rng.uniform(3, 8), dy: rng.uniform(-5, 10), rx: rng.uniform(4, 8), ry: rng.uniform(20, 35), signal: rng.uniform(0.2, 0.3) },
    signal: {
      mucosa: rng.uniform(0.4, 0.55),
      submucosa: rng.uniform(0.65, 0.85),
      muscularis: rng.uniform(0.13, 0.22),
      fat: rng.uniform(0.92, 1.05),
      fascia: rng.uniform(0.15, 0.25),
      tumour: rng.uniform(0.42, 0.58),
      other: rng.uniform(0.28, 0.38),
    },
    // Smooth log-bias coefficients for (x, y, x^2, y^2, xy, z), coordinates scaled to [-1, 1].
    bias: [rng.normal(0, 0.1), rng.normal(0, 0.1), rng.normal(0, 0.06), rng.uniform(0, 0.25), rng.normal(0, 0.05), rng.normal(0, 0.06)],
    noise: lerp(0.025, 0.07, d) * rng.uniform(0.85, 1.15),
    gain: rng.uniform(600, 1400),
  };
  return a;
}

/**
 * Linear size factor (length, arc and luminal bulge) of T3 tumours over T2 ones, unless size-matched:
 * T3 tumours are larger on average (the paper's cohort: 9.3 vs 3.3 cm³; here ~1.3× the volume), but
 * real sizes overlap so widely that size alone does not stage: this factor puts the size-only AUC at
 * ~0.62 at every difficulty (test/data/synth-calibration.test.ts).
 */
export const T3_SIZE_SCALE = 1.15;

/** Log-SD of the common size scale of each tumour (length, arc and bulge together). */
export const SIZE_LOG_SD = 0.2;

const NA = 720; // angular table resolution (0.5 degree)

/** Everything needed to classify points of one axial plane at height z (mm). */
export interface SliceModel {
  cx: number;
  cy: number;
  lumen: Float64Array; // radius where the wall starts, per angle bin
  mucosaEnd: Float64Array;
  submucosaEnd: Float64Array;
  muscularisEnd: Float64Array;
  wallEnd: Float64Array; // where the muscularis would end without the tumour (T2's is pushed outward)
  tumourIn: Float64Array; // tumour occupies [tumourIn, tumourOut) when tumourOut > tumourIn
  tumourOut: Float64Array;
  fade: Float64Array; // 0..1 blend of tumour signal towards fat outside the muscularis
  rWall: number; // beyond this radius nothing belongs to the rectal wall
  fx: number;
  fy: number;
  fasciaR: Float64Array; // fascia radius around (fx, fy) per angle bin
  fasciaHalf: number;
  fasciaMax: number;
  fasciaMin: number;
  /** Ellipse-normalised radius bounds: below qIn surely inside the fascia, above qOut surely outside. */
  qIn: number;
  qOut: number;
  nodes: { x: number; y: number; r2: number; signal: number }[];
  vessels: { x: number; y: number; r2: number }[];
  fibrosis: { angle: number; r0: number; r1: number; half: number }[];
  a: SynthAnatomy;
}

function binOf(theta: number): number {
  let b = Math.floor(((theta + Math.PI) / (2 * Math.PI)) * NA);
  if (b >= NA) b -= NA;
  if (b < 0) b += NA;
  return b;
}

function binAngle(b: number): number {
  return -Math.PI + ((b + 0.5) * 2 * Math.PI) / NA;
}

/** Per-angle radii of the rectal wall and tumour in one plane (n angle bins over [-pi, pi)). */
interface WallRadii {
  lumen: Float64Array;
  mucosaEnd: Float64Array;
  submucosaEnd: Float64Array;
  muscularisEnd: Float64Array;
  /** Where the muscularis would end without the tumour (T3: = muscularisEnd; T2: before the push). */
  wallEnd: Float64Array;
  tumourIn: Float64Array;
  tumourOut: Float64Array;
  fade: Float64Array;
  rWall: number;
}

/**
 * The wall and tumour model of the plane at height z (mm, relative to the rectal centre) on n angle
 * bins: the one place the geometry is defined (rendering uses NA bins, volume measurement fewer).
 */
function wallRadii(a: SynthAnatomy, z: number, n: number): WallRadii {
  const t = a.tumour;
  const og = a.outgrowth;
  const breaks = a.label === 'T3';
  const fz = bump((z - t.z) / t.halfLength);
  const oz = bump((z - og.z) / og.halfLength);
  const o: WallRadii = {
    lumen: new Float64Array(n),
    mucosaEnd: new Float64Array(n),
    submucosaEnd: new Float64Array(n),
    muscularisEnd: new Float64Array(n),
    wallEnd: new Float64Array(n),
    tumourIn: new Float64Array(n),
    tumourOut: new Float64Array(n),
    fade: new Float64Array(n),
    rWall: 0,
  };
  const zPhase = z * 0.15;
  for (let b = 0; b < n; b++) {
    const th = -Math.PI + ((b + 0.5) * 2 * Math.PI) / n;
    const L = a.lumen;
    // Mucosal folds move only the inner surface; submucosa and muscularis stay a smooth ring.
    const rb = L.r * (1 + L.ecc * Math.cos(2 * (th - L.eccAngle)));
    const rl = rb * (1 - L.foldAmp * Math.max(0, Math.sin(L.folds * th + L.foldPhase + zPhase)));
    // Tumour factor at this angle, with an irregular edge.
    const du = wrap(th - t.angle) / t.halfArc;
    const edge = 1 + t.edgeNoise[0] * Math.sin(3 * th + t.edgeNoise[1] + z * 0.2) + t.edgeNoise[2] * Math.sin(5 * th + t.edgeNoise[3]);
    const f = fz * bump(du / Math.max(0.3, edge));
    const push = f * t.push;
    const m1 = rl + a.wall.mucosa;
    const m2 = rb + a.wall.mucosa + a.wall.submucosa + push;
    const m3 = m2 + a.wall.muscularis;
    o.lumen[b] = rl;
    o.mucosaEnd[b] = m1;
    o.submucosaEnd[b] = m2;
    o.wallEnd[b] = m3;
    let tin = rl;
    let tout = rl;
    if (f > 0.02) {
      const p = Math.min(1, f / 0.35);
      tin = Math.max(0.4, rl - f * t.inward);
      // T2: reaches into the muscularis but leaves at least minRemaining mm of it.
      const inv = t.invasion * (0.8 + 0.2 * Math.cos(2 * th + z * 0.1));
      tout = rl + p * (m2 - rl + inv * Math.max(0, m3 - m2 - t.minRemaining));
      const env = oz * bump(wrap(th - og.angle) / og.halfArc) * p;
      if (env > 0) {
        let g = 1;
        if (og.lobes.length) {
          g = og.shape === 'spiculated' ? 0.2 : 0.35;
          for (const lobe of og.lobes) {
            const u = wrap(th - og.angle - lobe.angle) / lobe.width;
            g = Math.max(g, lobe.gain * Math.exp(-u * u));
          }
        }
        const target = m3 + og.depth * g;
        tout = tout + Math.sqrt(env) * (target - tout);
        o.fade[b] = og.fade;
      }
    }
    // T3: the tumour replaces the muscularis and reaches into the fat. T2: the same tumour, but the
    // muscularis stays intact around it, pushed outward where the tumour reaches past its old edge.
    // The pushed rim: the whole muscularis at difficulty 0, thinning to T2's minimum at 1.
    const rim = lerp(a.wall.muscularis, t.minRemaining, a.difficulty);
    const mEnd = breaks ? m3 : Math.max(m3, tout + rim);
    o.muscularisEnd[b] = mEnd;
    o.tumourIn[b] = tin;
    o.tumourOut[b] = tout;
    o.rWall = Math.max(o.rWall, mEnd, tout);
  }
  if (!breaks) {
    // T2: the muscularis must also cover the outgrowth's sides. Measured along the radius alone, a steep
    // lobe's side had less than T2's minimum of muscularis across it (at difficulty 1 the tumour touched
    // the fat there); so the tumour's edge plus that minimum also holds over neighbouring bins within the
    // minimum's arc length (a change of at most a bin or two at the lobes' sides).
    const cover = Float64Array.from(o.tumourOut, (r) => r + t.minRemaining);
    for (let b = 0; b < n; b++) {
      const r = o.tumourOut[b]!;
      if (r <= o.submucosaEnd[b]!) continue; // no tumour in the muscularis here: nothing to cover
      const reach = Math.min(n >> 1, Math.ceil((t.minRemaining / Math.max(r, 1e-6)) * (n / (2 * Math.PI))));
      for (let k = -reach; k <= reach; k++) {
        const j = (b + k + n) % n;
        if (cover[b]! > o.muscularisEnd[j]!) {
          o.muscularisEnd[j] = cover[b]!;
          o.rWall = Math.max(o.rWall, cover[b]!);
        }
      }
    }
  }
  return o;
}

/**
 * Tumour cross-section in the plane at height z (mm²): all of it; the outgrowth, beyond where the
 * muscularis would end without the tumour (both labels alike); and the extramural part, beyond the
 * actual muscularis (T3's extension into the fat; 0 for T2). Exact up to the angular resolution.
 */
export function tumourCrossSection(a: SynthAnatomy, z: number, bins = 360): { area: number; outgrowth: number; extramural: number } {
  const w = wallRadii(a, z, bins);
  const dth = (2 * Math.PI) / bins;
  let area = 0;
  let outgrowth = 0;
  let extramural = 0;
  const beyond = (tin: number, tout: number, r: number): number => {
    const r0 = Math.max(tin, r);
    return tout > r0 ? ((tout * tout - r0 * r0) / 2) * dth : 0;
  };
  for (let b = 0; b < bins; b++) {
    const tin = w.tumourIn[b]!;
    const tout = w.tumourOut[b]!;
    if (!(tout > tin)) continue;
    area += ((tout * tout - tin * tin) / 2) * dth;
    outgrowth += beyond(tin, tout, w.wallEnd[b]!);
    extramural += beyond(tin, tout, w.muscularisEnd[b]!);
  }
  return { area, outgrowth, extramural };
}

/**
 * Whole tumour volume in mm³ (intramural + extramural), integrated over the tumour's full length
 * (midpoint rule, `nz` planes), independent of the slice grid: the tumour's size as a clinician
 * would measure it.
 */
export function tumourVolumeMm3(a: SynthAnatomy, nz = 32, bins = 240): number {
  const t = a.tumour;
  const dz = (2 * t.halfLength) / nz;
  let v = 0;
  for (let i = 0; i < nz; i++) v += tumourCrossSection(a, t.z - t.halfLength + (i + 0.5) * dz, bins).area * dz;
  return v;
}

export function buildSliceModel(a: SynthAnatomy, z: number): SliceModel {
  const c = a.centre;
  const cx = c.x0 + c.ax * Math.sin((2 * Math.PI * z) / c.period + c.px);
  const cy = c.y0 + c.ay * Math.sin((2 * Math.PI * z) / c.period + c.py);
  const { lumen, mucosaEnd, submucosaEnd, muscularisEnd, wallEnd, tumourIn, tumourOut, fade, rWall } = wallRadii(a, z, NA);
  const F = a.fascia;
  const fasciaR = new Float64Array(NA);
  let fasciaMax = 0;
  let fasciaMin = Infinity;
  for (let b = 0; b < NA; b++) {
    const th = binAngle(b);
    const e = 1 / Math.sqrt((Math.cos(th) / F.ax) ** 2 + (Math.sin(th) / F.ay) ** 2);
    const r = e * (1 + F.lobes[0] * Math.sin(2 * th + F.lobes[1]) + F.lobes[2] * Math.sin(3 * th + F.lobes[3]));
    fasciaR[b] = r;
    fasciaMax = Math.max(fasciaMax, r);
    fasciaMin = Math.min(fasciaMin, r);
  }
  const nodes = a.nodes
    .filter((n) => Math.abs(z - n.z) < n.radius)
    .map((n) => ({
      x: cx + n.r * Math.cos(n.angle),
      y: cy + n.r * Math.sin(n.angle),
      r2: n.radius * n.radius - (z - n.z) ** 2,
      signal: n.signal,
    }));
  const vessels = a.vessels.map((v) => {
    const ang = v.angle + v.drift * z * 0.05;
    return { x: cx + v.r * Math.cos(ang), y: cy + v.r * Math.sin(ang), r2: v.radius * v.radius };
  });
  const fibrosis = a.fibrosis
    .filter((s) => Math.abs(z - s.z) < s.halfZ)
    .map((s) => {
      const r0 = muscularisEnd[binOf(s.angle)]! - 0.2;
      return { angle: s.angle, r0, r1: r0 + s.length * bump((z - s.z) / s.halfZ) ** 0.3, half: s.width / 2 };
    });
  return {
    cx,
    cy,
    lumen,
    mucosaEnd,
    submucosaEnd,
    muscularisEnd,
    wallEnd,
    tumourIn,
    tumourOut,
    fade,
    rWall,
    fx: cx + F.dx,
    fy: cy + F.dy,
    fasciaR,
    fasciaHalf: F.thick / 2,
    fasciaMax,
    fasciaMin,
    // R(theta) = e(theta) * lobe(theta) and q = er / e(theta), so |lobe - 1| <= |l0| + |l2| bounds q.
    qIn: 1 - Math.abs(F.lobes[0]) - Math.abs(F.lobes[2]) - F.thick / Math.min(F.ax, F.ay),
    qOut: 1 + Math.abs(F.lobes[0]) + Math.abs(F.lobes[2]) + F.thick / Math.min(F.ax, F.ay),
    nodes,
    vessels,
    fibrosis,
    a,
  };
}

/**
 * Tissue at in-plane point (x, y) mm of a slice model. When the tissue is tumour and `info` is given,
 * info[0] receives the point's tumour-to-fat signal fade (T3's extension into the fat) and info[1] is 1
 * if the point is outgrowth (beyond where the muscularis would end without the tumour; both labels),
 * else 0.
 */
export function classifyPoint(m: SliceModel, x: number, y: number, info?: Float64Array): Tissue {
  const dx = x - m.cx;
  const dy = y - m.cy;
  const r2 = dx * dx + dy * dy;
  if (r2 < m.rWall * m.rWall) {
    const r = Math.sqrt(r2);
    const b = binOf(Math.atan2(dy, dx));
    const tin = m.tumourIn[b]!;
    const tout = m.tumourOut[b]!;
    if (tout > tin && r >= tin && r < tout) {
      if (info) {
        info[0] = r > m.muscularisEnd[b]! ? m.fade[b]! : 0;
        info[1] = r > m.wallEnd[b]! ? 1 : 0;
      }
      return TISSUE.tumour;
    }
    if (r < Math.min(m.lumen[b]!, tin)) return TISSUE.lumen;
    if (r < m.mucosaEnd[b]!) return TISSUE.mucosa;
    if (r < m.submucosaEnd[b]!) return TISSUE.submucosa;
    if (r < m.muscularisEnd[b]!) return TISSUE.muscularis;
  }
  // Outside the wall: inside the mesorectal fascia?
  const ex = x - m.fx;
  const ey = y - m.fy;
  const e2 = ex * ex + ey * ey;
  const outerF = m.fasciaMax + m.fasciaHalf;
  let inFascia = false;
  if (e2 < outerF * outerF) {
    // Bounds on the ellipse-normalised radius decide most points without an angle (atan2 is the cost).
    const F = m.a.fascia;
    const q2 = (ex / F.ax) ** 2 + (ey / F.ay) ** 2;
    if (q2 < m.qIn * m.qIn) {
      inFascia = true;
    } else if (q2 < m.qOut * m.qOut) {
      const er = Math.sqrt(e2);
      const R = m.fasciaR[binOf(Math.atan2(ey, ex))]!;
      if (Math.abs(er - R) < m.fasciaHalf) return TISSUE.fascia;
      inFascia = er < R;
    }
  }
  if (inFascia) {
    for (let i = 0; i < m.nodes.length; i++) {
      const n = m.nodes[i]!;
      if ((x - n.x) ** 2 + (y - n.y) ** 2 < n.r2) return TISSUE.node;
    }
    for (let i = 0; i < m.vessels.length; i++) {
      const v = m.vessels[i]!;
      if ((x - v.x) ** 2 + (y - v.y) ** 2 < v.r2) return TISSUE.vessel;
    }
    if (m.fibrosis.length) {
      const r = Math.sqrt(r2);
      const th = Math.atan2(dy, dx);
      for (const s of m.fibrosis) if (r >= s.r0 && r < s.r1 && Math.abs(wrap(th - s.angle)) * r < s.half) return TISSUE.fibrosis;
    }
    return TISSUE.fat;
  }
  const o = m.a.organ;
  if (((x - o.x) / o.rx) ** 2 + ((y - o.y) / o.ry) ** 2 < 1) return TISSUE.organ;
  const lv = m.a.levator;
  const lx = Math.abs(x - m.fx) - lv.dx;
  if ((lx / lv.rx) ** 2 + ((y - m.fy - lv.dy) / lv.ry) ** 2 < 1) return TISSUE.muscle;
  const sy = m.a.sacrum.y + m.a.sacrum.curve * x * x;
  if (y > sy + 1.5) return TISSUE.marrow;
  if (y > sy) return TISSUE.cortex;
  if (y > sy - 4) return TISSUE.fat; // presacral fat
  return TISSUE.other;
}

/** Tissue label map of the plane at height z on an n x n grid covering the anatomy's field of view. */
export function renderTissueSlice(a: SynthAnatomy, z: number, n: number): Uint8Array {
  const m = buildSliceModel(a, z);
  const out = new Uint8Array(n * n);
  const s = a.fovMm / n;
  for (let h = 0; h < n; h++) {
    for (let w = 0; w < n; w++) out[h * n + w] = classifyPoint(m, (w + 0.5) * s - a.fovMm / 2, (h + 0.5) * s - a.fovMm / 2);
  }
  return out;
}

/** z (mm) of the centre of slice d in a stack of n slices of thickness t, centred on z = 0. */
export function sliceZ(d: number, n: number, t: number): number {
  return (d - (n - 1) / 2) * t;
}

/** Largest radial extension of tumour beyond the muscularis, sampled along the breach at slice centres. */
function measureExtension(a: SynthAnatomy): number {
  let best = 0;
  for (let d = 0; d < a.slices; d++) {
    const m = buildSliceModel(a, sliceZ(d, a.slices, a.sliceMm));
    for (let b = 0; b < NA; b++) best = Math.max(best, m.tumourOut[b]! - m.muscularisEnd[b]!);
  }
  return best;
}

/** Two independent standard normals from one Box-Muller draw (the Rng's normal() returns one per call). */
function gaussPair(rng: Rng, out: Float64Array): void {
  let u = rng.next();
  while (u <= 0) u = rng.next();
  const r = Math.sqrt(-2 * Math.log(u));
  const t = 2 * Math.PI * rng.next();
  out[0] = r * Math.cos(t);
  out[1] = r * Math.sin(t);
}

/** Value noise: a coarse Gaussian grid bilinearly upsampled to n x n (texture, ~cell mm correlation). */
function smoothNoise(rng: Rng, n: number, cells: number): Float32Array {
  const g = cells + 2;
  const grid = rng.normalArray(g * g);
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const u = ((i + 0.5) / n) * cells + 0.5;
    const i0 = Math.floor(u);
    const fu = u - i0;
    for (let j = 0; j < n; j++) {
      const v = ((j + 0.5) / n) * cells + 0.5;
      const j0 = Math.floor(v);
      const fv = v - j0;
      out[i * n + j] =
        (grid[i0 * g + j0]! * (1 - fv) + grid[i0 * g + j0 + 1]! * fv) * (1 - fu) +
        (grid[(i0 + 1) * g + j0]! * (1 - fv) + grid[(i0 + 1) * g + j0 + 1]! * fv) * fu;
    }
  }
  return out;
}

const TEXTURE: number[] = (() => {
  const t = new Array<number>(NT).fill(0.04);
  t[TISSUE.tumour] = 0.12;
  t[TISSUE.other] = 0.1;
  t[TISSUE.fat] = 0.04;
  t[TISSUE.marrow] = 0.12;
  t[TISSUE.lumen] = 0.05;
  return t;
})();

function signalTable(a: SynthAnatomy): number[] {
  const s = new Array<number>(NT).fill(0);
  s[TISSUE.other] = a.signal.other;
  s[TISSUE.lumen] = a.lumen.signal;
  s[TISSUE.mucosa] = a.signal.mucosa;
  s[TISSUE.submucosa] = a.signal.submucosa;
  s[TISSUE.muscularis] = a.signal.muscularis;
  s[TISSUE.fat] = a.signal.fat;
  s[TISSUE.fascia] = a.signal.fascia;
  s[TISSUE.tumour] = a.signal.tumour;
  s[TISSUE.node] = 0.45;
  s[TISSUE.vessel] = 0.1;
  s[TISSUE.fibrosis] = 0.2;
  s[TISSUE.organ] = a.organ.signal;
  s[TISSUE.marrow] = 0.55;
  s[TISSUE.cortex] = 0.07;
  s[TISSUE.muscle] = a.levator.signal;
  return s;
}

/** Rounds a size option (number or [min, max]) to an integer drawn from rng. */
function pickSlices(rng: Rng, slices: number | [number, number] | undefined): number {
  const s = slices ?? [20, 30];
  const n = typeof s === 'number' ? s : rng.int(Math.round(s[0]), Math.round(s[1]) + 1);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`synth: slices must be a positive integer or [min, max], got ${String(slices)}`);
  return n;
}

/**
 * Generates one subject. Anatomy and image noise come from two independent forks of `rng`, so the same
 * seed gives the same anatomy at every matrix size.
 */
export function generateSubject(rng: Rng, opts: SynthOptions): SynthSubject {
  const S = opts.size ?? 256;
  if (!(Number.isInteger(S) && S >= 8 && S <= 2048)) throw new Error(`synth: size must be an integer in 8..2048, got ${S}`);
  const { anatomy, noiseRng } = subjectAnatomy(rng, opts);
  return renderSubject(anatomy, S, noiseRng, opts.subject);
}

/**
 * The anatomy `generateSubject(rng, opts)` renders, without rendering it (size statistics of whole
 * cohorts in milliseconds), and the image-noise stream that rendering continues with.
 */
export function subjectAnatomy(rng: Rng, opts: SynthOptions): { anatomy: SynthAnatomy; noiseRng: Rng } {
  const difficulty = opts.difficulty ?? 0.5;
  if (!(difficulty >= 0 && difficulty <= 1)) throw new Error(`synth: difficulty must be in [0, 1], got ${difficulty}`);
  if (opts.label !== 'T2' && opts.label !== 'T3') throw new Error(`synth: label must be T2 or T3, got ${String(opts.label)}`);
  const anatRng = rng.fork();
  const noiseRng = rng.fork();
  const jitter = opts.jitterSpacing ?? true;
  const slices = pickSlices(anatRng, opts.slices);
  const fovMm = (opts.fovMm ?? PAPER_FOV_MM) * (jitter ? anatRng.uniform(0.92, 1.08) : 1);
  const sliceMm = Math.max(1, (opts.sliceMm ?? PAPER_SLICE_MM) + (jitter ? anatRng.uniform(-0.4, 0.4) : 0));
  const anatomy = sampleAnatomy(anatRng, opts.label, difficulty, { fovMm, sliceMm, slices }, { matched: opts.sizeMatched ?? false });
  return { anatomy, noiseRng };
}

/**
 * Renders an anatomy to a volume at matrix S (deterministic given `noiseRng`): tissue classes sampled on
 * a supersampled grid give the clean signal and the tumour fraction, the scanner adds bias field, gain
 * and Rician noise, and the tumour's extent gives the representative slices and the ROI.
 */
export function renderSubject(a: SynthAnatomy, S: number, noiseRng: Rng, subject?: string): SynthSubject {
  const grid = samplingGrid(a, S);
  const { signal, tumourFraction, outgrowth } = renderTissue(a, grid, noiseRng);
  const data = acquire(a, S, signal, grid.per, noiseRng);
  const area = tumourArea(tumourFraction, a.slices, S);
  const representativeSlices = pickRepresentativeSlices(area, outgrowth, grid.per, noiseRng);
  const roi = tumourRoi(a, S, area);
  return {
    volume: subjectVolume(a, S, data, subject),
    label: a.label,
    representativeSlices,
    roi,
    tumourFraction,
    extensionMm: a.label === 'T3' ? Math.max(0, measureExtension(a)) : 0,
    anatomy: a,
  };
}

/** Where the supersamples of an S x S matrix lie: in-plane samples at <= 0.9 mm, 3 across each slice. */
interface SamplingGrid {
  /** Output matrix size. */
  S: number;
  /** Supersamples along each in-plane axis (F = S * ss). */
  F: number;
  /** Samples across each slice's thickness (partial volume). */
  zs: number;
  /** Weight of one supersample in its output voxel, 1 / (ss² zs). */
  per: number;
  /** Output column (or row) of each supersample column. */
  col: Int32Array;
  /** mm coordinate of each supersample column (or row) centre. */
  xs: Float64Array;
}

/** The supersampling grid of an S x S matrix over the anatomy's field of view. */
function samplingGrid(a: SynthAnatomy, S: number): SamplingGrid {
  const px = a.fovMm / S;
  const ss = Math.max(1, Math.ceil(px / 0.9 - 1e-9)); // in-plane supersampling: samples <= 0.9 mm apart
  const F = S * ss;
  const fpx = px / ss;
  const zs = 3;
  const col = new Int32Array(F);
  const xs = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    col[f] = Math.floor(f / ss);
    xs[f] = (f + 0.5) * fpx - a.fovMm / 2;
  }
  return { S, F, zs, per: 1 / (ss * ss * zs), col, xs };
}

/**
 * Classifies every supersample: the summed clean signal of each voxel (tissue signal with its texture;
 * tumour faded towards fat by its extension contrast), each voxel's tumour fraction, and per slice the
 * summed outgrowth weight of its tumour samples. Draws one texture field per slice from `noiseRng`.
 */
function renderTissue(a: SynthAnatomy, grid: SamplingGrid, noiseRng: Rng): { signal: Float64Array; tumourFraction: Float32Array; outgrowth: Float64Array } {
  const { S, F, zs, per, col, xs } = grid;
  const N = a.slices;
  const sum = new Float64Array(N * S * S);
  const tum = new Float32Array(N * S * S);
  const info = new Float64Array(2);
  const outArea = new Float64Array(N);
  const cellMm = 2;
  const sigArr = Float64Array.from(signalTable(a));
  const texArr = Float64Array.from(TEXTURE);
  const fat = a.signal.fat;
  for (let d = 0; d < N; d++) {
    const tex = smoothNoise(noiseRng, F, Math.max(2, Math.round(a.fovMm / cellMm)));
    for (let k = 0; k < zs; k++) {
      const z = sliceZ(d, N, a.sliceMm) + ((k + 0.5) / zs - 0.5) * a.sliceMm;
      const m = buildSliceModel(a, z);
      for (let fy = 0; fy < F; fy++) {
        const y = xs[fy]!;
        const row = (d * S + col[fy]!) * S;
        const trow = fy * F;
        for (let fx = 0; fx < F; fx++) {
          const t = classifyPoint(m, xs[fx]!, y, info);
          let v = sigArr[t]!;
          const o = row + col[fx]!;
          if (t === TISSUE.tumour) {
            v = v + info[0]! * (fat - v);
            outArea[d]! += info[1];
            tum[o]! += per;
          }
          sum[o]! += v * (1 + texArr[t]! * tex[trow + fx]!);
        }
      }
    }
  }
  return { signal: sum, tumourFraction: tum, outgrowth: outArea };
}

/**
 * The scanner's image of the summed signal: a smooth multiplicative bias field, the subject's gain and
 * Rician noise (two normals per voxel from `noiseRng`), rounded to integer scanner units.
 */
function acquire(a: SynthAnatomy, S: number, sum: Float64Array, per: number, noiseRng: Rng): Float32Array {
  const N = a.slices;
  const data = new Float32Array(N * S * S);
  const sigma = a.noise * a.signal.fat;
  const pair = new Float64Array(2);
  const bc = a.bias;
  for (let d = 0; d < N; d++) {
    const zz = N > 1 ? (2 * d) / (N - 1) - 1 : 0;
    for (let h = 0; h < S; h++) {
      const yy = (2 * (h + 0.5)) / S - 1;
      for (let w = 0; w < S; w++) {
        const xx = (2 * (w + 0.5)) / S - 1;
        const i = (d * S + h) * S + w;
        const field = Math.exp(bc[0]! * xx + bc[1]! * yy + bc[2]! * xx * xx + bc[3]! * yy * yy + bc[4]! * xx * yy + bc[5]! * zz);
        const clean = sum[i]! * per * field;
        gaussPair(noiseRng, pair);
        const re = clean + sigma * pair[0]!;
        const im = sigma * pair[1]!;
        data[i] = Math.round(a.gain * Math.sqrt(re * re + im * im));
      }
    }
  }
  return data;
}

/** Tumour area of each slice, in voxels (the sum of its tumour fractions). */
function tumourArea(tumourFraction: Float32Array, N: number, S: number): Float64Array {
  const area = new Float64Array(N);
  for (let d = 0; d < N; d++) for (let i = 0; i < S * S; i++) area[d]! += tumourFraction[d * S * S + i];
  return area;
}

/**
 * Representative slices, as a radiologist picks them: where the tumour is widest, with its outward growth
 * weighted heavily (where a T3 breaks through, or a T2's muscularis is thinnest); plus up to two
 * contiguous neighbours (how many is one draw from `noiseRng`).
 */
function pickRepresentativeSlices(area: Float64Array, outgrowth: Float64Array, per: number, noiseRng: Rng): number[] {
  const N = area.length;
  const score = Array.from(area, (x, d) => x + 4 * outgrowth[d]! * per);
  let best = 0;
  for (let d = 1; d < N; d++) if (score[d]! > score[best]!) best = d;
  const want = 1 + Math.floor(noiseRng.next() * 3);
  const rep = [best];
  let lo = best;
  let hi = best;
  while (rep.length < want) {
    const left = lo > 0 ? score[lo - 1]! : -1;
    const right = hi < N - 1 ? score[hi + 1]! : -1;
    if (left <= 0 && right <= 0) break;
    if (right >= left) rep.push(++hi);
    else rep.push(--lo);
  }
  rep.sort((p, q) => p - q);
  return rep;
}

/** ROI: the tumour slices (±1; all slices without tumour) x the mesorectal fascia's box (+3 mm), clipped to the image. */
function tumourRoi(a: SynthAnatomy, S: number, area: Float64Array): Roi {
  const N = a.slices;
  const px = a.fovMm / S;
  let d0 = N;
  let d1 = -1;
  for (let d = 0; d < N; d++) {
    if (area[d]! > 0) {
      d0 = Math.min(d0, d);
      d1 = Math.max(d1, d);
    }
  }
  if (d1 < 0) [d0, d1] = [0, N - 1];
  const toPix = (mm: number): number => (mm + a.fovMm / 2) / px;
  const fx0 = a.centre.x0 + a.fascia.dx;
  const fy0 = a.centre.y0 + a.fascia.dy;
  const reach = Math.max(a.centre.ax, a.centre.ay) + 3;
  const clampPix = (v: number): number => Math.max(0, Math.min(S, Math.round(v)));
  const h0 = clampPix(toPix(fy0 - a.fascia.ay * 1.1 - reach));
  const h1 = clampPix(toPix(fy0 + a.fascia.ay * 1.1 + reach));
  const w0 = clampPix(toPix(fx0 - a.fascia.ax * 1.1 - reach));
  const w1 = clampPix(toPix(fx0 + a.fascia.ax * 1.1 + reach));
  return { d: [Math.max(0, d0 - 1), Math.min(N, d1 + 2)], h: [h0, Math.max(h0 + 1, h1)], w: [w0, Math.max(w0 + 1, w1)] };
}

/** The image as a Volume: [D, H, W] with x = w, y = h (anterior to posterior), z = d, affine to voxel centres in mm. */
function subjectVolume(a: SynthAnatomy, S: number, data: Float32Array, subject: string | undefined): Volume {
  const N = a.slices;
  const px = a.fovMm / S;
  const origin = [-a.fovMm / 2 + px / 2, -a.fovMm / 2 + px / 2, sliceZ(0, N, a.sliceMm)];
  const affine = [0, 0, px, origin[0]!, 0, px, 0, origin[1]!, a.sliceMm, 0, 0, origin[2]!, 0, 0, 0, 1];
  const volume: Volume = { data, dims: [N, S, S], spacing: [a.sliceMm, px, px], affine, warnings: [] };
  if (subject !== undefined) volume.source = subject;
  return volume;
}

export interface CohortOptions {
  /** Class sizes; default the paper's 168 T2 : 399 T3. */
  n2?: number;
  n3?: number;
  seed?: number;
  size?: number;
  slices?: number | [number, number];
  difficulty?: number;
  fovMm?: number;
  sliceMm?: number;
  jitterSpacing?: boolean;
  /** T3 tumour volumes distributed as T2 ones (see SynthOptions.sizeMatched). */
  sizeMatched?: boolean;
  /** Subject ids are `${prefix}-0001`, ... Default 'synth'. */
  prefix?: string;
}

export interface CohortPlanEntry {
  index: number;
  subject: string;
  label: SynthLabel;
  /** Seed of this subject's own Rng: subjects can be generated alone, in any order or in parallel. */
  seed: number;
}

export interface CohortSubject extends SynthSubject {
  subject: string;
  index: number;
}

/** Subject ids, labels (shuffled, seeded) and per-subject seeds of a cohort, without generating images. */
export function planCohort(opts: CohortOptions = {}): CohortPlanEntry[] {
  const n2 = opts.n2 ?? PAPER_COHORT.n2;
  const n3 = opts.n3 ?? PAPER_COHORT.n3;
  if (!(Number.isInteger(n2) && Number.isInteger(n3) && n2 >= 0 && n3 >= 0 && n2 + n3 > 0)) {
    throw new Error(`synth: n2 and n3 must be non-negative integers with n2 + n3 > 0, got ${n2}, ${n3}`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const labels: SynthLabel[] = [...new Array<SynthLabel>(n2).fill('T2'), ...new Array<SynthLabel>(n3).fill('T3')];
  rng.shuffle(labels);
  const width = Math.max(4, String(labels.length).length);
  const prefix = opts.prefix ?? 'synth';
  return labels.map((label, index) => ({
    index,
    subject: `${prefix}-${String(index + 1).padStart(width, '0')}`,
    label,
    seed: rng.nextU32(),
  }));
}

/** Generates one planned subject. */
export function generateCohortSubject(entry: CohortPlanEntry, opts: CohortOptions = {}): CohortSubject {
  const sub = generateSubject(new Rng(entry.seed), {
    label: entry.label,
    size: opts.size,
    slices: opts.slices,
    difficulty: opts.difficulty,
    fovMm: opts.fovMm,
    sliceMm: opts.sliceMm,
    jitterSpacing: opts.jitterSpacing,
    sizeMatched: opts.sizeMatched,
    subject: entry.subject,
  } as SynthOptions);
  return { ...sub, subject: entry.subject, index: entry.index };
}

/** Yields subjects one at a time (memory stays at one volume: use it for the paper-size cohort). */
export function* iterateCohort(opts: CohortOptions = {}): Generator<CohortSubject> {
  for (const e of planCohort(opts)) yield generateCohortSubject(e, opts);
}

/** Generates a whole cohort in memory; `onProgress(done, total)` after each subject. */
export function generateCohort(opts: CohortOptions = {}, onProgress?: (done: number, total: number) => void): CohortSubject[] {
  const plan = planCohort(opts);
  const out: CohortSubject[] = [];
  for (const e of plan) {
    out.push(generateCohortSubject(e, opts));
    onProgress?.(out.length, plan.length);
  }
  return out;
}
