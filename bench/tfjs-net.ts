/**
 * The paper's networks written with TensorFlow.js layers (@tensorflow/tfjs-layers 4.22 on the webgpu
 * backend, same adapter, same process: bench/tfjs-peer.ts starts it), as the peer of the whole-network
 * bench (bench/network.bench.ts). Layout NDHWC; the input [N, 1, D, H, W] of voxelgrad has the same
 * bytes as tfjs's [N, D, H, W, 1].
 *
 * The twin, layer by layer (voxelgrad's StagingNet, src/model/resnet.ts):
 * - convolutions without bias, 'same' padding (the output shapes equal PyTorch's padding (k−1)/2
 *   everywhere; at stride 2 TF puts the extra zero row at the end instead of one at each side — the same
 *   arithmetic). A layer whose kernel depth is 1 (the 2-D layers and every 1×1×1 downsample) is a
 *   tf.layers.conv2d on the depth folded into the batch, [N·D, H, W, C] — what a tfjs user writes, and
 *   far faster than tfjs's conv3d, which has only a direct (naive) WebGPU kernel; 3-D layers are
 *   tf.layers.conv3d with strides [1, s, s]. Folding is a free reshape in tfjs.
 * - BatchNormalization (momentum 0.9 = PyTorch's 0.1, ε 1e-5) on the folded [N·D, H, W, C] (tfjs-layers'
  takes rank ≤ 4; the statistics are over N, D, H, W either way),
 *   ReLU, MaxPooling2D 3×3 / 2 'same' on the folded stem output (the pool is 1×3×3), BasicBlocks with the
 *   1×1×1 (conv + BN) downsample, in-plane average (tf.mean over H, W) to [N, D, C], the shared slice FC
 *   (Dense 1), bilinear depth aggregation as plain tf ops — B = (1/D)·FᵀF per volume, signed sqrt
 *   b / (√(|b| + 1e-10) + 1e-5), L2 normalisation (ε 1e-12), as src/kernels/depth-agg.ts — and the head FC
 *   (Dense 1) on the C² features.
 * - Loss as src/train/trainer.ts's batchLoss with DEFAULT_LOSS and the volume stage: sigmoid focal loss
 *   (γ 2, α off, mean) on the representative slices' logits + focal loss on the volume logit + batch-hard
 *   triplet loss (margin 0.2, squared distances, L2-normalised embeddings, mean over valid anchors) on the
 *   bilinear embedding, all as tf ops (tf.grads differentiates them).
 * - SGD with momentum (tf.train.momentum: v = μv + g, w −= lr·v, PyTorch's form); tfjs's optimizers have
 *   no weight decay, so it is the loss term (wd/2)·Σw², whose gradient is PyTorch's wd·w.
 *
 * tfjs-core's Node bundle registers no gradients (nor the chained tensor methods tfjs-layers calls): they
 * are loaded from tfjs-core's ES-module files (dist/register_all_gradients.js), whose extension-less
 * relative imports need a small resolve hook. They register into tfjs's global registries, so the
 * CommonJS engine the backend runs on finds them.
 */
import { createRequire, register } from 'node:module';
import { type Timing, timeSynced } from './harness.js';
import type { TfRuntime } from './tfjs-peer.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Tf = any;
type T = any;

export type TwinKind = '2d' | '3d';

export interface TwinSpec {
  /** Convolution kind of the stem and of stages 2–5 (the paper's layers 1–5). */
  kinds: readonly TwinKind[];
  /** First-layer filters (the paper: 32). */
  width: number;
  /** Input [N, 1, D, H, W]. */
  input: readonly [number, number, number, number, number];
}

export interface TwinBatch {
  /** [N, 1, D, H, W] row-major (= [N, D, H, W, 1]). */
  data: Float32Array;
  labels: number[];
  /** Flat rows n·D + d of the representative slices, and their labels. */
  repRows: number[];
  repLabels: number[];
}

export interface TwinOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  gamma: number;
  margin: number;
  /** Weight of the slice-level focal loss (DEFAULT_LOSS.sliceLossWeight). */
  sliceLossWeight: number;
  /** Weight of the triplet loss (DEFAULT_LOSS.triplet). */
  triplet: number;
}

export interface TfTwin {
  /** Trainable parameters (conv kernels, BN γ/β, FC weights and biases; BN running statistics excluded). */
  parameterCount: number;
  /** Eval-mode forward of a batch uploaded from the host; resolves with the volume probabilities read back. */
  forward(batch: TwinBatch): Promise<Float32Array>;
  /** One training step (upload, forward, loss, backward, SGD update); resolves with the loss read back. */
  trainStep(batch: TwinBatch): Promise<number>;
  dispose(): void;
}

