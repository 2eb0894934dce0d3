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
import { filterFromTf, filterToTf, fromChannelsLast, permute, toChannelsLast } from './layout.js';
import type { ConvData, OpPeer, PeerRun } from './peer.js';
import type { ConvShape } from './shapes.js';
import { outShape } from './shapes.js';

// biome-ignore lint/suspicious/noExplicitAny: tfjs is loaded at run time (a peer, not a dependency of the engine)
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
  return {
    tf,
    tfl,
    sync,
    adapter: [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown',
    version: String(tf.version_core ?? tf.version?.['tfjs-core'] ?? ''),
  };
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
  if (ph || pw)
    y = tf.pad(y, [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ]);
  const [h2, w2] = [h! + 2 * ph, w! + 2 * pw];
  if (pd)
    y = tf.pad(tf.reshape(y, [n, d, h2 * w2 * c!]), [
      [0, 0],
      [pd, pd],
      [0, 0],
    ]);
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
  /**
   * A tfjs expression of `inputs`: forward, or (backward) tf.grads with respect to every input for the
   * output gradient `dy` (ones when null). `read` converts the outputs to our layouts.
   */
  const expression = (
    inputs: Tf[],
    f: (...a: Tf[]) => Tf,
    backward: boolean,
    dy: Tf | null,
    read: (o: Float32Array[]) => Record<string, Float32Array | undefined>,
    extra: Tf[] = [],
  ): PeerRun => {
    const g = backward ? tf.grads((...a: Tf[]) => f(...a)) : null;
    const step = () => (g ? g(inputs, dy ?? undefined) : f(...inputs));
    return prepared(step, async () => {
      const o = step();
      const arr: Tf[] = Array.isArray(o) ? o : [o];
      const data: Float32Array[] = [];
      for (const t of arr) data.push((await t.data()) as Float32Array);
      tf.dispose(arr);
      return read(data) as Record<string, Float32Array>;
    }, [...inputs, ...(dy ? [dy] : []), ...extra]);
  };
  let sgdRuns = 0;
  return {
    name: 'tfjs',
    version: rt.version,
    adapter: rt.adapter,
    async batchNorm(shape, d, relu, backward) {
      const [n, c, dd, h, w] = shape as number[];
      const x = tf.tensor4d(toChannelsLast(d.x, shape), [n! * dd!, h, w, c]);
      const dy = backward ? tf.tensor4d(toChannelsLast(d.dy, shape), [n! * dd!, h, w, c]) : null;
      // As tfjs-layers' BatchNormalization in training: tf.moments over N·D, H, W, then tf.batchNorm.
      const f = (xx: Tf, gg: Tf, bb: Tf) => {
        const m = tf.moments(xx, [0, 1, 2]);
        const y = tf.batchNorm(xx, m.mean, m.variance, bb, gg, 1e-5);
        return relu ? tf.relu(y) : y;
      };
      return expression([x, tf.tensor1d(d.gamma), tf.tensor1d(d.beta)], f, backward, dy, (o) =>
        backward ? { dx: fromChannelsLast(o[0]!, shape), dgamma: o[1]!, dbeta: o[2]! } : { y: fromChannelsLast(o[0]!, shape) },
      );
    },
    async maxPool(shape, p, d, backward) {
      const [n, c, dd, h, w] = shape as number[];
      if (p.kernel[0] !== 1 || p.stride[0] !== 1 || p.pad[0] !== 0 || p.pad[1] !== p.pad[2])
        throw new Error('the tfjs peer pools in-plane only (1×k×k, one padding)');
      const oh = Math.floor((h! + 2 * p.pad[1] - p.kernel[1]) / p.stride[1]) + 1;
      const ow = Math.floor((w! + 2 * p.pad[2] - p.kernel[2]) / p.stride[2]) + 1;
      const ys = [n!, c!, dd!, oh, ow];
      const x = tf.tensor4d(toChannelsLast(d.x, shape), [n! * dd!, h, w, c]);
      const dy = backward ? tf.tensor4d(toChannelsLast(d.dy, ys), [n! * dd!, oh, ow, c]) : null;
      const f = (xx: Tf) => tf.maxPool(xx, [p.kernel[1], p.kernel[2]], [p.stride[1], p.stride[2]], p.pad[1]);
      return expression([x], f, backward, dy, (o) => (backward ? { dx: fromChannelsLast(o[0]!, shape) } : { y: fromChannelsLast(o[0]!, ys) }));
    },
    async planeAvgPool(shape, d, backward) {
      const [n, c, dd, h, w] = shape as number[];
      const x = tf.tensor5d(toChannelsLast(d.x, shape), [n, dd, h, w, c]);
      const dy = backward ? tf.tensor3d(permute(d.dy, [n!, c!, dd!], [0, 2, 1]), [n, dd, c]) : null;
      const f = (xx: Tf) => tf.mean(xx, [2, 3]);
      return expression([x], f, backward, dy, (o) => (backward ? { dx: fromChannelsLast(o[0]!, shape) } : { y: permute(o[0]!, [n!, dd!, c!], [0, 2, 1]) }));
    },
    async bilinear(shape, d, backward) {
      const [n, c, dd] = shape as number[];
      const x = tf.tensor3d(permute(d.x, shape, [0, 2, 1]), [n, dd, c]);
      const dy = backward ? tf.tensor2d(d.dy, [n, c! * c!]) : null;
      const f = (F: Tf) => bilinearTf(tf, F);
      return expression([x], f, backward, dy, (o) => (backward ? { dx: permute(o[0]!, [n!, dd!, c!], [0, 2, 1]) } : { y: o[0]! }));
    },
    async triplet(n, e, d, opts, backward) {
      const x = tf.tensor2d(d.x, [n, e]);
      const f = (xx: Tf) => tripletTf(tf, xx, d.labels, opts.margin, opts.normalize);
      return expression([x], f, backward, null, (o) => (backward ? { dx: o[0]! } : { loss: o[0]! }));
    },
    async sgd(sizes, d, opts) {
      const tag = `sgd${sgdRuns++}`;
      let off = 0;
      const vars: Tf[] = [];
      const grads: Tf[] = [];
      for (const [i, s] of sizes.entries()) {
        vars.push(tf.variable(tf.tensor1d(d.param.subarray(off, off + s)), true, `${tag}_${i}`));
        grads.push(tf.tensor1d(d.grad.subarray(off, off + s)));
        off += s;
      }
      const opt = tf.train.momentum(opts.lr, opts.momentum);
      // tfjs's optimizers have no weight decay: it is added to the gradient, as PyTorch's SGD does.
      const step = () => opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, tf.add(grads[i], tf.mul(v, opts.weightDecay))])));
      const run = prepared(step, async () => {
        tf.tidy(step);
        const out = new Float32Array(off);
        let o = 0;
        for (const v of vars) {
          const a = (await v.data()) as Float32Array;
          out.set(a, o);
          o += a.length;
        }
        return { param: out };
      }, [...vars, ...grads]);
      return { ...run, dispose: () => (opt.dispose(), tf.dispose([...vars, ...grads])) };
    },
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
        const pad = [
          [0, 0],
          [s.pad[1], s.pad[1]],
          [s.pad[2], s.pad[2]],
          [0, 0],
        ];
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

