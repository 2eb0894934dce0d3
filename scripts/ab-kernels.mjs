#!/usr/bin/env node
// A/B timing of two engine builds on the small kernels (element-wise, layout, max pool, batch norm, the fused
// optimizers, the GPU augmentation), for refactors of their WGSL that must not slow them down:
//   node scripts/ab-kernels.mjs <old-checkout> <new-checkout> [rounds=3] [only=substring of case names]
// Each checkout needs a build (`npm run build`: dist/). The two builds run alternately, one process per
// build and round (old, new, old, new, …), so both see the same machine load; each process times every
// case with bench/harness.js timeIt (median of 5 after 2 warm-ups, synchronised with the GPU). Prints the
// median over the rounds of each build's medians and the ratio new/old, and the geometric mean ratio.
//   node scripts/ab-kernels.mjs --one <checkout>   (one process: that build's medians as JSON)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args[0] === '--one') {
  console.log(JSON.stringify(await measure(args[1], args[2] ?? '')));
  process.exit(0);
}
if (args.length < 2) {
  console.error('usage: node scripts/ab-kernels.mjs <old-checkout> <new-checkout> [rounds=3] [only]');
  process.exit(2);
}
const [oldRoot, newRoot] = args;
const rounds = Number(args[2] ?? 3);
const only = args[3] ?? '';
const runs = { old: [], new: [] };
for (let r = 0; r < rounds; r++) {
  for (const [k, root] of [
    ['old', oldRoot],
    ['new', newRoot],
  ]) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--one', root, only], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    runs[k].push(JSON.parse(out.trim().split('\n').at(-1)));
  }
}
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
let logSum = 0;
const names = Object.keys(runs.old[0]);
console.log(['case'.padEnd(44), 'old ms', 'new ms', 'new/old', 'old per round', 'new per round'].join('  '));
for (const name of names) {
  const o = med(runs.old.map((x) => x[name]));
  const n = med(runs.new.map((x) => x[name]));
  logSum += Math.log(n / o);
  const per = (k) => runs[k].map((x) => x[name].toFixed(2)).join(' ');
  console.log([name.padEnd(44), o.toFixed(2).padStart(6), n.toFixed(2).padStart(6), (n / o).toFixed(2).padStart(7), per('old'), ' | ', per('new')].join('  '));
}
console.log(`geomean new/old ${Math.exp(logSum / names.length).toFixed(3)} over ${names.length} cases, ${rounds} rounds`);

