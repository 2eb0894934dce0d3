/** Batch norm as a graph op (+ the fused ReLU variant): torch.nn.functional.batch_norm semantics. */
import { GpuError } from '../../gpu/errors.js';
import * as bn from '../../kernels/batchnorm.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';

function batchNormImpl(
  relu: boolean,
  input: Tensor,
  runningMean: F32 | null,
  runningVar: F32 | null,
  weight: Tensor | null,
  bias: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
): Tensor {
  if (!weight || !bias) throw new GpuError('usage', 'batchNorm: voxelgrad needs the affine weight and bias (pass ones/zeros for a plain normalisation)');
  if (training) {
    const r = bn.batchNormTrain(input.data, weight.data, bias.data, runningMean, runningVar, { eps, momentum, relu });
    const saved = { x: input.data, y: r.y, gamma: weight.data, mean: r.mean, invStd: r.invStd, runningMean, runningVar };
    return record('batchNorm', [input, weight, bias], r.y, { training, relu, eps }, saved, { owned: [r.mean, r.invStd] });
  }
  if (!runningMean || !runningVar) throw new GpuError('usage', 'batchNorm in eval mode needs running_mean and running_var');
  const y = bn.batchNormEval(input.data, weight.data, bias.data, runningMean, runningVar, { eps, relu });
  const gpu = input.gpu;
  // Eval-mode backward reads the running statistics; the placeholders keep the saved record's type.
  const none = gpu.empty([0]);
  const saved = { x: input.data, y, gamma: weight.data, mean: none, invStd: none, runningMean, runningVar };
  return record('batchNorm', [input, weight, bias], y, { training, relu, eps }, saved, { owned: [none] });
}

/**
 * torch.nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps).
 * In training mode the running statistics are updated in place (momentum 0.1, unbiased variance).
 */
export function batchNorm(
  input: Tensor,
  runningMean: F32 | null,
  runningVar: F32 | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  return batchNormImpl(false, input, runningMean, runningVar, weight, bias, training, momentum, eps);
}

/** relu(batch_norm(…)) in one pass (voxelgrad's fusion; same arguments as batchNorm). */
export function batchNormRelu(
  input: Tensor,
  runningMean: F32 | null,
  runningVar: F32 | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  return batchNormImpl(true, input, runningMean, runningVar, weight, bias, training, momentum, eps);
}

function bnRule(n: Node<'batchNorm'>, gy: F32): Thunks {
  const s = n.saved;
  let grads: bn.BatchNormGrads | null = null;
  const taken = [false, false, false];
  const get = () => {
    if (!grads) {
      const opts = n.attrs.relu ? { relu: true, y: s.y } : {};
      grads = n.attrs.training
        ? bn.batchNormBackward(gy, s.x, s.gamma, s.mean, s.invStd, opts)
        : bn.batchNormEvalBackward(gy, s.x, s.gamma, s.runningMean!, s.runningVar!, { ...opts, eps: n.attrs.eps });
    }
    return grads;
  };
  const thunks: Thunks = [() => ((taken[0] = true), get().dx), () => ((taken[1] = true), get().dgamma), () => ((taken[2] = true), get().dbeta)];
  thunks.dispose = () => {
    if (!grads) return;
    if (!taken[0]) grads.dx.release();
    if (!taken[1]) grads.dgamma.release();
    if (!taken[2]) grads.dbeta.release();
  };
  return thunks;
}

export const batchNormRules = {
  batchNorm: bnRule,
};
