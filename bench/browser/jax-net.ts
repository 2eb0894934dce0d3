/**
 * The paper's networks in jax-js (@jax-js/jax), as a whole-network peer ("jax-js"): the eval forward
 * and the training step — the same network, loss and SGD as ours, from our weights, written as a
 * jax-js user would: a pure `forward(params, x)`, `jit(valueAndGrad(loss, { hasAux }))` for the loss
 * and gradients (the aux is the data loss; the weight decay is the loss term (wd/2)·Σw², whose gradient
 * is PyTorch's wd·w), and the momentum update as array ops. Layout: 2-D stages on [N·D, C, H, W] (the
 * depth folded into the batch, as the tfjs twin), 3-D stages on [N, C, D, H, W]; batch norm from batch
 * statistics (training) or the running statistics of a fresh model (0 and 1, eval); the stem's max
 * pool as zero padding + lax.reduceWindow (after a ReLU zero padding equals PyTorch's). jax-js owns
 * arrays by reference count: an array used twice is passed as `.ref` the first time.
 * Runs on jax-js's default device (WebGPU in the page; its CPU/Wasm device in Node for the test).
 */
import * as jax from '@jax-js/jax';
import type { NetBatch, NetPeer, NetRun, NetSpec } from '../net-peer.js';

type Arr = jax.Array;
type Params = Record<string, Arr>;
const np = jax.numpy;

interface Out {
  slice: Arr;
  volume: Arr;
  emb: Arr;
}

/** forward(params, x [N, 1, D, H, W], training) of the network `spec` describes. */
export function jaxForward(spec: NetSpec): (p: Params, x: Arr, training: boolean) => Out {
  const [n, , d, h, w] = spec.input;
  const eps = 1e-5;
  return (p, x, training) => {
    let t = x.reshape([n * d, 1, h, w]); // C = 1: folding the depth is a reshape
    let folded = true;
    let c = 1;
    let hw = [h, w];
    const layout = (want2d: boolean) => {
      if (want2d === folded) return;
      t = want2d ? t.transpose([0, 2, 1, 3, 4]).reshape([n * d, c, hw[0]!, hw[1]!]) : t.reshape([n, d, c, hw[0]!, hw[1]!]).transpose([0, 2, 1, 3, 4]);
      folded = want2d;
    };
    const conv = (name: string, cout: number, kd: number, k: number, s: number, is2d = kd === 1) => {
      layout(is2d);
      const pk = (k - 1) / 2;
      const wt = p[`${name}.weight`]!;
      t = is2d
        ? jax.lax.conv(
            t,
            wt.reshape([cout, c, k, k]),
            [s, s],
            [
              [pk, pk],
              [pk, pk],
            ],
          )
        : jax.lax.conv(
            t,
            wt.reshape([cout, c, kd, k, k]),
            [1, s, s],
            [
              [(kd - 1) / 2, (kd - 1) / 2],
              [pk, pk],
              [pk, pk],
            ],
          );
      c = cout;
      hw = hw.map((v) => Math.floor((v + 2 * pk - k) / s) + 1);
    };
    const bn = (name: string, relu: boolean) => {
      const b = folded ? [1, c, 1, 1] : [1, c, 1, 1, 1];
      let y: Arr;
      if (training) {
        const axes = folded ? [0, 2, 3] : [0, 2, 3, 4];
        const mean = t.ref.mean(axes, { keepdims: true });
        const centred = t.sub(mean);
        const variance = np.square(centred.ref).mean(axes, { keepdims: true });
        y = centred.div(np.sqrt(variance.add(eps)));
      } else y = t.mul(1 / Math.sqrt(1 + eps)); // running mean 0, variance 1 (a fresh model)
      y = y.mul(p[`${name}.weight`]!.reshape(b)).add(p[`${name}.bias`]!.reshape(b));
      t = relu ? jax.nn.relu(y) : y;
    };
    const kd = (kind: string) => (kind === '3d' ? 3 : 1);
    conv('conv1', spec.width, kd(spec.kinds[0]!), 7, 2);
    bn('bn1', true);
    // Max pool 1×3×3 / (1, 2, 2), padding 1 in-plane.
    t = folded
      ? np.pad(t, [
          [0, 0],
          [0, 0],
          [1, 1],
          [1, 1],
        ])
      : np.pad(t, [
          [0, 0],
          [0, 0],
          [0, 0],
          [1, 1],
          [1, 1],
        ]);
    t = jax.lax.reduceWindow(t, (win: Arr) => np.max(win), folded ? [3, 3] : [1, 3, 3], folded ? [2, 2] : [1, 2, 2]);
    hw = hw.map((v) => Math.floor((v + 2 - 3) / 2) + 1);
    const wd = spec.width;
    [wd, 2 * wd, 4 * wd, 8 * wd].forEach((cout, i) => {
      const k = kd(spec.kinds[i + 1]!);
      for (let b = 0; b < 2; b++) {
        const stride = i > 0 && b === 0 ? 2 : 1;
        const pre = `layer${i + 1}.${b}`;
        layout(k === 1);
        const input = t;
        const [inC, inHw] = [c, hw];
        const down = stride !== 1 || inC !== cout;
        t = input.ref;
        conv(`${pre}.conv1`, cout, k, 3, stride);
        bn(`${pre}.bn1`, true);
        conv(`${pre}.conv2`, cout, k, 3, 1);
        bn(`${pre}.bn2`, false);
        let id = input;
        if (down) {
          const [main, mainC, mainHw] = [t, c, hw];
          [t, c, hw] = [input, inC, inHw];
          conv(`${pre}.downsample.0`, cout, 1, 1, stride, k === 1);
          bn(`${pre}.downsample.1`, false);
          id = t;
          [t, c, hw] = [main, mainC, mainHw];
        }
        t = jax.nn.relu(t.add(id));
      }
    });
    // In-plane average → F [N, D, C].
    const f = folded ? t.mean([2, 3]).reshape([n, d, c]) : t.mean([3, 4]).transpose([0, 2, 1]);
    const slice = np
      .matmul(f.ref.reshape([n * d, c]), p['fc.weight']!.transpose())
      .add(p['fc.bias']!)
      .reshape([n * d]);
    const gram = np.matmul(f.ref.transpose([0, 2, 1]), f).div(d);
    const ss = gram.ref.div(np.sqrt(np.abs(gram).add(1e-10)).add(1e-5));
    const flat = ss.reshape([n, c * c]);
    const emb = flat.ref.div(np.sqrt(np.square(flat.ref).sum(1, { keepdims: true }).add(1e-12)));
    const volume = np.matmul(emb.ref, p['head_fc.weight']!.transpose()).add(p['head_fc.bias']!).reshape([n]);
    return { slice, volume, emb };
  };
}

