// The smallest useful embedding of voxelgrad in a web page: acquire the GPU, one 3-D convolution
// forward and backward, then load a checkpoint written by `voxelgrad train` and stage a volume.
// `model.safetensors` is served next to this page (copy any run's fold-k/model.safetensors).
import { Rng, acquireGpu, backward, buildModel, decodeSafetensors, F, leaf, loadCheckpoint, predictVolume } from 'voxelgrad';

const out = document.getElementById('out');
const log = (s) => (out.textContent += `\n${s}`);

try {
  const gpu = await acquireGpu();
  log(`adapter: ${gpu.adapter.description || gpu.adapter.architecture} (${gpu.adapter.vendor})`);

  // conv3d on NCDHW tensors: x [1, 2, 6, 10, 10], w [4, 2, 3, 3, 3], padding 1; gradients of sum(y).
  const rng = new Rng(1);
  const x = leaf(gpu.tensor(rng.normalArray(2 * 6 * 10 * 10), [1, 2, 6, 10, 10]), true, 'x');
  const w = leaf(gpu.tensor(rng.normalArray(4 * 2 * 27), [4, 2, 3, 3, 3]), true, 'w');
  const y = F.conv3d(x, w, null, 1, 1).retain();
  backward(F.sum(y));
  const [yv, dx, dw] = [await y.read(), await x.grad.read(), await w.grad.read()];
  log(`conv3d: y ${y.shape.join('×')}, ∂/∂x ${x.shape.join('×')}, ∂/∂w ${w.shape.join('×')}`);

  // A trained model: its configuration travels in the checkpoint's metadata.
  const bytes = new Uint8Array(await (await fetch('./model.safetensors')).arrayBuffer());
  const cfg = JSON.parse(decodeSafetensors(bytes).metadata.config);
  const model = buildModel(cfg).materialize(gpu, new Rng(0));
  loadCheckpoint(gpu, model, bytes, 'model.safetensors');
  const dims = [cfg.depth, cfg.inputSize, cfg.inputSize];
  const volume = new Rng(2).normalArray(dims[0] * dims[1] * dims[2]); // stands in for a preprocessed MR volume
  const p = await predictVolume(gpu, model, volume, dims);
  log(`${cfg.model} + ${cfg.head}: P(T3) = ${p.prob.toFixed(4)}, per-slice ${p.sliceProbs.map((v) => v.toFixed(2)).join(' ')}`);

  window.embedResult = { y: Array.from(yv), dx: Array.from(dx), dw: Array.from(dw), prob: p.prob, sliceProbs: p.sliceProbs };
} catch (e) {
  log(`error: ${e.message}`);
  window.embedResult = { error: String(e.message) };
}
