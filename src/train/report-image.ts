/**
 * Pixels for the run report and `predict`: the saliency colour map, a saliency map blended over a gray
 * slice (RGBA), a saliency map alone on a transparent background, and images as PNG data URLs.
 */
import { resizeBilinear } from '../data/image-ops.js';
import { encodePng, pngDataUrl, toGray8 } from '../util/png.js';
import type { ReportImage } from './report-types.js';

// Perceptual "inferno"-like ramp for saliency (dark purple → orange → pale yellow).
const HEAT_STOPS: Array<[number, number, number]> = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

/** RGB of the saliency colormap at t ∈ [0, 1]. */
export function heatColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = HEAT_STOPS[i]!;
  const b = HEAT_STOPS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/**
 * RGBA pixels of a gray image with a saliency heat map blended over it (the CLI's `predict` writes these
 * as PNG). Saliency is normalised to [0, its maximum] (negative values count as 0), resized bilinearly
 * to the image size, and drawn with opacity `alphaMax × saliency` so unimportant regions stay clear.
 */
export function saliencyOverlayRgba(
  image: { width: number; height: number; data: ArrayLike<number>; min?: number; max?: number },
  saliency: { width: number; height: number; data: ArrayLike<number> },
  options: { alphaMax?: number } = {},
): Uint8Array {
  const { width: w, height: h } = image;
  if (image.data.length !== w * h) throw new Error(`saliencyOverlayRgba: image data has ${image.data.length} values, expected ${w}×${h}`);
  if (saliency.data.length !== saliency.width * saliency.height) {
    throw new Error(`saliencyOverlayRgba: saliency data has ${saliency.data.length} values, expected ${saliency.width}×${saliency.height}`);
  }
  const alphaMax = options.alphaMax ?? 0.65;
  const gray = toGray8(image.data, { ...(image.min !== undefined ? { min: image.min } : {}), ...(image.max !== undefined ? { max: image.max } : {}) });
  const sal = resizeBilinear(saliency.data, 1, saliency.height, saliency.width, h, w);
  let smax = 0;
  for (const v of sal) if (Number.isFinite(v) && v > smax) smax = v;
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const s = smax > 0 && Number.isFinite(sal[i]!) ? Math.max(0, sal[i]!) / smax : 0;
    const [r, g, b] = heatColor(s);
    const a = alphaMax * s;
    const gv = gray[i]!;
    out[i * 4] = Math.round(gv * (1 - a) + r * a);
    out[i * 4 + 1] = Math.round(gv * (1 - a) + g * a);
    out[i * 4 + 2] = Math.round(gv * (1 - a) + b * a);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Transparent-background heat RGBA of a saliency map alone, resized to w×h (for stacking over a PNG). */
export function saliencyOnlyRgba(sal: Extract<ReportImage, { kind: 'gray' }>, w: number, h: number): Uint8Array {
  if (sal.data.length !== sal.width * sal.height) {
    throw new Error(`report image: saliency data has ${sal.data.length} values, expected ${sal.width}×${sal.height}`);
  }
  const v = resizeBilinear(sal.data, 1, sal.height, sal.width, h, w);
  let smax = 0;
  for (const x of v) if (Number.isFinite(x) && x > smax) smax = x;
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const s = smax > 0 && Number.isFinite(v[i]!) ? Math.max(0, v[i]!) / smax : 0;
    const [r, g, b] = heatColor(s);
    out.set([r, g, b, Math.round(255 * 0.65 * s)], i * 4);
  }
  return out;
}

export function checkDataUrl(url: string): string {
  if (!/^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]*$/.test(url)) {
    throw new Error('report image: dataUrl must be a base64 "data:image/png;base64,…" URL (the report embeds all images)');
  }
  return url;
}

export function grayDataUrl(img: Extract<ReportImage, { kind: 'gray' }>): string {
  if (img.data.length !== img.width * img.height) {
    throw new Error(`report image: gray data has ${img.data.length} values, expected ${img.width}×${img.height}`);
  }
  const range = { ...(img.min !== undefined ? { min: img.min } : {}), ...(img.max !== undefined ? { max: img.max } : {}) };
  return pngDataUrl(encodePng({ width: img.width, height: img.height, channels: 1, data: toGray8(img.data, range) }));
}