/** torchvision's sigmoid focal loss (α off), mean. */
function focal(z: Arr, t: Arr, gamma: number): Arr {
  const pr = jax.nn.sigmoid(z.ref);
  const ce = jax.nn
    .relu(z.ref)
    .sub(z.ref.mul(t.ref))
    .add(np.log1p(np.exp(np.abs(z).neg())));
  const oneMinusPt = pr.ref.mul(np.subtract(1, t.ref)).add(np.subtract(1, pr).mul(t));
  return np.power(oneMinusPt, gamma).mul(ce).mean();
}

/** Batch-hard triplet loss of the L2-normalised embeddings (squared distances), mean over valid anchors. */
function triplet(e: Arr, labels: readonly number[], margin: number): Arr {
  const m = labels.length;
  const pos = new Float32Array(m * m);
  const negInf = new Float32Array(m * m);
  const valid = new Float32Array(m);
  for (let a = 0; a < m; a++) {
    let hp = false;
    let hn = false;
    for (let j = 0; j < m; j++) {
      if (labels[j] === labels[a]) {
        if (j !== a) (pos[a * m + j] = 1), (hp = true);
        negInf[a * m + j] = 1e9;
      } else hn = true;
    }
    valid[a] = hp && hn ? 1 : 0;
  }
  const nValid = Math.max(
    1,
    valid.reduce((s, v) => s + v, 0),
  );
  const f = e.ref.div(np.sqrt(np.square(e).sum(1, { keepdims: true }).add(1e-12)));
  const sq = np.square(f.ref).sum(1);
  const dist = jax.nn.relu(
    sq.ref
      .reshape([m, 1])
      .add(sq.reshape([1, m]))
      .sub(np.matmul(f.ref, f.transpose()).mul(2)),
  );
  const hardPos = dist.ref.mul(np.array(pos, { shape: [m, m] })).max(1);
  const hardNeg = dist.add(np.array(negInf, { shape: [m, m] })).min(1);
  return jax.nn.relu(hardPos.sub(hardNeg).add(margin)).mul(np.array(valid)).sum().div(nValid);
}

