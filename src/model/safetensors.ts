/**
 * The safetensors format (what PyTorch's `safetensors` package and the web ecosystem read):
 * 8-byte little-endian header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}`, then the raw little-endian tensor bytes. Pure code, browser-safe.
 */
export type SafeDType = 'F32' | 'I64' | 'I32' | 'U8' | 'F64';

const BYTES: Record<SafeDType, number> = { F32: 4, I64: 8, I32: 4, U8: 1, F64: 8 };

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Uint8Array;
}

/** Serialises tensors (sorted by name, 8-byte aligned header as the reference implementation does). */
export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    const expected = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    if (t.data.byteLength !== expected) throw new Error(`safetensors: '${n}' has ${t.data.byteLength} bytes but ${t.dtype}[${t.shape.join(', ')}] needs ${expected}`);
    header[n] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const hbytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hbytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.byteLength), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.byteLength;
  for (const n of names) {
    const d = tensors.get(n)!.data;
    out.set(d, pos);
    pos += d.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Parses and validates a safetensors file; every problem is an error naming `source`. */
export function decodeSafetensors(bytes: Uint8Array, source = 'checkpoint'): DecodedSafetensors {
  const fail = (m: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${m}`);
  };
  if (bytes.byteLength < 8) fail(`only ${bytes.byteLength} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > 100 * 1024 * 1024 || 8 + hlen > bytes.byteLength) fail(`header length ${hlen} exceeds the file size ${bytes.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen))) as Record<string, unknown>;
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not an object');
  const dataStart = 8 + hlen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !(e.dtype in BYTES)) fail(`tensor '${name}' has unsupported dtype ${String(e?.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isInteger(s) && s >= 0)) fail(`tensor '${name}' has an invalid shape`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) fail(`tensor '${name}' has invalid data_offsets`);
    const [b, en] = e.data_offsets!;
    if (!(Number.isInteger(b) && Number.isInteger(en) && b >= 0 && en >= b && en <= dataLen)) {
      fail(`tensor '${name}' data_offsets [${b}, ${en}] fall outside the ${dataLen} data bytes (truncated file?)`);
    }
    const need = e.shape!.reduce((a, c) => a * c, 1) * BYTES[e.dtype as SafeDType];
    if (en - b !== need) fail(`tensor '${name}' ${e.dtype}[${e.shape!.join(', ')}] needs ${need} bytes, its offsets span ${en - b}`);
    ranges.push([b, en, name]);
    tensors.set(name, { dtype: e.dtype as SafeDType, shape: e.shape!, data: bytes.slice(dataStart + b, dataStart + en) });
  }
  ranges.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) fail(`tensors '${ranges[i - 1]![2]}' and '${ranges[i]![2]}' overlap`);
  }
  return { tensors, metadata };
}

export function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export function bytesToF32(b: Uint8Array): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function i64Bytes(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(v), true);
  return out;
}

export function bytesToI64(b: Uint8Array): number {
  return Number(new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true));
}
