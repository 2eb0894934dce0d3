#!/usr/bin/env node
// Writes a PNG of the paper's 14 training augmentations, each alone at a clearly visible strength (well
// above the training ranges, so a person can see what each op does), applied on the GPU
// (src/kernels/augment.ts augmentBatchGpu) to a synthetic T3 subject and shown on its representative
// slice, next to the original. All panels share the original volume's intensity window (0.5–99.5th
// percentile), so brightness, contrast and CLAHE changes stay visible. Each GPU result is also compared
// with the CPU contract (applyAugmentCpu) and the relative error printed.
// Usage (after `npm run build`):
//   node scripts/augment-preview.mjs [out.png] [--size 256] [--seed 3]
// Default output: runs/augment-preview.png. Adapter: VOXELGRAD_ADAPTER as everywhere else.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const dist = new URL('../dist/src/', import.meta.url);
const load = async (p) => {
  try {
    return await import(new URL(p, dist).href);
  } catch (e) {
    process.stderr.write(`augment-preview: cannot load dist/src/${p} (${e.message}); run 'npm run build' first\n`);
    process.exit(2);
  }
};
const { acquireNodeGpu } = await load('gpu/acquire.node.js');
const { augmentBatchGpu } = await load('kernels/augment.js');
const { applyAugmentCpu, identityAugmentParams } = await load('data/augment-params.js');
const { generateSubject } = await load('data/synth.js');
const { percentiles } = await load('data/image-ops.js');
const { Rng } = await load('util/rng.js');
const { encodePng } = await load('util/png.js');

const args = process.argv.slice(2);
let out = 'runs/augment-preview.png';
let size = 256;
let seed = 3;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--size') size = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]);
  else if (args[i] === '--help' || args[i] === '-h') {
    process.stdout.write('usage: node scripts/augment-preview.mjs [out.png] [--size 256] [--seed 3]\n');
    process.exit(0);
  } else out = args[i];
}
if (!(Number.isInteger(size) && size >= 32 && size <= 512)) {
  process.stderr.write(`augment-preview: --size must be an integer in 32..512, got ${size}\n`);
  process.exit(2);
}

// Kernel sizes in pixels scale with the image (given for 256 px); odd, at least 3.
const px = (n) => Math.max(3, 2 * Math.round(((n * size) / 256 - 1) / 2) + 1);
const motion = px(11);
const median = Math.min(11, px(9));
const gauss = px(11);
const OPS = [
  ['ELASTIC', 'RMS 1.5% SIGMA 3%', { elastic: { magnitude: 0.015, sigma: 0.03, seed: 11 } }],
  ['OPTICAL', 'K = -0.6', { optical: { k: -0.6, dy: 0, dx: 0 } }],
  ['GRID', '5 CELLS 0.7-1.3', { grid: { steps: 5, xs: [0.7, 1.3, 0.7, 1.3, 1.0], ys: [1.3, 0.7, 1.3, 0.7, 1.0] } }],
  ['SHIFT', 'DY +10% DX -10%', { shift: { dy: 0.1, dx: -0.1 } }],
  ['SCALE', 'X 1.3', { scale: { factor: 1.3 } }],
  ['ROTATE', '+30 DEG', { rotate: { degrees: 30 } }],
  ['CROP', '60% AT (20%,20%)', { crop: { size: 0.6, y0: 0.2, x0: 0.2 } }],
  ['HORIZONTAL FLIP', '', { hflip: true }],
  ['CLAHE', 'CLIP 4 TILES 8X8', { clahe: { clipLimit: 4, tiles: [8, 8] } }],
  ['BRIGHTNESS', 'BETA +0.2', { brightness: { beta: 0.2 } }],
  ['CONTRAST', 'ALPHA 1.5', { contrast: { alpha: 1.5 } }],
  ['MOTION BLUR', `${motion} PX AT 45 DEG`, { motionBlur: { size: motion, angle: 45 } }],
  ['MEDIAN BLUR', `${median}X${median}`, { medianBlur: { size: median } }],
  ['GAUSSIAN BLUR', `${gauss} PX SIGMA AUTO`, { gaussianBlur: { size: gauss, sigma: 0 } }],
];

const subject = generateSubject(new Rng(seed), { label: 'T3', size });
const vol = subject.volume;
const [D, H, W] = vol.dims;
const slice = subject.representativeSlices[Math.floor(subject.representativeSlices.length / 2)];
const params = OPS.map(([, , patch]) => ({ ...identityAugmentParams(), ...patch }));

const gpu = await acquireNodeGpu();
const n = D * H * W;
const host = new Float32Array(params.length * n);
for (let b = 0; b < params.length; b++) host.set(vol.data, b * n);
const x = gpu.tensor(host, [params.length, 1, D, H, W]);
const t0 = performance.now();
const y = augmentBatchGpu(gpu, x, params);
const got = await y.read();
const ms = performance.now() - t0;
x.release();
y.release();
process.stdout.write(`${gpu.adapter.description}: ${params.length} volumes [${D}, ${H}, ${W}] augmented in ${ms.toFixed(0)} ms (incl. readback)\n`);

