import { describe, expect, it } from 'vitest';
import { readNifti, writeNifti } from '../../src/data/nifti.js';
import type { Volume } from '../../src/data/volume.js';
import { Rng } from '../../src/util/rng.js';

/** Random proper or improper rotation (columns orthonormal) from a random quaternion. */
function randomRotation(rng: Rng, improper: boolean): number[][] {
  let [a, b, c, d] = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(a, b, c, d);
  [a, b, c, d] = [a / n, b / n, c / n, d / n];
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  if (improper) for (const row of r) row[1] = -row[1]!;
  return r;
}

function makeVolume(rng: Rng, improper = false): Volume {
  const dims: [number, number, number] = [5, 7, 6];
  const spacing: [number, number, number] = [3.1, 0.44, 0.47];
  const r = randomRotation(rng, improper);
  const affine = [0, 1, 2, 3].flatMap((row) =>
    row === 3 ? [0, 0, 0, 1] : [r[row]![0]! * spacing[0], r[row]![1]! * spacing[1], r[row]![2]! * spacing[2], rng.uniform(-100, 100)],
  );
  return { data: rng.normalArray(5 * 7 * 6, 100, 40), dims, spacing, affine, warnings: [], source: 'rt' };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('writeNifti / readNifti round trip', () => {
  for (const gzip of [false, true]) {
    for (const improper of [false, true]) {
      it(`float32 ${gzip ? 'gzip' : 'plain'}, ${improper ? 'improper' : 'proper'} rotation: voxels bit-exact, geometry kept`, () => {
        const rng = new Rng(improper ? 11 : 5);
        const vol = makeVolume(rng, improper);
        const bytes = writeNifti(vol, { gzip });
        expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(gzip);
        const back = readNifti(bytes, { name: 'rt.nii' });
        expect(back.dims).toEqual(vol.dims);
        expect(bits(back.data)).toEqual(bits(vol.data));
        back.spacing.forEach((s, i) => expect(s).toBeCloseTo(vol.spacing[i]!, 5));
        back.affine.forEach((x, i) => expect(x).toBeCloseTo(vol.affine[i]!, 4));
        expect(back.nifti.affineSource).toBe('sform');
        expect(back.warnings).toEqual([]);
      });
    }
  }

  it('the qform written alongside reproduces the affine (sform disabled on read)', () => {
    for (let seed = 0; seed < 12; seed++) {
      const rng = new Rng(100 + seed);
      const vol = makeVolume(rng, seed % 2 === 1);
      const bytes = writeNifti(vol);
      new DataView(bytes.buffer).setInt16(254, 0, true); // sform_code = 0
      const back = readNifti(bytes, { name: 'q.nii' });
      expect(back.nifti.affineSource).toBe('qform');
      back.affine.forEach((x, i) => expect(x).toBeCloseTo(vol.affine[i]!, 4));
    }
  });

  it('int16 and uint8: integer data in range are stored exactly with slope 1', () => {
    const rng = new Rng(3);
    const vol = makeVolume(rng);
    const i16 = { ...vol, data: Float32Array.from(vol.data, (x) => Math.round(x * 50) - 2000) };
    const back16 = readNifti(writeNifti(i16, { datatype: 'int16', gzip: true }), { name: 'i16' });
    expect(back16.nifti.datatype).toBe('int16');
    expect(Array.from(back16.data)).toEqual(Array.from(i16.data));
    const u8 = { ...vol, data: Float32Array.from(vol.data, (x) => Math.max(0, Math.min(255, Math.round(x)))) };
    const back8 = readNifti(writeNifti(u8, { datatype: 'uint8' }), { name: 'u8' });
    expect(Array.from(back8.data)).toEqual(Array.from(u8.data));
  });

  it('int16 and uint8: real-valued data are quantised within half a step', () => {
    const vol = makeVolume(new Rng(4));
    let min = Infinity;
    let max = -Infinity;
    for (const x of vol.data) [min, max] = [Math.min(min, x), Math.max(max, x)];
    for (const [dt, levels] of [
      ['int16', 65535],
      ['uint8', 255],
    ] as const) {
      const back = readNifti(writeNifti(vol, { datatype: dt }), { name: dt });
      const step = (max - min) / levels;
      let worst = 0;
      back.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - vol.data[i]!))));
      expect(worst).toBeLessThanOrEqual(step * 0.5 + 1e-3 * step + Math.abs(max) * 1e-6);
    }
  });

  it('a volume whose D is not the largest spacing keeps its layout (slice_dim), and is reoriented without it', () => {
    const rng = new Rng(9);
    const vol = makeVolume(rng);
    const odd: Volume = { ...vol, spacing: [0.5, 2, 1], affine: [0.5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] };
    const bytes = writeNifti(odd);
    const back = readNifti(bytes, { name: 'o' });
    expect(back.dims).toEqual(vol.dims);
    expect(back.nifti.sliceAxisFrom).toBe('dim_info');
    expect(bits(back.data)).toEqual(bits(vol.data));
    bytes[39] = 0; // clear dim_info: the largest spacing (H) becomes D
    expect(readNifti(bytes, { name: 'o' }).dims).toEqual([7, 5, 6]);
    expect(bits(readNifti(bytes, { name: 'o', reorient: false }).data)).toEqual(bits(vol.data));
  });

  it('refuses dims NIfTI-1 cannot hold and data of the wrong length', () => {
    const vol = makeVolume(new Rng(1));
    expect(() => writeNifti({ ...vol, dims: [40000, 1, 1], data: new Float32Array(40000) })).toThrow(/32767/);
    expect(() => writeNifti({ ...vol, data: new Float32Array(3) })).toThrow(/need 210/);
  });
});