export function jaxNetPeer(version: string, sync: () => Promise<void>): NetPeer {
  return {
    name: 'jax-js',
    version,
    support: (spec) => (spec.kinds.every((k) => k === '2d' || k === '3d') ? null : 'only 2-D/3-D convolutions'),
    async prepare(spec: NetSpec, kind, batch: NetBatch): Promise<NetRun> {
      const [n, , d, h, w] = spec.input;
      const names = [...spec.weights.keys()];
      let params: Params = Object.fromEntries(names.map((k) => [k, np.array(spec.weights.get(k)!, { shape: [...spec.shapes.get(k)!] })]));
      let momentum: Params | null = null;
      const forward = jaxForward(spec);
      const upload = () => np.array(batch.data, { shape: [n, 1, d, h, w] });
      const evalFn = jax.jit((p: Params, x: Arr) => {
        const o = forward(p, x, false);
        o.emb.dispose();
        return [jax.nn.sigmoid(o.volume), o.slice];
      });
      const loss = (p: Params, x: Arr, labels: Arr, rows: Arr, repLabels: Arr): [Arr, Arr] => {
        const l2 = names.map((k) => np.square(p[k]!.ref).sum()).reduce((a, b) => a.add(b));
        const o = forward(p, x, true);
        let data = focal(np.take(o.slice, rows), repLabels, spec.gamma).mul(spec.sliceLossWeight);
        data = data.add(focal(o.volume, labels, spec.gamma));
        data = data.add(triplet(o.emb, batch.labels, spec.margin).mul(spec.triplet));
        return [data.ref.add(l2.mul(spec.weightDecay / 2)), data];
      };
      const valueAndGrad = jax.jit(jax.valueAndGrad(loss, { hasAux: true }) as unknown as (p: Params, x: Arr, l: Arr, r: Arr, rl: Arr) => [[Arr, Arr], Params]);
      const step = async (): Promise<number> => {
        const [[total, data], grads] = valueAndGrad(
          jax.tree.ref(params),
          upload(),
          np.array(batch.labels),
          np.array(batch.repRows, { dtype: np.int32 }),
          np.array(batch.repLabels),
        );
        total.dispose();
        const next: Params = {};
        const mom: Params = {};
        for (const k of names) {
          // SGD with momentum (PyTorch): v = μv + g (v = g on the first step), w −= lr·v.
          const v = momentum ? momentum[k]!.mul(spec.momentum).add(grads[k]!) : grads[k]!;
          next[k] = params[k]!.sub(v.ref.mul(spec.lr));
          mom[k] = v;
        }
        params = next;
        momentum = mom;
        await jax.blockUntilReady(params);
        const value = (await data.data())[0]!;
        if (!Number.isFinite(value)) throw new Error(`the jax-js step gave loss ${value}`);
        return value;
      };
      const fwd = async () => {
        const [prob, slice] = evalFn(jax.tree.ref(params), upload()) as Arr[];
        return { prob: (await prob!.data()) as Float32Array, sliceLogits: (await slice!.data()) as Float32Array };
      };
      const read = async () => {
        const out: Float32Array[] = [];
        for (const k of names) out.push((await params[k]!.ref.data()) as Float32Array);
        return out;
      };
      return {
        run: () => (kind === 'fwd' ? fwd() : step()),
        sync,
        parameterCount: names.reduce((a, k) => a + spec.weights.get(k)!.length, 0),
        async outputs() {
          if (kind === 'fwd') return fwd();
          const before = names.map((k) => spec.weights.get(k)!);
          const value = await step();
          const after = await read();
          const update = new Float32Array(before.reduce((a, v) => a + v.length, 0));
          let o = 0;
          before.forEach((b, i) => {
            for (let j = 0; j < b.length; j++) update[o + j] = after[i]![j]! - b[j]!;
            o += b.length;
          });
          return { loss: new Float32Array([value]), update };
        },
        dispose() {
          jax.tree.dispose(params);
          jax.tree.dispose(momentum);
          evalFn.dispose();
          valueAndGrad.dispose();
        },
      };
    },
  };
}
