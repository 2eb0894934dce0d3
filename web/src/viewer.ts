/**
 * The slice viewer: NiiVue (WebGL2) showing the staged volume as the engine read it, with the saliency
 * map as an overlay. Both come from the worker as NIfTI whose affines share one mm space (the saliency
 * lives on the model's smaller input grid), so NiiVue lines them up itself. The page talks in the
 * engine's slice index d (the volume's slice axis); NiiVue in world mm — this module converts.
 * NiiVue is loaded on first use, so the page's first paint does not wait for it.
 */
import type { Niivue as NiivueType } from '@niivue/niivue';
import type { StageResult } from './protocol.js';

export interface ViewerState {
  slice: number;
  window: [number, number];
}

type NiivueModule = typeof import('@niivue/niivue');

/** Inverse of a 4×4 row-major affine (only its 3×4 part matters). */
function invertAffine(a: number[]): number[] {
  const [m00, m01, m02, t0, m10, m11, m12, t1, m20, m21, m22, t2] = a as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const det = m00 * (m11 * m22 - m12 * m21) - m01 * (m10 * m22 - m12 * m20) + m02 * (m10 * m21 - m11 * m20);
  const i00 = (m11 * m22 - m12 * m21) / det;
  const i01 = (m02 * m21 - m01 * m22) / det;
  const i02 = (m01 * m12 - m02 * m11) / det;
  const i10 = (m12 * m20 - m10 * m22) / det;
  const i11 = (m00 * m22 - m02 * m20) / det;
  const i12 = (m02 * m10 - m00 * m12) / det;
  const i20 = (m10 * m21 - m11 * m20) / det;
  const i21 = (m01 * m20 - m00 * m21) / det;
  const i22 = (m00 * m11 - m01 * m10) / det;
  return [
    i00,
    i01,
    i02,
    -(i00 * t0 + i01 * t1 + i02 * t2),
    i10,
    i11,
    i12,
    -(i10 * t0 + i11 * t1 + i12 * t2),
    i20,
    i21,
    i22,
    -(i20 * t0 + i21 * t1 + i22 * t2),
    0,
    0,
    0,
    1,
  ];
}

const apply = (a: number[], v: number[]): [number, number, number] =>
  [0, 1, 2].map((r) => a[4 * r]! * v[0]! + a[4 * r + 1]! * v[1]! + a[4 * r + 2]! * v[2]! + a[4 * r + 3]!) as [number, number, number];

/** The affine stored in a NIfTI-1 header's srow_x/y/z (file axes i, j, k = W, H, D). */
function niftiAffine(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const file: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) file.push(v.getFloat32(280 + 16 * r + 4 * c, true));
  // Ours is (d, h, w) = (k, j, i): reverse the first three columns.
  return [0, 1, 2].flatMap((r) => [file[4 * r + 2]!, file[4 * r + 1]!, file[4 * r]!, file[4 * r + 3]!]).concat([0, 0, 0, 1]);
}

export class SliceViewer {
  private nv: NiivueType | null = null;
  private mod: NiivueModule | null = null;
  private urls: string[] = [];
  private affine: number[] = [];
  private inverse: number[] = [];
  private dims: [number, number, number] = [1, 1, 1];
  private current = -1;
  private plane = 0;
  onSlice: (d: number) => void = () => undefined;
  onWindow: (w: [number, number]) => void = () => undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  private async niivue(): Promise<NiivueType> {
    if (this.nv) return this.nv;
    this.mod = await import('@niivue/niivue');
    const nv = new this.mod.Niivue({
      backColor: [0.05, 0.06, 0.08, 1],
      crosshairColor: [0.3, 0.8, 1, 0.35],
      crosshairWidth: 0.15,
      isColorbar: false,
      dragAndDropEnabled: false,
      logLevel: 'error',
      loadingText: '',
      isOrientationTextVisible: true,
      textHeight: 0.035,
      multiplanarForceRender: false,
    });
    await nv.attachToCanvas(this.canvas);
    nv.onLocationChange = (loc: unknown) => {
      const mm = (loc as { mm: number[] }).mm;
      const d = Math.round(apply(this.inverse, mm)[0]);
      if (d >= 0 && d < this.dims[0] && d !== this.current) {
        this.current = d;
        this.onSlice(d);
      }
    };
    nv.onIntensityChange = (vol) => {
      if (vol === nv.volumes[0]) this.onWindow([vol.cal_min ?? 0, vol.cal_max ?? 1]);
    };
    this.nv = nv;
    return nv;
  }

