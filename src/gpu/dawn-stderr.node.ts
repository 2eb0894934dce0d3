/**
 * Dawn's start-up warnings, kept off the user's terminal.
 *
 * On drivers that report huge dynamic-buffer limits (lavapipe reports 1,000,000), Dawn's native code
 * prints "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from … to fit dynamic
 * offset allocation limit." (and the same for storage buffers) straight to file descriptor 2 during the
 * first `requestAdapter` of an instance. It is harmless, says nothing a user can act on and has no
 * logging hook or toggle, so it would open every command and test run.
 *
 * `quietDawnStartup` runs a synchronous call (the native printing happens inside the call, before it
 * returns its promise) with fd 2 pointed at a temporary file, then puts the original stderr back and
 * writes through everything Dawn printed except those known lines. Nothing else is hidden: a Vulkan
 * loader error, say, still reaches the user. It only acts where the original stderr can be restored
 * exactly — a terminal or a pipe on Linux (reopened through /proc with the same flags) — and not at all
 * with `VOXELGRAD_DEBUG=1`; elsewhere (a regular file, whose shared offset a reopen would lose; a socket;
 * macOS; Windows) the call runs untouched and the warning shows.
 */
import { closeSync, fstatSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The lines dropped: Dawn's limit-normalisation notice, nothing more. */
export const DAWN_NOISE =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/** What Dawn printed, minus the known notice (lines kept whole, in order). */
export function dropDawnNoise(text: string): string {
  return text
    .split(/(?<=\n)/)
    .filter((line) => !DAWN_NOISE.test(line.replace(/\r?\n$/, '')))
    .join('');
}

/** The open flags of fd 2 (octal `flags:` in /proc/self/fdinfo/2), or null when they cannot be read. */
function stderrFlags(): number | null {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/fdinfo/2', 'utf8'));
    return m?.[1] ? Number.parseInt(m[1], 8) : null;
  } catch {
    return null;
  }
}

// O_WRONLY | O_RDWR | O_APPEND | O_NONBLOCK on Linux: the flags that decide how writes to fd 2 behave.
const KEPT_FLAGS = 0o1 | 0o2 | 0o2000 | 0o4000;

function canRestoreStderr(): number | null {
  if (process.platform !== 'linux' || process.env.VOXELGRAD_DEBUG === '1') return null;
  try {
    const st = fstatSync(2);
    if (!st.isCharacterDevice() && !st.isFIFO()) return null;
    fstatSync(0);
    fstatSync(1);
  } catch {
    return null;
  }
  // Writes Node has queued but not yet handed to the kernel would be lost with the old descriptor.
  if ((process.stderr as { writableLength?: number }).writableLength) return null;
  const flags = stderrFlags();
  return flags === null ? null : flags & KEPT_FLAGS;
}

export function quietDawnStartup<T>(call: () => T): T {
  const flags = canRestoreStderr();
  if (flags === null) return call();
  let saved: number;
  try {
    saved = openSync('/proc/self/fd/2', flags);
  } catch {
    return call();
  }
  const path = join(tmpdir(), `voxelgrad-dawn-${process.pid}-${Date.now()}.log`);
  let capture: number;
  try {
    capture = openSync(path, 'wx+', 0o600);
  } catch {
    closeSync(saved);
    return call();
  }
  // POSIX hands out the lowest free descriptor: with 0 and 1 open (checked), reopening after close(2)
  // yields 2 again — first the capture file, afterwards the saved stderr.
  closeSync(2);
  openSync(`/proc/self/fd/${capture}`, 'w');
  try {
    return call();
  } finally {
    closeSync(2);
    openSync(`/proc/self/fd/${saved}`, flags);
    closeSync(saved);
    try {
      const rest = dropDawnNoise(readFileSync(capture, 'utf8'));
      if (rest) process.stderr.write(rest);
    } catch {
      // The capture could not be read back: nothing to pass on.
    }
    closeSync(capture);
    try {
      unlinkSync(path);
    } catch {
      // Already gone (a cleaner of the temporary folder): nothing to do.
    }
  }
}
