/**
 * Starts the TensorFlow.js peer in Node: Dawn's `webgpu` module gives it `navigator.gpu` (Node has
 * none), created after voxelgrad's own device so the same Vulkan driver is picked (VK_ICD_FILENAMES is
 * already set). tfjs-core's Node bundle registers no gradients (nor the chained tensor methods
 * tfjs-layers calls): they are loaded from tfjs-core's ES-module files (dist/register_all_gradients.js),
 * whose extension-less relative imports need a small resolve hook; they register into tfjs's global
 * registries, so the CommonJS engine the backend runs on finds them.
 */
import { createRequire, register } from 'node:module';
import { type TfRuntime, startTfjs } from './tfjs-peer.js';
import { quietDawnStartup } from '../src/gpu/dawn-stderr.node.js';

let runtime: Promise<TfRuntime | null> | null = null;
/** Why tfjs is unavailable, when it is. */
export let tfjsUnavailable = '';

/** The tfjs runtime (once per process), or null with `tfjsUnavailable` set. */
export function tfjsNodeRuntime(): Promise<TfRuntime | null> {
  runtime ??= start().catch((e: unknown) => {
    tfjsUnavailable = e instanceof Error ? e.message : String(e);
    return null;
  });
  return runtime;
}

async function start(): Promise<TfRuntime> {
  const require = createRequire(import.meta.url);
  const dawn = require('webgpu') as { create(o: string[]): GPU; globals: Record<string, unknown> };
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = dawn.create([]);
  keepAlive.push(gpu); // Dawn's instance must outlive its devices
  // Dawn prints its limit notice at an instance's first requestAdapter: take that one here, quietly.
  await quietDawnStartup(() => gpu.requestAdapter());
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  await registerTfGradients();
  const tfl = require('@tensorflow/tfjs-layers') as unknown;
  return startTfjs(tf, tfl);
}

let gradients: Promise<void> | null = null;

/** Registers tfjs-core's gradients and chained ops (once per process). */
function registerTfGradients(): Promise<void> {
  gradients ??= (async () => {
    const hook = [
      'export async function resolve(spec, ctx, next) {',
      "  if ((spec.startsWith('./') || spec.startsWith('../')) && ctx.parentURL && ctx.parentURL.includes('/@tensorflow/tfjs-core/dist/') && !/\\.m?js$/.test(spec)) {",
      "    try { return await next(spec + '.js', ctx); } catch { return next(spec + '/index.js', ctx); }",
      '  }',
      '  return next(spec, ctx);',
      '}',
    ].join('\n');
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js' as string);
    await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js' as string);
  })();
  return gradients;
}

const keepAlive: unknown[] = [];