async function measure(root, only) {
  const load = (p) => import(`${root}/dist/${p}`);
  const { acquireNodeGpu } = await load('src/gpu/acquire.node.js');
  const ew = await load('src/kernels/elementwise.js');
  const layout = await load('src/kernels/layout.js');
  const pool = await load('src/kernels/maxpool.js');
  const sgd = await load('src/kernels/sgd.js');
  const adam = await load('src/kernels/adam.js');
  const aug = await load('src/kernels/augment.js');
  const ap = await load('src/data/augment-params.js');
  const { Rng } = await load('src/util/rng.js');
  const { timeIt } = await load('bench/harness.js');
  const gpu = await acquireNodeGpu({ adapter: 'lavapipe' });
  const rng = new Rng(17);
  const timing = { warmup: 2, reps: 5 };
  const out = {};
  const time = async (name, fn) => {
    if (!name.includes(only)) return;
    out[name] = (await timeIt(gpu, () => gpu.tidy(fn), timing)).medianMs;
  };
  const N = 1 << 22;
  const a = gpu.keep(gpu.tensor(rng.normalArray(N), [N]));
  const b = gpu.keep(gpu.tensor(rng.normalArray(N), [N]));
  const o = gpu.keep(gpu.empty([N]));
  await time('copy 4M', () => void ew.copy(a, o));
  await time('fill 4M', () => void ew.fill(o, 1));
  await time('add 4M', () => void ew.add(a, b, 0.5, o));
  await time('sigmoid 4M', () => void ew.sigmoid(a, o));
  await time('broadcast 4M', () => void layout.broadcastScalar(a.viewAt(0, [1]), [N], 2, o));
  await time('swapAxes [8,64,8,32,32] (1,2)', () => void layout.swapAxes(a.view([8, 64, 8, 32, 32]), 1, 2, o.view([8, 8, 64, 32, 32])));
  const idx = gpu.keep(
    gpu.tensor(
      Uint32Array.from({ length: 64 }, (_, i) => (i * 7) % 256),
      [64],
      'u32',
    ),
  );
  await time('gatherRows [256,1024]→[64,1024] + backward', () => {
    const g = layout.gatherRows(a.viewAt(0, [256, 1024]), idx);
    layout.gatherRowsBackward(g, idx, [256, 1024]);
  });
  const px = gpu.keep(gpu.tensor(rng.normalArray(8 * 16 * 8 * 64 * 64), [8, 16, 8, 64, 64]));
  const pp = { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] };
  await time('maxpool stem fwd+bwd [8,16,8,64,64]', () => {
    const r = pool.maxPool3d(px, pp);
    pool.maxPool3dBackward(r.y, r.argmax, px.shape, pp);
  });
  const bn = await load('src/kernels/batchnorm.js');
  for (const shape of [
    [4, 32, 8, 64, 64],
    [4, 64, 8, 31, 31],
  ]) {
    const n = shape.reduce((p, q) => p * q, 1);
    const c = shape[1];
    const x = gpu.keep(gpu.tensor(rng.normalArray(n), shape));
    const dy = gpu.keep(gpu.tensor(rng.normalArray(n), shape));
    const gamma = gpu.keep(gpu.tensor(rng.uniformArray(c, 0.5, 1.5), [c]));
    const beta = gpu.keep(gpu.tensor(rng.uniformArray(c, -0.5, 0.5), [c]));
    await time(`batchnorm+relu train fwd+bwd [${shape.join(',')}]`, () => {
      const r = bn.batchNormTrain(x, gamma, beta, null, null, { relu: true });
      bn.batchNormBackward(dy, x, gamma, r.mean, r.invStd, { relu: true, y: r.y });
    });
  }
  const sizes = [864, 32, 32, 27648, 64, 64, 110592, 128, 128, 442368, 256, 256, 1769472, 512, 512, 1024];
  const lay = sgd.planParamArena(sizes);
  const param = gpu.keep(gpu.tensor(rng.normalArray(lay.total), [lay.total]));
  const grad = gpu.keep(gpu.tensor(rng.normalArray(lay.total), [lay.total]));
  const s = new sgd.FusedSgd(gpu, lay, { momentum: 0.9, weightDecay: 0.01 });
  await time(`sgd step ${lay.total} floats`, () => s.step(param, grad, 0.01));
  const ad = new adam.FusedAdam(gpu, lay, { weightDecay: 0.01 });
  await time(`adamw step ${lay.total} floats`, () => ad.step(param, grad, 0.001));
  for (const [label, shape, config] of [
    ['augment training cfg [8,1,12,48,48]', [8, 1, 12, 48, 48], ap.augmentConfigForSize(48)],
    ['augment all 14 on [2,1,8,96,96]', [2, 1, 8, 96, 96], ap.augmentConfig(Object.fromEntries(ap.AUGMENTATION_NAMES.map((k) => [k, { p: 1 }])))],
  ]) {
    const n = shape.reduce((p, q) => p * q, 1);
    const x = gpu.keep(gpu.tensor(rng.uniformArray(n, 0, 1000), shape));
    const prng = new Rng(4242);
    const set = Array.from({ length: shape[0] }, () => ap.sampleAugmentParams(prng, config));
    await time(label, () => void aug.augmentBatchGpu(gpu, x, set));
  }
  const ix = gpu.keep(gpu.tensor(rng.uniformArray(8 * 12 * 48 * 48, 0, 1000), [8, 1, 12, 48, 48]));
  const ids = Array.from({ length: 8 }, () => ap.identityAugmentParams());
  await time('augment identity (copy) [8,1,12,48,48]', () => void aug.augmentBatchGpu(gpu, ix, ids));
  gpu.destroy();
  return out;
}
