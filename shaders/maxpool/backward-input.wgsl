// Max pooling backward w.r.t. the input, as a gather (race-free, deterministic, no atomics): every dx
// element is written once, with the sum of dy over the outputs whose argmax names it.
// Blocks: on each axis, input i (t = i + pad) belongs to block j = floor(t / stride); every input of
// block j can only lie in the windows of outputs j − R … j, R = floor((kernel − 1)·dilation / stride),
// so one thread owns a block of SD × SH × SW inputs and scans those (R + 1)³ candidate outputs for each
// of them — an output whose argmax equals the input's index necessarily covers it. For the ResNet stem
// (kernel 1×3×3, stride 1×2×2) a thread owns 2×2 inputs and reads 2×2 outputs. The window is
// specialised at pipeline creation (maxpool/window.part.wgsl), so every loop has a constant trip count.
// Layout NCDHW. Bindings: params (input and output sizes and block counts as vec3 d-h-w, plane count
// N·C·blocks_d); dy and argmax (i32) [N, C, Do, Ho, Wo]; dx [N, C, D, H, W].
// Threads: a WX × WY workgroup covers a tile of (w, h) blocks; grid z walks the N·C·blocks_d block
// planes (looped with stride num_workgroups.z past the per-dimension limit).
override WX: u32 = 16;
override WY: u32 = 16;
#include "maxpool/window.part.wgsl"

struct Params { inSize: vec3<u32>, outSize: vec3<u32>, blocks: vec3<u32>, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  if (gid.x >= params.blocks.z || gid.y >= params.blocks.y) {
    return;
  }
  let ins = vec3<i32>(params.inSize);
  let outs = vec3<i32>(params.outSize);
  let jh = PH / SH + i32(gid.y);
  let jw = PW / SW + i32(gid.x);
  let inVol = params.inSize.x * params.inSize.y * params.inSize.z;
  let outVol = params.outSize.x * params.outSize.y * params.outSize.z;
  for (var plane = gid.z; plane < params.planes; plane += nwg.z) {
    let nc = plane / params.blocks.x;
    let jd = PD / SD + i32(plane - nc * params.blocks.x);
    let inBase = nc * inVol;
    let outBase = nc * outVol;
    for (var ud = 0; ud < SD; ud++) {
      let di = jd * SD + ud - PD;
      for (var uh = 0; uh < SH; uh++) {
        let hi = jh * SH + uh - PH;
        for (var uw = 0; uw < SW; uw++) {
          let wi = jw * SW + uw - PW;
          if (di < 0 || di >= ins.x || hi < 0 || hi >= ins.y || wi < 0 || wi >= ins.z) {
            continue;
          }
          let me = (di * ins.y + hi) * ins.z + wi;
          var acc = 0.0;
          for (var rd = 0; rd <= (KD - 1) * DD / SD; rd++) {
            let od = jd - rd;
            for (var rh = 0; rh <= (KH - 1) * DH / SH; rh++) {
              let oh = jh - rh;
              for (var rw = 0; rw <= (KW - 1) * DW / SW; rw++) {
                let ow = jw - rw;
                if (od >= 0 && od < outs.x && oh >= 0 && oh < outs.y && ow >= 0 && ow < outs.z) {
                  let o = outBase + u32((od * outs.y + oh) * outs.z + ow);
                  if (argmax[o] == me) {
                    acc += dy[o];
                  }
                }
              }
            }
          }
          dx[inBase + u32(me)] = acc;
        }
      }
    }
  }
}
