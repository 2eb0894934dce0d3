/**
 * The paper's networks written with TensorFlow.js layers (@tensorflow/tfjs-layers 4.22 on the webgpu
 * backend, same adapter, same process or page: bench/tfjs-peer.ts starts it), as a whole-network peer
 * of bench/network.bench.ts ("tfjs-layers"). Layout NDHWC; the input [N, 1, D, H, W] of voxelgrad has the
 * same bytes as tfjs's [N, D, H, W, 1]. The twin takes our freshly initialised weights (our names and
 * layouts, converted), so its forward, loss and parameter updates can be checked against ours.
 *
 * The twin, layer by layer (voxelgrad's StagingNet, src/model/resnet.ts):
 * - convolutions without bias. A layer whose kernel depth is 1 (the 2-D layers and every 1×1×1
 *   downsample) is a tf.layers.conv2d on the depth folded into the batch, [N·D, H, W, C] — what a tfjs
 *   user writes, and far faster than tfjs's conv3d, which has only a direct (naive) WebGPU kernel; 3-D
 *   layers are tf.layers.conv3d with strides [1, s, s]. Folding is a free reshape in tfjs. Stride-1
 *   layers use 'same' padding (equal to PyTorch's (k−1)/2); strided k > 1 layers pad explicitly
 *   (zero pad, then 'valid'; a 5-D pad goes through 4-D and 3-D ones, see pad5), since TF's 'same' puts the odd extra zero row at the end where PyTorch pads
 *   both sides — the same arithmetic but different numbers, which the check would (rightly) flag.
 * - BatchNormalization (momentum 0.9 = PyTorch's 0.1, ε 1e-5) on the folded [N·D, H, W, C] (tfjs-layers'
 *   takes rank ≤ 4; the statistics are over N, D, H, W either way), ReLU, the stem's 1×3×3 / 2 max
 *   pool as zero padding + MaxPooling2D 'valid' (after a ReLU, zero padding equals PyTorch's −∞
 *   padding), BasicBlocks with the 1×1×1 (conv + BN) downsample, in-plane average (tf.mean over H, W)
 *   to [N, D, C], the shared slice FC (Dense 1), bilinear depth aggregation as plain tf ops —
 *   B = (1/D)·FᵀF per volume, signed sqrt b / (√(|b| + 1e-10) + 1e-5), L2 normalisation (ε 1e-12), as
 *   src/kernels/depth-agg.ts — and the head FC (Dense 1) on the C² features.
 * - Loss as src/train/trainer.ts's batchLoss with DEFAULT_LOSS and the volume stage: sigmoid focal loss
 *   (γ 2, α off, mean) on the representative slices' logits + focal loss on the volume logit + batch-hard
 *   triplet loss (margin 0.2, squared distances, L2-normalised embeddings, mean over valid anchors) on the
 *   bilinear embedding, all as tf ops (tf.grads differentiates them).
 * - SGD with momentum (tf.train.momentum: v = μv + g, w −= lr·v, PyTorch's form); tfjs's optimizers have
 *   no weight decay, so it is the loss term (wd/2)·Σw², whose gradient is PyTorch's wd·w.
 * Peak memory: tfjs's live tensor bytes (engine.state.numBytes, exact sizes — what tf.profile reports as
 * peakBytes) during the runs, less its level before the twin was built.
 *
 * Browser-safe: the tfjs modules come from the started runtime (bench/tfjs-peer.ts; in Node
 * bench/tfjs-peer.node.ts registers tfjs-core's gradients first).
 */
import { filterFromTf, filterToTf } from './layout.js';
import type { NetBatch, NetPeer, NetRun, NetSpec } from './net-peer.js';
import { type TfRuntime, bilinearTf, pad5, tripletTf } from './tfjs-peer.js';

// biome-ignore lint/suspicious/noExplicitAny: tfjs is loaded at run time (a peer, not a dependency of the engine)
type Tf = any;
// biome-ignore lint/suspicious/noExplicitAny: a tfjs tensor of the runtime-loaded module
type T = any;

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

