import { describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { SGD } from '../../src/model/optimizer.js';
import { StagingNet } from '../../src/model/resnet.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';

describe('safetensors checkpoints', async () => {
  const gpu = await testGpu();

  it('round-trips parameters, BN statistics, momentum and training state bit-exactly', async () => {
    const a = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(1));
    const optA = new SGD(gpu, [...a.namedParameters()], { lr: 0.1, momentum: 0.9 });
    for (const [, p] of a.namedParameters()) p.value.grad = gpu.keep(gpu.tensor(new Rng(p.size).normalArray(p.size), p.shape, 'f32'));
    optA.step();
    a.zeroGrad();
    const [, bn] = [...a.namedBuffers()].find(([n]) => n === 'bn1.running_mean')!;
    gpu.write(bn.value, [0.5]);
    [...a.namedBuffers()].find(([n]) => n === 'bn1.num_batches_tracked')![1].count = 7;
    const bytes = await saveCheckpoint(a, { epoch: 3, rng: [1, 2, 3, 4], config: { x: 1 }, extra: { history: [1] } }, await optA.momentumBuffers());

    const b = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(2));
    const loaded = loadCheckpoint(gpu, b, bytes);
    expect(loaded.state).toEqual({ epoch: 3, rng: [1, 2, 3, 4], config: { x: 1 }, extra: { history: [1] } });
    for (const [[na, pa], [nb, pb]] of [...a.namedParameters()].map((x, i) => [x, [...b.namedParameters()][i]!] as const)) {
      expect(nb).toBe(na);
      expect(Array.from(await pb.value.read())).toEqual(Array.from(await pa.value.read()));
    }
    expect((await [...b.namedBuffers()].find(([n]) => n === 'bn1.running_mean')![1].value.read())[0]).toBe(0.5);
    expect([...b.namedBuffers()].find(([n]) => n === 'bn1.num_batches_tracked')![1].count).toBe(7);
    const mA = await optA.momentumBuffers();
    expect(loaded.momentum.size).toBe(mA.size);
    for (const [n, v] of mA) expect(Array.from(loaded.momentum.get(n)!)).toEqual(Array.from(v));
    // The header is standard safetensors: 8-byte length, JSON with dtype/shape/data_offsets.
    const d = decodeSafetensors(bytes);
    expect(d.tensors.get('conv1.weight')!.dtype).toBe('F32');
    expect(d.tensors.get('bn1.num_batches_tracked')!.dtype).toBe('I64');
    optA.release();
    a.release();
    b.release();
  });

  it('a checkpoint of another model is refused with every mismatch named, and nothing is written', async () => {
    const a = new StagingNet({ name: 'f-R2D', width: 1 }).materialize(gpu, new Rng(1));
    const b = new StagingNet({ name: 'f-rMC5', width: 1 }).materialize(gpu, new Rng(2));
    const before = await [...b.namedParameters()][0]![1].value.read();
    const bytes = await saveCheckpoint(a);
    expect(() => loadCheckpoint(gpu, b, bytes, 'a.safetensors')).toThrow(
      /a\.safetensors does not match the model .*layer4\.0\.conv1\.weight' has shape \[8, 4, 1, 3, 3\], the model needs \[8, 4, 3, 3, 3\]/,
    );
    expect(Array.from(await [...b.namedParameters()][0]![1].value.read())).toEqual(Array.from(before));
    a.release();
    b.release();
  });

  it('truncated, corrupt and non-safetensors files give clear errors', () => {
    const good = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: new Uint8Array(8) }]]), { a: 'b' });
    expect(() => decodeSafetensors(good.subarray(0, good.length - 3), 'x.safetensors')).toThrow(
      /x\.safetensors: .*outside the 5 data bytes \(truncated file\?\)/,
    );
    expect(() => decodeSafetensors(new Uint8Array(4), 'x')).toThrow(/only 4 bytes/);
    expect(() => decodeSafetensors(new TextEncoder().encode('PK\u0003\u0004 this is a zip file....'), 'x')).toThrow(/header length/);
    const badJson = new Uint8Array(16);
    new DataView(badJson.buffer).setBigUint64(0, 8n, true);
    badJson.set(new TextEncoder().encode('{"w": 1,'), 8);
    expect(() => decodeSafetensors(badJson, 'x')).toThrow(/unsupported dtype|not JSON/);
  });
});
