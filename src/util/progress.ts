/**
 * Progress bar with ETA for long phases (folds, epochs, test-time augmentation).
 *
 * Writes to an injected stream so this file stays browser-safe (the CLI passes process.stderr).
 * On a TTY the bar redraws in place ("\r" + clear-to-end-of-line), at most every `minIntervalMs`.
 * Not on a TTY (logs, CI, pipes) nothing is drawn while running and `finish()` writes one summary line,
 * so log files hold one line per completed phase instead of thousands of carriage returns.
 */

export interface ProgressStream {
  write(s: string): void;
  isTTY?: boolean;
  /** Terminal width (Node's tty.WriteStream has it); default 80. */
  columns?: number;
}

export interface ProgressOptions {
  /** Phase name shown first, e.g. "fold 3/10 train". */
  label: string;
  /** Number of units in the phase (epochs, batches, TTA passes); >= 0. */
  total: number;
  /** Unit name for the summary line (default "steps"). */
  unit?: string;
  /** Clock in milliseconds (default performance.now or Date.now); injectable for tests. */
  now?: () => number;
  /** Minimum time between TTY redraws (default 100 ms). */
  minIntervalMs?: number;
  /** Write nothing at all, not even the summary line. */
  quiet?: boolean;
}

/** "45s", "3m07s", "2h05m". Negative or non-finite → "?". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function defaultNow(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? perf.now() : Date.now();
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly total: number;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly start: number;
  private done = 0;
  private info = '';
  private lastDraw = -Infinity;
  private drawn = false;
  private finished = false;

  constructor(stream: ProgressStream, options: ProgressOptions) {
    if (!(Number.isInteger(options.total) && options.total >= 0)) {
      throw new Error(`Progress "${options.label}": total must be a non-negative integer, got ${options.total}`);
    }
    this.stream = stream;
    this.label = options.label;
    this.total = options.total;
    this.unit = options.unit ?? 'steps';
    this.now = options.now ?? defaultNow;
    this.minIntervalMs = options.minIntervalMs ?? 100;
    this.quiet = options.quiet ?? false;
    this.tty = stream.isTTY === true && !this.quiet;
    this.start = this.now();
    this.draw(true);
  }

  /** Units completed so far. */
  get completed(): number {
    return this.done;
  }

  /** Seconds since the phase started. */
  elapsedSeconds(): number {
    return (this.now() - this.start) / 1000;
  }

  /** Estimated seconds left (NaN before the first unit completes). */
  etaSeconds(): number {
    if (this.done === 0) return NaN;
    return (this.elapsedSeconds() / this.done) * (this.total - this.done);
  }

  /** Marks `n` more units done; `info` (e.g. "loss 0.412") replaces the trailing text. */
  tick(n = 1, info?: string): void {
    this.update(this.done + n, info);
  }

  /** Sets the number of completed units. */
  update(done: number, info?: string): void {
    if (this.finished) return;
    this.done = Math.max(0, Math.min(this.total, done));
    if (info !== undefined) this.info = info;
    this.draw(this.done === this.total);
  }

  /** Prints a message without breaking the bar (it is cleared, the message printed, the bar redrawn). */
  log(message: string): void {
    if (this.quiet) return;
    if (this.tty && this.drawn && !this.finished) {
      this.stream.write(`\r\x1b[K${message}\n`);
      this.draw(true);
    } else this.stream.write(`${message}\n`);
  }

  /** Ends the phase: on a TTY the bar's final state stays on its line; otherwise one summary line. */
  finish(info?: string): void {
    if (this.finished) return;
    if (info !== undefined) this.info = info;
    if (this.tty) {
      this.draw(true);
      this.stream.write('\n');
    } else if (!this.quiet) {
      const what = this.done === this.total ? `${this.total} ${this.unit}` : `${this.done}/${this.total} ${this.unit} (stopped early)`;
      this.stream.write(`${this.label}: ${what} in ${formatDuration(this.elapsedSeconds())}${this.info ? ` — ${this.info}` : ''}\n`);
    }
    this.finished = true;
  }

  /** The bar line as it would be drawn now (without control characters); `width` in columns. */
  render(width = this.stream.columns ?? 80): string {
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const pct = `${`${Math.floor(frac * 100)}`.padStart(3)}%`;
    const count = `${this.done}/${this.total}`;
    const elapsed = formatDuration(this.elapsedSeconds());
    const eta = this.done === this.total ? 'done' : `ETA ${formatDuration(this.etaSeconds())}`;
    const tail = `${count} ${pct} ${elapsed} ${eta}${this.info ? `  ${this.info}` : ''}`;
    const barWidth = Math.max(5, Math.min(30, width - this.label.length - tail.length - 5));
    const filled = Math.round(frac * barWidth);
    const line = `${this.label} [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${tail}`;
    return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const t = this.now();
    if (!force && t - this.lastDraw < this.minIntervalMs) return;
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r\x1b[K${this.render()}`);
  }
}

/** Convenience: `const p = progress(process.stderr, 'fold 1/10 epochs', 40)`. */
export function progress(stream: ProgressStream, label: string, total: number, options: Omit<ProgressOptions, 'label' | 'total'> = {}): Progress {
  return new Progress(stream, { ...options, label, total });
}
