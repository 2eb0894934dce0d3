/**
 * TensorFlow.js (@tensorflow/tfjs-backend-webgpu 4.22) as the peer of the bench, in the same process
 * on the same adapter: Dawn's `webgpu` module gives it `navigator.gpu` (Node has none), created after
 * voxelgrad's own device so the same Vulkan driver is picked (VK_ICD_FILENAMES is already set).
 * tfjs uses its native layouts (NHWC / NDHWC); the arithmetic is the same. 2D layers (kD = 1) run as
 * tf.conv2d with the depth folded into the batch — what a tfjs user would write — and 3D layers as
 * tf.conv3d; the gradients are tfjs's backprop kernels (Conv2DBackpropInput/-Filter, Conv3DBackprop-
 * InputV2/-FilterV2) run directly — tfjs-core's Node bundle ships no gradient registrations for tf.grads
 * (bench/tfjs-net.ts loads them from tfjs-core's ES-module files for the whole-network peer).
 */
import { createRequire } from 'node:module';
import type { ConvShape } from './shapes.js';
import { outShape } from './shapes.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Tf = any;

export interface TfPeer {
  /** The adapter tfjs's backend reports (vendor / architecture). */
  adapter: string;
  /** Median ms of C = A·B ([m, k]·[k, n]). */
  matmul(m: number, n: number, k: number, reps: number): Promise<number>;
  /** Median ms of the convolution forward, or forward + both gradients. */
  conv(s: ConvShape, withBackward: boolean, reps: number): Promise<number>;
}

/** The started tfjs (the tfjs-core module on the webgpu backend), for peers beyond single ops (bench/tfjs-net.ts). */
export interface TfRuntime {
  tf: Tf;
  /** Waits until every kernel tfjs has queued so far has run. */
  sync(): Promise<void>;
  adapter: string;
}

let peer: Promise<TfPeer | null> | null = null;
let runtime: Promise<TfRuntime> | null = null;
/** Why tfjs is unavailable, when it is. */
export let tfjsUnavailable = '';

/** Starts tfjs on the WebGPU backend once per process; null (with `tfjsUnavailable` set) if it cannot. */
export function tfjsPeer(): Promise<TfPeer | null> {
  peer ??= start().catch((e: unknown) => {
    tfjsUnavailable = e instanceof Error ? e.message : String(e);
    return null;
  });
  return peer;
}

/** The same started tfjs as `tfjsPeer()` uses; null (with `tfjsUnavailable` set) if it cannot start. */
export async function tfjsRuntime(): Promise<TfRuntime | null> {
  return (await tfjsPeer()) ? runtime : null;
}

function start(): Promise<TfPeer> {
  runtime ??= startRuntime();
  return runtime.then(peerOf);
}

async function startRuntime(): Promise<TfRuntime> {
  const require = createRequire(import.meta.url);
  const dawn = require('webgpu') as { create(o: string[]): GPU; globals: Record<string, unknown> };
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = dawn.create([]);
  keepAlive.push(gpu); // Dawn's instance must outlive its devices
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const tf: Tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  const quiet = console.warn;
  console.warn = () => {}; // tfjs suggests tfjs-node on import; not relevant here
  try {
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
  } finally {
    console.warn = quiet;
  }
  const backend = tf.backend();
  const info = backend.adapterInfo ?? {};
  const sync = async () => {
    // As tfjs does before a read: close its open compute pass, submit, then wait for the queue.
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    await backend.device.queue.onSubmittedWorkDone();
  };
  return { tf, sync, adapter: [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown' };
}

function peerOf({ tf, sync, adapter }: TfRuntime): TfPeer {
  const time = async (fn: () => void, reps: number): Promise<number> => {
    tf.tidy(fn); // warm-up: pipeline compilation
    await sync();
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      tf.tidy(fn);
      await sync();
      ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    return ts[ts.length >> 1]!;
  };
  return {
    adapter,
    async matmul(m, n, k, reps) {
      const a = tf.randomUniform([m, k]);
      const b = tf.randomUniform([k, n]);
      const ms = await time(() => void tf.matMul(a, b), reps);
      tf.dispose([a, b]);
      return ms;
    },
    async conv(s, withBackward, reps) {
      const [n, cin, d, h, w] = s.x;
      const [cout, , kd, kh, kw] = s.w;
      const [, , od, oh, ow] = outShape(s);
      let x: any, f: any, dy: any, op: (a: any, b: any) => any, backward: () => void;
      const run = (kernel: string, inputs: Record<string, unknown>, attrs: Record<string, unknown>) => tf.engine().runKernel(kernel, inputs, attrs);
      if (kd === 1 && s.stride[0] === 1 && s.pad[0] === 0) {
        x = tf.randomUniform([n * d, h, w, cin]);
        f = tf.randomUniform([kh, kw, cin, cout]);
        dy = tf.randomUniform([n * od, oh, ow, cout]);
        const pad = [[0, 0], [s.pad[1], s.pad[1]], [s.pad[2], s.pad[2]], [0, 0]];
        const strides = [s.stride[1], s.stride[2]];
        op = (a, b) => tf.conv2d(a, b, strides, pad);
        const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        backward = () => {
          run('Conv2DBackpropInput', { dy, filter: f }, { ...common, inputShape: x.shape });
          run('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: f.shape });
        };
      } else {
        // tf.conv3d pads only 'same' or 'valid'; the layers here are one of the two (checked below).
        const pad = s.pad.some((p) => p > 0) ? 'same' : 'valid';
        x = tf.randomUniform([n, d, h, w, cin]);
        f = tf.randomUniform([kd, kh, kw, cin, cout]);
        dy = tf.randomUniform([n, od, oh, ow, cout]);
        op = (a, b) => tf.conv3d(a, b, s.stride, pad);
        const probe = tf.tidy(() => op(x, f).shape as number[]);
        if (probe[1] !== od || probe[2] !== oh || probe[3] !== ow) {
          tf.dispose([x, f, dy]);
          throw new Error(`tfjs conv3d cannot express padding [${s.pad.join(', ')}] for ${s.name}`);
        }
        backward = () => {
          run('Conv3DBackpropInputV2', { dy, filter: f }, { strides: s.stride, pad, inputShape: x.shape });
          run('Conv3DBackpropFilterV2', { x, dy }, { strides: s.stride, pad, filterShape: f.shape });
        };
      }
      const ms = await time(() => {
        op(x, f);
        if (withBackward) backward();
      }, reps);
      tf.dispose([x, f, dy]);
      return ms;
    },
  };
}

const keepAlive: unknown[] = [];