let gradients: Promise<void> | null = null;

/** Registers tfjs-core's gradients and chained ops (once per process). */
export function registerTfGradients(): Promise<void> {
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

/**
 * Peak of tfjs's live tensor bytes (engine.state.numBytes: every tensor and variable, exact sizes —
 * what tf.profile's peakBytes reports) while `fn` runs, without tf.profile's per-kernel readbacks.
 */
export async function tfPeakBytes<R>(tf: Tf, fn: () => Promise<R>): Promise<{ result: R; peakBytes: number; startBytes: number }> {
  const state = tf.engine().state;
  let value: number = state.numBytes;
  const startBytes = value;
  let peak = value;
  Object.defineProperty(state, 'numBytes', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (v: number) => {
      value = v;
      if (v > peak) peak = v;
    },
  });
  try {
    const result = await fn();
    return { result, peakBytes: peak, startBytes };
  } finally {
    Object.defineProperty(state, 'numBytes', { configurable: true, enumerable: true, writable: true, value });
  }
}

/** Median (and spread) of `reps` synchronised runs after `warmup` runs. */
export function timeTf(rt: TfRuntime, fn: () => Promise<unknown>, opts: { warmup: number; reps: number }): Promise<Timing> {
  return timeSynced(() => rt.sync(), fn, opts);
}

