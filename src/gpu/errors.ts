/** Errors raised by the engine. `kind` lets callers (and the CLI's exit codes) tell them apart. */
export type GpuErrorKind =
  | 'no-adapter'
  | 'device-lost'
  | 'validation'
  | 'out-of-memory'
  | 'internal'
  | 'shader-compilation'
  | 'over-limit'
  | 'released'
  | 'usage';

export class GpuError extends Error {
  readonly kind: GpuErrorKind;
  constructor(kind: GpuErrorKind, message: string) {
    super(message);
    this.name = 'GpuError';
    this.kind = kind;
  }
}
