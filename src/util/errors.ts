/**
 * Typed errors for input that voxelgrad refuses (browser-safe; every layer may throw them). The command
 * line maps `exitCode` straight to the process exit status (README: 4 = bad input data), so a refusal
 * anywhere below it needs no wrapping; `code` lets a script or a page tell the reasons apart, `source`
 * names the file (or field) without parsing the message.
 */
export type InputErrorCode =
  /** Not the format it claims to be, or damaged (truncated, corrupt header, bad JSON). */
  | 'corrupt'
  /** Readable but not what the job needs (a 2-D image where a volume is needed, a model mismatch). */
  | 'unsuitable'
  /** A size taken from the file is more than the job accepts or the machine has. */
  | 'too-large'
  /** NaN or ±Inf where only finite numbers make sense (weights, statistics). */
  | 'non-finite'
  /** A metadata or configuration value that is missing, malformed or out of range. */
  | 'invalid-field'
  /** The file could not be read at all (missing, a folder, no permission). */
  | 'unreadable';

export class InputError extends Error {
  /** README: exit code 4, bad input data. */
  readonly exitCode = 4;
  constructor(
    readonly code: InputErrorCode,
    message: string,
    /** The file or record the problem is in, when there is one. */
    readonly source?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** Bytes as people read them (binary units), for messages that quote sizes. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 2 ** 40) return `${(n / 2 ** 40).toFixed(1)} TiB`;
  if (a >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (a >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (a >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * What a job may allocate for one input: the bytes the machine can give it right now (Node: available
 * memory, see io.node.ts; a page: unknown, so Infinity unless the embedder says) and, where a GPU is
 * involved, its largest storage binding.
 */
export interface MemoryBudget {
  /** Host bytes the job may use for this input (Infinity = unknown, no check). */
  hostBytes: number;
  /** Largest single device buffer (the adapter's maxStorageBufferBindingSize), when it matters. */
  deviceBufferBytes?: number;
}

export const UNLIMITED: MemoryBudget = { hostBytes: Number.POSITIVE_INFINITY };

/**
 * Refuses work that needs more host memory than the budget, before anything is allocated. `what` says
 * what needs it ("decoding 512×512×400 int16 voxels"), `fix` what the user can do.
 */
export function checkHostBytes(need: number, budget: MemoryBudget, what: string, source: string, fix: string): void {
  if (need > budget.hostBytes) {
    throw new InputError(
      'too-large',
      `${source}: ${what} needs about ${formatBytes(need)}, but only ${formatBytes(budget.hostBytes)} of memory is available; ${fix}`,
      source,
    );
  }
}
