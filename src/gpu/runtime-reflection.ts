/**
 * Importing this module installs the runtime WGSL parser, for kernels whose WGSL was not reflected at
 * build time (your own shaders passed to `defineKernel`-style definitions). The engine's own kernels
 * never need it, so a page that does not import it does not bundle the parser (~200 kB).
 */
import { setShaderReflector } from './reflect.js';
import { parseShaderInterface } from './reflect-wgsl.js';

setShaderReflector(parseShaderInterface);

export { parseShaderInterface };
