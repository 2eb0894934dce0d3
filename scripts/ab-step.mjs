#!/usr/bin/env node
// A/B timing of whole training steps of two engine builds (e.g. before and after a refactor): one
// training step of the cpu preset (f-rMC5 + bilinear, batch 4 of 64×64×8, augmentation on) through the
// public API's measureStep (median of single timed steps after two warm-ups), twice per process.
//   node scripts/ab-step.mjs <checkout-with-dist>    (alternate the two checkouts, several rounds;
//   compare the medians of the per-process minima, with the load average printed beside each)
const root = process.argv[2];
if (!root) {
  console.error('usage: node scripts/ab-step.mjs <checkout-with-dist>');
  process.exit(2);
}
const vg = await import(`${root}/dist/src/index.js`);
const { acquireNodeGpu } = await import(`${root}/dist/src/gpu/acquire.node.js`);
const gpu = await acquireNodeGpu({ adapter: 'lavapipe' });
const cfg = vg.presetConfig('cpu');
const runs = [];
for (let i = 0; i < 2; i++) runs.push(await vg.measureStep(gpu, cfg));
const { loadavg } = await import('node:os');
console.log(JSON.stringify({ root, step: runs.map((r) => r.step), forward: runs.map((r) => r.forward), load: loadavg()[0] }));
process.exit(0);
