// Types for the ES-module build of wgsl_reflect (its package.json points `types` at the same API).
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
