/**
 * Minimal NIfTI-1/-2 byte builder for tests, written from the format tables independently of
 * src/data/nifti.ts so that reader bugs cannot hide in a shared writer.
 */
export interface BuildOptions {
  version?: 1 | 2;
  littleEndian?: boolean;
  /** dim[0..7]; dim[0] defaults to the number of given sizes. */
  dim: number[];
  datatype: number;
  bitpix?: number;
  /** Voxel values in file order (i fastest). bigint for 64-bit integer types. */
  values: ArrayLike<number> | bigint[];
  pixdim?: number[];
  slope?: number;
  inter?: number;
  voxOffset?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: number[];
  xyztUnits?: number;
  /** Raw extension records to put after the header (esize, ecode; payload zero-filled). */
  extensions?: { esize: number; ecode: number }[];
  /** Extension flag byte; defaults to 1 when extensions are given. */
  extFlag?: number;
  magic?: string;
  /** dim_info byte (freq | phase << 2 | slice << 4). */
  dimInfo?: number;
}

const BYTES: Record<number, number> = { 2: 1, 4: 2, 8: 4, 16: 4, 64: 8, 256: 1, 512: 2, 768: 4, 1024: 8, 1280: 8, 32: 8, 1792: 16 };

export function buildNifti(o: BuildOptions): Uint8Array {
  const version = o.version ?? 1;
  const le = o.littleEndian ?? true;
  const hdr = version === 1 ? 348 : 540;
  const bpv = BYTES[o.datatype] ?? 1;
  const exts = o.extensions ?? [];
  const extBytes = exts.reduce((s, e) => s + Math.max(8, Math.abs(e.esize)), 0);
  const voxOffset = o.voxOffset ?? hdr + 4 + extBytes;
  const dataBytes = o.values.length * bpv;
  const total = Math.max(voxOffset + dataBytes, hdr + 4 + extBytes);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const dim = o.dim.slice();
  while (dim.length < 8) dim.push(1);
  const pixdim = (o.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1]).slice();
  while (pixdim.length < 8) pixdim.push(1);
  const srow = o.srow ?? [pixdim[1]!, 0, 0, 0, 0, pixdim[2]!, 0, 0, 0, 0, pixdim[3]!, 0];
  const setStr = (off: number, s: string): void => {
    for (let i = 0; i < s.length; i++) out[off + i] = s.charCodeAt(i);
  };
  if (version === 1) {
    v.setInt32(0, 348, le);
    out[39] = o.dimInfo ?? 0;
    dim.forEach((x, i) => v.setInt16(40 + 2 * i, x, le));
    v.setInt16(70, o.datatype, le);
    v.setInt16(72, o.bitpix ?? bpv * 8, le);
    pixdim.forEach((x, i) => v.setFloat32(76 + 4 * i, x, le));
    v.setFloat32(108, voxOffset, le);
    v.setFloat32(112, o.slope ?? 1, le);
    v.setFloat32(116, o.inter ?? 0, le);
    out[123] = o.xyztUnits ?? 2;
    v.setInt16(252, o.qformCode ?? 0, le);
    v.setInt16(254, o.sformCode ?? 0, le);
    (o.quatern ?? [0, 0, 0]).forEach((x, i) => v.setFloat32(256 + 4 * i, x, le));
    (o.qoffset ?? [0, 0, 0]).forEach((x, i) => v.setFloat32(268 + 4 * i, x, le));
    srow.forEach((x, i) => v.setFloat32(280 + 4 * i, x, le));
    setStr(344, o.magic ?? 'n+1\0');
  } else {
    v.setInt32(0, 540, le);
    setStr(4, o.magic ?? 'n+2\0\r\n\x1a\n');
    v.setInt16(12, o.datatype, le);
    v.setInt16(14, o.bitpix ?? bpv * 8, le);
    dim.forEach((x, i) => v.setBigInt64(16 + 8 * i, BigInt(x), le));
    pixdim.forEach((x, i) => v.setFloat64(104 + 8 * i, x, le));
    v.setBigInt64(168, BigInt(voxOffset), le);
    v.setFloat64(176, o.slope ?? 1, le);
    v.setFloat64(184, o.inter ?? 0, le);
    v.setInt32(344, o.qformCode ?? 0, le);
    v.setInt32(348, o.sformCode ?? 0, le);
    (o.quatern ?? [0, 0, 0]).forEach((x, i) => v.setFloat64(352 + 8 * i, x, le));
    (o.qoffset ?? [0, 0, 0]).forEach((x, i) => v.setFloat64(376 + 8 * i, x, le));
    srow.forEach((x, i) => v.setFloat64(400 + 8 * i, x, le));
    v.setInt32(500, o.xyztUnits ?? 2, le);
    out[524] = o.dimInfo ?? 0;
  }
  out[hdr] = o.extFlag ?? (exts.length ? 1 : 0);
  let p = hdr + 4;
  for (const e of exts) {
    v.setInt32(p, e.esize, le);
    v.setInt32(p + 4, e.ecode, le);
    p += Math.max(8, Math.abs(e.esize));
  }
  for (let i = 0; i < o.values.length; i++) {
    const off = voxOffset + i * bpv;
    if (off + bpv > out.length) break;
    const x = o.values[i]!;
    switch (o.datatype) {
      case 2:
        v.setUint8(off, Number(x));
        break;
      case 256:
        v.setInt8(off, Number(x));
        break;
      case 4:
        v.setInt16(off, Number(x), le);
        break;
      case 512:
        v.setUint16(off, Number(x), le);
        break;
      case 8:
        v.setInt32(off, Number(x), le);
        break;
      case 768:
        v.setUint32(off, Number(x), le);
        break;
      case 16:
        v.setFloat32(off, Number(x), le);
        break;
      case 64:
        v.setFloat64(off, Number(x), le);
        break;
      case 1024:
        v.setBigInt64(off, BigInt(x), le);
        break;
      case 1280:
        v.setBigUint64(off, BigInt(x), le);
        break;
      default:
        break;
    }
  }
  return out;
}