  /** Shows a staged volume with its saliency overlay, on the middle slice of the slice axis. */
  async show(r: StageResult, overlay: { visible: boolean; opacity: number }): Promise<ViewerState> {
    const nv = await this.niivue();
    for (const u of this.urls) URL.revokeObjectURL(u);
    const vol = URL.createObjectURL(new Blob([r.displayNifti as Uint8Array<ArrayBuffer>]));
    const sal = URL.createObjectURL(new Blob([r.saliencyNifti as Uint8Array<ArrayBuffer>]));
    this.urls = [vol, sal];
    this.affine = niftiAffine(r.displayNifti);
    this.inverse = invertAffine(this.affine);
    this.dims = r.dims;
    this.current = -1;
    await nv.loadVolumes([
      { url: vol, name: 'volume.nii', colormap: 'gray', cal_min: r.window[0], cal_max: r.window[1] },
      {
        url: sal,
        name: 'saliency.nii',
        colormap: 'warm',
        opacity: overlay.visible ? overlay.opacity : 0,
        cal_min: r.saliencyRange[0],
        cal_max: r.saliencyRange[1],
      },
    ]);
    // NiiVue picks its own robust range on load; set the ones the worker computed from the data.
    const [back, sal2] = [nv.volumes[0]!, nv.volumes[1]!];
    [back.cal_min, back.cal_max] = r.window;
    [sal2.cal_min, sal2.cal_max] = r.saliencyRange;
    nv.updateGLVolume();
    // The plane across the slice axis: axial when slices run along z, coronal along y, sagittal along x.
    this.plane = [2, 1, 0][r.sliceWorldAxis]!;
    nv.setSliceType(this.plane);
    const mid = Math.floor(r.dims[0] / 2);
    this.setSlice(mid);
    return { slice: mid, window: r.window };
  }

  /** Moves to slice d of the engine's slice axis, keeping the in-plane position. */
  setSlice(d: number): void {
    const nv = this.nv;
    if (!nv || !nv.volumes.length) return;
    d = Math.max(0, Math.min(this.dims[0] - 1, Math.round(d)));
    const here = apply(this.inverse, nv.frac2mm(nv.scene.crosshairPos) as unknown as number[]);
    const inPlane = this.current < 0 ? [(this.dims[1] - 1) / 2, (this.dims[2] - 1) / 2] : [here[1], here[2]];
    const mm = apply(this.affine, [d, inPlane[0]!, inPlane[1]!]);
    nv.scene.crosshairPos = nv.mm2frac(mm);
    this.current = d;
    nv.createOnLocationChange();
    nv.updateGLVolume();
    this.onSlice(d);
  }

  setWindow(lo: number, hi: number): void {
    const nv = this.nv;
    const v = nv?.volumes[0];
    if (!nv || !v || !(hi > lo)) return;
    v.cal_min = lo;
    v.cal_max = hi;
    nv.updateGLVolume();
  }

  setOverlay(visible: boolean, opacity: number): void {
    const nv = this.nv;
    if (!nv || nv.volumes.length < 2) return;
    nv.setOpacity(1, visible ? opacity : 0);
  }

  /** One plane across the slice axis, or the three planes plus a 3-D rendering. */
  setLayout(multi: boolean): void {
    this.nv?.setSliceType(multi ? 3 : this.plane);
  }

  get loaded(): boolean {
    return Boolean(this.nv?.volumes.length);
  }
}
