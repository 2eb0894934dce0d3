#!/usr/bin/env node
// Exports a manifest's volumes, preprocessed exactly as `voxelgrad train` loads them, for
// scripts/learnability-torch.py. Needs `npm run build` first.
//   node scripts/export-cohort.mjs <manifest.csv> <size> <depth> <out-prefix> [--bias-field]
// Writes
//   <out>.bin   float32 [N, 1, depth, size, size]: each volume cut to `depth` slices around its
//               representative slices (train's depth policy, src/train/dataset.ts fitDepth);
//   <out>.json  dims, labels 0/1, representative slices (in the window), ids, the window's first slice
//               in the whole stack (`start`), and for the whole stacks: `depths` and `offsets`;
//   <out>.full.bin  float32, every whole stack (all its slices, same in-plane preprocessing)
//               back to back: the label- and annotation-free test-time input.
import { writeFileSync } from 'node:fs';
import { readVolumeFile } from '../dist/src/data/io.node.js';
import { checkRowAgainstVolume } from '../dist/src/data/manifest.js';
import { prepareVolume } from '../dist/src/train/cohort.js';
import { readManifest } from '../dist/src/train/cohort.node.js';
import { fitDepth } from '../dist/src/train/dataset.js';

const [manifest, size, depth, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/export-cohort.mjs <manifest.csv> <size> <depth> <out-prefix> [--bias-field]');
  process.exit(2);
}
const S = Number(size);
const D = Number(depth);
const biasField = process.argv.includes('--bias-field');
const rows = readManifest(manifest);
const blob = new Float32Array(rows.length * D * S * S);
const full = [];
const meta = { dims: [D, S, S], labels: [], rep: [], ids: [], start: [], depths: [], offsets: [], fullRep: [] };
let offset = 0;
rows.forEach((row, i) => {
  const vol = readVolumeFile(row.file);
  checkRowAgainstVolume(row, vol.dims);
  const v = prepareVolume(vol, { size: S, biasField, ...(row.roi ? { roi: row.roi } : {}) });
  const sample = { id: row.subject, label: row.label === 'T3' ? 1 : 0, volume: v.data, dims: v.dims, repSlices: row.slices };
  const fitted = fitDepth(sample, D);
  blob.set(fitted.volume, i * D * S * S);
  meta.labels.push(sample.label);
  meta.rep.push(fitted.repSlices);
  meta.ids.push(row.subject);
  // fitDepth shifts the representative slices by the window's start.
  meta.start.push(row.slices[0] - fitted.repSlices[0]);
  meta.depths.push(v.dims[0]);
  meta.offsets.push(offset);
  meta.fullRep.push(row.slices);
  full.push(v.data);
  offset += v.data.length;
  if ((i + 1) % 100 === 0) process.stderr.write(`${i + 1}/${rows.length}\n`);
});
const fullBlob = new Float32Array(offset);
let o = 0;
for (const f of full) {
  fullBlob.set(f, o);
  o += f.length;
}
writeFileSync(`${out}.bin`, Buffer.from(blob.buffer));
writeFileSync(`${out}.full.bin`, Buffer.from(fullBlob.buffer));
writeFileSync(`${out}.json`, JSON.stringify(meta));
console.log(`${rows.length} volumes [${D}, ${S}, ${S}] -> ${out}.bin, ${out}.full.bin (whole stacks), ${out}.json`);
