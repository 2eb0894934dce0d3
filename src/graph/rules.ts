/**
 * The gradient-rule table, one entry per op (typed against OpSpecs: an op without a rule does not
 * compile). A rule gets the node and the output gradient and returns one thunk per input; the engine
 * calls only the thunks of inputs that need a gradient. Each thunk returns a fresh tensor it owns.
 */
import type { OpName } from './ops-spec.js';
import type { F32, Node } from './tensor.js';
import { elementwiseRules } from './ops/elementwise.js';
import { convRules } from './ops/conv.js';
import { layoutRules } from './ops/layout.js';
import { linearRules } from './ops/linear.js';
import { lossRules } from './ops/losses.js';
import { nnRules } from './ops/nn.js';

/** One thunk per input; `dispose` (optional) frees shared work the called thunks did not take. */
export type Thunks = ((() => F32) | null)[] & { dispose?: () => void };
export type GradRule<K extends OpName> = (node: Node<K>, gy: F32) => Thunks;

export const RULES: { [K in OpName]: GradRule<K> } = {
  ...elementwiseRules,
  ...layoutRules,
  ...nnRules,
  ...lossRules,
  ...convRules,
  ...linearRules,
};
