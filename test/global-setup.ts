// Runs once in vitest's main process before the workers start.
import { execFileSync } from 'node:child_process';
import { dropDawnNoise } from '../src/gpu/dawn-stderr.node.js';

/**
 * Worker processes reach this process's stderr through sockets, where `quietDawnStartup` cannot act
 * (a socket cannot be reopened), so Dawn's start-up notice from each worker is dropped here, where vitest
 * writes the workers' stderr out: whole notice lines only, nothing else; kept with VOXELGRAD_DEBUG=1.
 */
function filterWorkerStderr(): void {
  if (process.env.VOXELGRAD_DEBUG === '1') return;
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (text.includes('artificially reduced')) return write(dropDawnNoise(text), ...rest);
    }
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
}

export default function setup(): void {
  // Regenerates src/kernels/shaders.gen.ts so `npx vitest` alone always sees the current .wgsl files.
  execFileSync(process.execPath, ['scripts/gen-shaders.mjs'], { stdio: 'inherit' });
  filterWorkerStderr();
}
