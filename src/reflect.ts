/**
 * voxelgrad/reflect — importing it installs the runtime WGSL parser, needed only for kernels with WGSL
 * of your own (the engine's shaders are reflected at build time).
 */
export { parseShaderInterface } from './gpu/runtime-reflection.js';
export { reflectShader, type ShaderInterface } from './gpu/reflect.js';
