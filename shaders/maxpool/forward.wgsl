// Max pooling forward on NCDHW, floor mode, with the window — kernel, stride, padding and dilation —
// specialised at pipeline creation (maxpool/window.part.wgsl), so the window loops unroll.
// Bindings: params (input and output sizes as vec3 d-h-w, plane count); x [N, C, D, H, W];
// y [N, C, Do, Ho, Wo]; argmax (i32, shape of y): the flat index (d·H + h)·W + w of the chosen input
// inside its own (n, c) volume (PyTorch's return_indices).
// Threads: one per output element; a WX × WY workgroup covers a tile of (wo, ho); grid z walks the
// N·C·Do output planes (looped with stride num_workgroups.z past the per-dimension limit).
// Semantics as PyTorch: the window is scanned in (d, h, w) order with a strict `>`, so ties keep the
// first maximum; padding never wins (the first in-bounds element seeds the max); NaN wins and propagates.
override WX: u32 = 16;
override WY: u32 = 16;
#include "maxpool/window.part.wgsl"
#include "common/is-nan.part.wgsl"

struct Params { inSize: vec3<u32>, outSize: vec3<u32>, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<i32>;

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let wo = gid.x;
  let ho = gid.y;
  if (wo >= params.outSize.z || ho >= params.outSize.y) {
    return;
  }
  let ins = vec3<i32>(params.inSize);
  let h0 = i32(ho) * SH - PH;
  let w0 = i32(wo) * SW - PW;
  let vol = params.inSize.x * params.inSize.y * params.inSize.z;
  for (var plane = gid.z; plane < params.planes; plane += nwg.z) {
    let nc = plane / params.outSize.x;
    let d0 = i32(plane - nc * params.outSize.x) * SD - PD;
    let base = nc * vol;
    var best = 0.0;
    var bestIdx = -1;
    for (var a = 0; a < KD; a++) {
      let zi = d0 + a * DD;
      if (zi < 0 || zi >= ins.x) {
        continue;
      }
      for (var b = 0; b < KH; b++) {
        let yi = h0 + b * DH;
        if (yi < 0 || yi >= ins.y) {
          continue;
        }
        let row = (zi * ins.y + yi) * ins.z;
        for (var c = 0; c < KW; c++) {
          let xi = w0 + c * DW;
          if (xi < 0 || xi >= ins.z) {
            continue;
          }
          let idx = row + xi;
          let v = x[base + u32(idx)];
          if (bestIdx < 0 || v > best || isNan(v)) {
            best = v;
            bestIdx = idx;
          }
        }
      }
    }
    let o = (plane * params.outSize.y + ho) * params.outSize.z + wo;
    y[o] = best;
    argmax[o] = bestIdx;
  }
}