export async function buildTfTwin(rt: TfRuntime, spec: TwinSpec, opts: TwinOptions): Promise<TfTwin> {
  await registerTfGradients();
  const tf: Tf = rt.tf;
  const require = createRequire(import.meta.url);
  const tfl = require('@tensorflow/tfjs-layers') as Tf;
  const [n, , d, h, w] = spec.input;
  const heInit = () => tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal' });
  const layers: Tf[] = [];
  const add = <L>(l: L): L => {
    layers.push(l);
    return l;
  };

  /** A convolution: conv2d on the folded depth when the kernel depth is 1, conv3d otherwise. */
  const conv = (cout: number, kd: number, k: number, s: number) => {
    if (kd === 1) {
      const l = add(tfl.layers.conv2d({ filters: cout, kernelSize: k, strides: s, padding: 'same', useBias: false, kernelInitializer: heInit() }));
      return (x: T) => {
        const [nn, dd, hh, ww, cc] = x.shape as number[];
        const y = l.apply(tf.reshape(x, [nn! * dd!, hh, ww, cc]));
        return tf.reshape(y, [nn, dd, ...(y.shape as number[]).slice(1)]);
      };
    }
    const l = add(tfl.layers.conv3d({ filters: cout, kernelSize: [kd, k, k], strides: [1, s, s], padding: 'same', useBias: false, kernelInitializer: heInit() }));
    return (x: T) => l.apply(x);
  };
  const bn = () => {
    const l = add(tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }));
    // tfjs-layers' BatchNormalization takes rank ≤ 4: fold the depth (the statistics are over N, D, H, W either way).
    return (x: T, training: boolean) => {
      const [nn, dd, hh, ww, cc] = x.shape as number[];
      return tf.reshape(l.apply(tf.reshape(x, [nn! * dd!, hh, ww, cc]), { training }), x.shape);
    };
  };
  const relu = (x: T) => tf.relu(x);
  const pool = add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }));

  const wd = spec.width;
  const kd = (kind: TwinKind) => (kind === '3d' ? 3 : 1);
  const stem = conv(wd, kd(spec.kinds[0]!), 7, 2);
  const bn1 = bn();
  type Block = (x: T, training: boolean) => T;
  const blocks: Block[] = [];
  let cin = wd;
  [wd, 2 * wd, 4 * wd, 8 * wd].forEach((cout, i) => {
    const kind = spec.kinds[i + 1]!;
    for (let b = 0; b < 2; b++) {
      const stride = i > 0 && b === 0 ? 2 : 1;
      const inC = b === 0 ? cin : cout;
      const c1 = conv(cout, kd(kind), 3, stride);
      const b1 = bn();
      const c2 = conv(cout, kd(kind), 3, 1);
      const b2 = bn();
      const down = stride !== 1 || inC !== cout ? { c: conv(cout, 1, 1, stride), b: bn() } : null;
      blocks.push((x, training) => {
        const hh = relu(b1(c1(x), training));
        const out = b2(c2(hh), training);
        const id = down ? down.b(down.c(x), training) : x;
        return relu(tf.add(out, id));
      });
    }
    cin = cout;
  });
  const c = 8 * wd;
  const sliceFc = add(tfl.layers.dense({ units: 1 }));
  const headFc = add(tfl.layers.dense({ units: 1 }));

  const forward = (x: T, training: boolean) => {
    let y = relu(bn1(stem(x), training));
    const [yn, yd, yh, yw, yc] = y.shape as number[];
    y = tf.reshape(pool.apply(tf.reshape(y, [yn! * yd!, yh, yw, yc])), [yn, yd, Math.ceil(yh! / 2), Math.ceil(yw! / 2), yc]);
    for (const b of blocks) y = b(y, training);
    const f = tf.mean(y, [2, 3]); // [N, D, C]
    const sliceLogits = tf.reshape(sliceFc.apply(tf.reshape(f, [n * d, c])), [n * d]);
    const gram = tf.div(tf.matMul(f, f, true, false), d); // [N, C, C]
    const ssqrt = tf.div(gram, tf.add(tf.sqrt(tf.add(tf.abs(gram), 1e-10)), 1e-5));
    const flat = tf.reshape(ssqrt, [n, c * c]);
    const embedding = tf.div(flat, tf.sqrt(tf.add(tf.sum(tf.square(flat), 1, true), 1e-12)));
    const volumeLogits = tf.reshape(headFc.apply(embedding), [n]);
    return { sliceLogits, volumeLogits, embedding };
  };

  // Build every layer (weights are created on first call) with a one-volume eval pass.
  tf.tidy(() => void forward(tf.zeros([n, d, h, w, 1]), false));
  const trainable: T[] = layers.flatMap((l) => l.trainableWeights.map((v: Tf) => v.read()));
  const parameterCount = trainable.reduce((a: number, v: T) => a + v.size, 0);

  const focal = (z: T, t: T) => {
    // torchvision's sigmoid_focal_loss (α off): (1 − p_t)^γ · BCE-with-logits, mean.
    const p = tf.sigmoid(z);
    const ce = tf.add(tf.sub(tf.relu(z), tf.mul(z, t)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    const oneMinusPt = tf.add(tf.mul(p, tf.sub(1, t)), tf.mul(tf.sub(1, p), t));
    return tf.mean(tf.mul(tf.pow(oneMinusPt, opts.gamma), ce));
  };
  const triplet = (e: T, labels: number[]) => {
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
    const f = tf.div(e, tf.sqrt(tf.add(tf.sum(tf.square(e), 1, true), 1e-12)));
    const sq = tf.sum(tf.square(f), 1);
    const dist = tf.relu(tf.sub(tf.add(tf.reshape(sq, [m, 1]), tf.reshape(sq, [1, m])), tf.mul(2, tf.matMul(f, f, false, true))));
    const hardPos = tf.max(tf.mul(dist, tf.tensor2d(pos, [m, m])), 1);
    const hardNeg = tf.min(tf.add(dist, tf.mul(1e9, tf.tensor2d(neg.map((v) => 1 - v), [m, m]))), 1);
    const hinge = tf.mul(tf.relu(tf.add(tf.sub(hardPos, hardNeg), opts.margin)), tf.tensor1d(valid));
    return tf.div(tf.sum(hinge), Math.max(1, nValid));
  };

  const optimizer = tf.train.momentum(opts.lr, opts.momentum);
  const upload = (b: TwinBatch) => tf.tensor(b.data, [n, d, h, w, 1]);

  return {
    parameterCount,
    async forward(batch) {
      const x = upload(batch);
      const p = tf.tidy(() => tf.sigmoid(forward(x, false).volumeLogits));
      const out = (await p.data()) as Float32Array;
      tf.dispose([x, p]);
      return out;
    },
    async trainStep(batch) {
      const x = upload(batch);
      const labels = tf.tensor1d(batch.labels);
      const repLabels = tf.tensor1d(batch.repLabels);
      const rows = tf.tensor1d(batch.repRows, 'int32');
      const cost = optimizer.minimize(
        () => {
          const out = forward(x, true);
          let total = tf.mul(focal(tf.gather(out.sliceLogits, rows), repLabels), opts.sliceLossWeight);
          total = tf.add(total, focal(out.volumeLogits, labels));
          total = tf.add(total, tf.mul(triplet(out.embedding, batch.labels), opts.triplet));
          // Pairwise sums: tf.addN over ~60 inputs exceeds the adapter's storage bindings per shader.
          const l2 = trainable.reduce((acc: T, v: T) => tf.add(acc, tf.sum(tf.square(v))), tf.scalar(0));
          return tf.add(total, tf.mul(l2, opts.weightDecay / 2));
        },
        true,
        trainable,
      );
      const value = (await cost.data())[0] as number;
      tf.dispose([x, labels, repLabels, rows, cost]);
      return value;
    },
    dispose() {
      optimizer.dispose();
      for (const l of layers) l.dispose();
    },
  };
}
