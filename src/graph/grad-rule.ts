/**
 * The shape of a gradient rule, apart from the rule table (rules.ts) so that the op modules in ops/
 * can type their rules without importing the table that imports them.
 */
import type { OpName } from './ops-spec.js';
import type { F32, Node } from './tensor.js';

/** One thunk per input; `dispose` (optional) frees shared work the called thunks did not take. */
export type Thunks = ((() => F32) | null)[] & { dispose?: () => void };
export type GradRule<K extends OpName> = (node: Node<K>, gy: F32) => Thunks;
