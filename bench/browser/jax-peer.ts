/**
 * jax-js (@jax-js/jax, WebGPU device) as a peer in the page. Written as a jax-js user would: arrays in
 * NCHW / NCDHW with OIHW / OIDHW kernels (voxelgrad's own layouts), `lax.conv` with explicit padding,
 * forward + backward as `jit(grad(sum(conv(x, w) · dy), argnums [0, 1]))`, matmul as `np.matmul`.
 * Layers with kernel depth 1 run as 2-D convolutions on the depth folded into the batch (as for tfjs).
 * jax-js is lazy: a run dispatches with `blockUntilReady()` (which submits and waits), and the clock
 * stops after the device queue's onSubmittedWorkDone(). The whole network (forward and training step) is
 * bench/browser/jax-net.ts.
 */
import * as jax from '@jax-js/jax';
import { foldDepth, unfoldDepth } from '../layout.js';
import type { NetPeer } from '../net-peer.js';
import type { OpPeer, PeerRun } from '../peer.js';
import { jaxNetPeer } from './jax-net.js';
import { outShape } from '../shapes.js';

type Arr = jax.Array;
const np = jax.numpy;

export async function startJax(version: string): Promise<{ op: OpPeer; net: NetPeer }> {
  const devices = await jax.init('webgpu');
  if (!devices.includes('webgpu')) throw new Error(`jax-js found no WebGPU device (devices: ${devices.join(', ')})`);
  jax.defaultDevice('webgpu');
  const device = jax.getWebGPUDevice();
  const sync = async () => void (await device.queue.onSubmittedWorkDone());
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const arr = (data: Float32Array, shape: number[]) => np.array(data, { shape });

  /** A prepared computation: `call` gets fresh references to the inputs and returns owned outputs. */
  const prepared = (
    inputs: Arr[],
    call: (...a: Arr[]) => Arr | Arr[],
    convert: (outs: Float32Array[]) => Record<string, Float32Array>,
    fn?: { dispose(): void },
  ): PeerRun => {
    const invoke = () => {
      const out = call(...inputs.map((a) => a.ref));
      return Array.isArray(out) ? out : [out];
    };
    return {
      async run() {
        const outs = invoke();
        await jax.blockUntilReady(outs);
        for (const o of outs) o.dispose();
      },
      sync,
      async outputs() {
        const outs = invoke();
        const data: Float32Array[] = [];
        for (const o of outs) data.push((await o.data()) as Float32Array); // data() consumes the array
        return convert(data);
      },
      dispose() {
        for (const a of inputs) a.dispose();
        fn?.dispose();
      },
    };
  };

  const op: OpPeer = {
    name: 'jax-js',
    version,
    adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'webgpu',
    async matmul(a, b, m, n, k) {
      const f = jax.jit((x: Arr, y: Arr) => np.matmul(x, y));
      return prepared(
        [arr(a, [m, k]), arr(b, [k, n])],
        (x, y) => f(x!, y!),
        ([y]) => ({ y: y! }),
        f,
      );
    },
    async conv(s, d, backward) {
      const [n, cin, dd, h, w] = s.x;
      const [cout, , kd, kh, kw] = s.w;
      const ys = outShape(s);
      const folded = kd === 1 && s.stride[0] === 1 && s.pad[0] === 0;
      const x = folded ? arr(foldDepth(d.x, s.x), [n * dd, cin, h, w]) : arr(d.x, [...s.x]);
      const wt = folded ? arr(d.w, [cout, cin, kh, kw]) : arr(d.w, [...s.w]);
      const dy = folded ? arr(foldDepth(d.dy, ys), [ys[0] * ys[2], cout, ys[3], ys[4]]) : arr(d.dy, [...ys]);
      const strides = folded ? [s.stride[1], s.stride[2]] : [...s.stride];
      const pads = (folded ? [s.pad[1], s.pad[2]] : [...s.pad]).map((p) => [p, p] as [number, number]);
      const conv = (a: Arr, b: Arr) => jax.lax.conv(a, b, strides, pads);
      const unfold = (y: Float32Array, shape: readonly number[]) => (folded ? unfoldDepth(y, shape) : y);
      if (!backward) {
        const f = jax.jit(conv);
        dy.dispose();
        return prepared(
          [x, wt],
          (a, b) => f(a!, b!),
          ([y]) => ({ y: unfold(y!, ys) }),
          f,
        );
      }
      const loss = (a: Arr, b: Arr, g: Arr) => np.sum(np.multiply(conv(a, b), g));
      const f = jax.jit(jax.grad(loss, { argnums: [0, 1] }) as (a: Arr, b: Arr, g: Arr) => Arr[]);
      return prepared(
        [x, wt, dy],
        (a, b, g) => f(a!, b!, g!),
        ([gx, gw]) => ({ dx: unfold(gx!, s.x), dw: gw! }),
        f,
      );
    },
  };
  return { op, net: jaxNetPeer(version, sync) };
}
