/**
 * The gradient-rule table, one entry per op (typed against OpSpecs: an op without a rule does not
 * compile). A rule gets the node and the output gradient and returns one thunk per input; the engine
 * calls only the thunks of inputs that need a gradient. Each thunk returns a fresh tensor it owns.
 */
import type { GradRule } from './grad-rule.js';
import type { OpName } from './ops-spec.js';
import { elementwiseRules } from './ops/elementwise.js';
import { convRules } from './ops/conv.js';
import { layoutRules } from './ops/layout.js';
import { linearRules } from './ops/linear.js';
import { centerRules } from './ops/center.js';
import { focalRules } from './ops/focal.js';
import { tripletRules } from './ops/triplet.js';
import { batchNormRules } from './ops/batchnorm.js';
import { depthAggRules } from './ops/depth-agg.js';
import { maxPoolRules } from './ops/maxpool.js';
import { planeAvgPoolRules } from './ops/plane-avgpool.js';

export type { GradRule, Thunks } from './grad-rule.js';

export const RULES: { [K in OpName]: GradRule<K> } = {
  ...elementwiseRules,
  ...layoutRules,
  ...batchNormRules,
  ...maxPoolRules,
  ...planeAvgPoolRules,
  ...depthAggRules,
  ...focalRules,
  ...centerRules,
  ...tripletRules,
  ...convRules,
  ...linearRules,
};
