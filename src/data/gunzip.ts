import { Gunzip } from 'fflate';

/** Input is fed to the inflater in slices this big, so at most one slice's output overshoots a stop. */
const INPUT_CHUNK = 64 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Incremental gzip decompression that stops as soon as enough output exists.
 * fflate's `decompressSync` returns only the first member of a multi-member stream and always inflates
 * everything; its streaming `Gunzip` follows every member, so we drive that one slice by slice and stop
 * early — a header that declares an absurd size is rejected before the rest is inflated.
 */
export class GunzipReader {
  private readonly gz: Gunzip;
  private chunks: Uint8Array[] = [];
  private total = 0;
  private pos = 0;
  private ended = false;
  private failure: string | null = null;
  /** Number of gzip members seen so far. */
  members = 1;
  /** Set when a problem was met after enough data had been produced (e.g. trailing garbage). */
  lateWarning: string | null = null;

  constructor(private readonly input: Uint8Array, private readonly name: string) {
    this.gz = new Gunzip((chunk) => {
      if (chunk.length) {
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

  /**
   * Inflate until at least `n` bytes are out or the input ends. Returns everything produced so far
   * (possibly fewer than `n` bytes: the caller decides whether that is truncation).
   */
  readAtLeast(n: number): Uint8Array {
    while (this.total < n && !this.ended && this.failure === null) {
      const end = Math.min(this.input.length, this.pos + INPUT_CHUNK);
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
      if (this.total >= n) {
        // Output already complete (e.g. junk after the last member): keep it, but say so.
        this.lateWarning = `gzip stream has trailing data that could not be inflated (${this.failure}); ignored`;
      } else {
        throw new Error(
          `${this.name}: gzip stream is corrupt or truncated after ${this.total} decompressed bytes (${this.failure}); ` +
            're-export or re-download the file',
        );
      }
    }
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
}
