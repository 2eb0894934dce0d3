// Regenerates src/kernels/shaders.gen.ts so `npx vitest` alone always sees the current .wgsl files.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/gen-shaders.mjs'], { stdio: 'inherit' });
}