/** One of our parameters in the twin: its tfjs variable and the layout conversions. */
interface TwinParam {
  variable: () => Tf;
  toTf(ours: Float32Array): { data: Float32Array; shape: number[] };
  fromTf(tf: Float32Array): Float32Array;
}

interface Twin {
  params: Map<string, TwinParam>;
  trainable: T[];
  parameterCount: number;
  forward(x: T, training: boolean): { sliceLogits: T; volumeLogits: T; embedding: T };
  layers: Tf[];
}

function buildTwin(rt: TfRuntime, spec: NetSpec): Twin {
  const { tf, tfl } = rt;
  const [n, , d, h, w] = spec.input;
  const layers: Tf[] = [];
  const params = new Map<string, TwinParam>();
  const add = <L>(l: L): L => {
    layers.push(l);
    return l;
  };

  /** A convolution without bias, registered as `${name}.weight`. */
  const conv = (name: string, cin: number, cout: number, kd: number, k: number, s: number) => {
    const p = (k - 1) / 2;
    const pd = (kd - 1) / 2;
    const explicit = s > 1 && k > 1;
    const padding = explicit ? 'valid' : 'same';
    const ours = [cout, cin, kd, k, k];
    if (kd === 1) {
      const l = add(tfl.layers.conv2d({ filters: cout, kernelSize: k, strides: s, padding, useBias: false }));
      params.set(`${name}.weight`, {
        variable: () => l.trainableWeights[0],
        toTf: (v) => ({ data: filterToTf(v, ours), shape: [k, k, cin, cout] }),
        fromTf: (v) => filterFromTf(v, ours),
      });
      return (x: T) => {
        const [nn, dd, hh, ww, cc] = x.shape as number[];
        let x4 = tf.reshape(x, [nn! * dd!, hh, ww, cc]);
        if (explicit)
          x4 = tf.pad(x4, [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ]);
        const y = l.apply(x4);
        return tf.reshape(y, [nn, dd, ...(y.shape as number[]).slice(1)]);
      };
    }
    const l = add(tfl.layers.conv3d({ filters: cout, kernelSize: [kd, k, k], strides: [1, s, s], padding, useBias: false }));
    params.set(`${name}.weight`, {
      variable: () => l.trainableWeights[0],
      toTf: (v) => ({ data: filterToTf(v, ours), shape: [kd, k, k, cin, cout] }),
      fromTf: (v) => filterFromTf(v, ours),
    });
    return (x: T) => l.apply(explicit ? pad5(tf, x, pd, p, p) : x);
  };
  const bn = (name: string, c: number) => {
    const l = add(tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }));
    params.set(`${name}.weight`, { variable: () => l.trainableWeights[0], toTf: (v) => ({ data: v, shape: [c] }), fromTf: (v) => v });
    params.set(`${name}.bias`, { variable: () => l.trainableWeights[1], toTf: (v) => ({ data: v, shape: [c] }), fromTf: (v) => v });
    // tfjs-layers' BatchNormalization takes rank ≤ 4: fold the depth (the statistics are over N, D, H, W either way).
    return (x: T, training: boolean) => {
      const [nn, dd, hh, ww, cc] = x.shape as number[];
      return tf.reshape(l.apply(tf.reshape(x, [nn! * dd!, hh, ww, cc]), { training }), x.shape);
    };
  };
  const dense = (name: string, inF: number) => {
    const l = add(tfl.layers.dense({ units: 1 }));
    // Ours [1, in] row-major has the bytes of tfjs's kernel [in, 1].
    params.set(`${name}.weight`, { variable: () => l.trainableWeights[0], toTf: (v) => ({ data: v, shape: [inF, 1] }), fromTf: (v) => v });
    params.set(`${name}.bias`, { variable: () => l.trainableWeights[1], toTf: (v) => ({ data: v, shape: [1] }), fromTf: (v) => v });
    return l;
  };
  const relu = (x: T) => tf.relu(x);
  const pool = add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }));

  const wd = spec.width;
  const kd = (kind: string) => (kind === '3d' ? 3 : 1);
  const stem = conv('conv1', 1, wd, kd(spec.kinds[0]!), 7, 2);
  const bn1 = bn('bn1', wd);
  type Block = (x: T, training: boolean) => T;
  const blocks: Block[] = [];
  let cin = wd;
  [wd, 2 * wd, 4 * wd, 8 * wd].forEach((cout, i) => {
    const kind = spec.kinds[i + 1]!;
    for (let b = 0; b < 2; b++) {
      const stride = i > 0 && b === 0 ? 2 : 1;
      const inC = b === 0 ? cin : cout;
      const pre = `layer${i + 1}.${b}`;
      const c1 = conv(`${pre}.conv1`, inC, cout, kd(kind), 3, stride);
      const b1 = bn(`${pre}.bn1`, cout);
      const c2 = conv(`${pre}.conv2`, cout, cout, kd(kind), 3, 1);
      const b2 = bn(`${pre}.bn2`, cout);
      const down = stride !== 1 || inC !== cout ? { c: conv(`${pre}.downsample.0`, inC, cout, 1, 1, stride), b: bn(`${pre}.downsample.1`, cout) } : null;
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
  const sliceFc = dense('fc', c);
  const headFc = dense('head_fc', c * c);

  const forward = (x: T, training: boolean) => {
    let y = relu(bn1(stem(x), training));
    const [yn, yd, yh, yw, yc] = y.shape as number[];
    const padded = tf.pad(tf.reshape(y, [yn! * yd!, yh, yw, yc]), [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    y = pool.apply(padded);
    y = tf.reshape(y, [yn, yd, ...(y.shape as number[]).slice(1)]);
    for (const b of blocks) y = b(y, training);
    const f = tf.mean(y, [2, 3]); // [N, D, C]
    const sliceLogits = tf.reshape(sliceFc.apply(tf.reshape(f, [n * d, c])), [n * d]);
    const embedding = bilinearTf(tf, f); // [N, C²]
    const volumeLogits = tf.reshape(headFc.apply(embedding), [n]);
    return { sliceLogits, volumeLogits, embedding };
  };

  // Build every layer (weights are created on first call) with an eval pass, then take our weights.
  tf.tidy(() => void forward(tf.zeros([n, d, h, w, 1]), false));
  for (const [name, ours] of spec.weights) {
    const p = params.get(name);
    if (!p) throw new Error(`tfjs twin has no parameter ${name}`);
    const { data, shape } = p.toTf(ours);
    const v = p.variable();
    const expected = v.shape as number[];
    if (expected.join() !== shape.join()) throw new Error(`tfjs twin ${name}: shape ${expected.join('×')} ≠ ${shape.join('×')}`);
    v.write(tf.tensor(data, shape));
  }
  if (params.size !== spec.weights.size) throw new Error(`tfjs twin has ${params.size} parameters, ours ${spec.weights.size}`);
  const trainable: T[] = [...spec.weights.keys()].map((k) => params.get(k)!.variable().read());
  const parameterCount = trainable.reduce((a: number, v: T) => a + v.size, 0);
  return { params, trainable, parameterCount, forward, layers };
}

/** TensorFlow.js layers' twin of the network, as a whole-network peer. */
export function tfjsLayersPeer(rt: TfRuntime): NetPeer {
  const { tf } = rt;
  return {
    name: 'tfjs-layers',
    version: rt.version,
    support: (spec) => (spec.kinds.every((k) => k === '2d' || k === '3d') ? null : 'the twin has 2-D and 3-D convolutions only'),
    async prepare(spec: NetSpec, kind, batch: NetBatch): Promise<NetRun> {
      const base = tf.memory().numBytes as number;
      const twin = buildTwin(rt, spec);
      const [n, , d, h, w] = spec.input;
      const focal = (z: T, t: T) => {
        // torchvision's sigmoid_focal_loss (α off): (1 − p_t)^γ · BCE-with-logits, mean.
        const p = tf.sigmoid(z);
        const ce = tf.add(tf.sub(tf.relu(z), tf.mul(z, t)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
        const oneMinusPt = tf.add(tf.mul(p, tf.sub(1, t)), tf.mul(tf.sub(1, p), t));
        return tf.mean(tf.mul(tf.pow(oneMinusPt, spec.gamma), ce));
      };
      const triplet = (e: T, labels: number[]) => tripletTf(tf, e, labels, spec.margin, true);
      const optimizer = tf.train.momentum(spec.lr, spec.momentum);
      const upload = () => tf.tensor(batch.data, [n, d, h, w, 1]);
      const forward = async () => {
        const x = upload();
        const out = tf.tidy(() => {
          const o = twin.forward(x, false);
          return { prob: tf.sigmoid(o.volumeLogits), slice: o.sliceLogits };
        });
        const prob = (await out.prob.data()) as Float32Array;
        const sliceLogits = (await out.slice.data()) as Float32Array;
        tf.dispose([x, out.prob, out.slice]);
        return { prob, sliceLogits };
      };
      const step = async () => {
        const x = upload();
        const labels = tf.tensor1d(batch.labels);
        const repLabels = tf.tensor1d(batch.repLabels);
        const rows = tf.tensor1d(batch.repRows, 'int32');
        // The loss read back is the data loss (as the trainer's), without the weight-decay term.
        let dataLoss: T = null;
        optimizer.minimize(
          () => {
            const out = twin.forward(x, true);
            let total = tf.mul(focal(tf.gather(out.sliceLogits, rows), repLabels), spec.sliceLossWeight);
            total = tf.add(total, focal(out.volumeLogits, labels));
            total = tf.add(total, tf.mul(triplet(out.embedding, batch.labels), spec.triplet));
            dataLoss = tf.keep(tf.clone(total));
            // Pairwise sums: tf.addN over ~60 inputs exceeds the adapter's storage bindings per shader.
            const l2 = twin.trainable.reduce((acc: T, v: T) => tf.add(acc, tf.sum(tf.square(v))), tf.scalar(0));
            return tf.add(total, tf.mul(l2, spec.weightDecay / 2));
          },
          false,
          twin.trainable,
        );
        const value = (await dataLoss.data())[0] as number;
        tf.dispose([x, labels, repLabels, rows, dataLoss]);
        if (!Number.isFinite(value)) throw new Error(`the tfjs twin's training step gave loss ${value}`);
        return value;
      };
      const readParams = async () => {
        const out: Float32Array[] = [];
        for (const name of spec.weights.keys()) {
          const p = twin.params.get(name)!;
          out.push(p.fromTf((await p.variable().read().data()) as Float32Array));
        }
        return out;
      };
      let peak = 0;
      const measured = async <R>(fn: () => Promise<R>): Promise<R> => {
        const r = await tfPeakBytes(tf, fn);
        peak = Math.max(peak, r.peakBytes - base);
        return r.result;
      };
      return {
        parameterCount: twin.parameterCount,
        run: () => (kind === 'fwd' ? measured(forward) : measured(step)),
        sync: rt.sync,
        peakBytes: () => peak,
        async outputs() {
          if (kind === 'fwd') return measured(forward);
          const before = await readParams();
          const loss = await measured(step);
          const after = await readParams();
          const total = before.reduce((a, v) => a + v.length, 0);
          const update = new Float32Array(total);
          let o = 0;
          before.forEach((b, i) => {
            const a = after[i]!;
            for (let j = 0; j < b.length; j++) update[o + j] = a[j]! - b[j]!;
            o += b.length;
          });
          return { loss: new Float32Array([loss]), update };
        },
        dispose() {
          optimizer.dispose();
          for (const l of twin.layers) l.dispose();
        },
      };
    },
  };
}
