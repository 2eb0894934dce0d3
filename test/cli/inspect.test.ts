/**
 * `voxelgrad inspect`: a report for a NIfTI volume and for a checkpoint, JSON for scripts, and the exit
 * codes (0 usable, 2 usage, 4 unreadable or refused — the report is still printed for the latter).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { smallConfig } from '../helpers/config.js';
import { captureOutput } from '../helpers/cli.js';
import { main } from '../../src/cli/main.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { StagingNet } from '../../src/model/resnet.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { buildNifti } from '../data/helpers/nifti-builder.js';
import { testGpu } from '../helpers/gpu.js';

const io = captureOutput();

describe('voxelgrad inspect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-inspect-'));

  it('a NIfTI volume: dims, spacing, orientation, datatype, scaling, warnings and intensities; a single slice is refused with exit 4', async () => {
    const values = Array.from({ length: 8 * 6 * 3 }, (_, i) => (i === 7 ? Number.NaN : i));
    const vol = join(dir, 'v.nii.gz');
    writeFileSync(vol, gzipSync(buildNifti({ dim: [3, 8, 6, 3], datatype: 16, values, pixdim: [1, 0.5, 0.5, 3], slope: 2, inter: 1, sformCode: 1 })));
    expect(await main(['inspect', vol])).toBe(0);
    expect(io.out).toMatch(/v\.nii\.gz: NIfTI-1 volume \(gzip\)/);
    expect(io.out).toMatch(/loaded as {5}D×H×W = 3 × 6 × 8/);
    expect(io.out).toMatch(/spacing {7}3 × 0\.5 × 0\.5 mm/);
    expect(io.out).toMatch(/orientation {3}from sform/);
    expect(io.out).toMatch(/scaling {7}value × 2 \+ 1/);
    expect(io.out).toMatch(/\[nan-voxels\] 1 NaN voxels replaced with 0/);
    expect(io.out).toMatch(/intensity {5}min 0, max 287/);
    io.out = '';
    expect(await main(['inspect', vol, '--json'])).toBe(0);
    const j = JSON.parse(io.out);
    expect(j).toMatchObject({ kind: 'nifti', dims: [3, 6, 8], datatype: 'float32', usable: true, refusal: null });
    expect(j.warnings).toEqual([{ code: 'nan-voxels', source: vol, message: '1 NaN voxels replaced with 0', count: 1 }]);

    const flat = join(dir, 'slice.nii');
    writeFileSync(flat, buildNifti({ dim: [2, 16, 16], datatype: 2, values: new Array(256).fill(4) }));
    io.out = '';
    expect(await main(['inspect', flat])).toBe(4);
    expect(io.out).toMatch(/NOT USABLE AS A VOLUME: .*a single slice/);
    expect(io.err).toMatch(/voxelgrad inspect: .*slice\.nii: a single slice \(16×16 pixels, 1 slice\) is not a volume/);
  });

  it('a checkpoint: configuration, tensors, finiteness; NaN weights and a bad configuration give exit 4 with the report', async () => {
    const gpu = await testGpu();
    const cfg = smallConfig({ head: 'bilinear', width: 1, sliceEpochs: 0, batchSize: 4, seed: 1 });
    const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(2));
    const bytes = await saveCheckpoint(model, { epoch: 2, config: cfg, extra: { fold: 1 } });
    model.release();
    const good = join(dir, 'model.safetensors');
    writeFileSync(good, bytes);
    expect(await main(['inspect', good])).toBe(0);
    expect(io.out).toMatch(/model {9}f-rMC5 \+ bilinear head, width 1; input 16×16×4/);
    expect(io.out).toMatch(/finite {8}every value/);
    expect(io.out).toMatch(/model match {3}every tensor matches the configuration/);
    expect(io.out).toMatch(/layer4\.1\.conv2\.weight +F32 {2}\[8, 8, 3, 3, 3\]/);

    const d = decodeSafetensors(bytes);
    const t = d.tensors.get('fc.weight')!;
    const v = new Float32Array(t.data.slice().buffer);
    v[3] = Number.NEGATIVE_INFINITY;
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(
      bad,
      encodeSafetensors(new Map([...d.tensors, ['fc.weight', { ...t, data: new Uint8Array(v.buffer) }]]), {
        ...d.metadata,
        config: JSON.stringify({ ...cfg, inputSize: 6000 }),
      }),
    );
    io.out = '';
    io.err = '';
    expect(await main(['inspect', bad, '--json'])).toBe(4);
    const j = JSON.parse(io.out);
    expect(j.allFinite).toBe(false);
    expect(j.tensors.find((x: { name: string }) => x.name === 'fc.weight').nonFinite).toBe(1);
    expect(j.configProblems).toEqual(["'inputSize' is 6000: must be a whole number from 8 to 1024"]);
    expect(j.usable).toBe(false);
    expect(io.err).toMatch(/bad\.safetensors: 1 tensor\(s\) hold NaN or infinite values/);
  });

  it('exit codes: 2 for usage, 4 for what cannot be read', async () => {
    expect(await main(['inspect'])).toBe(2);
    expect(await main(['inspect', 'a', 'b'])).toBe(2);
    expect(await main(['inspect', '--bogus', 'x'])).toBe(2);
    expect(io.err).toMatch(/Unknown option '--bogus'/);
    io.err = '';
    expect(await main(['inspect', join(dir, 'missing.nii')])).toBe(4);
    expect(io.err).toMatch(/missing\.nii: cannot read the file \(no such file\)/);
    expect(await main(['inspect', dir])).toBe(4);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'subject,path\n');
    io.err = '';
    expect(await main(['inspect', text])).toBe(4);
    expect(io.err).toMatch(/notes\.txt: neither a NIfTI volume .* nor a safetensors checkpoint/);
    const trunc = join(dir, 'trunc.nii');
    writeFileSync(trunc, buildNifti({ dim: [3, 4, 4, 4], datatype: 16, values: new Array(64).fill(1) }).slice(0, 300));
    io.err = '';
    expect(await main(['inspect', trunc])).toBe(4);
    expect(io.err).toMatch(/trunc\.nii: truncated header/);
    expect(io.err).not.toMatch(/Error:|at .*\.ts:/);
  });
});
