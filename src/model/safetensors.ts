/**
 * The safetensors format (what PyTorch's `safetensors` package and the web ecosystem read):
 * 8-byte little-endian header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}`, then the raw little-endian tensor bytes. Pure code, browser-safe.
 */
import { InputError } from '../util/errors.js';

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
    if (t.data.byteLength !== expected)
      throw new Error(`safetensors: '${n}' has ${t.data.byteLength} bytes but ${t.dtype}[${t.shape.join(', ')}] needs ${expected}`);
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

/** Largest JSON header accepted (the reference implementation's limit); a checkpoint of ours has ~40 KB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Parses and validates a safetensors file; every problem is an InputError naming `source`. Nothing is
 * allocated from a size the file claims before it is checked against the file's real length, and the
 * tensors are views into `bytes` (no copy).
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'checkpoint'): DecodedSafetensors {
  const fail = (m: string, code: 'corrupt' | 'invalid-field' = 'corrupt'): never => {
    throw new InputError(code, `${source}: not a valid safetensors file: ${m}`, source);
  };
  if (bytes.byteLength < 8) fail(`only ${bytes.byteLength} bytes (the 8-byte header length alone needs 8)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlenBig = dv.getBigUint64(0, true);
  if (hlenBig > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    fail(
      `the header length field says ${hlenBig} bytes, but the file has ${bytes.byteLength} bytes in all${hlenBig > BigInt(MAX_HEADER_BYTES) ? ` and headers are at most ${MAX_HEADER_BYTES}` : ''} (truncated or not safetensors)`,
    );
  }
  const hlen = Number(hlenBig);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    return fail(`the header is not JSON (or not UTF-8): ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');
  const dataStart = 8 + hlen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('__metadata__ must be an object of strings', 'invalid-field');
      const bad = Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x !== 'string');
      if (bad.length)
        fail(
          `__metadata__ values must be strings; ${bad
            .slice(0, 3)
            .map(([k, x]) => `'${k}' is ${x === null ? 'null' : typeof x}`)
            .join(', ')}`,
          'invalid-field',
        );
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    if (!name) fail('a tensor has an empty name');
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!e || typeof e !== 'object') fail(`tensor '${name}' is not described by an object`);
    if (typeof e!.dtype !== 'string' || !Object.hasOwn(BYTES, e!.dtype))
      fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e!.dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
    const dtype = e!.dtype as SafeDType;
    const shape = e!.shape;
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)?.slice(0, 80)} (up to 8 non-negative integers)`);
    }
    const offs = e!.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2) fail(`tensor '${name}' has invalid data_offsets`);
    const [b, en] = offs as [unknown, unknown];
    if (!(Number.isSafeInteger(b) && Number.isSafeInteger(en) && (b as number) >= 0 && (en as number) >= (b as number) && (en as number) <= dataLen)) {
      fail(`tensor '${name}' data_offsets [${String(b)}, ${String(en)}] fall outside the ${dataLen} data bytes (truncated file?)`);
    }
    const need = (shape as number[]).reduce((a, c) => a * c, 1) * BYTES[dtype];
    if ((en as number) - (b as number) !== need)
      fail(`tensor '${name}' ${dtype}[${(shape as number[]).join(', ')}] needs ${need} bytes, its offsets span ${(en as number) - (b as number)}`);
    ranges.push([b as number, en as number, name]);
    tensors.set(name, { dtype, shape: shape as number[], data: bytes.subarray(dataStart + (b as number), dataStart + (en as number)) });
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
