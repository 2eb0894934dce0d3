/**
 * Node-only file layer over the pure (ArrayBuffer) NIfTI code: read/write volumes by path, atomically.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_MAX_BYTES, readNifti, writeNifti, type NiftiReadOptions, type NiftiVolume, type NiftiWriteOptions } from './nifti.js';
import type { Volume } from './volume.js';

export interface ReadVolumeFileOptions extends Omit<NiftiReadOptions, 'name'> {
  /** Refuse files whose on-disk size is larger (default: the same cap as maxBytes, 2^31). */
  maxFileBytes?: number;
}

/** Reads a .nii or .nii.gz file; errors name the path. */
export function readVolumeFile(path: string, opts: ReadVolumeFileOptions = {}): NiftiVolume {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new Error(`${path}: cannot read volume file (${e instanceof Error ? e.message : String(e)})`);
  }
  const cap = opts.maxFileBytes ?? opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (size > cap) {
    throw new Error(`${path}: file is ${size} bytes, over the ${cap}-byte cap; raise maxFileBytes if intended`);
  }
  const bytes = readFileSync(path);
  return readNifti(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...opts, name: path });
}

let tmpCounter = 0;

/**
 * Writes bytes to `path` atomically: a temporary file in the same folder is written, fsynced and renamed
 * over the target, so a reader (or a resumed run) never sees a half-written file.
 */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file may not exist; nothing to clean up
    }
    throw new Error(`${path}: could not write file (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Writes a Volume as NIfTI-1; gzip is chosen from a `.gz` suffix unless given explicitly. */
export function writeVolumeFile(path: string, vol: Volume, opts: NiftiWriteOptions = {}): void {
  const gzip = opts.gzip ?? path.endsWith('.gz');
  writeFileAtomic(path, writeNifti(vol, { ...opts, gzip }));
}
