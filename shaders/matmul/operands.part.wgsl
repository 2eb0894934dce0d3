// The operands of the matmul kernels (matmul/matmul.wgsl, matmul/matmul-tiled.wgsl) — one binding
// layout, so the host dispatches either with the same arguments: the uniforms, A in k-blocks of four (ab,
// matmul/block-k.wgsl), B packed into panels (bp, matmul/pack.wgsl), the bias (read when HAS_BIAS = 1)
// and C; `panelLoad(i)`, vec4 i of the panels, is how the shared GEMM pieces read the packed operand.
// Expects nothing from the includer.
override HAS_BIAS: u32 = 0;

struct Params {
  m: u32,
  n: u32,
  kp: u32,
  batchA: u32,
  batchC: u32,
  panelBatch: u32,
  rowBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ab: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn panelLoad(i: u32) -> vec4<f32> {
  return bp[i];
}