/**
 * Bilinear pooling over depth as tf ops, F [N, D, C] → [N, C²]: B = (1/D)·FᵀF per volume, signed sqrt
 * b / (√(|b| + 1e-10) + 1e-5), L2 normalisation (ε 1e-12) — as src/kernels/depth-agg.ts.
 */
export function bilinearTf(tf: Tf, f: Tf): Tf {
  const [n, d, c] = f.shape as number[];
  const gram = tf.div(tf.matMul(f, f, true, false), d);
  const ssqrt = tf.div(gram, tf.add(tf.sqrt(tf.add(tf.abs(gram), 1e-10)), 1e-5));
  const flat = tf.reshape(ssqrt, [n, c! * c!]);
  return tf.div(flat, tf.sqrt(tf.add(tf.sum(tf.square(flat), 1, true), 1e-12)));
}

/**
 * Batch-hard triplet loss as tf ops (src/kernels/triplet.ts): squared distances of the (optionally
 * L2-normalised, ε 1e-12) embeddings e [N, E], the hardest positive and negative per anchor, hinge with
 * the margin, mean over the anchors that have both.
 */
export function tripletTf(tf: Tf, e: Tf, labels: readonly number[], margin: number, normalize: boolean): Tf {
  const m = labels.length;
  const pos = new Float32Array(m * m);
  const neg = new Float32Array(m * m);
  const valid = new Float32Array(m);
  for (let a = 0; a < m; a++) {
    let hp = false;
    let hn = false;
    for (let j = 0; j < m; j++) {
      if (labels[j] === labels[a]) {
        if (j !== a) (pos[a * m + j] = 1), (hp = true);
      } else (neg[a * m + j] = 1), (hn = true);
    }
    valid[a] = hp && hn ? 1 : 0;
  }
  const nValid = valid.reduce((s, v) => s + v, 0);
  const f = normalize ? tf.div(e, tf.sqrt(tf.add(tf.sum(tf.square(e), 1, true), 1e-12))) : e;
  const sq = tf.sum(tf.square(f), 1);
  const dist = tf.relu(tf.sub(tf.add(tf.reshape(sq, [m, 1]), tf.reshape(sq, [1, m])), tf.mul(2, tf.matMul(f, f, false, true))));
  const hardPos = tf.max(tf.mul(dist, tf.tensor2d(pos, [m, m])), 1);
  const hardNeg = tf.min(
    tf.add(
      dist,
      tf.mul(
        1e9,
        tf.tensor2d(
          neg.map((v) => 1 - v),
          [m, m],
        ),
      ),
    ),
    1,
  );
  const hinge = tf.mul(tf.relu(tf.add(tf.sub(hardPos, hardNeg), margin)), tf.tensor1d(valid));
  return tf.div(tf.sum(hinge), Math.max(1, nValid));
}
