import { Gunzip } from 'fflate';
import { InputError } from '../util/errors.js';

/**
 * Compressed bytes fed per push while the header is read: 64 at first, doubling up to 1024. Deflate
 * expands at most ~1032×, so the output made before the header's sizes are checked stays under ~2 MiB
 * however the stream was crafted — and a header (a few hundred compressed bytes) costs one or two pushes.
 */
const HEADER_CHUNK_FIRST = 64;
const HEADER_CHUNK = 1024;
/** Compressed bytes per push once the output size is known and reserved. */
const BODY_CHUNK = 64 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Incremental gzip decompression that stops as soon as enough output exists.
 * fflate's `decompressSync` returns only the first member of a multi-member stream and always inflates
 * everything; its streaming `Gunzip` follows every member, so we drive that one slice by slice and stop
 * early. Two phases keep memory bounded by what the caller has checked:
 *  - `readHeader(n)` inflates in small slices until n bytes exist (keeping the little it made);
 *  - `readExactly(n, reach)` inflates on in small slices until `reach` bytes exist, then reserves one
 *    n-byte buffer, copies in what exists and inflates into it, dropping anything past n — so the peak
 *    is n plus what was made before `reach` plus one slice's output, not the inflated total plus a copy.
 */
export class GunzipReader {
  private readonly gz: Gunzip;
  /** Header phase: the chunks made so far. */
  private chunks: Uint8Array[] = [];
  /** Body phase: the reserved output buffer. */
  private out: Uint8Array | null = null;
  private total = 0;
  private pos = 0;
  private ended = false;
  private failure: string | null = null;
  /** Number of gzip members seen so far. */
  members = 1;
  /** Set when a problem was met after enough data had been produced (e.g. trailing garbage). */
  lateWarning: string | null = null;
  /** Inflated bytes made past the reserved size and dropped (more data follows; e.g. later 4-D volumes). */
  dropped = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly name: string,
  ) {
    this.gz = new Gunzip((chunk) => {
      if (!chunk.length) return;
      if (this.out) {
        const take = Math.min(chunk.length, this.out.length - this.total);
        if (take > 0) this.out.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.total);
        this.total += take;
        this.dropped += chunk.length - take;
      } else {
        this.chunks.push(chunk);
        this.total += chunk.length;
      }
    });
    this.gz.onmember = () => {
      this.members++;
    };
  }

  /** True once the whole compressed input has been consumed. */
  get done(): boolean {
    return this.ended;
  }

  /** Inflated bytes so far. */
  get produced(): number {
    return this.total;
  }

  /**
   * Inflates in small slices until at least `n` bytes exist or the input ends; returns them all. A stream
   * that breaks off is an error here only when not even `min` bytes came out (a whole small file can be
   * shorter than `n`, and junk may follow it: `readExactly` judges that once the needed size is known).
   */
  readHeader(n: number, min = n): Uint8Array {
    if (this.out) throw new Error('GunzipReader: readHeader after readExactly');
    this.pump(n, HEADER_CHUNK, min);
    if (this.chunks.length > 1) {
      const all = new Uint8Array(this.total);
      let off = 0;
      for (const c of this.chunks) {
        all.set(c, off);
        off += c.length;
      }
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  /**
   * Reserves `n` bytes (the caller has checked n against its budget), inflates into them and returns the
   * first min(n, available) bytes of the stream: fewer than n when the stream ends early (the caller
   * decides whether that is truncation).
   *
   * `reach` (≤ n) is how far the stream must get before the n bytes are reserved: until then it inflates
   * in header-sized slices, keeping only what it made. A file whose stream ends before `reach` (say a
   * vox_offset far past its data) is answered with what exists, never with an n-byte reservation made
   * on the header's word alone.
   */
  readExactly(n: number, reach = 0): Uint8Array {
    if (!this.out) {
      const first = Math.min(Math.max(reach, 0), n);
      if (first > this.total) {
        this.pump(first, HEADER_CHUNK, first);
        if (this.total < first) return this.readHeader(0, 0);
      }
      const have = this.chunks.length ? this.readHeader(0, 0) : new Uint8Array(0);
      this.out = new Uint8Array(Math.max(n, 0));
      const keep = Math.min(have.length, this.out.length);
      this.out.set(have.subarray(0, keep));
      this.dropped += have.length - keep;
      this.total = keep;
      this.chunks = [];
    }
    this.pump(this.out.length, BODY_CHUNK, this.out.length);
    return this.out.subarray(0, this.total);
  }

  private pump(n: number, maxSlice: number, min: number): void {
    let slice = Math.min(maxSlice, HEADER_CHUNK_FIRST);
    while (this.total < n && this.dropped === 0 && !this.ended && this.failure === null) {
      const end = Math.min(this.input.length, this.pos + slice);
      slice = Math.min(maxSlice, slice * 2);
      const final = end >= this.input.length;
      try {
        this.gz.push(this.input.subarray(this.pos, end), final);
      } catch (e) {
        this.failure = e instanceof Error ? e.message : String(e);
      }
      this.pos = end;
      if (final) this.ended = true;
    }
    if (this.failure !== null) {
      if (this.total >= min) {
        // Output already complete (e.g. junk after the last member): keep it, but say so.
        this.lateWarning = `data after the gzip stream could not be inflated (${this.failure}); ignored`;
      } else {
        throw new InputError(
          'corrupt',
          `${this.name}: gzip stream is corrupt or truncated after ${this.total} decompressed bytes (${this.failure}); re-export or re-download the file`,
          this.name,
        );
      }
    }
  }
}
