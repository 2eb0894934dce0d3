/**
 * Node-only file layer over the pure (ArrayBuffer) NIfTI code: read/write volumes by path, atomically.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InputError, type MemoryBudget, checkHostBytes, formatBytes } from '../util/errors.js';
import { DEFAULT_MAX_BYTES, readNifti, writeNifti, type NiftiReadOptions, type NiftiVolume, type NiftiWriteOptions } from './nifti.js';
import type { Volume } from './volume.js';

export interface ReadVolumeFileOptions extends Omit<NiftiReadOptions, 'name'> {
  /** Refuse files whose on-disk size is larger (default: the same cap as maxBytes, 2^31). */
  maxFileBytes?: number;
}

/**
 * What this process may allocate now: the memory the machine (or its cgroup) has available
 * (`process.availableMemory`, Node ≥ 20.13; else the OS's free memory).
 */
export function hostBudget(): MemoryBudget {
  const p = process as NodeJS.Process & { availableMemory?: () => number };
  const avail = typeof p.availableMemory === 'function' ? p.availableMemory() : freemem();
  return { hostBytes: avail > 0 ? avail : freemem() };
}

/** Why a path cannot be read, in words (not Node's error codes). */
function unreadable(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'ENOTDIR'
            ? 'a part of the path is not a folder'
            : e instanceof Error
              ? e.message
              : String(e);
  return new InputError('unreadable', `${path}: cannot read the volume file (${why})`, path);
}

/**
 * Reads a .nii or .nii.gz file; errors name the path and are InputErrors (exit code 4). Sizes the header
 * declares are checked against `opts.budget`, by default what the machine has available, before anything
 * of that size is inflated or allocated.
 */
export function readVolumeFile(path: string, opts: ReadVolumeFileOptions = {}): NiftiVolume {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw unreadable(path, e);
  }
  const cap = opts.maxFileBytes ?? opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (size > cap) {
    throw new InputError('too-large', `${path}: the file is ${formatBytes(size)}, over the ${formatBytes(cap)} cap; raise maxFileBytes if intended`, path);
  }
  const budget = opts.budget ?? hostBudget();
  checkHostBytes(size, budget, 'reading the file', path, 'free memory or crop the volume');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw unreadable(path, e);
  }
  return readNifti(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...opts, budget, name: path });
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
