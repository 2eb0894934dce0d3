#!/usr/bin/env node
// Exports a manifest's volumes, preprocessed exactly as `voxelgrad train` loads them, to a float32 blob
// (<out>.bin, [N, 1, D, S, S]) and <out>.json (dims, labels 0/1, representative slices, ids) — the input
// of scripts/learnability-torch.py. Needs `npm run build` first.
//   node scripts/export-cohort.mjs <manifest.csv> <size> <depth> <out-prefix> [--bias-field]
import { writeFileSync } from 'node:fs';
import { loadCohortFiles as loadCohort, readManifest } from '../dist/src/train/cohort.node.js';

const [manifest, size, depth, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/export-cohort.mjs <manifest.csv> <size> <depth> <out-prefix> [--bias-field]');
  process.exit(2);
}
const samples = loadCohort(readManifest(manifest), { size: Number(size), depth: Number(depth), biasField: process.argv.includes('--bias-field') });
const [D, H, W] = samples[0].dims;
const blob = new Float32Array(samples.length * D * H * W);
samples.forEach((s, i) => blob.set(s.volume, i * D * H * W));
writeFileSync(`${out}.bin`, Buffer.from(blob.buffer));
writeFileSync(`${out}.json`, JSON.stringify({ dims: [D, H, W], labels: samples.map((s) => s.label), rep: samples.map((s) => s.repSlices), ids: samples.map((s) => s.id) }));
console.log(`${samples.length} volumes [${D}, ${H}, ${W}] -> ${out}.bin, ${out}.json`);
