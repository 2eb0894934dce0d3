/**
 * Tumour size of a synthetic subject, measured on its ground-truth geometry (no rendering): what a
 * classifier could learn from size alone. The synthetic cohort's size model (src/data/synth.ts) is
 * checked with these: T3 larger on average but size-only AUC ≤ 0.70, ≤ 0.60 when size-matched
 * (test/data/synth-calibration.test.ts).
 */
import { type SynthAnatomy, sliceZ, tumourCrossSection, tumourVolumeMm3 } from './synth.js';

export interface TumourSize {
  /** Whole tumour, intramural + extramural (mm³). */
  volumeMm3: number;
  /**
   * Tumour volume inside the `depth`-slice window centred on the slice a radiologist would pick (largest
   * tumour area with its outgrowth weighted 4×, as the generator picks representative slices): what a network
   * fed that window sees (mm³).
   */
  windowMm3: number;
  /** Largest tumour area of one slice (partial volume across the slice averaged, mm²). */
  maxAreaMm2: number;
  /** Craniocaudal extent: slices holding tumour × slice thickness (mm). */
  lengthMm: number;
  /** The generator's own size parameters (after the size model): half-length (mm), half-arc (rad), luminal bulge (mm). */
  halfLength: number;
  halfArc: number;
  inward: number;
}

export const SIZE_FEATURES = ['volumeMm3', 'windowMm3', 'maxAreaMm2', 'lengthMm', 'halfLength', 'halfArc', 'inward'] as const;
export type SizeFeature = (typeof SIZE_FEATURES)[number];

/** Size measures of one anatomy; slices sampled as the renderer samples them (3 planes per slice). */
export function tumourSize(a: SynthAnatomy, depth = 8): TumourSize {
  const N = a.slices;
  const area = new Float64Array(N);
  const score = new Float64Array(N);
  for (let d = 0; d < N; d++) {
    for (let k = 0; k < 3; k++) {
      const c = tumourCrossSection(a, sliceZ(d, N, a.sliceMm) + ((k + 0.5) / 3 - 0.5) * a.sliceMm, 240);
      area[d]! += c.area / 3;
      score[d]! += (c.area + 4 * c.outgrowth) / 3;
    }
  }
  let best = 0;
  for (let d = 1; d < N; d++) if (score[d]! > score[best]!) best = d;
  const start = Math.max(0, Math.min(N - depth, best - Math.floor(depth / 2)));
  let windowMm3 = 0;
  for (let d = start; d < Math.min(N, start + depth); d++) windowMm3 += area[d]! * a.sliceMm;
  let lengthMm = 0;
  for (let d = 0; d < N; d++) if (area[d]! > 0) lengthMm += a.sliceMm;
  return {
    volumeMm3: tumourVolumeMm3(a),
    windowMm3,
    maxAreaMm2: Math.max(...area),
    lengthMm,
    halfLength: a.tumour.halfLength,
    halfArc: a.tumour.halfArc,
    inward: a.tumour.inward,
  };
}