const relErr = (a, b) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};
for (let b = 0; b < params.length; b++) {
  const want = applyAugmentCpu(vol, params[b]).data;
  process.stdout.write(`  ${OPS[b][0].padEnd(16)} rel err vs applyAugmentCpu ${relErr(got.subarray(b * n, (b + 1) * n), want).toExponential(2)}\n`);
}

// ---- picture: 5 × 3 panels, each a label bar (two lines) over the slice
const [lo, hi] = percentiles(vol.data, [0.5, 99.5]);
const COLS = 5;
const ROWS = 3;
const GAP = 6;
const SCALE = size >= 192 ? 2 : 1;
const LINE = 9 * SCALE;
const BAR = 2 * LINE + 6;
const PW = W + GAP;
const PH = BAR + H + GAP;
const IW = COLS * PW + GAP;
const IH = ROWS * PH + GAP;
const img = new Uint8Array(IW * IH).fill(255);

const FONT = {
  A: '.###.#...##...#######...##...##...#',
  B: '####.#...##...#####.#...##...#####.',
  C: '.###.#...##....#....#....#...#.###.',
  D: '####.#...##...##...##...##...#####.',
  E: '######....#....####.#....#....#####',
  F: '######....#....####.#....#....#....',
  G: '.###.#...##....#.####...##...#.####',
  H: '#...##...##...#######...##...##...#',
  I: '.###...#....#....#....#....#...###.',
  J: '..###...#....#....#....#.#..#..##..',
  K: '#...##..#.#.#..##...#.#..#..#.#...#',
  L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##.#.##...##...##...#',
  N: '#...##...###..##.#.##..###...##...#',
  O: '.###.#...##...##...##...##...#.###.',
  P: '####.#...##...#####.#....#....#....',
  Q: '.###.#...##...##...##.#.##..#..##.#',
  R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.#####....#.....###.....#....#####.',
  T: '#####..#....#....#....#....#....#..',
  U: '#...##...##...##...##...##...#.###.',
  V: '#...##...##...##...##...#.#.#...#..',
  W: '#...##...##...##.#.##.#.##.#.#.#.#.',
  X: '#...##...#.#.#...#...#.#.#...##...#',
  Y: '#...##...#.#.#...#....#....#....#..',
  Z: '#####....#...#...#...#...#....#####',
  0: '.###.#...##..###.#.###..##...#.###.',
  1: '..#...##....#....#....#....#...###.',
  2: '.###.#...#....#...#...#...#...#####',
  3: '#####...#...#.....#.....##...#.###.',
  4: '...#...##..#.#.#..#.#####...#....#.',
  5: '######....####.....#....##...#.###.',
  6: '..##..#...#....####.#...##...#.###.',
  7: '#####....#...#...#...#....#....#...',
  8: '.###.#...##...#.###.#...##...#.###.',
  9: '.###.#...##...#.####....#...#..##..',
  ' ': '...................................',
  '.': '..........................##...##..',
  '-': '................###................',
  '=': '..........#####.....#####..........',
  ',': '......................#....#...#...',
  '%': '##..###..#...#...#...#...#..###..##',
  '(': '...#...#...#....#....#.....#.....#.',
  ')': '.#.....#.....#....#....#...#...#...',
  '+': '.......#....#..#####..#....#.......',
  '/': '....#....#...#...#...#...#....#....',
};
function text(s, x0, y0) {
  let x = x0;
  for (const ch of s) {
    const g = FONT[ch] ?? FONT[' '];
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 5; c++) {
        if (g[r * 5 + c] !== '#') continue;
        for (let dy = 0; dy < SCALE; dy++)
          for (let dx = 0; dx < SCALE; dx++) {
            const yy = y0 + r * SCALE + dy;
            const xx = x + c * SCALE + dx;
            if (xx < IW && yy < IH) img[yy * IW + xx] = 0;
          }
      }
    }
    x += 6 * SCALE;
  }
}
function panel(k, data, title, sub) {
  const px0 = GAP + (k % COLS) * PW;
  const py0 = GAP + Math.floor(k / COLS) * PH;
  text(title, px0, py0);
  text(sub, px0, py0 + LINE);
  const base = slice * H * W;
  for (let yy = 0; yy < H; yy++) {
    for (let xx = 0; xx < W; xx++) {
      const v = (data[base + yy * W + xx] - lo) / (hi - lo);
      img[(py0 + BAR + yy) * IW + px0 + xx] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
  }
}
panel(0, vol.data, 'ORIGINAL', `T3 SLICE ${slice + 1}/${D}`);
for (let b = 0; b < params.length; b++) panel(b + 1, got.subarray(b * n, (b + 1) * n), OPS[b][0], OPS[b][1]);

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, encodePng({ width: IW, height: IH, channels: 1, data: img }));
process.stdout.write(`wrote ${out} (${IW}×${IH})\n`);
gpu.destroy();
