import { describe, expect, it } from 'vitest';
import { adamStepRef, type AdamState } from '../../src/kernels/adam.ref.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { Adam, ADAM_STATE_KEYS, SGD } from '../../src/model/optimizer.js';
import { StagingNet } from '../../src/model/resnet.js';
import { DEFAULT_LOSS, makeOptimizer } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { relErr, testGpu } from '../helpers/gpu.js';

describe('model optimizers over a whole network', async () => {
  const gpu = await testGpu();
  const net = (seed: number) => new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(seed));
  /** Deterministic fake gradients for step k. */
  const setGrads = (m: StagingNet, k: number) => {
    for (const [n, p] of m.namedParameters()) {
      p.value.grad?.release();
      p.value.grad = gpu.keep(gpu.tensor(new Rng(k * 1000 + p.size + n.length).normalArray(p.size), p.shape, 'f32'));
    }
  };

  it('Adam: three steps equal torch-semantics AdamW per parameter, with a 10x head lr', async () => {
    const m = net(1);
    const init = new Map<string, Float64Array>();
    for (const [n, p] of m.namedParameters()) init.set(n, Float64Array.from(await p.value.read()));
    const opt = new Adam(gpu, [...m.namedParameters()], { lr: 1e-3, weightDecay: 0.01, lrScale: (n) => (n.startsWith('head_fc.') ? 10 : 1) });
    const ref = new Map<string, { p: Float64Array; s: AdamState | null }>([...init].map(([n, p]) => [n, { p, s: null }]));
    for (let k = 0; k < 3; k++) {
      setGrads(m, k);
      for (const [n, p] of m.namedParameters()) {
        const r = ref.get(n)!;
        const g = await p.value.grad!.read();
        const next = adamStepRef(r.p, g, r.s, { lr: 1e-3 * (n.startsWith('head_fc.') ? 10 : 1), weightDecay: 0.01 });
        ref.set(n, { p: next.param, s: next.state });
      }
      opt.step();
    }
    for (const [n, p] of m.namedParameters()) expect(relErr(await p.value.read(), ref.get(n)!.p), n).toBeLessThan(1e-4);
    expect(opt.steps).toBe(3);
    opt.release();
    m.release();
  });

  it('Adam state round-trips through momentumBuffers/loadMomentum: a continued run equals an uninterrupted one', async () => {
    const a = net(3);
    const optA = new Adam(gpu, [...a.namedParameters()], { lr: 2e-3, weightDecay: 0.01 });
    const b = net(3);
    const optB = new Adam(gpu, [...b.namedParameters()], { lr: 2e-3, weightDecay: 0.01 });
    for (let k = 0; k < 2; k++) {
      setGrads(a, k);
      optA.step();
      setGrads(b, k);
      optB.step();
    }
    const state = await optB.momentumBuffers();
    expect(state.get(ADAM_STATE_KEYS.step)![0]).toBe(2);
    expect(state.size).toBe(1 + 2 * [...b.namedParameters()].length);
    // B's weights and state move to a fresh optimizer C (as a resume would), then both take step 3.
    const c = net(4);
    for (const [[, pb], [, pc]] of [...b.namedParameters()].map((x, i) => [x, [...c.namedParameters()][i]!] as const))
      gpu.write(pc.value.data, await pb.value.read());
    const optC = new Adam(gpu, [...c.namedParameters()], { lr: 2e-3, weightDecay: 0.01 });
    optC.loadMomentum(state);
    setGrads(a, 2);
    optA.step();
    setGrads(c, 2);
    optC.step();
    for (const [[n, pa], [, pc]] of [...a.namedParameters()].map((x, i) => [x, [...c.namedParameters()][i]!] as const)) {
      expect(Array.from(await pc.value.read()), n).toEqual(Array.from(await pa.value.read()));
    }
    expect(() => optC.loadMomentum(new Map([['conv1.weight', new Float32Array(1)]]))).toThrow(/no valid Adam step count/);
    for (const o of [optA, optB, optC]) o.release();
    for (const m of [a, b, c]) m.release();
  });

  it('Adam state goes through a checkpoint: loaded, a resumed step equals an uninterrupted one; a damaged state is refused', async () => {
    const a = net(5);
    const optA = new Adam(gpu, [...a.namedParameters()], { lr: 1e-3, weightDecay: 0.01 });
    setGrads(a, 0);
    optA.step();
    const bytes = await saveCheckpoint(a, { epoch: 1 }, await optA.momentumBuffers());
    const b = net(6);
    const loaded = loadCheckpoint(gpu, b, bytes, 'adam.safetensors');
    expect(loaded.momentum.get(ADAM_STATE_KEYS.step)![0]).toBe(1);
    const optB = new Adam(gpu, [...b.namedParameters()], { lr: 1e-3, weightDecay: 0.01 });
    optB.loadMomentum(loaded.momentum);
    setGrads(a, 1);
    optA.step();
    setGrads(b, 1);
    optB.step();
    for (const [[n, pa], [, pb]] of [...a.namedParameters()].map((x, i) => [x, [...b.namedParameters()][i]!] as const)) {
      expect(Array.from(await pb.value.read()), n).toEqual(Array.from(await pa.value.read()));
    }
    // A moment of the wrong size, or one for a parameter the model lacks, is refused by name.
    const state = await optA.momentumBuffers();
    const first = [...a.namedParameters()][0]![0];
    const bad = new Map(state).set(ADAM_STATE_KEYS.m(first), new Float32Array(3));
    const c = net(7);
    await expect(saveCheckpoint(a, { epoch: 2 }, bad).then((x) => loadCheckpoint(gpu, c, x, 'bad.safetensors'))).rejects.toThrow(
      /bad\.safetensors .*optimizer state 'adam\.exp_avg\..*' has the wrong size/,
    );
    const alien = new Map(state).set(ADAM_STATE_KEYS.v('no_such.weight'), new Float32Array(3));
    await expect(saveCheckpoint(a, { epoch: 2 }, alien).then((x) => loadCheckpoint(gpu, c, x, 'alien.safetensors'))).rejects.toThrow(
      /unknown parameter 'no_such\.weight'/,
    );
    for (const o of [optA, optB]) o.release();
    for (const m of [a, b, c]) m.release();
  });

  it('makeOptimizer picks SGD by default and AdamW for optimizer: adam', () => {
    const m = net(7);
    const cfg = {
      model: 'f-rMC5',
      head: 'bilinear',
      width: 1,
      epochs: 1,
      batchSize: 2,
      lr: 1e-3,
      momentum: 0.9,
      weightDecay: 0.01,
      schedule: 'cosine',
      loss: DEFAULT_LOSS,
      oversample: false,
      augment: false,
      tta: 1,
      headLrScale: 10,
      sliceEpochs: 0,
      seed: 0,
    } as const;
    const sgd = makeOptimizer(gpu, m, cfg);
    expect(sgd).toBeInstanceOf(SGD);
    sgd.release();
    const m2 = net(8);
    const adam = makeOptimizer(gpu, m2, { ...cfg, optimizer: 'adam' });
    expect(adam).toBeInstanceOf(Adam);
    expect((adam as Adam).options).toMatchObject({ lr: 1e-3, weightDecay: 0.01, decoupled: true });
    adam.release();
    expect(() => makeOptimizer(gpu, net(9), { ...cfg, optimizer: 'rmsprop' as 'adam' })).toThrow(/unknown optimizer 'rmsprop'/);
    m.release();
    m2.release();
  });
});
