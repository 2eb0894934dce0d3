/**
 * TensorFlow.js (@tensorflow/tfjs-backend-webgpu 4.22) as a peer: started on the webgpu backend once
 * per process or page (bench/tfjs-peer.node.ts starts it on Dawn in Node; the page imports the browser
 * modules), on the same adapter as voxelgrad. tfjs runs in its native layouts (NHWC / NDHWC); the
 * inputs are converted on the host outside the timed region. What a tfjs user would write:
 * - layers with kernel depth 1 (1×k×k, 1×1×1): tf.conv2d with the depth folded into the batch and
 *   explicit padding;
 * - 3-D layers: tf.conv3d, with 'same' where TF's same-padding equals the layer's, else an explicit zero
 *   pad + 'valid' (TF pads the odd extra row at the end at stride 2, PyTorch on both sides: different
 *   numbers); the pad goes through 4-D and 3-D pads (pad5: tfjs's 5-D pad does not compile on WebGPU);
 * - gradients with tf.grads (tfjs's registered gradients: Conv2DBackpropInput/-Filter,
 *   Conv3DBackpropInputV2/-FilterV2 and the pad's slice), fed the same output gradient dy as ours.
 */
import { filterFromTf, filterToTf, fromChannelsLast, toChannelsLast } from './layout.js';
import type { ConvData, OpPeer, PeerRun } from './peer.js';
import type { ConvShape } from './shapes.js';
import { outShape } from './shapes.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Tf = any;

/** The started tfjs: tfjs-core on the webgpu backend, with tfjs-layers for the whole-network twin. */
export interface TfRuntime {
  tf: Tf;
  tfl: Tf;
  /** Waits until every kernel tfjs has queued so far has run. */
  sync(): Promise<void>;
  adapter: string;
  version: string;
}

/** Puts tfjs on its webgpu backend (gradients must already be registered) and wraps it. */
export async function startTfjs(tf: Tf, tfl: Tf): Promise<TfRuntime> {
  const quiet = console.warn;
  console.warn = () => {}; // tfjs suggests tfjs-node on import in Node; not relevant here
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
  return { tf, tfl, sync, adapter: [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown', version: String(tf.version_core ?? tf.version?.['tfjs-core'] ?? '') };
}

/**
 * Zero padding of a 5-D NDHWC tensor in (depth, height, width). tfjs-backend-webgpu 4.22's PadProgram
 * does not compile for rank 5 ("cannot index type 'vec5'", and the op then returns garbage without an
 * error), so it is done as a 4-D pad of (H, W) on the folded depth and a 3-D pad of D — what a tfjs user
 * has to write; both have gradients.
 */
export function pad5(tf: Tf, x: Tf, pd: number, ph: number, pw: number): Tf {
  const [n, d, h, w, c] = x.shape as number[];
  let y = tf.reshape(x, [n! * d!, h, w, c]);
  if (ph || pw) y = tf.pad(y, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
  const [h2, w2] = [h! + 2 * ph, w! + 2 * pw];
  if (pd) y = tf.pad(tf.reshape(y, [n, d, h2 * w2 * c!]), [[0, 0], [pd, pd], [0, 0]]);
  return tf.reshape(y, [n, d! + 2 * pd, h2, w2, c]);
}

/** TF's 'same' padding before the data along one axis. */
function samePadBefore(size: number, k: number, s: number): { out: number; before: number } {
  const out = Math.ceil(size / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
}

/** How tfjs expresses a 3-D layer's padding: 'same', 'valid', or an explicit tf.pad then 'valid'. */
export function tfConv3dPadding(s: ConvShape): 'same' | 'valid' | 'explicit' {
  if (s.pad.every((p) => p === 0)) return 'valid';
  const k = [s.w[2], s.w[3], s.w[4]];
  const o = outShape(s);
  const same = [2, 3, 4].every((a, i) => {
    const r = samePadBefore(s.x[a]!, k[i]!, s.stride[i]!);
    return r.out === o[a] && r.before === s.pad[i];
  });
  return same ? 'same' : 'explicit';
}

export function tfjsOpPeer(rt: TfRuntime): OpPeer {
  const { tf } = rt;
  const prepared = (fn: () => unknown, read: () => Promise<Record<string, Float32Array>>, inputs: Tf[]): PeerRun => ({
    run: () => tf.tidy(() => void fn()),
    sync: rt.sync,
    outputs: read,
    dispose: () => tf.dispose(inputs),
  });
  return {
    name: 'tfjs',
    version: rt.version,
    adapter: rt.adapter,
    async matmul(a, b, m, n, k) {
      const ta = tf.tensor2d(a, [m, k]);
      const tb = tf.tensor2d(b, [k, n]);
      const op = () => tf.matMul(ta, tb);
      return prepared(op, async () => {
        const y = op();
        const out = { y: (await y.data()) as Float32Array };
        y.dispose();
        return out;
      }, [ta, tb]);
    },
    async conv(s, d: ConvData, backward) {
      const [n, cin, dd, h, w] = s.x;
      const [cout, , kd, kh, kw] = s.w;
      const ys = outShape(s);
      const folded = kd === 1 && s.stride[0] === 1 && s.pad[0] === 0;
      let x: Tf, f: Tf, dy: Tf, op: (a: Tf, b: Tf) => Tf;
      if (folded) {
        // [N, D, H, W, C] = [N·D, H, W, C]: the depth folded into the batch.
        x = tf.tensor4d(toChannelsLast(d.x, s.x), [n * dd, h, w, cin]);
        f = tf.tensor4d(filterToTf(d.w, s.w), [kh, kw, cin, cout]);
        dy = tf.tensor4d(toChannelsLast(d.dy, ys), [ys[0] * ys[2], ys[3], ys[4], cout]);
        const pad = [[0, 0], [s.pad[1], s.pad[1]], [s.pad[2], s.pad[2]], [0, 0]];
        const strides = [s.stride[1], s.stride[2]];
        op = (a, b) => tf.conv2d(a, b, strides, pad);
      } else {
        x = tf.tensor5d(toChannelsLast(d.x, s.x), [n, dd, h, w, cin]);
        f = tf.tensor5d(filterToTf(d.w, s.w), [kd, kh, kw, cin, cout]);
        dy = tf.tensor5d(toChannelsLast(d.dy, ys), [ys[0], ys[2], ys[3], ys[4], cout]);
        const mode = tfConv3dPadding(s);
        op = mode === 'explicit' ? (a, b) => tf.conv3d(pad5(tf, a, ...s.pad), b, s.stride, 'valid') : (a, b) => tf.conv3d(a, b, s.stride, mode);
      }
      const grads = tf.grads((a: Tf, b: Tf) => op(a, b));
      const step = backward ? () => grads([x, f], dy) : () => op(x, f);
      const read = async (): Promise<Record<string, Float32Array>> => {
        if (!backward) {
          const y = op(x, f);
          const shape = y.shape as number[];
          if (shape.reduce((a, b) => a * b, 1) !== ys.reduce((a, b) => a * b, 1)) throw new Error(`tfjs output ${shape.join('×')} ≠ ${ys.join('×')}`);
          const out = { y: fromChannelsLast((await y.data()) as Float32Array, ys) };
          y.dispose();
          return out;
        }
        const [gx, gw] = grads([x, f], dy) as Tf[];
        const out = { dx: fromChannelsLast((await gx.data()) as Float32Array, s.x), dw: filterFromTf((await gw.data()) as Float32Array, s.w) };
        tf.dispose([gx, gw]);
        return out;
      };
      return prepared(step, read, [x, f, dy]);
    },
  };
}
