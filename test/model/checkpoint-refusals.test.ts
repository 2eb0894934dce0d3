/**
 * Checkpoints that must not be trusted: non-finite weights refused on load (naming the tensor), metadata
 * validated field by field against the run (the resume path), configurations whose sizes do not fit, and
 * inference that never reports a non-finite output as a probability.
 */
import { describe, expect, it } from 'vitest';
import { smallConfig } from '../helpers/config.js';
import { MOMENTUM_PREFIX, loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { StagingNet } from '../../src/model/resnet.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { checkConfigFits, configProblems, validateCheckpointState, parseExperimentConfig } from '../../src/train/config.js';
import type { ExperimentConfig } from '../../src/train/experiment.js';
import { NonFiniteOutputError, predictVolume } from '../../src/train/inference.js';
import { inspectBytes } from '../../src/train/inspect.js';
import { predict } from '../../src/train/trainer.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';

const cfg: ExperimentConfig = smallConfig({ head: 'bilinear', width: 1, epochs: 4, batchSize: 4, tta: 2, seed: 3 });

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e, `a raw ${(e as Error)?.name}: ${(e as Error)?.message}`).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

/** The same bytes with one tensor's values replaced (re-encoded, metadata kept). */
function withTensor(bytes: Uint8Array, name: string, edit: (v: Float32Array) => void, metadata?: Record<string, string>): Uint8Array {
  const d = decodeSafetensors(bytes);
  const t = d.tensors.get(name)!;
  const v = new Float32Array(t.data.slice().buffer);
  edit(v);
  const tensors = new Map(d.tensors);
  tensors.set(name, { ...t, data: new Uint8Array(v.buffer) });
  return encodeSafetensors(tensors, metadata ?? d.metadata);
}

const history = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ epoch: i + 1, trainLoss: 0.7 - 0.1 * i, lr: 0.01, seconds: 1.5, valAuc: 0.6, valLoss: 0.5 }));

