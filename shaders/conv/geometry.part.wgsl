// The convolution's geometry, the first members of the uniform struct Params of every direct
// convolution kernel (conv/forward-rows.part.wgsl, conv/backward-input-rows.part.wgsl,
// conv/backward-weight-rows.part.wgsl, conv/col2im.wgsl), included inside `struct Params { … }` and
// filled from one TS geometry (src/kernels/conv-gemm.ts): sizes, kernel extent, stride, padding and
// dilation per axis, all in (depth, height, width) order. Expects nothing from the includer.
inSize: vec3<u32>,
outSize: vec3<u32>,
kernel: vec3<u32>,
stride: vec3<u32>,
pad: vec3<u32>,
dilation: vec3<u32>,
