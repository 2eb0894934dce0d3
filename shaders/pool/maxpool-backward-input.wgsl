// Max pooling backward w.r.t. the input, as a gather (race-free, deterministic, no atomics): each thread
// owns one dx element and adds dy of every output whose window contains it and whose argmax names it.
// Per axis, input i (t = i + pad) is tap k of output o = (t − k·dilation) / stride when that division
// is exact and 0 ≤ o < out size; each output is visited once. The window is specialised at pipeline
// creation as in `maxpool-forward.wgsl` (override constants KD..DW, depth-height-width order), so the
// tap loops unroll and the divisions are by constants.
// Layout NCDHW. Bindings: params (input and output sizes as vec3 d-h-w, plane count); dy and argmax
// (i32) [N, C, Do, Ho, Wo]; dx [N, C, D, H, W] (every element written, zeros included).
// Threads: a WX × WY workgroup covers a tile of (w, h) of one input slice; grid z walks the N·C·D input
// slices (looped with stride num_workgroups.z past the per-dimension limit).
override WX: u32 = 16;
override WY: u32 = 16;
override KD: i32 = 1;
override KH: i32 = 3;
override KW: i32 = 3;
override SD: i32 = 1;
override SH: i32 = 2;
override SW: i32 = 2;
override PD: i32 = 0;
override PH: i32 = 1;
override PW: i32 = 1;
override DD: i32 = 1;
override DH: i32 = 1;
override DW: i32 = 1;

struct Params { inSize: vec3<u32>, outSize: vec3<u32>, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// Output index on one axis whose window holds t = i + pad at tap k, or −1 when there is none.
fn tapOutput(t: i32, k: i32, s: i32, dl: i32, outSize: i32) -> i32 {
  let u = t - k * dl;
  let o = u / s;
  return select(-1, o, u >= 0 && u - o * s == 0 && o < outSize);
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let wi = gid.x;
  let hi = gid.y;
  if (wi >= params.inSize.z || hi >= params.inSize.y) {
    return;
  }
  let outs = vec3<i32>(params.outSize);
  let th = i32(hi) + PH;
  let tw = i32(wi) + PW;
  let outVol = params.outSize.x * params.outSize.y * params.outSize.z;
  for (var plane = gid.z; plane < params.planes; plane += nwg.z) {
    let nc = plane / params.inSize.x;
    let di = plane - nc * params.inSize.x;
    let me = i32((di * params.inSize.y + hi) * params.inSize.z + wi);
    let td = i32(di) + PD;
    let base = nc * outVol;
    var acc = 0.0;
    // Constant trip counts (override constants): the taps unroll, and invalid ones are masked.
    for (var a = 0; a < KD; a++) {
      let od = tapOutput(td, a, SD, DD, outs.x);
      for (var b = 0; b < KH; b++) {
        let oh = tapOutput(th, b, SH, DH, outs.y);
        for (var c = 0; c < KW; c++) {
          let ow = tapOutput(tw, c, SW, DW, outs.z);
          if (od >= 0 && oh >= 0 && ow >= 0) {
            let o = base + u32((od * outs.y + oh) * outs.z + ow);
            if (argmax[o] == me) {
              acc += dy[o];
            }
          }
        }
      }
    }
    dx[(plane * params.inSize.y + hi) * params.inSize.z + wi] = acc;
  }
}