describe('checkpoints are validated before they are trusted', async () => {
  const gpu = await testGpu();
  const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(4));
  const momentum = new Map([...model.namedParameters()].map(([n, p]) => [n, new Float32Array(p.size).fill(0.01)]));
  const good = await saveCheckpoint(model, { epoch: 2, config: cfg, extra: { fold: 1, history: history(2) } }, momentum);

  it('a NaN or Inf weight, statistic or momentum value is refused on load, naming the tensor, and nothing is written', async () => {
    const target = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(9));
    const before = await [...target.namedParameters()].find(([n]) => n === 'layer3.0.conv1.weight')![1].value.read();
    const cases: [string, (v: Float32Array) => void, RegExp][] = [
      ['layer3.0.conv1.weight', (v) => (v[5] = Number.NaN), /'layer3\.0\.conv1\.weight' has 1 non-finite value\(s\) \(first: NaN at index 5\)/],
      ['head_fc.bias', (v) => (v[0] = Number.POSITIVE_INFINITY), /'head_fc\.bias' has 1 non-finite value\(s\) \(first: Infinity at index 0\)/],
      ['layer4.1.bn2.running_var', (v) => (v[2] = -1), /'layer4\.1\.bn2\.running_var' has a negative variance \(-1 at index 2\)/],
      [`${MOMENTUM_PREFIX}fc.weight`, (v) => v.fill(Number.NaN), /'optimizer\.momentum\.fc\.weight' has 8 non-finite/],
    ];
    for (const [name, edit, msg] of cases) {
      const e = inputError(() => loadCheckpoint(gpu, target, withTensor(good, name, edit), 'bad.safetensors'));
      expect(e.code, name).toBe('non-finite');
      expect(e.exitCode).toBe(4);
      expect(e.message).toMatch(/^bad\.safetensors: 1 tensor\(s\) hold values no trained model has: /);
      expect(e.message).toMatch(msg);
    }
    const after = await [...target.namedParameters()].find(([n]) => n === 'layer3.0.conv1.weight')![1].value.read();
    expect(Array.from(after)).toEqual(Array.from(before));
    target.release();
  });

  it("metadata 'epoch' that is not a whole number is refused on load; one the run cannot have reached is refused by the resume check", () => {
    const d = decodeSafetensors(good);
    for (const epoch of ['abc', '1e400', '-1', '2.5', '', '99999999999999999999']) {
      const bytes = encodeSafetensors(d.tensors, { ...d.metadata, epoch });
      const e = inputError(() => loadCheckpoint(gpu, model, bytes, 'c.safetensors'));
      expect(e.message, epoch).toMatch(/^c\.safetensors: metadata 'epoch' is .* not a whole number of epochs/);
    }
    const state = loadCheckpoint(gpu, model, encodeSafetensors(d.tensors, { ...d.metadata, epoch: '99' }), 'c.safetensors').state;
    expect(state.epoch).toBe(99);
    const e = inputError(() => validateCheckpointState(state, { config: cfg, fold: 1, kind: 'checkpoint' }, 'fold-1/checkpoint.safetensors'));
    expect(e.message).toMatch(/'epoch' is 99, outside this run's 1…4/);
  });

  it('the resume check accepts the checkpoint the run wrote and names every field that does not fit', () => {
    const { state } = loadCheckpoint(gpu, model, good, 'c');
    expect(validateCheckpointState(state, { config: cfg, fold: 1, kind: 'checkpoint' }, 'c')).toEqual({ epoch: 2, history: history(2) });
    const bad = (edit: (s: typeof state) => void) => {
      const s = structuredClone(state);
      edit(s);
      return inputError(() => validateCheckpointState(s, { config: cfg, fold: 1, kind: 'checkpoint' }, 'fold-1/checkpoint.safetensors')).message;
    };
    expect(bad((s) => ((s.config as ExperimentConfig).lr = 0.1))).toMatch(/trained with another configuration \(checkpoint vs run: lr \(0\.1 vs 0\.01\)\)/);
    expect(bad((s) => ((s.config as ExperimentConfig).tta = 5))).toMatch(/tta \(5 vs 2\)/);
    expect(bad((s) => ((s.config as ExperimentConfig).loss.margin = 0.3))).toMatch(/loss\.margin \(0\.3 vs 0\.2\)/);
    expect(bad((s) => (s.extra!.fold = 0))).toMatch(/'extra\.fold' is 0, but the file is fold 1's/);
    expect(bad((s) => (s.extra!.history = history(1)))).toMatch(/'extra\.history' has 1 epoch\(s\), the checkpoint says 2 are done/);
    expect(bad((s) => ((s.extra!.history as { valAuc: number }[])[1]!.valAuc = 2.5))).toMatch(/'extra\.history\[1\]': valAuc 2\.5/);
    expect(bad((s) => ((s.extra!.history as { trainLoss: unknown }[])[0]!.trainLoss = 'NaN'))).toMatch(/trainLoss "NaN"/);
    expect(bad((s) => delete s.epoch)).toMatch(/no 'epoch'/);
    expect(bad((s) => (s.config = { ...cfg, folds: 1e9 }))).toMatch(/'folds' is 1000000000: must be a whole number from 2 to 1000/);
    expect(() => validateCheckpointState({ ...state, epoch: 4 }, { config: cfg, fold: 1, kind: 'model' }, 'm')).not.toThrow();
    expect(inputError(() => validateCheckpointState(state, { config: cfg, fold: 1, kind: 'model' }, 'm')).message).toMatch(
      /'epoch' is 2 but a finished fold of this run has 4/,
    );
  });

  it('a configuration is checked field by field, and its sizes against the machine before anything is allocated', () => {
    expect(configProblems(cfg)).toEqual([]);
    const e = inputError(() => parseExperimentConfig({ ...cfg, inputSize: 6000, folds: 1e9, lr: -1, model: 'f-X', extraField: 1 }, 'run/config.json'));
    expect(e.message).toMatch(/^run\/config\.json: the run configuration is not valid \(5 problem\(s\)\)/);
    for (const p of [
      /'model' is "f-X": must be one of/,
      /'lr' is -1/,
      /'inputSize' is 6000: must be a whole number from 8 to 1024/,
      /'folds' is 1000000000/,
      /'extraField' is not a configuration field/,
    ])
      expect(e.message).toMatch(p);
    expect(inputError(() => parseExperimentConfig(null, 'x')).message).toMatch(/not a JSON object/);
    const big = { ...cfg, inputSize: 1024, depth: 512, width: 32 };
    expect(inputError(() => checkConfigFits(big, { hostBytes: 64e9, deviceBufferBytes: 2 ** 31 }, 'ckpt')).message).toMatch(
      /need a 16\.0 GiB buffer for the first layer's output \[1, 32, 512, 512, 512\], more than this adapter's largest binding \(2\.0 GiB\)/,
    );
    expect(inputError(() => checkConfigFits(big, { hostBytes: 1e9 }, 'ckpt')).message).toMatch(
      /needs about 12\.0 GiB of memory per volume, but 953\.7 MiB is available/,
    );
    expect(() => checkConfigFits(cfg, { hostBytes: 1e9, deviceBufferBytes: 2 ** 28 }, 'ckpt')).not.toThrow();
  });

  it('inference never reports a non-finite output as a probability', async () => {
    const broken = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 1 }).materialize(gpu, new Rng(5));
    const [, w] = [...broken.namedParameters()].find(([n]) => n === 'head_fc.weight')!;
    gpu.write(w.value.data, new Float32Array(w.size).fill(Number.NaN));
    const vol = new Rng(1).normalArray(4 * 16 * 16);
    await expect(predictVolume(gpu, broken, Float32Array.from(vol), [4, 16, 16])).rejects.toThrow(NonFiniteOutputError);
    await expect(predictVolume(gpu, broken, Float32Array.from(vol), [4, 16, 16])).rejects.toThrow(
      /volume probability is not a number \(NaN\); no probability can be given/,
    );
    const sample = { id: 's1', label: 1 as const, volume: Float32Array.from(vol), dims: [4, 16, 16] as [number, number, number], repSlices: [1] };
    await expect(predict(gpu, broken, [sample], { tta: 1, batchSize: 1, seed: 0 })).rejects.toThrow(
      /volume probability \(TTA pass 0, volumes s1\) is not a number/,
    );
    // The same model with finite weights gives a probability.
    const ok = await predictVolume(gpu, model, Float32Array.from(vol), [4, 16, 16]);
    expect(ok.prob).toBeGreaterThan(0);
    expect(ok.prob).toBeLessThan(1);
    broken.release();
  });

  it('inspect reports a checkpoint: configuration, tensors, finiteness, the match against the model', () => {
    const r = inspectBytes(good, 'good.safetensors');
    if (r.kind !== 'checkpoint') throw new Error('expected a checkpoint report');
    expect(r.config).toEqual(cfg);
    expect(r.configProblems).toEqual([]);
    expect(r.modelMismatches).toEqual([]);
    expect(r.allFinite).toBe(true);
    expect(r.epoch).toBe(2);
    expect(r.fold).toBe(1);
    expect(r.parameters).toBe(model.parameterCount());
    expect(r.momentumTensors).toBe(momentum.size);
    expect(r.tensors.find((t) => t.name === 'conv1.weight')).toEqual({ name: 'conv1.weight', dtype: 'F32', shape: [1, 1, 1, 7, 7], nonFinite: 0 });
    const nan = inspectBytes(
      withTensor(good, 'fc.bias', (v) => (v[0] = Number.NaN)),
      'nan.safetensors',
    );
    expect(nan.kind === 'checkpoint' && nan.allFinite).toBe(false);
    expect(nan.kind === 'checkpoint' && nan.tensors.find((t) => t.name === 'fc.bias')!.nonFinite).toBe(1);
    const d = decodeSafetensors(good);
    const wide = inspectBytes(encodeSafetensors(d.tensors, { ...d.metadata, config: JSON.stringify({ ...cfg, width: 2 }) }), 'w.safetensors');
    expect(wide.kind === 'checkpoint' && wide.modelMismatches!.length).toBeGreaterThan(10);
  });
});
