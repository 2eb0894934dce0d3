// Max pooling backward w.r.t. the input, as a gather (race-free, deterministic, no atomics): each thread
// owns one dx element and adds dy of every output whose window contains it and whose argmax names it.
// For input index i on an axis, the candidate outputs are o = (i + pad − k·dilation) / stride for the
// kernel taps k where that division is exact and 0 ≤ o < out size, so each output is visited once.
// Layout NCDHW. Bindings: params (sizes, kernel, stride, pad, dilation as vec3 d-h-w); dy and argmax
// (i32) [N, C, Do, Ho, Wo]; dx [N, C, D, H, W] (every element written, zeros included).
// Threads: a WX × WY workgroup covers a tile of (w, h) of one input slice; grid z walks the N·C·D input
// slices (looped with stride num_workgroups.z past the per-dimension limit).
override WX: u32 = 16;
override WY: u32 = 16;

struct Params { inSize: vec3<u32>, outSize: vec3<u32>, kernel: vec3<u32>, stride: vec3<u32>, pad: vec3<u32>, dilation: vec3<u32>, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let wi = gid.x;
  let hi = gid.y;
  if (wi >= params.inSize.z || hi >= params.inSize.y) {
    return;
  }
  let outs = vec3<i32>(params.outSize);
  let st = vec3<i32>(params.stride);
  let dl = vec3<i32>(params.dilation);
  let outVol = params.outSize.x * params.outSize.y * params.outSize.z;
  for (var plane = gid.z; plane < params.planes; plane += nwg.z) {
    let nc = plane / params.inSize.x;
    let di = plane - nc * params.inSize.x;
    let me = i32((di * params.inSize.y + hi) * params.inSize.z + wi);
    let t0 = vec3<i32>(vec3<u32>(di, hi, wi) + params.pad);
    let base = nc * outVol;
    var acc = 0.0;
    for (var a = 0; a < i32(params.kernel.x); a++) {
      let tz = t0.x - a * dl.x;
      if (tz < 0 || tz % st.x != 0 || tz / st.x >= outs.x) {
        continue;
      }
      for (var b = 0; b < i32(params.kernel.y); b++) {
        let ty = t0.y - b * dl.y;
        if (ty < 0 || ty % st.y != 0 || ty / st.y >= outs.y) {
          continue;
        }
        let row = (tz / st.x * outs.y + ty / st.y) * outs.z;
        for (var c = 0; c < i32(params.kernel.z); c++) {
          let tx = t0.z - c * dl.z;
          if (tx < 0 || tx % st.z != 0 || tx / st.z >= outs.z) {
            continue;
          }
          let o = base + u32(row + tx / st.z);
          if (argmax[o] == me) {
            acc += dy[o];
          }
        }
      }
    }
    dx[(plane * params.inSize.y + hi) * params.inSize.z + wi] = acc;
  }
}
