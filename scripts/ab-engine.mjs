#!/usr/bin/env node
// A/B timing of two engine builds side by side (e.g. before and after a refactor):
//   node scripts/ab-engine.mjs <checkout-with-dist>   (run it alternately for the two checkouts; median of 5 after 2 warm-ups)
const root = process.argv[2];
if (!root) {
  console.error('usage: node scripts/ab-engine.mjs <checkout-with-dist>');
  process.exit(2);
}
const vg = await import(`${root}/dist/src/index.js`);
const { acquireNodeGpu } = await import(`${root}/dist/src/gpu/acquire.node.js`);
const gpu = await acquireNodeGpu({ adapter: 'lavapipe' });
const { F, leaf, backward } = vg;
const rnd = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const cases = [
  { name: 'stage5 3x3x3 256->256 [1,256,6,16,16]', x: [1, 256, 6, 16, 16], w: [256, 256, 3, 3, 3], pad: [1, 1, 1] },
  { name: 'stage3 1x3x3 64->64 [1,64,24,64,64]', x: [1, 64, 24, 64, 64], w: [64, 64, 1, 3, 3], pad: [0, 1, 1] },
  { name: 'stem 1x7x7 s(1,2,2) 1->32 [1,1,24,128,128]', x: [1, 1, 24, 128, 128], w: [32, 1, 1, 7, 7], pad: [0, 3, 3], stride: [1, 2, 2] },
];
const prod = (s) => s.reduce((a, b) => a * b, 1);
const out = {};
for (const c of cases) {
  const xd = rnd(prod(c.x)),
    wd = rnd(prod(c.w));
  const times = [];
  for (let it = 0; it < 7; it++) {
    const t0 = performance.now();
    await gpu.tidy(async () => {
      const x = leaf(gpu.tensor(xd, c.x), true);
      const w = leaf(gpu.tensor(wd, c.w), true);
      const y = F.conv3d(x, w, null, c.stride ?? 1, c.pad);
      backward(F.sum(y));
      await w.grad.read();
      await x.grad.read();
    });
    if (it >= 2) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  out[c.name] = times[times.length >> 1];
}
console.log(JSON.stringify(out));
gpu.destroy();
